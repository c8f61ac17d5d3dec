#pragma once
#include <ATen/ATen.h>

#include <cstdint>

namespace seqattr::ops {

// Fast ISM's change of max_pool1d(relu(x), k) (stride k, no padding, floor mode), from a
// windowed change of x (kernels/ops/relu_max_pool_change_core.h has the arithmetic).
//   delta (B, C, W): row b is x's change over positions [lo[b], lo[b] + W), zero elsewhere.
//   lo (B,) int64, each window inside [0, L).
//   reference (C, L): x at the reference sequence, same dtype and device as delta.
//   gap (C, L): relu(reference) minus the maximum of its pool (positions past the last whole
//     pool are never read).
//   out_lo (B,) int64, out_width: the pools to return, [out_lo[b], out_lo[b] + out_width),
//     inside [0, L / k).
// Returns (B, C, out_width): the mutant's pool maximum minus the reference's.
at::Tensor relu_max_pool_change(const at::Tensor& delta, const at::Tensor& lo,
                                const at::Tensor& reference, const at::Tensor& gap, int64_t kernel,
                                const at::Tensor& out_lo, int64_t out_width);

}  // namespace seqattr::ops
