#include "methods/deeplift/rules.h"

#include <ATen/ExpandUtils.h>
#include <torch/library.h>
#include <torch/torch.h>

#include "kernels/ops/conv1d_direct.h"
#include "kernels/ops/conv1d_direct_checks.h"
#include "kernels/ops/relu_rescale_grad.h"
#include "kernels/ops/rescale_multipliers.h"
#include "methods/deeplift/pair_layout.h"

namespace seqattr::deeplift {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::tensor_list;

// The pair's two sides of a [inputs; references] tensor: rows of the owners, and the
// reference rows.
struct Sides {
  torch::Tensor input, reference;
};

Sides sides(const torch::Tensor& t, int64_t inputs, const torch::Tensor& owner) {
  return {t.narrow(0, 0, inputs).index_select(0, owner), t.narrow(0, inputs, owner.size(0))};
}

using OptionalTensor = c10::optional<torch::Tensor>;

// The graph's Δx and Δy (delta_graph.h), when it carries them, kept for backward outside
// autograd's bookkeeping: they never require grad.
void save_deltas(AutogradContext* ctx, const OptionalTensor& dx, const OptionalTensor& dy) {
  ctx->saved_data["dx"] = dx;
  ctx->saved_data["dy"] = dy;
}

struct PairDeltas {
  // Rows [inputs, inputs + P): the pairs' changes, float32 or float64 (delta_graph.h);
  // undefined when the graph carries no Δ.
  torch::Tensor x, y;
};

PairDeltas pair_deltas(AutogradContext* ctx, int64_t inputs, const torch::Tensor& owner) {
  const auto& dx = ctx->saved_data["dx"];
  if (dx.isNone()) return {};
  return {dx.toTensor().narrow(0, inputs, owner.size(0)),
          ctx->saved_data["dy"].toTensor().narrow(0, inputs, owner.size(0))};
}

// Saves the layout, or marks the pass as plain (no layout), for backward. The owner goes
// last, after `tensors`.
void save_layout(AutogradContext* ctx, torch::autograd::variable_list tensors) {
  const PairLayout* layout = current_pair_layout();
  ctx->saved_data["inputs"] = layout ? layout->inputs : int64_t{-1};
  if (layout) tensors.push_back(layout->owner);
  ctx->save_for_backward(tensors);
}

// A full-size gradient that is zero on the input rows and `reference_grad` below them.
torch::Tensor on_reference_rows(const torch::Tensor& like, int64_t inputs,
                                const torch::Tensor& reference_grad) {
  auto grad = torch::zeros_like(like);
  grad.narrow(0, inputs, reference_grad.size(0)).copy_(reference_grad);
  return grad;
}

// Elementwise rescale: m = (f(x) - f(r)) / (x - r). Where there is no change the gradient
// is sent to y instead, which the original op's own backward turns into f'(r). Given the
// graph's Δx and Δy (delta_graph.h), m = Δy / Δx and "no change" is Δx == 0. Otherwise they
// are differences of values and "no change" is |x - r| < kRescaleEpsilon: the per-pair
// arithmetic of the seqattr::rescale_multipliers op (kernels/ops/rescale_multipliers.h).
class Rescale : public torch::autograd::Function<Rescale> {
 public:
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& x, const torch::Tensor& y,
                               const OptionalTensor& dx, const OptionalTensor& dy) {
    save_layout(ctx, {x, y});
    save_deltas(ctx, dx, dy);
    return y.clone();
  }

  static tensor_list backward(AutogradContext* ctx, tensor_list grads) {
    const auto saved = ctx->get_saved_variables();  // x, y, owner
    const int64_t inputs = ctx->saved_data["inputs"].toInt();
    const auto& grad = grads[0];
    if (inputs < 0) return {torch::Tensor(), grad, torch::Tensor(), torch::Tensor()};
    const auto& owner = saved[2];
    const auto g = grad.narrow(0, inputs, owner.size(0));
    torch::Tensor to_x, to_y;
    if (const auto delta = pair_deltas(ctx, inputs, owner); delta.x.defined()) {
      const auto unchanged = delta.x == 0;
      const auto zero = torch::zeros_like(g);
      to_x = torch::where(unchanged, zero, g * (delta.y / delta.x).to(g.scalar_type()));
      to_y = torch::where(unchanged, g, zero);
    } else {
      const auto x = sides(saved[0], inputs, owner);
      const auto y = sides(saved[1], inputs, owner);
      std::tie(to_x, to_y) =
          ops::rescale_multipliers(x.input, x.reference, y.input, y.reference, g, kRescaleEpsilon);
    }
    return {on_reference_rows(saved[0], inputs, to_x), on_reference_rows(saved[1], inputs, to_y),
            torch::Tensor(), torch::Tensor()};
  }
};

// The rescale rule through a ReLU fused with the ReLU (graph_rewrite.cpp puts it in place of
// relu followed by deeplift_rescale when the graph carries no Δ): the same numbers, from the
// activations x alone, in one kernel (kernels/ops/relu_rescale_grad.h) instead of the
// rule's two gradients, relu's backward and their sum.
class Relu : public torch::autograd::Function<Relu> {
 public:
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& x) {
    save_layout(ctx, {x});
    return torch::relu(x);
  }

  static tensor_list backward(AutogradContext* ctx, tensor_list grads) {
    const auto saved = ctx->get_saved_variables();  // x, owner
    const int64_t inputs = ctx->saved_data["inputs"].toInt();
    if (inputs < 0) return {torch::threshold_backward(grads[0], saved[0], 0)};
    return {ops::relu_rescale_grad(saved[0], grads[0], saved[1], inputs, kRescaleEpsilon)};
  }
};

// A residual layer under DeepLIFT's ReLU rule: x + deeplift_relu(conv1d_direct(x, ...)) in one
// op (x's centre where the convolution is shorter, as conv1d_direct_relu_residual), put in by
// fuse_relu_rule_residuals. Its backward is the three ops' own, in one node: the rule's
// multipliers at the pre-activation z (relu_rescale_grad), the convolution's input gradient
// of them, and the residual's gradient summed in by that kernel (its addend) instead of by
// autograd's accumulation, a slice's zero-filled copy where the layer computes only a centre
// (core/demanded_positions.h) and an add. The same values and gradients (tested equal).
// Weights are frozen (Model loads them so): their gradients are not computed.
class ReluResidual : public torch::autograd::Function<ReluResidual> {
 public:
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& x, const torch::Tensor& weight,
                               const OptionalTensor& bias, int64_t padding, int64_t dilation) {
    TORCH_CHECK(!weight.requires_grad() && !(bias && bias->defined() && bias->requires_grad()),
                "deeplift_relu_residual: weights must be frozen (no gradients are computed for them)");
    const auto z = ops::conv1d_direct(x, weight, bias, padding, dilation);
    const auto residual = ops::residual_term(x, z.size(2));
    save_layout(ctx, {z, weight});
    ctx->saved_data["length"] = x.size(2);
    ctx->saved_data["padding"] = padding;
    ctx->saved_data["dilation"] = dilation;
    ctx->saved_data["residual_sizes"] = residual.sizes().vec();
    return torch::relu(z).add_(residual);  // relu(z) + x: aten::add(x, relu(z))'s bits
  }

  static tensor_list backward(AutogradContext* ctx, tensor_list grads) {
    const auto saved = ctx->get_saved_variables();  // z, weight, owner
    const int64_t inputs = ctx->saved_data["inputs"].toInt();
    const auto& grad = grads[0];
    const auto to_z = inputs < 0 ? torch::threshold_backward(grad, saved[0], 0)
                                 : ops::relu_rescale_grad(saved[0], grad, saved[2], inputs, kRescaleEpsilon);
    const auto residual = at::sum_to(grad, ctx->saved_data["residual_sizes"].toIntVector());
    const auto to_x = ops::conv1d_direct_input_grad(
        to_z, saved[1], ctx->saved_data["length"].toInt(), ctx->saved_data["padding"].toInt(),
        ctx->saved_data["dilation"].toInt(), c10::nullopt, residual);
    return {to_x, torch::Tensor(), torch::Tensor(), torch::Tensor(), torch::Tensor()};
  }
};

// Max-pool: each pooled output's difference y - y_r splits into max(y, y_r) - y_r, sent to
// the input's argmax, and y - max(y, y_r), sent to the reference's argmax (tangermeme's
// rule). Contributions are added, not overwritten, so overlapping windows, padding and
// stacked pools keep summation-to-delta; each input position's multiplier is its summed
// contribution over x - r. Given the graph's Δx and Δy, y - y_r is Δy and "no change" is
// Δx == 0.
class MaxPool1d : public torch::autograd::Function<MaxPool1d> {
 public:
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& x, const torch::Tensor& y,
                               c10::IntArrayRef kernel, c10::IntArrayRef stride,
                               c10::IntArrayRef padding, c10::IntArrayRef dilation, bool ceil_mode,
                               const OptionalTensor& dx, const OptionalTensor& dy) {
    save_layout(ctx, {x, y});
    save_deltas(ctx, dx, dy);
    ctx->saved_data["kernel"] = kernel.vec();
    ctx->saved_data["stride"] = stride.vec();
    ctx->saved_data["padding"] = padding.vec();
    ctx->saved_data["dilation"] = dilation.vec();
    ctx->saved_data["ceil_mode"] = ceil_mode;
    return y.clone();
  }

  static tensor_list backward(AutogradContext* ctx, tensor_list grads) {
    const auto saved = ctx->get_saved_variables();  // x, y, owner
    const int64_t inputs = ctx->saved_data["inputs"].toInt();
    const auto& grad = grads[0];
    const tensor_list no_grads(7);
    if (inputs < 0) {
      tensor_list out = {torch::Tensor(), grad};
      out.insert(out.end(), no_grads.begin(), no_grads.end());
      return out;
    }
    const auto& owner = saved[2];
    const auto argmax = [&](const torch::Tensor& t) {
      return std::get<1>(torch::max_pool1d_with_indices(
          t, ctx->saved_data["kernel"].toIntVector(), ctx->saved_data["stride"].toIntVector(),
          ctx->saved_data["padding"].toIntVector(), ctx->saved_data["dilation"].toIntVector(),
          ctx->saved_data["ceil_mode"].toBool()));
    };
    const auto x = sides(saved[0], inputs, owner);
    const auto g = grad.narrow(0, inputs, owner.size(0));
    // Each side's argmax from its own activations: positions whose values are equal in exact
    // arithmetic (the same k-mer under the kernel) are computed alike, so ties break as in
    // float64; argmax(r + Δ) would break them by rounding.
    const auto reference_index = argmax(x.reference);
    const auto input_index = argmax(x.input);
    torch::Tensor rise, fall, delta_in, unchanged;  // rise + fall = y - y_r
    if (const auto delta = pair_deltas(ctx, inputs, owner); delta.x.defined()) {
      delta_in = delta.x.to(g.scalar_type());
      rise = delta.y.clamp_min(0).to(g.scalar_type());
      fall = delta.y.clamp_max(0).to(g.scalar_type());
      unchanged = delta.x == 0;
    } else {
      const auto y = sides(saved[1], inputs, owner);
      const auto y_max = torch::maximum(y.input, y.reference);
      rise = y_max - y.reference;
      fall = y.input - y_max;
      delta_in = x.input - x.reference;
      unchanged = delta_in.abs() < kMaxPoolEpsilon;
    }
    auto contribution = torch::zeros_like(x.reference);
    contribution.scatter_add_(2, input_index, g * rise);
    contribution.scatter_add_(2, reference_index, g * fall);
    const auto plain = torch::zeros_like(x.reference).scatter_add_(2, input_index, g);
    const auto rescaled = torch::where(unchanged, plain, contribution / delta_in);
    tensor_list out = {on_reference_rows(saved[0], inputs, rescaled), torch::Tensor()};
    out.insert(out.end(), no_grads.begin(), no_grads.end());
    return out;
  }
};

// Softmax, Captum's rule (which tangermeme copied): rescale multipliers, falling back to the
// softmax gradient at the input where |x - r| is tiny, then minus their mean. Captum takes
// that mean over the whole batch, which makes a pair's result depend on its batch-mates; here
// it is over the pair's own elements, which is Captum's rule with one pair per batch. Given
// the graph's Δx and Δy, the secant is Δy / Δx and "no change" Δx == 0.
class Softmax : public torch::autograd::Function<Softmax> {
 public:
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& x, const torch::Tensor& y,
                               int64_t dim, const OptionalTensor& dx, const OptionalTensor& dy) {
    save_layout(ctx, {x, y});
    save_deltas(ctx, dx, dy);
    ctx->saved_data["dim"] = dim;
    return y.clone();
  }

  static tensor_list backward(AutogradContext* ctx, tensor_list grads) {
    const auto saved = ctx->get_saved_variables();  // x, y, owner
    const int64_t inputs = ctx->saved_data["inputs"].toInt();
    const int64_t dim = ctx->saved_data["dim"].toInt();
    const auto& grad = grads[0];
    if (inputs < 0) return {torch::Tensor(), grad, torch::Tensor(), torch::Tensor(), torch::Tensor()};
    const auto& owner = saved[2];
    const auto x = sides(saved[0], inputs, owner);
    const auto y = sides(saved[1], inputs, owner);
    const auto g = grad.narrow(0, inputs, owner.size(0));
    const auto plain = y.input * (g - (g * y.input).sum(dim, /*keepdim=*/true));
    torch::Tensor unnormalised;
    if (const auto delta = pair_deltas(ctx, inputs, owner); delta.x.defined()) {
      unnormalised = torch::where(delta.x == 0, plain, g * (delta.y / delta.x).to(g.scalar_type()));
    } else {
      const auto delta_in = x.input - x.reference;
      unnormalised = torch::where(delta_in.abs() < kRescaleEpsilon, plain,
                                  g * ((y.input - y.reference) / delta_in));
    }
    const auto per_pair = unnormalised.reshape({unnormalised.size(0), -1});
    const auto mean = per_pair.sum(1, /*keepdim=*/true) / per_pair.size(1);
    const auto centred = (per_pair - mean).view(unnormalised.sizes());
    return {on_reference_rows(saved[0], inputs, centred), torch::Tensor(), torch::Tensor(),
            torch::Tensor(), torch::Tensor()};
  }
};

class DetachedProduct : public torch::autograd::Function<DetachedProduct> {
 public:
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& w, const torch::Tensor& c,
                               const torch::Tensor& z) {
    save_layout(ctx, {w, c});
    return z.clone();
  }

  static tensor_list backward(AutogradContext* ctx, tensor_list grads) {
    const auto saved = ctx->get_saved_variables();
    const int64_t inputs = ctx->saved_data["inputs"].toInt();
    const auto& grad = grads[0];
    if (inputs < 0) return {torch::Tensor(), torch::Tensor(), grad};
    const auto& c = saved[1];
    const auto w = saved[0].expand_as(grad);
    const auto g = grad.narrow(0, inputs, saved[2].size(0));
    const auto input_side = sides(w, inputs, saved[2]).input;
    auto grad_c = on_reference_rows(grad, inputs, g * input_side);
    // c may have been broadcast in the product: sum back to its shape.
    grad_c = at::sum_to(grad_c, c.sizes());
    return {torch::Tensor(), grad_c, torch::Tensor()};
  }
};

torch::Tensor detached_product(const torch::Tensor& w, const torch::Tensor& c, const torch::Tensor& z) {
  return DetachedProduct::apply(w, c, z);
}

torch::Tensor rescale(const torch::Tensor& x, const torch::Tensor& y, const OptionalTensor& dx,
                      const OptionalTensor& dy) {
  return Rescale::apply(x, y, dx, dy);
}

torch::Tensor relu(const torch::Tensor& x) { return Relu::apply(x); }

torch::Tensor relu_residual(const torch::Tensor& x, const torch::Tensor& weight,
                            const OptionalTensor& bias, int64_t padding, int64_t dilation) {
  return ReluResidual::apply(x, weight, bias, padding, dilation);
}

torch::Tensor max_pool1d(const torch::Tensor& x, const torch::Tensor& y, c10::IntArrayRef kernel,
                         c10::IntArrayRef stride, c10::IntArrayRef padding,
                         c10::IntArrayRef dilation, bool ceil_mode, const OptionalTensor& dx,
                         const OptionalTensor& dy) {
  return MaxPool1d::apply(x, y, kernel, stride, padding, dilation, ceil_mode, dx, dy);
}

torch::Tensor softmax(const torch::Tensor& x, const torch::Tensor& y, int64_t dim,
                      const OptionalTensor& dx, const OptionalTensor& dy) {
  return Softmax::apply(x, y, dim, dx, dy);
}

}  // namespace

// Defined with their functions, these are CompositeImplicitAutograd kernels: the autograd
// Functions above are their own derivative.
TORCH_LIBRARY_FRAGMENT(seqattr, m) {
  // dx and dy, when given, are the graph's Δ of x and y (delta_graph.h).
  m.def("deeplift_rescale(Tensor x, Tensor y, Tensor? dx=None, Tensor? dy=None) -> Tensor", &rescale);
  m.def("deeplift_relu(Tensor x) -> Tensor", &relu);
  m.def("deeplift_relu_residual(Tensor x, Tensor weight, Tensor? bias, int padding, int dilation) "
        "-> Tensor", &relu_residual);
  m.def("deeplift_max_pool1d(Tensor x, Tensor y, int[] kernel_size, int[] stride, int[] padding, "
        "int[] dilation, bool ceil_mode, Tensor? dx=None, Tensor? dy=None) -> Tensor",
        &max_pool1d);
  m.def("deeplift_softmax(Tensor x, Tensor y, int dim, Tensor? dx=None, Tensor? dy=None) -> Tensor",
        &softmax);
  m.def("deeplift_detached_product(Tensor w, Tensor c, Tensor z) -> Tensor", &detached_product);
}

}  // namespace seqattr::deeplift
