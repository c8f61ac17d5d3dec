#include "pipeline/inspect_job.h"

#include <sstream>

#include "common/errors.h"
#include "core/model_adapter.h"
#include "core/model_flops.h"
#include "core/model_metadata.h"
#include "core/receptive_field.h"
#include "methods/deeplift/graph_rewrite.h"
#include "methods/ism/fast_ism.h"

namespace seqattr {
namespace {

int64_t resolve_length(const InspectOptions& o, const std::optional<ModelMetadata>& metadata) {
  if (o.length > 0) return o.length;
  if (metadata && metadata->input_length > 0) return metadata->input_length;
  throw InputError("--length: required (the model '" + o.model +
                   "' has no JSON file beside it giving input_length)");
}


nlohmann::ordered_json heads_json(const AdaptedModel& adapted) {
  auto heads = nlohmann::ordered_json::array();
  for (const auto& h : adapted.heads) {
    heads.push_back({{"key", h.key},
                     {"name", h.name},
                     {"shape", shape_text(h.shape, true)},
                     {"explained", h.name == adapted.head}});
  }
  return heads;
}

nlohmann::ordered_json deeplift_json(const torch::jit::Module& module) {
  const auto rewritten = deeplift::rewrite_for_deeplift(module);
  nlohmann::ordered_json ruled = nlohmann::ordered_json::object();
  for (const auto& [op, rule] : rewritten.ruled_ops) ruled[op] = rule;
  return {{"rules", ruled},
          {"without_rule", rewritten.unruled_ops},
          {"dtype", rewritten.ill_conditioned ? "float64" : "float32"}};
}

nlohmann::ordered_json fast_ism_json(const Model& model, int64_t length) {
  const auto plan = FastIsmPlan::analyse(model);
  nlohmann::ordered_json out = {{"applies", plan.qualifies()}};
  if (!plan.qualifies()) {
    out["reason"] = plan.reason();
    return out;
  }
  const auto session = plan.start(torch::zeros({4, length}, torch::kUInt8));
  out["changes_per_substitution"] = session.changes_per_mutant();
  return out;
}

nlohmann::ordered_json receptive_field_json(const Model& model, int64_t length) {
  const auto field = receptive_field(model.module(), model.device(), length);
  if (!field.known) return {{"known", false}, {"reason", field.why_unknown}};
  return {{"known", true},
          {"bases", field.bases},
          {"whole_input", field.whole_input},
          {"mixing_op", field.mixing_op}};
}

}  // namespace

nlohmann::ordered_json inspect_model(const InspectOptions& o) {
  const auto metadata = read_model_metadata(o.model);
  const int64_t length = resolve_length(o, metadata);
  const torch::Device cpu(torch::kCPU);
  auto adapted = load_adapted_model(
      o.model, {o.head, o.reduce, o.input_layout, o.extra_inputs, o.target}, metadata, length, cpu);
  auto& model = adapted.model;
  const auto output = predict(model, torch::zeros({1, 4, length}), 1);
  const auto flops = forward_flops_per_sequence(model.module(), cpu, length);

  nlohmann::ordered_json report;
  report["model"] = o.model;
  report["metadata"] = metadata ? metadata->path : "";
  report["input"] = {{"layout", adapted.input_layout},
                     {"shape", adapted.input_layout == "nlc" ? "(N, " + std::to_string(length) + ", 4)"
                                                              : "(N, 4, " + std::to_string(length) + ")"},
                     {"length", length},
                     {"extra_inputs_zeros", adapted.extra_inputs}};
  report["heads"] = heads_json(adapted);
  report["explained"] = {{"head", adapted.head},
                         {"reduce", reduction_name(adapted.reduce)},
                         {"outputs", output.size(1)},
                         {"target", adapted.target},
                         {"adapted", adapted.adapted}};
  if (adapted.track) report["explained"]["profile_track"] = *adapted.track;
  nlohmann::ordered_json by_op = nlohmann::ordered_json::object();
  for (const auto& [op, count] : flops.by_op) by_op[op] = count;
  report["forward_flops"] = {{"per_sequence", flops.total}, {"by_op", by_op},
                             {"uncounted", flops.uncounted}};
  report["deeplift"] = deeplift_json(model.module());
  report["fast_ism"] = fast_ism_json(model, length);
  report["receptive_field"] = receptive_field_json(model, length);
  return report;
}

std::string inspect_text(const nlohmann::ordered_json& r) {
  std::ostringstream out;
  out << "model:      " << r["model"].get<std::string>();
  if (!r["metadata"].get<std::string>().empty()) out << " (metadata " << r["metadata"].get<std::string>() << ")";
  out << "\ninput:      " << r["input"]["shape"].get<std::string>() << " one-hot, A C G T ("
      << r["input"]["layout"].get<std::string>() << ")";
  for (const auto& name : r["input"]["extra_inputs_zeros"]) out << "; " << name.get<std::string>() << ": zeros";
  out << "\noutputs:";
  for (const auto& h : r["heads"]) {
    out << "\n  " << (h["key"].get<std::string>().empty() ? "tensor" : h["key"].get<std::string>());
    if (h["name"] != h["key"]) out << " '" << h["name"].get<std::string>() << "'";
    out << " " << h["shape"].get<std::string>();
    if (h["explained"].get<bool>()) out << "  <- explained";
  }
  const auto& e = r["explained"];
  out << "\nexplained:  " << (e["head"].get<std::string>().empty() ? "the output" : "head '" + e["head"].get<std::string>() + "'")
      << ", reduce " << e["reduce"].get<std::string>() << " -> (N, " << e["outputs"].get<int64_t>() << ")";
  if (e.contains("profile_track")) out << ", track " << e["profile_track"].get<int64_t>();
  out << "\nFLOPs:      " << r["forward_flops"]["per_sequence"].get<int64_t>() << " per sequence, forward";
  for (const auto& [op, count] : r["forward_flops"]["by_op"].items()) out << "; " << op << " " << count.get<int64_t>();
  const auto& f = r["receptive_field"];
  out << "\nreceptive field: ";
  if (!f["known"].get<bool>()) {
    out << "unknown (" << f["reason"].get<std::string>() << ")";
  } else if (f["whole_input"].get<bool>()) {
    out << "the whole input (" << f["mixing_op"].get<std::string>() << " mixes all positions, after "
        << f["bases"].get<int64_t>() << " bp per position)";
  } else {
    out << f["bases"].get<int64_t>() << " bp per output position";
  }
  const auto& d = r["deeplift"];
  out << "\nDeepLIFT:   rules:";
  for (const auto& [op, rule] : d["rules"].items()) out << " " << op << " (" << rule.get<std::string>() << ")";
  out << "\n            no rule (gradients pass):";
  if (d["without_rule"].empty()) out << " none";
  for (const auto& op : d["without_rule"]) out << " " << op.get<std::string>();
  out << "\n            runs in " << d["dtype"].get<std::string>();
  const auto& ism = r["fast_ism"];
  out << "\nfast ISM:   ";
  if (ism["applies"].get<bool>()) {
    out << "applies (" << ism["changes_per_substitution"].get<int64_t>()
        << " activation changes per substitution)";
  } else {
    out << "does not apply: " << ism["reason"].get<std::string>();
  }
  out << "\n";
  return out.str();
}

}  // namespace seqattr
