#pragma once
#include <ATen/ATen.h>

#include <cstdint>
#include <tuple>

namespace seqattr::ops {

// A stride-1, ungrouped 1-D convolution with zero padding and any dilation:
//   out[n, :, j] = (sum_k weight[:, :, k] @ x[n, :, j + k * dilation - padding]) + bias,
// with x zero outside [0, L): the function of at::conv1d(x, weight, bias, 1, padding, dilation).
// On the CPU its float32 kernel (kernels/cpu/conv1d_direct_kernel.cpp) runs about 1.7x
// LibTorch 1.13's oneDNN dilated convolution at BPNet's shapes (bench_kernels), and gives
// equal outputs for equal inputs at every position, as oneDNN does (ties that max-pools
// break stay ties). The CUDA twin is cuDNN's convolution.
//   x (N, C, L), weight (O, C, K), bias (O,) or undefined; floating, one dtype and device.
// Returns (N, O, L + 2 * padding - dilation * (K - 1)); throws when that is below one.
// Differentiable (kernels/autograd/): the input gradient is conv1d_direct_input_grad, and
// weight or bias gradients, when they require grad, LibTorch's convolution backward.
at::Tensor conv1d_direct(const at::Tensor& x, const at::Tensor& weight,
                       const c10::optional<at::Tensor>& bias, int64_t padding, int64_t dilation);

// relu(conv1d_direct(x, weight, bias, padding, dilation)) in one pass: the CPU kernel applies
// the ReLU as it stores each sum (the same values as a separate relu). Its derivative is
// conv1d_direct_input_grad gated by the output: the incoming gradient, zero where the output
// is not positive, as relu's own backward (threshold_backward) passes it.
// core/direct_convolutions.h fuses a convolution whose only use is a relu into it. The CUDA
// twin is cuDNN's convolution, then relu.
at::Tensor conv1d_direct_relu(const at::Tensor& x, const at::Tensor& weight,
                              const c10::optional<at::Tensor>& bias, int64_t padding,
                              int64_t dilation);

// x + relu(conv1d_direct(x, weight, bias, padding, dilation)), a residual layer (bpnet-lite's
// and chrombpnet's dilated layers), and the relu term alone: returns (sum, relu). Where the
// output is shorter than x, the residual term is x's centre (an even number of positions
// shorter, else it throws): chrombpnet's crop, and what core/demanded_positions.h makes of a
// same-padded layer whose ends no output reads. With as many output channels as input the CPU
// kernel adds x to each block of 512 positions just stored (in cache), the same roundings as
// the separate add; otherwise x + relu(...) broadcasts as aten::add does.
// core/direct_convolutions.h fuses an add of a conv1d_direct_relu's input to its output into
// it. Its derivative with respect to x is the residual's gradient plus the convolution's,
// summed by conv1d_direct_input_grad's addend; the relu output is not differentiable (the
// rewrite leaves it unused).
std::tuple<at::Tensor, at::Tensor> conv1d_direct_relu_residual(
    const at::Tensor& x, const at::Tensor& weight, const c10::optional<at::Tensor>& bias,
    int64_t padding, int64_t dilation);

// The gradient of conv1d_direct with respect to x, for x of length `length`:
//   grad_x[n, :, i] = addend[n, :, i] + sum_k weight[:, :, k]^T @ g[n, :, i - k * dilation + padding],
// g = grad, or with a gate (grad's shape: the relu output y of conv1d_direct_relu)
// g = threshold_backward(grad, gate, 0), i.e. zero where gate <= 0 (NaN passes); the addend
// (x's shape, or shorter by an even number of positions: then added to the centre, as a
// cropped residual passes its gradient) is zero when not given. The same values as those
// separate ops: the CPU kernel masks as it reads grad and adds as it stores, with no pass of
// its own for either.
at::Tensor conv1d_direct_input_grad(const at::Tensor& grad, const at::Tensor& weight,
                                    int64_t length, int64_t padding, int64_t dilation,
                                    const c10::optional<at::Tensor>& gate = c10::nullopt,
                                    const c10::optional<at::Tensor>& addend = c10::nullopt);

}  // namespace seqattr::ops
