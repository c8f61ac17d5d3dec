#pragma once
#include <ATen/ATen.h>

namespace seqattr::ops {

// Hypothetical contributions of multipliers m against references (or baselines) r:
//   out[k, i, l] = sum_c (e_i - r[k, :, l])_c m[k, c, l] = m[k, i, l] - sum_c r[k, c, l] m[k, c, l]
// The sum runs over c = 0, 1, ... in order from +0, each product rounded to the dtype first:
// bit for bit what ATen's `m - (r * m).sum(1, true)` gives on the CPU for C = 4 (for larger C
// ATen may group its sum differently). multipliers, references: (K, C, L) floating, same
// shape, dtype and device. Returns (K, C, L).
at::Tensor hypothetical_projection(const at::Tensor& multipliers, const at::Tensor& references);

}  // namespace seqattr::ops
