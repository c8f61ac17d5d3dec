// CPU kernel of seqattr::dinucleotide_shuffles. The algorithm itself is
// kernels/ops/dinucleotide_shuffle_core.h, shared with the CUDA twin so that both give the
// same shuffles bit for bit.
#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <torch/library.h>

#include <algorithm>
#include <vector>

#include "kernels/ops/dinucleotide_shuffle_core.h"

namespace seqattr::ops {
namespace {

std::tuple<at::Tensor, at::Tensor> dinucleotide_shuffles_cpu(const at::Tensor& one_hot,
                                                             int64_t count, int64_t seed,
                                                             int64_t first_index) {
  TORCH_CHECK(one_hot.dim() == 3 && one_hot.size(1) == 4 && one_hot.scalar_type() == at::kByte,
              "one_hot must be (S, 4, L) uint8, got ", one_hot.sizes(), " ", one_hot.scalar_type());
  TORCH_CHECK(count >= 0, "count must be >= 0, got ", count);
  const auto x = one_hot.contiguous();
  const int64_t sequences = x.size(0), length = x.size(2), column = 4 * length;
  auto out = at::zeros({sequences, count, 4, length}, x.options());
  auto only_one = at::empty({sequences}, x.options().dtype(at::kBool));
  const uint8_t* xp = x.data_ptr<uint8_t>();
  uint8_t* op = out.data_ptr<uint8_t>();
  bool* flags = only_one.data_ptr<bool>();
  for (int64_t s = 0; s < sequences; ++s) {
    flags[s] = shuffle::has_only_one_shuffle(xp + s * column, length);
  }
  // One task per (sequence, shuffle): each draws from its own stream, so the split of the
  // work does not change the result.
  at::parallel_for(0, sequences * count, 1, [&](int64_t begin, int64_t end) {
    std::vector<uint8_t> scratch(std::max<int64_t>(length - 1, 1));
    for (int64_t task = begin; task < end; ++task) {
      const int64_t s = task / count, j = task % count;
      const auto rng = shuffle::shuffle_stream(static_cast<uint64_t>(seed),
                                               static_cast<uint64_t>(first_index + s),
                                               static_cast<uint64_t>(j));
      shuffle::shuffle_into(xp + s * column, length, flags[s], rng, scratch.data(),
                            op + task * column);
    }
  });
  return {out, only_one};
}

}  // namespace

TORCH_LIBRARY_IMPL(seqattr, CPU, m) {
  m.impl("dinucleotide_shuffles", &dinucleotide_shuffles_cpu);
}

}  // namespace seqattr::ops
