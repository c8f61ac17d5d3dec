#include "methods/deeplift/delta_ops.h"

#include <torch/library.h>

#include "methods/deeplift/pair_layout.h"

namespace seqattr::deeplift {
namespace {

// Rows [inputs, inputs + P) of a Δ tensor, or all of it outside a DeepLIFT pass.
torch::Tensor input_delta(const torch::Tensor& x) {
  const auto value = x.detach();
  auto delta = torch::zeros_like(value);
  if (const PairLayout* layout = current_pair_layout()) {
    const auto references = value.narrow(0, layout->inputs, layout->references());
    delta.narrow(0, layout->inputs, layout->references())
        .copy_(value.narrow(0, 0, layout->inputs).index_select(0, layout->owner) - references);
  }
  return delta;
}

// Both sides on one linear piece: the change is Δ itself. Across the kink one side is 0, so
// relu(r + Δ) − relu(r) is r + Δ or −r: one rounding, no cancellation.
torch::Tensor relu_delta(const torch::Tensor& x, const torch::Tensor& dx) {
  const auto r = x.detach();
  const auto moved = r + dx;
  return torch::where((r >= 0).logical_and(moved >= 0), dx, torch::relu(moved) - torch::relu(r));
}

// Sums of two float32 values are exact in float64 (short of extreme exponent gaps), so a
// smooth op evaluated at both points in float64 gives f(r + Δ) − f(r) to ~1e-16 of |f|.
torch::Tensor delta_points(const torch::Tensor& x, const torch::Tensor& dx) {
  const auto r = x.detach().to(torch::kFloat64);
  return torch::cat({r, r + dx.to(torch::kFloat64)});
}

torch::Tensor delta_difference(const torch::Tensor& points_out, const torch::Tensor& like) {
  const int64_t half = points_out.size(0) / 2;
  return (points_out.narrow(0, half, half) - points_out.narrow(0, 0, half)).to(like.scalar_type());
}

// Index tensors stay as they are.
torch::Tensor to_double(const torch::Tensor& t) {
  return t.is_floating_point() ? t.detach().to(torch::kFloat64) : t.detach();
}

// Padding is −inf for both sides alike, so each window's change is its two maxima's
// difference, taken in float64 where both maxima are exact.
torch::Tensor max_pool1d_delta(const torch::Tensor& x, const torch::Tensor& dx,
                               c10::IntArrayRef kernel, c10::IntArrayRef stride,
                               c10::IntArrayRef padding, c10::IntArrayRef dilation, bool ceil_mode) {
  const auto r = x.detach().to(torch::kFloat64);
  const auto moved = r + dx.to(torch::kFloat64);
  return (torch::max_pool1d(moved, kernel, stride, padding, dilation, ceil_mode) -
          torch::max_pool1d(r, kernel, stride, padding, dilation, ceil_mode))
      .to(x.scalar_type());
}

torch::Tensor delta_product(const torch::Tensor& a, const torch::Tensor& da, const torch::Tensor& b,
                            const torch::Tensor& db) {
  return a.detach() * db + da * b.detach() + da * db;
}

torch::Tensor zero_delta(const torch::Tensor& t) { return torch::zeros_like(t.detach()); }

torch::Tensor output_delta(const torch::Tensor& y, const torch::Tensor& dy) {
  if (const PairLayout* layout = current_pair_layout()) layout->output_delta = dy;
  return y;
}

}  // namespace

torch::Tensor recorded_output_delta() {
  const PairLayout* layout = current_pair_layout();
  return layout ? layout->output_delta : torch::Tensor();
}

// torch::schema marks them pure (alias analysis from the schema), so that dead-code
// elimination drops the Δ of values no rule reads.
TORCH_LIBRARY_FRAGMENT(seqattr, m) {
  m.def(torch::schema("deeplift_input_delta(Tensor x) -> Tensor"), &input_delta);
  m.def(torch::schema("deeplift_relu_delta(Tensor x, Tensor dx) -> Tensor"), &relu_delta);
  m.def(torch::schema("deeplift_delta_points(Tensor x, Tensor dx) -> Tensor"), &delta_points);
  m.def(torch::schema("deeplift_delta_difference(Tensor points_out, Tensor like) -> Tensor"), &delta_difference);
  m.def(torch::schema("deeplift_to_double(Tensor t) -> Tensor"), &to_double);
  m.def(torch::schema("deeplift_max_pool1d_delta(Tensor x, Tensor dx, int[] kernel_size, int[] stride, "
        "int[] padding, int[] dilation, bool ceil_mode) -> Tensor"),
        &max_pool1d_delta);
  m.def(torch::schema("deeplift_delta_product(Tensor a, Tensor da, Tensor b, Tensor db) -> Tensor"), &delta_product);
  m.def(torch::schema("deeplift_zero_delta(Tensor t) -> Tensor"), &zero_delta);
  // Kept by dead-code elimination because its result is the graph's output.
  m.def("deeplift_output_delta(Tensor y, Tensor dy) -> Tensor", &output_delta);
}

}  // namespace seqattr::deeplift
