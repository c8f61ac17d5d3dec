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

inline bool given(const c10::optional<at::Tensor>& t) { return t.has_value() && t->defined(); }

// How many positions a residual layer's output leaves out at each end of its input: 0 where
// the convolution keeps the length (same padding), else half the difference (a "valid"
// convolution whose residual is the input's centre, as chrombpnet crops it; also what
// core/demanded_positions.h makes of a same-padded layer when only its centre is needed).
inline int64_t residual_crop(int64_t in_length, int64_t out_length) {
  const int64_t lost = in_length - out_length;
  TORCH_CHECK(lost >= 0 && lost % 2 == 0, "conv1d_direct_relu_residual: the output (length ",
              out_length, ") must be the input (length ", in_length,
              ") or its centre, an even number of positions shorter");
  return lost / 2;
}

// The residual term of conv1d_direct_relu_residual: x, or its centre of `out_length` positions.
inline at::Tensor residual_term(const at::Tensor& x, int64_t out_length) {
  const int64_t crop = residual_crop(x.size(2), out_length);
  return crop == 0 ? x : x.narrow(2, crop, out_length);
}

// gradient + addend, the addend on the gradient's centre where it is shorter: the input
// gradient of a residual layer whose output is its input's centre (residual_crop).
inline at::Tensor add_centred(const at::Tensor& gradient, const at::Tensor& addend) {
  if (addend.size(2) == gradient.size(2)) return at::add(addend, gradient);
  auto sum = gradient.clone();
  auto centre = sum.narrow(2, (gradient.size(2) - addend.size(2)) / 2, addend.size(2));
  centre.copy_(at::add(addend, centre));
  return sum;
}

// conv1d_direct_input_grad's optional gate (the relu output the gradient comes through, grad's
// shape) and addend (x's shape, or its centre: an even number of positions shorter).
inline void check_conv1d_direct_grad_extras(const at::Tensor& grad, const at::Tensor& weight,
                                            int64_t length, const c10::optional<at::Tensor>& gate,
                                            const c10::optional<at::Tensor>& addend) {
  const auto check = [&](const c10::optional<at::Tensor>& t, const char* name, at::IntArrayRef sizes) {
    if (!given(t)) return;
    TORCH_CHECK(t->sizes() == sizes, "conv1d_direct_input_grad: ", name, " ", t->sizes(),
                " must be ", sizes);
    TORCH_CHECK(t->scalar_type() == grad.scalar_type() && t->device() == grad.device(),
                "conv1d_direct_input_grad: ", name, " must share grad's dtype and device");
  };
  check(gate, "gate", grad.sizes());
  // x's length, or its centre's (residual_crop's rule); anything else is reported as x's.
  const bool centre = given(addend) && addend->dim() == 3 && addend->size(2) <= length &&
                      (length - addend->size(2)) % 2 == 0;
  check(addend, "addend", {grad.size(0), weight.size(1), centre ? addend->size(2) : length});
}

}  // namespace seqattr::ops
