// CUDA twin of kernels/cpu/rescale_multipliers_kernel.cpp; must match it
// (tests/unit/test_kernel_ops.cpp).
#include <ATen/ATen.h>
#include <ATen/Dispatch.h>
#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDAException.h>
#include <c10/cuda/CUDAGuard.h>
#include <torch/library.h>

#include "kernels/ops/rescale_checks.h"
#include "kernels/ops/rescale_core.h"

namespace seqattr::ops {
namespace {

constexpr int kThreads = 256;

// One thread per element, grid-stride, the CPU reference's rule (rescale_core.h). Assumes
// contiguous tensors of n elements.
template <typename scalar_t>
static __global__ void rescale_multipliers_kernel(
    const scalar_t* __restrict__ x, const scalar_t* __restrict__ x_ref,
    const scalar_t* __restrict__ y, const scalar_t* __restrict__ y_ref,
    const scalar_t* __restrict__ grad, scalar_t eps, scalar_t* __restrict__ to_x,
    scalar_t* __restrict__ to_y, int64_t n) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(blockDim.x) * gridDim.x) {
    rescale_element(x[i], x_ref[i], y[i], y_ref[i], grad[i], eps, to_x[i], to_y[i]);
  }
}

template <typename scalar_t>
void launch_rescale_multipliers(const at::Tensor& x, const at::Tensor& x_ref, const at::Tensor& y,
                                const at::Tensor& y_ref, const at::Tensor& grad, double epsilon,
                                at::Tensor& to_x, at::Tensor& to_y, cudaStream_t stream) {
  const int64_t n = x.numel();
  if (n == 0) return;
  const int blocks = static_cast<int>(std::min<int64_t>((n + kThreads - 1) / kThreads, 65535));
  rescale_multipliers_kernel<scalar_t><<<blocks, kThreads, 0, stream>>>(
      x.data_ptr<scalar_t>(), x_ref.data_ptr<scalar_t>(), y.data_ptr<scalar_t>(),
      y_ref.data_ptr<scalar_t>(), grad.data_ptr<scalar_t>(), static_cast<scalar_t>(epsilon),
      to_x.data_ptr<scalar_t>(), to_y.data_ptr<scalar_t>(), n);
}

std::tuple<at::Tensor, at::Tensor> rescale_multipliers_cuda(const at::Tensor& x,
                                                            const at::Tensor& x_ref,
                                                            const at::Tensor& y,
                                                            const at::Tensor& y_ref,
                                                            const at::Tensor& grad, double epsilon) {
  TORCH_CHECK(x.is_cuda(), "x must be a CUDA tensor");
  check_rescale(x, x_ref, y, y_ref, grad);
  c10::cuda::CUDAGuard guard(x.device());
  const auto xi = x.contiguous(), xr = x_ref.contiguous();
  const auto yi = y.contiguous(), yr = y_ref.contiguous();
  const auto g = grad.contiguous();
  auto to_x = at::empty_like(xi);
  auto to_y = at::empty_like(xi);
  const cudaStream_t stream = at::cuda::getCurrentCUDAStream();
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, x.scalar_type(), "rescale_multipliers_cuda", [&] {
    launch_rescale_multipliers<scalar_t>(xi, xr, yi, yr, g, epsilon, to_x, to_y, stream);
  });
  C10_CUDA_KERNEL_LAUNCH_CHECK();
  return {to_x, to_y};
}

}  // namespace

TORCH_LIBRARY_IMPL(seqattr, CUDA, m) {
  m.impl("rescale_multipliers", &rescale_multipliers_cuda);
}

}  // namespace seqattr::ops
