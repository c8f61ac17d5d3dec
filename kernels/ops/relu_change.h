#pragma once
#include <ATen/ATen.h>

namespace seqattr::ops {

// Fast ISM's change of relu(x) from a windowed change of x, read against the reference in
// place (no gathered copy of it per mutant row):
//   out[b, c, i] = relu(r + d) - relu(r) = max(d + min(r, 0), -max(r, 0)),
//   d = delta[b, c, i], r = reference[c, lo[b] + i],
// the expressions of fast ISM's ReLU rule, in its order (kernels/ops/relu_max_pool_change_core.h:
// exact where r > 0, rounded once otherwise; NaN propagates).
//   delta (B, C, W) floating: row b is x's change over positions [lo[b], lo[b] + W).
//   lo (B,) int64, each window inside [0, L).
//   reference (C, L): x at the reference sequence, delta's dtype and device.
// Returns (B, C, W) in delta's layout: channel-last where delta is (as fast ISM's scattered
// convolutions hand it over, and as they read it back without a copy), else contiguous.
at::Tensor relu_change(const at::Tensor& delta, const at::Tensor& lo, const at::Tensor& reference);

}  // namespace seqattr::ops
