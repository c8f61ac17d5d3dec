// The derivatives of seqattr::conv1d_direct, conv1d_direct_relu and conv1d_direct_relu_residual
// (kernels/ops/conv1d_direct.h), registered for every device at once (the Autograd key), as
// torchvision registers its ops' backward.
//
// The input gradient is the op's own conv1d_direct_input_grad. Attribution models have frozen
// weights, so weight and bias gradients are rare; when asked for they come from LibTorch's
// convolution backward, and only then is x kept for backward.
#include <ATen/ATen.h>
#include <ATen/ExpandUtils.h>
#include <torch/autograd.h>
#include <torch/library.h>

#include "kernels/ops/conv1d_direct.h"
#include "kernels/ops/conv1d_direct_checks.h"

namespace seqattr::ops {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::tensor_list;

// The convolution's saved state and its backward, shared by conv1d_direct and
// conv1d_direct_relu (whose backward first masks the gradient by its output).
// `output` is kept only where the backward needs it (else undefined); saved as an output, so
// that the graph holds no reference cycle through it.
void save_convolution(AutogradContext* ctx, const at::Tensor& x, const at::Tensor& weight,
                      const c10::optional<at::Tensor>& bias, int64_t padding, int64_t dilation,
                      const at::Tensor& output) {
  const bool has_bias = bias.has_value() && bias->defined();
  const bool parameter_grads = weight.requires_grad() || (has_bias && bias->requires_grad());
  ctx->saved_data["length"] = x.size(2);
  ctx->saved_data["padding"] = padding;
  ctx->saved_data["dilation"] = dilation;
  ctx->saved_data["bias_size"] = has_bias ? bias->size(0) : int64_t{-1};
  ctx->save_for_backward({weight, parameter_grads ? x : at::Tensor(), output});
}

c10::optional<at::Tensor> if_defined(const at::Tensor& t) {
  return t.defined() ? c10::optional<at::Tensor>(t) : c10::nullopt;
}

// `saved` is {weight, x (or undefined), output (or undefined)}. With `gate` (the relu output),
// the gradient reaching the convolution is threshold_backward(grad, gate, 0): the input
// gradient's kernel masks as it reads, parameter gradients take the masked tensor. With
// `addend` (what a residual connection passes to x: x's shape, or its centre's), x's gradient
// is it plus the convolution's, summed by the input gradient's kernel.
tensor_list convolution_backward(AutogradContext* ctx, const tensor_list& saved,
                                 const at::Tensor& grad, const at::Tensor& gate,
                                 const at::Tensor& addend) {
  const auto& weight = saved[0];
  const int64_t padding = ctx->saved_data["padding"].toInt();
  const int64_t dilation = ctx->saved_data["dilation"].toInt();
  const int64_t bias_size = ctx->saved_data["bias_size"].toInt();
  at::Tensor grad_x, grad_weight, grad_bias;
  if (ctx->needs_input_grad(0)) {
    grad_x = conv1d_direct_input_grad(grad, weight, ctx->saved_data["length"].toInt(), padding,
                                      dilation, if_defined(gate), if_defined(addend));
  }
  const bool want_weight = ctx->needs_input_grad(1);
  const bool want_bias = bias_size >= 0 && ctx->needs_input_grad(2);
  if (want_weight || want_bias) {
    const auto bias_sizes = bias_size >= 0 ? c10::optional<at::IntArrayRef>(at::IntArrayRef(&bias_size, 1))
                                           : c10::nullopt;
    const auto passed = gate.defined() ? at::threshold_backward(grad, gate, 0) : grad;
    auto parts = at::convolution_backward(passed, saved[1], weight, bias_sizes, {1}, {padding},
                                          {dilation}, false, {0}, 1,
                                          {false, want_weight, want_bias});
    grad_weight = std::get<1>(parts);
    grad_bias = std::get<2>(parts);
  }
  return {grad_x, grad_weight, grad_bias, at::Tensor(), at::Tensor()};
}

class Conv1dDirect : public torch::autograd::Function<Conv1dDirect> {
 public:
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& x, const at::Tensor& weight,
                            const c10::optional<at::Tensor>& bias, int64_t padding,
                            int64_t dilation) {
    save_convolution(ctx, x, weight, bias, padding, dilation, at::Tensor());
    at::AutoDispatchBelowADInplaceOrView below_autograd;
    return conv1d_direct(x, weight, bias, padding, dilation);
  }

  static tensor_list backward(AutogradContext* ctx, tensor_list grads) {
    return convolution_backward(ctx, ctx->get_saved_variables(), grads[0], at::Tensor(), at::Tensor());
  }
};

// relu(conv): the output y is kept, and gates the gradient as relu's own backward would
// (threshold_backward(grad, y, 0): zero where y <= 0).
class Conv1dDirectRelu : public torch::autograd::Function<Conv1dDirectRelu> {
 public:
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& x, const at::Tensor& weight,
                            const c10::optional<at::Tensor>& bias, int64_t padding,
                            int64_t dilation) {
    at::Tensor y;
    {
      at::AutoDispatchBelowADInplaceOrView below_autograd;
      y = conv1d_direct_relu(x, weight, bias, padding, dilation);
    }
    save_convolution(ctx, x, weight, bias, padding, dilation, y);
    return y;
  }

  static tensor_list backward(AutogradContext* ctx, tensor_list grads) {
    const auto saved = ctx->get_saved_variables();
    return convolution_backward(ctx, saved, grads[0], saved[2], at::Tensor());
  }
};

// x + relu(conv(x)) (x's centre where the output is shorter), returned with relu(conv(x))
// (kept for backward as the gate; not differentiable). x's gradient: what the sum passes to
// the residual term directly, plus the convolution's of what it passes to the relu term; each
// reduced to its operand's shape where the add broadcast (at::sum_to: a no-op where shapes
// agree, as in every residual layer).
class Conv1dDirectReluResidual : public torch::autograd::Function<Conv1dDirectReluResidual> {
 public:
  static tensor_list forward(AutogradContext* ctx, const at::Tensor& x, const at::Tensor& weight,
                             const c10::optional<at::Tensor>& bias, int64_t padding,
                             int64_t dilation) {
    at::Tensor sum, relu;
    {
      at::AutoDispatchBelowADInplaceOrView below_autograd;
      std::tie(sum, relu) = conv1d_direct_relu_residual(x, weight, bias, padding, dilation);
    }
    save_convolution(ctx, x, weight, bias, padding, dilation, relu);
    ctx->saved_data["residual_sizes"] = residual_term(x, relu.size(2)).sizes().vec();
    ctx->mark_non_differentiable({relu});
    ctx->set_materialize_grads(false);  // no zero-filled gradient for the unused relu output
    return {sum, relu};
  }

  static tensor_list backward(AutogradContext* ctx, tensor_list grads) {
    const auto saved = ctx->get_saved_variables();
    const auto& grad = grads[0];
    if (!grad.defined()) return {at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor()};
    const auto residual_sizes = ctx->saved_data["residual_sizes"].toIntVector();
    const auto& relu = saved[2];
    return convolution_backward(ctx, saved, at::sum_to(grad, relu.sizes()), relu,
                                at::sum_to(grad, residual_sizes));
  }
};

at::Tensor conv1d_direct_autograd(const at::Tensor& x, const at::Tensor& weight,
                                const c10::optional<at::Tensor>& bias, int64_t padding,
                                int64_t dilation) {
  return Conv1dDirect::apply(x, weight, bias, padding, dilation);
}

at::Tensor conv1d_direct_relu_autograd(const at::Tensor& x, const at::Tensor& weight,
                                       const c10::optional<at::Tensor>& bias, int64_t padding,
                                       int64_t dilation) {
  return Conv1dDirectRelu::apply(x, weight, bias, padding, dilation);
}

std::tuple<at::Tensor, at::Tensor> conv1d_direct_relu_residual_autograd(
    const at::Tensor& x, const at::Tensor& weight, const c10::optional<at::Tensor>& bias,
    int64_t padding, int64_t dilation) {
  const auto outputs = Conv1dDirectReluResidual::apply(x, weight, bias, padding, dilation);
  return {outputs[0], outputs[1]};
}

}  // namespace

TORCH_LIBRARY_IMPL(seqattr, Autograd, m) {
  m.impl("conv1d_direct", &conv1d_direct_autograd);
  m.impl("conv1d_direct_relu", &conv1d_direct_relu_autograd);
  m.impl("conv1d_direct_relu_residual", &conv1d_direct_relu_residual_autograd);
}

}  // namespace seqattr::ops
