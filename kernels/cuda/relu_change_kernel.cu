// CUDA twin of kernels/cpu/relu_change_kernel.cpp; must match it
// (tests/unit/test_kernel_ops.cpp).
#include <ATen/ATen.h>
#include <ATen/Dispatch.h>
#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDAException.h>
#include <c10/cuda/CUDAGuard.h>
#include <torch/library.h>

#include "kernels/ops/relu_change_checks.h"
#include "kernels/ops/relu_max_pool_change_core.h"

namespace seqattr::ops {
namespace {

constexpr int kThreads = 256;

// One thread per element, in the CPU reference's layouts: channel-last changes (B, W, C)
// against the (L, C) reference, or (B, C, W) against (C, L); out like the changes.
template <typename scalar_t>
static __global__ void relu_change_kernel(const scalar_t* __restrict__ changes,
                                          const int64_t* __restrict__ lo,
                                          const scalar_t* __restrict__ reference,
                                          scalar_t* __restrict__ out, int64_t rows,
                                          int64_t channels, int64_t width, int64_t length,
                                          bool last) {
  const int64_t total = rows * channels * width;
  for (int64_t e = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; e < total;
       e += static_cast<int64_t>(blockDim.x) * gridDim.x) {
    int64_t b, c, i;
    if (last) {
      c = e % channels, i = (e / channels) % width, b = e / (channels * width);
    } else {
      i = e % width, c = (e / width) % channels, b = e / (channels * width);
    }
    const int64_t at = last ? (lo[b] + i) * channels + c : c * length + lo[b] + i;
    out[e] = relu_pool::relu_change(changes[e], reference[at]);
  }
}

template <typename scalar_t>
void launch_relu_change(const at::Tensor& changes, const at::Tensor& lo, const at::Tensor& reference,
                        at::Tensor& out, int64_t channels, int64_t width, int64_t length,
                        bool last, cudaStream_t stream) {
  const int64_t total = out.numel();
  if (total == 0) return;
  const int blocks = static_cast<int>(std::min<int64_t>((total + kThreads - 1) / kThreads, 65535));
  relu_change_kernel<scalar_t><<<blocks, kThreads, 0, stream>>>(
      changes.data_ptr<scalar_t>(), lo.data_ptr<int64_t>(), reference.data_ptr<scalar_t>(),
      out.data_ptr<scalar_t>(), changes.size(0), channels, width, length, last);
}

at::Tensor relu_change_cuda(const at::Tensor& delta, const at::Tensor& lo, const at::Tensor& reference) {
  TORCH_CHECK(delta.is_cuda(), "delta must be a CUDA tensor");
  check_relu_change(delta, lo, reference);
  c10::cuda::CUDAGuard guard(delta.device());
  const bool last = relu_change_channels_last(delta);
  const auto changes = last ? delta.transpose(1, 2) : delta.contiguous();
  const auto ref = last ? reference.t().contiguous() : reference.contiguous();
  const auto lo_c = lo.contiguous();
  auto out = at::empty_like(changes, at::MemoryFormat::Contiguous);
  const cudaStream_t stream = at::cuda::getCurrentCUDAStream();
  AT_DISPATCH_FLOATING_TYPES(delta.scalar_type(), "relu_change_cuda", [&] {
    launch_relu_change<scalar_t>(changes, lo_c, ref, out, delta.size(1), delta.size(2),
                                 reference.size(1), last, stream);
  });
  C10_CUDA_KERNEL_LAUNCH_CHECK();
  return last ? out.transpose(1, 2) : out;
}

}  // namespace

TORCH_LIBRARY_IMPL(seqattr, CUDA, m) {
  m.impl("relu_change", &relu_change_cuda);
}

}  // namespace seqattr::ops
