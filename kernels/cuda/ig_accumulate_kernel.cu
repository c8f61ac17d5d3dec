// CUDA twin of kernels/cpu/ig_accumulate_kernel.cpp; must match it (tests/unit/test_kernels.cpp).
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

// One thread per element of a (C, L) row, walking the rows in order like the CPU
// reference: no atomics, deterministic, bit-identical order of additions.
template <typename scalar_t>
static __global__ void ig_accumulate_kernel(scalar_t* __restrict__ accum,
                                            const scalar_t* __restrict__ grads,
                                            const int64_t* __restrict__ row_seq,
                                            const double* __restrict__ row_weight, int64_t rows,
                                            int64_t row_size) {
  for (int64_t e = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; e < row_size;
       e += static_cast<int64_t>(blockDim.x) * gridDim.x) {
    for (int64_t r = 0; r < rows; ++r) {
      scalar_t* a = accum + row_seq[r] * row_size + e;
      *a = static_cast<scalar_t>(*a + row_weight[r] * grads[r * row_size + e]);
    }
  }
}

template <typename scalar_t>
void launch_ig_accumulate(at::Tensor& accum, const at::Tensor& grads, const at::Tensor& row_seq,
                          const at::Tensor& row_weight, cudaStream_t stream) {
  const int64_t rows = grads.size(0), row_size = accum.size(1) * accum.size(2);
  if (rows == 0 || row_size == 0) return;
  const int blocks = static_cast<int>(std::min<int64_t>((row_size + kThreads - 1) / kThreads, 65535));
  ig_accumulate_kernel<scalar_t><<<blocks, kThreads, 0, stream>>>(
      accum.data_ptr<scalar_t>(), grads.data_ptr<scalar_t>(), row_seq.data_ptr<int64_t>(),
      row_weight.data_ptr<double>(), rows, row_size);
}

at::Tensor& ig_accumulate_cuda(at::Tensor& accum, const at::Tensor& grads,
                               const at::Tensor& row_seq, const at::Tensor& row_weight) {
  TORCH_CHECK(accum.is_cuda(), "accum must be a CUDA tensor");
  check_rows(accum, grads, row_seq, row_weight, "row_weight");
  TORCH_CHECK(accum.is_contiguous(), "accum must be contiguous");
  c10::cuda::CUDAGuard guard(accum.device());
  const auto g = grads.contiguous();
  const auto seq = row_seq.contiguous();
  const auto weight = row_weight.contiguous();
  const cudaStream_t stream = at::cuda::getCurrentCUDAStream();
  AT_DISPATCH_FLOATING_TYPES(accum.scalar_type(), "ig_accumulate_cuda", [&] {
    launch_ig_accumulate<scalar_t>(accum, g, seq, weight, stream);
  });
  C10_CUDA_KERNEL_LAUNCH_CHECK();
  return accum;
}

}  // namespace

TORCH_LIBRARY_IMPL(seqattr, CUDA, m) {
  m.impl("ig_accumulate_", &ig_accumulate_cuda);
}

}  // namespace seqattr::ops
