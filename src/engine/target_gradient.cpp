#include "engine/target_gradient.h"

namespace seqattr {

torch::Tensor target_gradient(Model& model, const torch::Tensor& rows, int64_t target) {
  auto x = rows.detach().requires_grad_(true);
  const auto y = model.forward(x).select(1, target).sum();
  if (!y.requires_grad()) return torch::zeros_like(x);
  auto grads = torch::autograd::grad({y}, {x}, /*grad_outputs=*/{}, /*retain_graph=*/false,
                                     /*create_graph=*/false, /*allow_unused=*/true);
  return grads[0].defined() ? grads[0] : torch::zeros_like(x);
}

}  // namespace seqattr
