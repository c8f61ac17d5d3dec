#include "kernels/ops/conv1d_direct.h"

#include <ATen/core/dispatch/Dispatcher.h>
#include <torch/library.h>

namespace seqattr::ops {

TORCH_LIBRARY_FRAGMENT(seqattr, m) {
  m.def("conv1d_direct(Tensor x, Tensor weight, Tensor? bias, int padding, int dilation) -> Tensor");
  m.def(
      "conv1d_direct_relu(Tensor x, Tensor weight, Tensor? bias, int padding, int dilation) -> "
      "Tensor");
  m.def(
      "conv1d_direct_relu_residual(Tensor x, Tensor weight, Tensor? bias, int padding, "
      "int dilation) -> (Tensor, Tensor)");
  m.def(
      "conv1d_direct_input_grad(Tensor grad, Tensor weight, int length, int padding, int dilation, "
      "Tensor? gate=None, Tensor? addend=None) -> Tensor");
}

at::Tensor conv1d_direct(const at::Tensor& x, const at::Tensor& weight,
                       const c10::optional<at::Tensor>& bias, int64_t padding, int64_t dilation) {
  static auto op = c10::Dispatcher::singleton()
                       .findSchemaOrThrow("seqattr::conv1d_direct", "")
                       .typed<decltype(conv1d_direct)>();
  return op.call(x, weight, bias, padding, dilation);
}

at::Tensor conv1d_direct_relu(const at::Tensor& x, const at::Tensor& weight,
                              const c10::optional<at::Tensor>& bias, int64_t padding,
                              int64_t dilation) {
  static auto op = c10::Dispatcher::singleton()
                       .findSchemaOrThrow("seqattr::conv1d_direct_relu", "")
                       .typed<decltype(conv1d_direct_relu)>();
  return op.call(x, weight, bias, padding, dilation);
}

std::tuple<at::Tensor, at::Tensor> conv1d_direct_relu_residual(
    const at::Tensor& x, const at::Tensor& weight, const c10::optional<at::Tensor>& bias,
    int64_t padding, int64_t dilation) {
  static auto op = c10::Dispatcher::singleton()
                       .findSchemaOrThrow("seqattr::conv1d_direct_relu_residual", "")
                       .typed<decltype(conv1d_direct_relu_residual)>();
  return op.call(x, weight, bias, padding, dilation);
}

at::Tensor conv1d_direct_input_grad(const at::Tensor& grad, const at::Tensor& weight,
                                    int64_t length, int64_t padding, int64_t dilation,
                                    const c10::optional<at::Tensor>& gate,
                                    const c10::optional<at::Tensor>& addend) {
  static auto op = c10::Dispatcher::singleton()
                       .findSchemaOrThrow("seqattr::conv1d_direct_input_grad", "")
                       .typed<decltype(conv1d_direct_input_grad)>();
  return op.call(grad, weight, length, padding, dilation, gate, addend);
}

}  // namespace seqattr::ops
