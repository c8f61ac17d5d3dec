#pragma once
// Argument checks shared by the CPU and CUDA kernels of seqattr::rescale_multipliers.
#include <ATen/ATen.h>

namespace seqattr::ops {

inline void check_rescale(const at::Tensor& x, const at::Tensor& x_ref, const at::Tensor& y,
                          const at::Tensor& y_ref, const at::Tensor& grad) {
  TORCH_CHECK(at::isFloatingType(x.scalar_type()), "x must be floating, got ", x.scalar_type());
  for (const auto* t : {&x_ref, &y, &y_ref, &grad}) {
    TORCH_CHECK(t->sizes() == x.sizes(), "rescale tensors must share one shape: ", x.sizes(),
                " vs ", t->sizes());
    TORCH_CHECK(t->scalar_type() == x.scalar_type(), "rescale tensors must share one dtype: ",
                x.scalar_type(), " vs ", t->scalar_type());
    TORCH_CHECK(t->device() == x.device(), "rescale tensors must share one device: ", x.device(),
                " vs ", t->device());
  }
}

}  // namespace seqattr::ops
