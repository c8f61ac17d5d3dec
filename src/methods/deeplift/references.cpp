#include "methods/deeplift/references.h"

#include "common/errors.h"
#include "kernels/ops/dinucleotide_shuffle.h"

namespace seqattr::deeplift {

ReferenceSource constant_references(double value, int64_t length) {
  return [value, length](int64_t, int64_t count) {
    return torch::full({count, 1, 4, length}, value, torch::kFloat32);
  };
}

ReferenceSource shuffled_references(torch::Tensor one_hot, int64_t count, uint64_t seed,
                                    int64_t index_offset,
                                    std::shared_ptr<std::vector<bool>> only_one) {
  only_one->assign(one_hot.size(0), false);
  return [one_hot = std::move(one_hot), count, seed, index_offset, only_one](int64_t first,
                                                                             int64_t n) {
    // Shuffle j of sequence i is seeded by (seed, index_offset + i, j) alone.
    const auto [shuffles, single] = ops::dinucleotide_shuffles(one_hot.slice(0, first, first + n),
                                                               count, seed, index_offset + first);
    const auto single_cpu = single.to(torch::kCPU);
    const auto flags = single_cpu.accessor<bool, 1>();
    for (int64_t i = 0; i < n; ++i) {
      if (flags[i]) (*only_one)[first + i] = true;
    }
    return shuffles.to(torch::kFloat32);
  };
}

}  // namespace seqattr::deeplift
