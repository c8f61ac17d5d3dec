// CUDA twin of kernels/cpu/ig_path_points_kernel.cpp; must match it (tests/unit/test_kernels.cpp).
#include <ATen/ATen.h>
#include <ATen/Dispatch.h>
#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDAException.h>
#include <c10/cuda/CUDAGuard.h>
#include <torch/library.h>

#include "kernels/ops/row_checks.h"

namespace seqattr::ops {
namespace {

constexpr int kThreads = 256;

// One thread per output element, grid-stride. Assumes contiguous (S, C, L) input/baseline
// and (R, C, L) out; row_seq values were range-checked on the host side of the op.
template <typename scalar_t>
static __global__ void ig_path_points_kernel(const scalar_t* __restrict__ input,
                                             const scalar_t* __restrict__ baseline,
                                             const int64_t* __restrict__ row_seq,
                                             const double* __restrict__ row_alpha,
                                             scalar_t* __restrict__ out, int64_t rows,
                                             int64_t row_size) {
  const int64_t total = rows * row_size;
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < total;
       i += static_cast<int64_t>(blockDim.x) * gridDim.x) {
    const int64_t r = i / row_size;
    const int64_t source = row_seq[r] * row_size + i % row_size;
    const auto alpha = static_cast<scalar_t>(row_alpha[r]);
    const scalar_t b = baseline[source];
    out[i] = b + alpha * (input[source] - b);
  }
}

template <typename scalar_t>
void launch_ig_path_points(const at::Tensor& input, const at::Tensor& baseline,
                           const at::Tensor& row_seq, const at::Tensor& row_alpha,
                           at::Tensor& out, cudaStream_t stream) {
  const int64_t rows = out.size(0), row_size = out.size(1) * out.size(2);
  const int64_t total = rows * row_size;
  if (total == 0) return;
  const int blocks = static_cast<int>(std::min<int64_t>((total + kThreads - 1) / kThreads, 65535));
  ig_path_points_kernel<scalar_t><<<blocks, kThreads, 0, stream>>>(
      input.data_ptr<scalar_t>(), baseline.data_ptr<scalar_t>(), row_seq.data_ptr<int64_t>(),
      row_alpha.data_ptr<double>(), out.data_ptr<scalar_t>(), rows, row_size);
}

at::Tensor ig_path_points_cuda(const at::Tensor& input, const at::Tensor& baseline,
                               const at::Tensor& row_seq, const at::Tensor& row_alpha) {
  TORCH_CHECK(input.is_cuda(), "input must be a CUDA tensor");
  TORCH_CHECK(input.sizes() == baseline.sizes(), "input and baseline shapes differ: ",
              input.sizes(), " vs ", baseline.sizes());
  c10::cuda::CUDAGuard guard(input.device());
  auto out = at::empty({row_seq.size(0), input.size(1), input.size(2)}, input.options());
  check_rows(input, out, row_seq, row_alpha, "row_alpha");
  const auto x = input.contiguous();
  const auto b = baseline.contiguous();
  const auto seq = row_seq.contiguous();
  const auto alpha = row_alpha.contiguous();
  const cudaStream_t stream = at::cuda::getCurrentCUDAStream();
  AT_DISPATCH_FLOATING_TYPES(input.scalar_type(), "ig_path_points_cuda", [&] {
    launch_ig_path_points<scalar_t>(x, b, seq, alpha, out, stream);
  });
  C10_CUDA_KERNEL_LAUNCH_CHECK();
  return out;
}

}  // namespace

TORCH_LIBRARY_IMPL(seqattr, CUDA, m) {
  m.impl("ig_path_points", &ig_path_points_cuda);
}

}  // namespace seqattr::ops
