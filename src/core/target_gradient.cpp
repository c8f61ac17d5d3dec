#include "core/target_gradient.h"

namespace seqattr {

TargetGradient target_gradient(Model& model, const torch::Tensor& rows, int64_t target,
                               int64_t seeded_from) {
  auto x = rows.detach().requires_grad_(true);
  const auto outputs = model.forward(x);
  const auto seed = outputs.narrow(0, seeded_from, x.size(0) - seeded_from).select(1, target).sum();
  torch::Tensor grad;
  if (seed.requires_grad()) {
    grad = torch::autograd::grad({seed}, {x}, /*grad_outputs=*/{}, /*retain_graph=*/false,
                                 /*create_graph=*/false, /*allow_unused=*/true)[0];
  }
  return {grad.defined() ? grad : torch::zeros_like(x), outputs.detach()};
}

}  // namespace seqattr
