// gradient and input_x_gradient: one backward pass per sequence (path_attribution.h with
// the single node alpha = 1). Both store the gradient as hypothetical attributions and
// gradient x input as attributions; they differ only in name, as in Captum.
#include "methods/path/path_attribution.h"
#include "methods/registry.h"

namespace seqattr {
namespace {

MethodSpec single_gradient_method(const std::string& name) {
  MethodSpec spec;
  spec.name = name;
  spec.validate = [](const MethodOptions& o) {
    method_checks::no_dinuc_baseline(o);
    method_checks::no_references(o);
    method_checks::no_window(o);
  };
  spec.prepare = [](const MethodOptions& o, const MethodContext& c) {
    PreparedMethod prepared;
    const auto plan = gradient_plan();
    prepared.convergence_delta = plan.convergence_delta;
    prepared.run = [model = c.model, plan, batch = o.batch_size, target = c.target](
                       const torch::Tensor& one_hot, int64_t, const BlockSink& sink,
                       const ProgressCallback& progress, torch::Tensor*) {
      run_path_attribution(*model, one_hot, plan, target, batch, sink, progress);
    };
    return prepared;
  };
  spec.cost = [](const MethodOptions&, int64_t, const PreparedMethod&) {
    return MethodCost{2, 1, "none"};
  };
  return spec;
}

}  // namespace

MethodSpec gradient_method() { return single_gradient_method("gradient"); }
MethodSpec input_x_gradient_method() { return single_gradient_method("input_x_gradient"); }

}  // namespace seqattr
