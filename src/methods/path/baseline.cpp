#include "methods/path/baseline.h"

#include <stdexcept>

#include "common/enum_names.h"

namespace seqattr {
namespace {

const EnumNames<Baseline>& baseline_table() {
  static const EnumNames<Baseline> table(
      "--baseline", {{Baseline::Zeros, "zeros"},
                     {Baseline::Uniform, "uniform"},
                     {Baseline::DinucShuffle, "dinuc_shuffle"}});
  return table;
}

}  // namespace

Baseline parse_baseline(const std::string& name) { return baseline_table().parse(name); }
std::string baseline_name(Baseline baseline) { return baseline_table().name(baseline); }
std::vector<std::string> baseline_names() { return baseline_table().names(); }

double baseline_value(Baseline baseline) {
  if (baseline == Baseline::DinucShuffle) throw std::logic_error("dinuc_shuffle: not a constant baseline");
  return baseline == Baseline::Zeros ? 0.0 : 0.25;
}

}  // namespace seqattr
