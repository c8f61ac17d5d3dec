#pragma once
#include <ATen/ATen.h>

namespace seqattr::ops {

// Weighted accumulation of path gradients into per-sequence multipliers, in place:
//   accum[row_seq[r]] += row_weight[r] * grads[r]   for every row r, in row order.
// accum: (S, C, L) floating; grads: (R, C, L) of the same dtype and device.
// row_seq: (R,) int64 in [0, S). row_weight: (R,) float64. Returns accum.
at::Tensor& ig_accumulate_(at::Tensor& accum, const at::Tensor& grads, const at::Tensor& row_seq,
                           const at::Tensor& row_weight);

}  // namespace seqattr::ops
