#include "methods/registry.h"

#include "common/enum_names.h"
#include "common/errors.h"

namespace seqattr {

#define SEQATTR_METHOD(f) MethodSpec f();
#include "methods/method_list.h"
#undef SEQATTR_METHOD

const std::vector<MethodSpec>& method_registry() {
  static const std::vector<MethodSpec> methods = {
#define SEQATTR_METHOD(f) f(),
#include "methods/method_list.h"
#undef SEQATTR_METHOD
  };
  return methods;
}

const MethodSpec& find_method(const std::string& name) {
  for (const auto& spec : method_registry()) {
    if (spec.name == name) return spec;
  }
  std::string known;
  for (const auto& spec : method_registry()) known += (known.empty() ? "" : ", ") + spec.name;
  throw InputError("--method '" + name + "': unknown value (known: " + known + ")");
}

std::vector<std::string> method_names() {
  std::vector<std::string> names;
  for (const auto& spec : method_registry()) names.push_back(spec.name);
  return names;
}

namespace {

const EnumNames<IsmMode>& ism_mode_table() {
  static const EnumNames<IsmMode> table(
      "--ism-mode", {{IsmMode::Naive, "naive"}, {IsmMode::Fast, "fast"}, {IsmMode::Auto, "auto"}});
  return table;
}

}  // namespace

IsmMode parse_ism_mode(const std::string& name) { return ism_mode_table().parse(name); }
const std::string& ism_mode_name(IsmMode mode) { return ism_mode_table().name(mode); }
std::vector<std::string> ism_mode_names() { return ism_mode_table().names(); }

void validate_common(const MethodOptions& o) {
  if (o.batch_size < 1) {
    throw InputError("--batch-size " + std::to_string(o.batch_size) + ": must be >= 1");
  }
  ig_quadrature(o.ig_rule, o.n_steps);  // checks --n-steps for the rule
  const MethodOptions defaults;
  if (!o.references.empty() && (o.n_shuffles != defaults.n_shuffles ||
                                o.baseline != defaults.baseline || o.seed != defaults.seed)) {
    throw InputError("--references: the references are given, so --n-shuffles, --baseline and "
                     "--seed (which make references) cannot be set with it");
  }
  if (o.n_shuffles < 1) {
    throw InputError("--n-shuffles " + std::to_string(o.n_shuffles) + ": must be >= 1");
  }
  if (!(o.delta_warning >= 0)) throw InputError("--delta-warning: must be >= 0");
  if (o.ism_start < 0) {
    throw InputError("--ism-start " + std::to_string(o.ism_start) + ": must be >= 0");
  }
  if (o.ism_end < -1) {
    throw InputError("--ism-end " + std::to_string(o.ism_end) +
                     ": must be >= 1, or -1 for the sequence end");
  }
}

namespace method_checks {

void no_window(const MethodOptions& o) {
  if (o.ism_start != 0 || o.ism_end != -1) {
    throw InputError("--ism-start/--ism-end: only --method ism takes a window");
  }
}

void no_references(const MethodOptions& o) {
  if (!o.references.empty()) {
    throw InputError("--references: only the deeplift methods take references");
  }
  if (o.save_references) {
    throw InputError("--save-references: only the deeplift methods have references");
  }
}

void no_dinuc_baseline(const MethodOptions& o) {
  if (o.baseline == Baseline::DinucShuffle) {
    throw InputError("--baseline dinuc_shuffle: only --method deeplift takes it");
  }
}

}  // namespace method_checks

}  // namespace seqattr
