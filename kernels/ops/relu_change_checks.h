#pragma once
// Argument checks and the layout choice shared by seqattr::relu_change's CPU kernel and its
// CUDA twin.
#include <ATen/ATen.h>

#include "kernels/ops/ism_mutants_checks.h"

namespace seqattr::ops {

inline void check_relu_change(const at::Tensor& delta, const at::Tensor& lo,
                              const at::Tensor& reference) {
  TORCH_CHECK(delta.dim() == 3 && at::isFloatingType(delta.scalar_type()),
              "delta must be (B, C, W) floating, got ", delta.sizes(), " ", delta.scalar_type());
  TORCH_CHECK(reference.dim() == 2 && reference.size(0) == delta.size(1),
              "reference must be (C, L) with C = ", delta.size(1), ", got ", reference.sizes());
  TORCH_CHECK(reference.scalar_type() == delta.scalar_type() && reference.device() == delta.device(),
              "reference must match delta's dtype and device");
  const int64_t length = reference.size(1);
  TORCH_CHECK(delta.size(2) <= length, "window width ", delta.size(2), " exceeds length ", length);
  check_index(lo, delta.size(0), delta.device(), length - delta.size(2) + 1, "lo");
}

// Whether delta is laid out channel-last, (B, W, C) in memory: then the kernels run over
// channels, and return that layout.
inline bool relu_change_channels_last(const at::Tensor& delta) {
  return delta.size(1) > 1 && delta.transpose(1, 2).is_contiguous();
}

}  // namespace seqattr::ops
