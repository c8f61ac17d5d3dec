// CUDA twin of kernels/cpu/relu_max_pool_change_kernel.cpp; must match it
// (tests/unit/test_kernel_ops.cpp).
#include <ATen/ATen.h>
#include <ATen/Dispatch.h>
#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDAException.h>
#include <c10/cuda/CUDAGuard.h>
#include <torch/library.h>

#include <cmath>

#include "kernels/ops/relu_max_pool_change_core.h"

namespace seqattr::ops {
namespace {

constexpr int kThreads = 256;

// One thread per output (row, pool, channel), channel-last like the CPU reference: changes
// (B, W, C), reference and gap (L, C), out (B, out_width, C), all contiguous.
template <typename scalar_t>
static __global__ void relu_max_pool_change_kernel(
    const scalar_t* __restrict__ changes, const int64_t* __restrict__ lo,
    const scalar_t* __restrict__ reference, const scalar_t* __restrict__ gap,
    const int64_t* __restrict__ out_lo, scalar_t* __restrict__ out, int64_t rows,
    int64_t channels, int64_t width, int64_t kernel, int64_t out_width) {
  const int64_t total = rows * out_width * channels;
  for (int64_t e = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; e < total;
       e += static_cast<int64_t>(blockDim.x) * gridDim.x) {
    const int64_t c = e % channels, bj = e / channels;
    const int64_t b = bj / out_width, pool = out_lo[b] + bj % out_width;
    scalar_t best = -INFINITY;
    for (int64_t i = pool * kernel; i < (pool + 1) * kernel; ++i) {
      const int64_t at = i - lo[b];
      const scalar_t d = (at >= 0 && at < width) ? changes[(b * width + at) * channels + c]
                                                 : scalar_t(0);
      best = relu_pool::pool_step(best, d, reference[i * channels + c], gap[i * channels + c]);
    }
    out[e] = best;
  }
}

template <typename scalar_t>
void launch_relu_max_pool_change(const at::Tensor& changes, const at::Tensor& lo,
                                 const at::Tensor& reference, const at::Tensor& gap,
                                 int64_t kernel, const at::Tensor& out_lo, at::Tensor& out,
                                 cudaStream_t stream) {
  const int64_t total = out.numel();
  if (total == 0) return;
  const int blocks = static_cast<int>(std::min<int64_t>((total + kThreads - 1) / kThreads, 65535));
  relu_max_pool_change_kernel<scalar_t><<<blocks, kThreads, 0, stream>>>(
      changes.data_ptr<scalar_t>(), lo.data_ptr<int64_t>(), reference.data_ptr<scalar_t>(),
      gap.data_ptr<scalar_t>(), out_lo.data_ptr<int64_t>(), out.data_ptr<scalar_t>(),
      changes.size(0), changes.size(2), changes.size(1), kernel, out.size(1));
}

at::Tensor relu_max_pool_change_cuda(const at::Tensor& delta, const at::Tensor& lo,
                                     const at::Tensor& reference, const at::Tensor& gap,
                                     int64_t kernel, const at::Tensor& out_lo, int64_t out_width) {
  TORCH_CHECK(delta.is_cuda(), "delta must be a CUDA tensor");
  check_relu_max_pool_change(delta, lo, reference, gap, kernel, out_lo, out_width);
  c10::cuda::CUDAGuard guard(delta.device());
  const auto changes = delta.transpose(1, 2).contiguous();  // (B, W, C)
  const auto ref = reference.t().contiguous();               // (L, C)
  const auto g = gap.t().contiguous();
  const auto lo_c = lo.contiguous();
  const auto out_lo_c = out_lo.contiguous();
  auto out = at::empty({delta.size(0), out_width, delta.size(1)}, delta.options());
  const cudaStream_t stream = at::cuda::getCurrentCUDAStream();
  AT_DISPATCH_FLOATING_TYPES(delta.scalar_type(), "relu_max_pool_change_cuda", [&] {
    launch_relu_max_pool_change<scalar_t>(changes, lo_c, ref, g, kernel, out_lo_c, out, stream);
  });
  C10_CUDA_KERNEL_LAUNCH_CHECK();
  return out.transpose(1, 2);
}

}  // namespace

TORCH_LIBRARY_IMPL(seqattr, CUDA, m) {
  m.impl("relu_max_pool_change", &relu_max_pool_change_cuda);
}

}  // namespace seqattr::ops
