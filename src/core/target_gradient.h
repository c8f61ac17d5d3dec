#pragma once
#include <torch/torch.h>

#include "core/model.h"

namespace seqattr {

struct TargetGradient {
  torch::Tensor grad;     // like the rows
  torch::Tensor outputs;  // (B, T), detached
};

// One forward pass on `rows` (B, 4, L, on the model's device), then the gradient of
// sum(outputs[seeded_from:, target]) with respect to the rows. Only the input gets a gradient
// (parameters are frozen at load). A target that does not depend on the input gets zeros.
TargetGradient target_gradient(Model& model, const torch::Tensor& rows, int64_t target,
                               int64_t seeded_from = 0);

}  // namespace seqattr
