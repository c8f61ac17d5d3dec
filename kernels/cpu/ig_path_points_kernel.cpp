// CPU reference for seqattr::ig_path_points; the CUDA twin must match it.
#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <ATen/Dispatch.h>
#include <torch/library.h>

#include "kernels/ops/row_checks.h"

namespace seqattr::ops {
namespace {

at::Tensor ig_path_points_cpu(const at::Tensor& input, const at::Tensor& baseline,
                              const at::Tensor& row_seq, const at::Tensor& row_alpha) {
  TORCH_CHECK(input.sizes() == baseline.sizes(), "input and baseline shapes differ: ",
              input.sizes(), " vs ", baseline.sizes());
  const auto rows = row_seq.size(0);
  auto out = at::empty({rows, input.size(1), input.size(2)}, input.options());
  check_rows(input, out, row_seq, row_alpha, "row_alpha");
  const auto x = input.contiguous();
  const auto b = baseline.contiguous();
  const auto seq = row_seq.contiguous();
  const auto alpha = row_alpha.contiguous();
  const int64_t row_size = input.size(1) * input.size(2);

  AT_DISPATCH_FLOATING_TYPES(input.scalar_type(), "ig_path_points_cpu", [&] {
    const scalar_t* xp = x.data_ptr<scalar_t>();
    const scalar_t* bp = b.data_ptr<scalar_t>();
    scalar_t* op = out.data_ptr<scalar_t>();
    const int64_t* sp = seq.data_ptr<int64_t>();
    const double* ap = alpha.data_ptr<double>();
    at::parallel_for(0, rows, 1, [&](int64_t begin, int64_t end) {
      for (int64_t r = begin; r < end; ++r) {
        // alpha is rounded to the data dtype, as `tensor * python_float` does in Captum.
        const auto a = static_cast<scalar_t>(ap[r]);
        const scalar_t* xs = xp + sp[r] * row_size;
        const scalar_t* bs = bp + sp[r] * row_size;
        scalar_t* o = op + r * row_size;
        for (int64_t i = 0; i < row_size; ++i) o[i] = bs[i] + a * (xs[i] - bs[i]);
      }
    });
  });
  return out;
}

}  // namespace

TORCH_LIBRARY_IMPL(seqattr, CPU, m) {
  m.impl("ig_path_points", &ig_path_points_cpu);
}

}  // namespace seqattr::ops
