#include "methods/deeplift/rules.h"

#include <ATen/ExpandUtils.h>
#include <torch/library.h>
#include <torch/torch.h>

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

// Saves the layout, or marks the pass as plain (no layout), for backward.
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

// Elementwise rescale: m = (f(x) - f(r)) / (x - r). Where |x - r| is tiny the gradient is
// sent to y instead, which the original op's own backward turns into f'(r). The per-pair
// arithmetic is the seqattr::rescale_multipliers op (kernels/ops/rescale_multipliers.h).
class Rescale : public torch::autograd::Function<Rescale> {
 public:
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& x, const torch::Tensor& y) {
    save_layout(ctx, {x, y});
    return y.clone();
  }

  static tensor_list backward(AutogradContext* ctx, tensor_list grads) {
    const auto saved = ctx->get_saved_variables();
    const int64_t inputs = ctx->saved_data["inputs"].toInt();
    const auto& grad = grads[0];
    if (inputs < 0) return {torch::Tensor(), grad};
    const auto x = sides(saved[0], inputs, saved[2]);
    const auto y = sides(saved[1], inputs, saved[2]);
    const auto g = grad.narrow(0, inputs, saved[2].size(0));
    const auto [to_x, to_y] =
        ops::rescale_multipliers(x.input, x.reference, y.input, y.reference, g, kRescaleEpsilon);
    return {on_reference_rows(saved[0], inputs, to_x), on_reference_rows(saved[1], inputs, to_y)};
  }
};

// Max-pool: each pooled output's difference y - y_r splits into max(y, y_r) - y_r, sent to
// the input's argmax, and y - max(y, y_r), sent to the reference's argmax (tangermeme's
// rule). Contributions are added, not overwritten, so overlapping windows, padding and
// stacked pools keep summation-to-delta; each input position's multiplier is its summed
// contribution over x - r.
class MaxPool1d : public torch::autograd::Function<MaxPool1d> {
 public:
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& x, const torch::Tensor& y,
                               c10::IntArrayRef kernel, c10::IntArrayRef stride,
                               c10::IntArrayRef padding, c10::IntArrayRef dilation, bool ceil_mode) {
    save_layout(ctx, {x, y});
    ctx->saved_data["kernel"] = kernel.vec();
    ctx->saved_data["stride"] = stride.vec();
    ctx->saved_data["padding"] = padding.vec();
    ctx->saved_data["dilation"] = dilation.vec();
    ctx->saved_data["ceil_mode"] = ceil_mode;
    return y.clone();
  }

  static tensor_list backward(AutogradContext* ctx, tensor_list grads) {
    const auto saved = ctx->get_saved_variables();
    const int64_t inputs = ctx->saved_data["inputs"].toInt();
    const auto& grad = grads[0];
    const tensor_list no_grads(5);
    if (inputs < 0) {
      tensor_list out = {torch::Tensor(), grad};
      out.insert(out.end(), no_grads.begin(), no_grads.end());
      return out;
    }
    const auto& owner = saved[2];
    auto [unused, indices] = torch::max_pool1d_with_indices(
        saved[0], ctx->saved_data["kernel"].toIntVector(), ctx->saved_data["stride"].toIntVector(),
        ctx->saved_data["padding"].toIntVector(), ctx->saved_data["dilation"].toIntVector(),
        ctx->saved_data["ceil_mode"].toBool());
    (void)unused;
    const auto x = sides(saved[0], inputs, owner);
    const auto y = sides(saved[1], inputs, owner);
    const auto index = sides(indices, inputs, owner);
    const auto g = grad.narrow(0, inputs, owner.size(0));
    const auto y_max = torch::maximum(y.input, y.reference);
    auto contribution = torch::zeros_like(x.reference);
    contribution.scatter_add_(2, index.input, g * (y_max - y.reference));
    contribution.scatter_add_(2, index.reference, g * (y.input - y_max));
    const auto plain = torch::zeros_like(x.reference).scatter_add_(2, index.input, g);
    const auto delta_in = x.input - x.reference;
    const auto rescaled = torch::where(delta_in.abs() < kMaxPoolEpsilon, plain, contribution / delta_in);
    tensor_list out = {on_reference_rows(saved[0], inputs, rescaled), torch::Tensor()};
    out.insert(out.end(), no_grads.begin(), no_grads.end());
    return out;
  }
};

// Softmax, Captum's rule (which tangermeme copied): rescale multipliers, falling back to the
// softmax gradient at the input where |x - r| is tiny, then minus their mean. Captum takes
// that mean over the whole batch, which makes a pair's result depend on its batch-mates; here
// it is over the pair's own elements, which is Captum's rule with one pair per batch.
class Softmax : public torch::autograd::Function<Softmax> {
 public:
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& x, const torch::Tensor& y,
                               int64_t dim) {
    save_layout(ctx, {x, y});
    ctx->saved_data["dim"] = dim;
    return y.clone();
  }

  static tensor_list backward(AutogradContext* ctx, tensor_list grads) {
    const auto saved = ctx->get_saved_variables();
    const int64_t inputs = ctx->saved_data["inputs"].toInt();
    const int64_t dim = ctx->saved_data["dim"].toInt();
    const auto& grad = grads[0];
    if (inputs < 0) return {torch::Tensor(), grad, torch::Tensor()};
    const auto x = sides(saved[0], inputs, saved[2]);
    const auto y = sides(saved[1], inputs, saved[2]);
    const auto g = grad.narrow(0, inputs, saved[2].size(0));
    const auto plain = y.input * (g - (g * y.input).sum(dim, /*keepdim=*/true));
    const auto delta_in = x.input - x.reference;
    const auto unnormalised = torch::where(delta_in.abs() < kRescaleEpsilon, plain,
                                           g * ((y.input - y.reference) / delta_in));
    const auto per_pair = unnormalised.reshape({unnormalised.size(0), -1});
    const auto mean = per_pair.sum(1, /*keepdim=*/true) / per_pair.size(1);
    const auto centred = (per_pair - mean).view(unnormalised.sizes());
    return {on_reference_rows(saved[0], inputs, centred), torch::Tensor(), torch::Tensor()};
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

torch::Tensor rescale(const torch::Tensor& x, const torch::Tensor& y) { return Rescale::apply(x, y); }

torch::Tensor max_pool1d(const torch::Tensor& x, const torch::Tensor& y, c10::IntArrayRef kernel,
                         c10::IntArrayRef stride, c10::IntArrayRef padding,
                         c10::IntArrayRef dilation, bool ceil_mode) {
  return MaxPool1d::apply(x, y, kernel, stride, padding, dilation, ceil_mode);
}

torch::Tensor softmax(const torch::Tensor& x, const torch::Tensor& y, int64_t dim) {
  return Softmax::apply(x, y, dim);
}

}  // namespace

// Defined with their functions, these are CompositeImplicitAutograd kernels: the autograd
// Functions above are their own derivative.
TORCH_LIBRARY_FRAGMENT(seqattr, m) {
  m.def("deeplift_rescale(Tensor x, Tensor y) -> Tensor", &rescale);
  m.def("deeplift_max_pool1d(Tensor x, Tensor y, int[] kernel_size, int[] stride, int[] padding, "
        "int[] dilation, bool ceil_mode) -> Tensor",
        &max_pool1d);
  m.def("deeplift_softmax(Tensor x, Tensor y, int dim) -> Tensor", &softmax);
  m.def("deeplift_detached_product(Tensor w, Tensor c, Tensor z) -> Tensor", &detached_product);
}

}  // namespace seqattr::deeplift
