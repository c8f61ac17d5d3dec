#pragma once
// Argument checks shared by the CPU and CUDA kernels of seqattr::hypothetical_projection.
#include <ATen/ATen.h>

namespace seqattr::ops {

inline void check_hypothetical_projection(const at::Tensor& multipliers,
                                          const at::Tensor& references) {
  TORCH_CHECK(multipliers.dim() == 3, "multipliers must be (K, C, L), got ", multipliers.sizes());
  TORCH_CHECK(references.sizes() == multipliers.sizes(), "references must be ",
              multipliers.sizes(), " like the multipliers, got ", references.sizes());
  TORCH_CHECK(at::isFloatingType(multipliers.scalar_type()) &&
                  references.scalar_type() == multipliers.scalar_type(),
              "multipliers and references must share one floating dtype, got ",
              multipliers.scalar_type(), " and ", references.scalar_type());
  TORCH_CHECK(references.device() == multipliers.device(), "device mismatch: ",
              multipliers.device(), " vs ", references.device());
}

}  // namespace seqattr::ops
