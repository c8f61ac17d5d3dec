#pragma once
#include <ATen/ATen.h>

namespace seqattr::ops {

// The batch of integrated-gradients path points, one output row per (sequence, node):
//   out[r] = baseline[row_seq[r]] + row_alpha[r] * (input[row_seq[r]] - baseline[row_seq[r]])
// input, baseline: (S, C, L) floating, same dtype and device.
// row_seq: (R,) int64 in [0, S). row_alpha: (R,) float64. Returns (R, C, L).
at::Tensor ig_path_points(const at::Tensor& input, const at::Tensor& baseline,
                          const at::Tensor& row_seq, const at::Tensor& row_alpha);

}  // namespace seqattr::ops
