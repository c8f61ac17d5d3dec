#pragma once
// Argument checks shared by the CPU and CUDA kernels of seqattr::relu_rescale_grad.
#include <ATen/ATen.h>

namespace seqattr::ops {

inline void check_relu_rescale_grad(const at::Tensor& x, const at::Tensor& grad,
                                    const at::Tensor& owner, int64_t inputs) {
  TORCH_CHECK(at::isFloatingType(x.scalar_type()), "x must be floating, got ", x.scalar_type());
  TORCH_CHECK(grad.sizes() == x.sizes() && grad.scalar_type() == x.scalar_type() &&
                  grad.device() == x.device(),
              "grad must match x in shape, dtype and device");
  TORCH_CHECK(x.dim() >= 1, "x must have a row dimension");
  TORCH_CHECK(owner.dim() == 1 && owner.scalar_type() == at::kLong && owner.device() == x.device(),
              "owner must be a 1-d int64 tensor on x's device");
  TORCH_CHECK(inputs >= 1 && inputs + owner.size(0) == x.size(0), "x has ", x.size(0),
              " rows; expected inputs (", inputs, ") + references (", owner.size(0), ")");
}

}  // namespace seqattr::ops
