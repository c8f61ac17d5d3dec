// CPU reference for seqattr::ism_mutants; the CUDA twin must match it.
#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <torch/library.h>

#include "kernels/ops/ism_mutants_checks.h"

namespace seqattr::ops {
namespace {

at::Tensor ism_mutants_cpu(const at::Tensor& one_hot, const at::Tensor& row_seq,
                           const at::Tensor& position, const at::Tensor& base) {
  check_ism_mutants(one_hot, row_seq, position, base);
  const auto x = one_hot.contiguous();
  const auto seq = row_seq.contiguous();
  const auto pos = position.contiguous();
  const auto to = base.contiguous();
  const int64_t rows = seq.size(0), channels = x.size(1), length = x.size(2);
  const int64_t row_size = channels * length;
  auto out = at::empty({rows, channels, length}, x.options().dtype(at::kFloat));
  const uint8_t* xp = x.data_ptr<uint8_t>();
  const int64_t* sp = seq.data_ptr<int64_t>();
  const int64_t* pp = pos.data_ptr<int64_t>();
  const int64_t* bp = to.data_ptr<int64_t>();
  float* op = out.data_ptr<float>();
  at::parallel_for(0, rows, 1, [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      const uint8_t* source = xp + sp[r] * row_size;
      float* mutant = op + r * row_size;
      for (int64_t i = 0; i < row_size; ++i) mutant[i] = static_cast<float>(source[i]);
      // The substituted column becomes the unit vector of the new base.
      for (int64_t c = 0; c < channels; ++c) mutant[c * length + pp[r]] = c == bp[r] ? 1.0f : 0.0f;
    }
  });
  return out;
}

}  // namespace

TORCH_LIBRARY_IMPL(seqattr, CPU, m) {
  m.impl("ism_mutants", &ism_mutants_cpu);
}

}  // namespace seqattr::ops
