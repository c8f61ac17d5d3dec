// CUDA twin of kernels/cpu/hypothetical_projection_kernel.cpp; must match it
// (tests/unit/test_kernel_ops.cpp).
#include <ATen/ATen.h>
#include <ATen/Dispatch.h>
#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDAException.h>
#include <c10/cuda/CUDAGuard.h>
#include <torch/library.h>

#include "kernels/ops/hypothetical_projection_checks.h"

namespace seqattr::ops {
namespace {

constexpr int kThreads = 256;

// One thread per (row, position), grid-stride, summing the C products in channel order
// like the CPU reference (nvcc may fuse multiply-adds: float32 results may differ in the
// last bits). Assumes contiguous (K, C, L) tensors.
template <typename scalar_t>
static __global__ void hypothetical_projection_kernel(const scalar_t* __restrict__ multipliers,
                                                      const scalar_t* __restrict__ references,
                                                      scalar_t* __restrict__ out, int64_t rows,
                                                      int64_t channels, int64_t length) {
  const int64_t total = rows * length;
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < total;
       i += static_cast<int64_t>(blockDim.x) * gridDim.x) {
    const int64_t first = (i / length) * channels * length + i % length;
    scalar_t projected = 0;
    for (int64_t c = 0; c < channels; ++c) {
      projected += references[first + c * length] * multipliers[first + c * length];
    }
    for (int64_t c = 0; c < channels; ++c) {
      out[first + c * length] = multipliers[first + c * length] - projected;
    }
  }
}

template <typename scalar_t>
void launch_hypothetical_projection(const at::Tensor& m, const at::Tensor& r, at::Tensor& out,
                                    cudaStream_t stream) {
  const int64_t total = m.size(0) * m.size(2);
  if (total == 0 || m.size(1) == 0) return;
  const int blocks = static_cast<int>(std::min<int64_t>((total + kThreads - 1) / kThreads, 65535));
  hypothetical_projection_kernel<scalar_t><<<blocks, kThreads, 0, stream>>>(
      m.data_ptr<scalar_t>(), r.data_ptr<scalar_t>(), out.data_ptr<scalar_t>(), m.size(0),
      m.size(1), m.size(2));
}

at::Tensor hypothetical_projection_cuda(const at::Tensor& multipliers, const at::Tensor& references) {
  TORCH_CHECK(multipliers.is_cuda(), "multipliers must be a CUDA tensor");
  check_hypothetical_projection(multipliers, references);
  c10::cuda::CUDAGuard guard(multipliers.device());
  const auto m = multipliers.contiguous();
  const auto r = references.contiguous();
  auto out = at::empty_like(m);
  const cudaStream_t stream = at::cuda::getCurrentCUDAStream();
  AT_DISPATCH_FLOATING_TYPES(m.scalar_type(), "hypothetical_projection_cuda", [&] {
    launch_hypothetical_projection<scalar_t>(m, r, out, stream);
  });
  C10_CUDA_KERNEL_LAUNCH_CHECK();
  return out;
}

}  // namespace

TORCH_LIBRARY_IMPL(seqattr, CUDA, m) {
  m.impl("hypothetical_projection", &hypothetical_projection_cuda);
}

}  // namespace seqattr::ops
