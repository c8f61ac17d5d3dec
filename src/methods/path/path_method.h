#pragma once
// What the path methods (gradient, input_x_gradient, integrated_gradients) share as
// registered methods: the options they refuse, and a prepared run of run_path_attribution.
#include "methods/path/path_attribution.h"
#include "methods/registry.h"

namespace seqattr {

// No references, no ISM window, no dinucleotide-shuffle baseline.
void validate_path_method(const MethodOptions& options);

// Runs `plan` on each part; shares the context's model.
PreparedMethod prepare_path_method(const PathPlan& plan, const MethodOptions& options,
                                   const MethodContext& context);

}  // namespace seqattr
