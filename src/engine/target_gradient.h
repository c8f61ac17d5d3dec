#pragma once
#include <torch/torch.h>

#include "engine/model.h"

namespace seqattr {

// d output[:, target] / d rows, for a (B, 4, L) batch on the model's device. Only the input
// gets a gradient (parameters are frozen at load). A model whose target does not depend on
// the input gets zeros.
torch::Tensor target_gradient(Model& model, const torch::Tensor& rows, int64_t target);

}  // namespace seqattr
