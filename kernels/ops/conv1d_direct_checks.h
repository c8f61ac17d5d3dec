#pragma once
// Argument checks and output length shared by the CPU and CUDA kernels of seqattr::conv1d_direct.
#include <ATen/ATen.h>

namespace seqattr::ops {

inline int64_t conv1d_direct_output_length(int64_t length, int64_t kernel, int64_t padding,
                                         int64_t dilation) {
  return length + 2 * padding - dilation * (kernel - 1);
}

// `signal` is x (forward; channels C) or grad (input gradient; channels O).
inline void check_conv1d_direct(const at::Tensor& signal, const at::Tensor& weight,
                              bool is_grad, int64_t padding, int64_t dilation) {
  TORCH_CHECK(signal.dim() == 3, "conv1d_direct: input must be (N, C, L), got ", signal.sizes());
  TORCH_CHECK(weight.dim() == 3, "conv1d_direct: weight must be (O, C, K), got ", weight.sizes());
  TORCH_CHECK(at::isFloatingType(signal.scalar_type()), "conv1d_direct: input must be floating, got ",
              signal.scalar_type());
  TORCH_CHECK(weight.scalar_type() == signal.scalar_type() && weight.device() == signal.device(),
              "conv1d_direct: weight must share the input's dtype and device");
  const int64_t channels = is_grad ? weight.size(0) : weight.size(1);
  TORCH_CHECK(signal.size(1) == channels, "conv1d_direct: input has ", signal.size(1),
              " channels, weight ", weight.sizes(), " expects ", channels);
  TORCH_CHECK(padding >= 0 && dilation >= 1, "conv1d_direct: padding must be >= 0 and dilation >= 1");
}

// conv1d_direct_input_grad's optional gate: the relu output the gradient comes through.
inline void check_conv1d_direct_gate(const at::Tensor& grad, const c10::optional<at::Tensor>& gate) {
  if (!gate.has_value() || !gate->defined()) return;
  TORCH_CHECK(gate->sizes() == grad.sizes(), "conv1d_direct_input_grad: gate ", gate->sizes(),
              " must have grad's shape ", grad.sizes());
  TORCH_CHECK(gate->scalar_type() == grad.scalar_type() && gate->device() == grad.device(),
              "conv1d_direct_input_grad: gate must share grad's dtype and device");
}

}  // namespace seqattr::ops
