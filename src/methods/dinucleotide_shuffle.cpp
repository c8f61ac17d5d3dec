#include "methods/dinucleotide_shuffle.h"

#include "kernels/ops/dinucleotide_shuffle.h"

namespace seqattr {

torch::Tensor dinucleotide_shuffles(const torch::Tensor& one_hot, int64_t count, uint64_t seed,
                                    uint64_t sequence_index, bool* only_one) {
  TORCH_INTERNAL_ASSERT(one_hot.dim() == 2 && one_hot.size(0) == 4 &&
                        one_hot.scalar_type() == torch::kUInt8 && count >= 0);
  // The op takes the first sequence's index as int64; its bit pattern is what gets mixed.
  const auto [shuffles, single] = ops::dinucleotide_shuffles(
      one_hot.unsqueeze(0), count, seed, static_cast<int64_t>(sequence_index));
  *only_one = single[0].item<bool>();
  return shuffles[0];
}

}  // namespace seqattr
