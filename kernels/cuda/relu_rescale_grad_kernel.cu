// CUDA twin of kernels/cpu/relu_rescale_grad_kernel.cpp; must match it
// (tests/unit/test_kernel_ops.cpp).
#include <ATen/ATen.h>
#include <ATen/Dispatch.h>
#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDAException.h>
#include <c10/cuda/CUDAGuard.h>
#include <torch/library.h>

#include <algorithm>

#include "kernels/ops/relu_rescale_grad_checks.h"
#include "kernels/ops/relu_rescale_grad_core.h"

namespace seqattr::ops {
namespace {

constexpr int kThreads = 256;

// One thread per element of the reference rows; x, grad and out contiguous (S + P, row).
template <typename scalar_t>
static __global__ void relu_rescale_grad_kernel(const scalar_t* __restrict__ x,
                                                const scalar_t* __restrict__ grad,
                                                const int64_t* __restrict__ owner,
                                                scalar_t* __restrict__ out, int64_t inputs,
                                                int64_t references, int64_t row, scalar_t eps) {
  const int64_t total = references * row;
  for (int64_t e = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; e < total;
       e += static_cast<int64_t>(blockDim.x) * gridDim.x) {
    const int64_t k = e / row, i = e % row;
    const int64_t at = (inputs + k) * row + i;
    out[at] = relu_rescale_element(x[owner[k] * row + i], x[at], grad[at], eps);
  }
}

template <typename scalar_t>
void launch_relu_rescale_grad(const at::Tensor& x, const at::Tensor& grad, const at::Tensor& owner,
                              at::Tensor& out, int64_t inputs, double epsilon, cudaStream_t stream) {
  const int64_t references = owner.size(0);
  const int64_t row = x.numel() / x.size(0);
  const int64_t total = references * row;
  if (total == 0) return;
  const int blocks = static_cast<int>(std::min<int64_t>((total + kThreads - 1) / kThreads, 65535));
  relu_rescale_grad_kernel<scalar_t><<<blocks, kThreads, 0, stream>>>(
      x.data_ptr<scalar_t>(), grad.data_ptr<scalar_t>(), owner.data_ptr<int64_t>(),
      out.data_ptr<scalar_t>(), inputs, references, row, static_cast<scalar_t>(epsilon));
}

at::Tensor relu_rescale_grad_cuda(const at::Tensor& x, const at::Tensor& grad,
                                  const at::Tensor& owner, int64_t inputs, double epsilon) {
  TORCH_CHECK(x.is_cuda(), "x must be a CUDA tensor");
  check_relu_rescale_grad(x, grad, owner, inputs);
  c10::cuda::CUDAGuard guard(x.device());
  const auto xc = x.contiguous();
  const auto gc = grad.contiguous();
  const auto oc = owner.contiguous();
  auto out = at::empty_like(xc);
  out.narrow(0, 0, inputs).zero_();
  const cudaStream_t stream = at::cuda::getCurrentCUDAStream();
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, x.scalar_type(), "relu_rescale_grad_cuda", [&] {
    launch_relu_rescale_grad<scalar_t>(xc, gc, oc, out, inputs, epsilon, stream);
  });
  C10_CUDA_KERNEL_LAUNCH_CHECK();
  return out;
}

}  // namespace

TORCH_LIBRARY_IMPL(seqattr, CUDA, m) {
  m.impl("relu_rescale_grad", &relu_rescale_grad_cuda);
}

}  // namespace seqattr::ops
