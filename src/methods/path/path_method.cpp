#include "methods/path/path_method.h"

namespace seqattr {

void validate_path_method(const MethodOptions& o) {
  method_checks::no_dinuc_baseline(o);
  method_checks::no_references(o);
  method_checks::no_window(o);
}

PreparedMethod prepare_path_method(const PathPlan& plan, const MethodOptions& o,
                                   const MethodContext& c) {
  PreparedMethod prepared;
  prepared.convergence_delta = plan.convergence_delta;
  prepared.run = [model = c.model, plan, batch = o.batch_size, target = c.target](
                     const torch::Tensor& one_hot, int64_t, const BlockSink& sink,
                     const ProgressCallback& progress, torch::Tensor*) {
    run_path_attribution(*model, one_hot, plan, target, batch, sink, progress);
  };
  return prepared;
}

}  // namespace seqattr
