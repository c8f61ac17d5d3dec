#pragma once
#include <ATen/ATen.h>

namespace seqattr::ops {

// In-silico mutagenesis mutants, one output row per substitution r:
//   out[r] = one_hot[row_seq[r]] as float32, with column position[r] replaced by the unit
//   vector of base[r] (1 at base[r], 0 at the other channels).
// one_hot: (S, C, L) uint8. row_seq, position, base: (R,) int64 on one_hot's device, in
// [0, S), [0, L) and [0, C). Returns (R, C, L) float32 on one_hot's device.
at::Tensor ism_mutants(const at::Tensor& one_hot, const at::Tensor& row_seq,
                       const at::Tensor& position, const at::Tensor& base);

}  // namespace seqattr::ops
