// CPU reference for seqattr::ig_accumulate_; the CUDA twin must match it.
#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <ATen/Dispatch.h>
#include <torch/library.h>

#include "kernels/ops/row_checks.h"

namespace seqattr::ops {
namespace {

at::Tensor& ig_accumulate_cpu(at::Tensor& accum, const at::Tensor& grads,
                              const at::Tensor& row_seq, const at::Tensor& row_weight) {
  check_rows(accum, grads, row_seq, row_weight, "row_weight");
  TORCH_CHECK(accum.is_contiguous(), "accum must be contiguous");
  const auto g = grads.contiguous();
  const auto seq = row_seq.contiguous();
  const auto weight = row_weight.contiguous();
  const int64_t row_size = accum.size(1) * accum.size(2);
  const int64_t rows = grads.size(0);

  AT_DISPATCH_FLOATING_TYPES(accum.scalar_type(), "ig_accumulate_cpu", [&] {
    scalar_t* ap = accum.data_ptr<scalar_t>();
    const scalar_t* gp = g.data_ptr<scalar_t>();
    const int64_t* sp = seq.data_ptr<int64_t>();
    const double* wp = weight.data_ptr<double>();
    // Parallel over elements, rows in order inside: deterministic, no write conflicts.
    at::parallel_for(0, row_size, 256, [&](int64_t begin, int64_t end) {
      for (int64_t r = 0; r < rows; ++r) {
        const double w = wp[r];
        scalar_t* a = ap + sp[r] * row_size;
        const scalar_t* gr = gp + r * row_size;
        for (int64_t i = begin; i < end; ++i) a[i] = static_cast<scalar_t>(a[i] + w * gr[i]);
      }
    });
  });
  return accum;
}

}  // namespace

TORCH_LIBRARY_IMPL(seqattr, CPU, m) {
  m.impl("ig_accumulate_", &ig_accumulate_cpu);
}

}  // namespace seqattr::ops
