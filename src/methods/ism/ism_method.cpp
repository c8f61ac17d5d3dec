// ism: in-silico saturation mutagenesis inside a window (ism.h), naive or fast (fast_ism.h).
#include "common/errors.h"
#include "common/log.h"
#include "methods/ism/ism.h"
#include "methods/registry.h"

namespace seqattr {
namespace {

IsmWindow ism_window(const MethodOptions& o, int64_t length) {
  const IsmWindow window{o.ism_start, o.ism_end < 0 ? length : o.ism_end};
  if (window.start < 0 || window.start >= window.end || window.end > length) {
    throw InputError("--ism-start " + std::to_string(o.ism_start) + " --ism-end " +
                     std::to_string(o.ism_end) + ": the window must satisfy 0 <= start < end <= " +
                     std::to_string(length) + " (the sequence length)");
  }
  return window;
}

// The fast plan when --ism-mode allows it and the model qualifies; null for naive ISM.
std::shared_ptr<FastIsmPlan> fast_plan(IsmMode mode, Model& model) {
  if (mode == IsmMode::Naive) return nullptr;
  auto fast = std::make_shared<FastIsmPlan>(FastIsmPlan::analyse(model));
  if (fast->qualifies()) return fast;
  if (mode == IsmMode::Fast) {
    throw InputError("--ism-mode fast: model '" + model.path() + "' does not qualify: " +
                     fast->reason());
  }
  log::debug("fast ISM does not apply, running naive ISM: " + fast->reason());
  return nullptr;
}

PreparedMethod prepare_ism(const MethodOptions& o, const MethodContext& c) {
  const auto window = ism_window(o, c.length);
  const auto fast = fast_plan(o.ism_mode, *c.model);
  PreparedMethod prepared;
  prepared.ism_delta = true;
  prepared.notes["ism_mode_used"] = fast ? "fast" : "naive";
  prepared.run = [model = c.model, window, batch = o.batch_size, target = c.target,
                  outputs = c.outputs, fast](const torch::Tensor& one_hot, int64_t,
                                             const BlockSink& sink,
                                             const ProgressCallback& progress, torch::Tensor*) {
    run_ism(*model, one_hot, window, target, outputs, batch, fast.get(), sink, progress);
  };
  return prepared;
}

}  // namespace

MethodSpec ism_method() {
  MethodSpec spec;
  spec.name = "ism";
  spec.validate = [](const MethodOptions& o) {
    method_checks::no_dinuc_baseline(o);
    method_checks::no_references(o);
  };
  spec.prepare = prepare_ism;
  spec.cost = [](const MethodOptions& o, int64_t length, const PreparedMethod& prepared) {
    const int64_t window = o.ism_end - o.ism_start;
    const std::string mode = prepared.notes.value("ism_mode_used", ism_mode_name(o.ism_mode));
    return MethodCost{1 + 3 * window, 0,
                      "window=" + std::to_string(window) + "/" + std::to_string(length) + " (" +
                          std::to_string(o.ism_start) + ".." + std::to_string(o.ism_end) + ") " +
                          mode};
  };
  return spec;
}

}  // namespace seqattr
