// CUDA twin of kernels/cpu/conv1d_direct_kernel.cpp; must match it (tests/unit/test_kernel_ops.cpp).
// On the GPU the fast convolution is cuDNN's: the op runs LibTorch's convolution, which uses
// it, so that callers and graphs need not know the device.
#include <ATen/ATen.h>
#include <c10/cuda/CUDAGuard.h>
#include <torch/library.h>

#include <tuple>

#include "kernels/ops/conv1d_direct_checks.h"

namespace seqattr::ops {
namespace {

at::Tensor conv1d_direct_cuda(const at::Tensor& x, const at::Tensor& weight,
                            const c10::optional<at::Tensor>& bias, int64_t padding,
                            int64_t dilation) {
  TORCH_CHECK(x.is_cuda(), "x must be a CUDA tensor");
  check_conv1d_direct(x, weight, /*is_grad=*/false, padding, dilation);
  const int64_t out_length = conv1d_direct_output_length(x.size(2), weight.size(2), padding, dilation);
  TORCH_CHECK(out_length >= 1, "conv1d_direct: input length ", x.size(2), " is too short for kernel ",
              weight.size(2), " with dilation ", dilation, " and padding ", padding);
  c10::cuda::CUDAGuard guard(x.device());
  return at::convolution(x, weight, bias, {1}, {padding}, {dilation}, false, {0}, 1);
}

at::Tensor conv1d_direct_relu_cuda(const at::Tensor& x, const at::Tensor& weight,
                                   const c10::optional<at::Tensor>& bias, int64_t padding,
                                   int64_t dilation) {
  return at::relu(conv1d_direct_cuda(x, weight, bias, padding, dilation));
}

std::tuple<at::Tensor, at::Tensor> conv1d_direct_relu_residual_cuda(
    const at::Tensor& x, const at::Tensor& weight, const c10::optional<at::Tensor>& bias,
    int64_t padding, int64_t dilation) {
  const auto relu = conv1d_direct_relu_cuda(x, weight, bias, padding, dilation);
  return {at::add(residual_term(x, relu.size(2)), relu), relu};
}

at::Tensor conv1d_direct_input_grad_cuda(const at::Tensor& grad, const at::Tensor& weight,
                                         int64_t length, int64_t padding, int64_t dilation,
                                         const c10::optional<at::Tensor>& gate,
                                         const c10::optional<at::Tensor>& addend) {
  TORCH_CHECK(grad.is_cuda(), "grad must be a CUDA tensor");
  check_conv1d_direct(grad, weight, /*is_grad=*/true, padding, dilation);
  TORCH_CHECK(grad.size(2) == conv1d_direct_output_length(length, weight.size(2), padding, dilation),
              "conv1d_direct_input_grad: grad length ", grad.size(2), " does not match input length ",
              length);
  check_conv1d_direct_grad_extras(grad, weight, length, gate, addend);
  c10::cuda::CUDAGuard guard(grad.device());
  // The input's values do not enter its own gradient: an empty tensor of its shape suffices.
  const auto input = at::empty({grad.size(0), weight.size(1), length}, grad.options());
  const auto passed = given(gate) ? at::threshold_backward(grad, *gate, 0) : grad;
  const auto products = std::get<0>(at::convolution_backward(
      passed, input, weight, c10::nullopt, {1}, {padding}, {dilation}, false, {0}, 1,
      {true, false, false}));
  return given(addend) ? add_centred(products, *addend) : products;
}

}  // namespace

TORCH_LIBRARY_IMPL(seqattr, CUDA, m) {
  m.impl("conv1d_direct", &conv1d_direct_cuda);
  m.impl("conv1d_direct_relu", &conv1d_direct_relu_cuda);
  m.impl("conv1d_direct_relu_residual", &conv1d_direct_relu_residual_cuda);
  m.impl("conv1d_direct_input_grad", &conv1d_direct_input_grad_cuda);
}

}  // namespace seqattr::ops
