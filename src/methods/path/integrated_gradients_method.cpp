// integrated_gradients: Captum's rules and nodes (ig_rules.h) along the path from a
// constant baseline (path_attribution.h), with a convergence delta.
#include "methods/path/path_attribution.h"
#include "methods/registry.h"

namespace seqattr {

MethodSpec integrated_gradients_method() {
  MethodSpec spec;
  spec.name = "integrated_gradients";
  spec.validate = [](const MethodOptions& o) {
    method_checks::no_dinuc_baseline(o);
    method_checks::no_references(o);
    method_checks::no_window(o);
  };
  spec.prepare = [](const MethodOptions& o, const MethodContext& c) {
    PreparedMethod prepared;
    const auto plan = integrated_gradients_plan(o.ig_rule, o.n_steps, o.baseline);
    prepared.convergence_delta = plan.convergence_delta;
    prepared.run = [model = c.model, plan, batch = o.batch_size, target = c.target](
                       const torch::Tensor& one_hot, int64_t, const BlockSink& sink,
                       const ProgressCallback& progress, torch::Tensor*) {
      run_path_attribution(*model, one_hot, plan, target, batch, sink, progress);
    };
    return prepared;
  };
  spec.cost = [](const MethodOptions& o, int64_t, const PreparedMethod&) {
    return MethodCost{o.n_steps + 2, o.n_steps,
                      "n_steps=" + std::to_string(o.n_steps) + " " + ig_rule_name(o.ig_rule) +
                          " baseline=" + baseline_name(o.baseline)};
  };
  return spec;
}

}  // namespace seqattr
