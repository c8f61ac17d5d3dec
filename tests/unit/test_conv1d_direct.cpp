// seqattr::conv1d_direct (kernels/ops/conv1d_direct.h) against LibTorch's convolution evaluated in
// float64 on fresh random inputs, forward and backward; its independence from batching; the
// graph rewrite that puts it in models (core/direct_convolutions.h), fused with a following
// relu (conv1d_direct_relu); and seqattr::
// relu_rescale_grad, the fused DeepLIFT rule through a ReLU, against the unfused rule.
#include <ATen/Context.h>
#include <gtest/gtest.h>
#include <torch/csrc/jit/ir/irparser.h>
#include <torch/script.h>
#include <torch/torch.h>

#include <limits>
#include <optional>

#include "core/direct_convolutions.h"
#include "core/model.h"
#include "core/model_graph.h"
#include "kernels/ops/conv1d_direct.h"
#include "kernels/ops/relu_rescale_grad.h"
#include "kernels/ops/rescale_multipliers.h"
#include "methods/deeplift/deeplift.h"
#include "methods/deeplift/pair_layout.h"
#include "test_support.h"

namespace seqattr {
namespace {

const torch::Device kCuda(torch::kCUDA);

struct ConvShape {
  int64_t n, channels, length, out_channels, kernel, padding, dilation;
  bool bias;
};

// BPNet's first and dilated layers and its profile head, Basset-like widths, an even kernel,
// no padding, padding wider than the input, and lengths across the 512-column blocks.
const std::vector<ConvShape>& shapes() {
  static const std::vector<ConvShape> list = {
      {2, 4, 300, 16, 21, 10, 1, true},  {3, 16, 1100, 16, 3, 8, 8, true},
      {2, 16, 700, 16, 3, 256, 256, false}, {2, 16, 600, 1, 75, 37, 1, true},
      {1, 5, 30, 3, 5, 0, 4, true},       {4, 7, 1030, 5, 4, 3, 2, false},
      {2, 6, 9, 4, 3, 20, 1, true},       {2, 24, 700, 12, 5, 2, 1, true}};
  return list;
}

struct ConvCase {
  torch::Tensor x, weight, bias;
};

ConvCase random_conv_case(const ConvShape& s, torch::ScalarType dtype) {
  const auto options = torch::TensorOptions().dtype(dtype);
  return {torch::randn({s.n, s.channels, s.length}, options),
          torch::randn({s.out_channels, s.channels, s.kernel}, options),
          s.bias ? torch::randn({s.out_channels}, options) : torch::Tensor()};
}

// Elementwise |got - exact| <= tol * magnitude, where exact is LibTorch's in float64 and
// magnitude the same sum over absolute values (a float sum's rounding error is a multiple of
// eps times it); tol = 1e-6 in float32 (~8 eps), 1e-14 in float64.
void expect_close(const torch::Tensor& got, const torch::Tensor& exact, const torch::Tensor& magnitude,
                  torch::ScalarType dtype) {
  ASSERT_EQ(got.sizes(), exact.sizes());
  const double tol = dtype == torch::kFloat64 ? 1e-14 : 1e-6;
  const auto excess = (got.to(torch::kFloat64) - exact).abs() - tol * magnitude - 1e-300;
  EXPECT_LE(excess.max().item<double>(), 0.0)
      << "largest error " << (got.to(torch::kFloat64) - exact).abs().max().item<double>();
}

// LibTorch's convolution in float64 with every gradient, on the values given or on their
// absolute values (magnitudes of the sums).
struct Float64Conv {
  torch::Tensor out, grad_x, grad_weight, grad_bias;
};

Float64Conv aten_conv64(const ConvCase& c, const ConvShape& s, const torch::Tensor& grad, bool absolute) {
  const auto leaf = [absolute](const torch::Tensor& t) {
    if (!t.defined()) return torch::Tensor();
    auto v = t.detach().to(torch::kFloat64).clone();
    return (absolute ? v.abs() : v).requires_grad_();
  };
  auto x = leaf(c.x), w = leaf(c.weight), b = leaf(c.bias);
  auto out = torch::conv1d(x, w, b, 1, s.padding, s.dilation);
  if (grad.defined()) out.backward(absolute ? grad.to(torch::kFloat64).abs() : grad.to(torch::kFloat64));
  return {out.detach(), x.grad(), w.grad(), b.defined() ? b.grad() : torch::Tensor()};
}

class Conv1dDirectTest : public ::testing::TestWithParam<torch::ScalarType> {};

TEST_P(Conv1dDirectTest, MatchesLibTorchConvolutionInFloat64) {
  torch::manual_seed(31);
  for (const auto& s : shapes()) {
    const auto c = random_conv_case(s, GetParam());
    const auto got = ops::conv1d_direct(c.x, c.weight, c.bias, s.padding, s.dilation);
    EXPECT_EQ(got.scalar_type(), GetParam());
    expect_close(got, aten_conv64(c, s, {}, false).out, aten_conv64(c, s, {}, true).out, GetParam());
  }
}

TEST_P(Conv1dDirectTest, GradientsMatchLibTorchs) {
  torch::manual_seed(32);
  for (const auto& s : shapes()) {
    const auto c = random_conv_case(s, GetParam());
    const auto grad = torch::randn(aten_conv64(c, s, {}, false).out.sizes(),
                                   torch::TensorOptions().dtype(GetParam()));
    const auto exact = aten_conv64(c, s, grad, false);
    const auto magnitude = aten_conv64(c, s, grad, true);
    expect_close(ops::conv1d_direct_input_grad(grad, c.weight, s.length, s.padding, s.dilation),
                 exact.grad_x, magnitude.grad_x, GetParam());
    // Through the op's autograd: input only (frozen weights, as models are loaded) ...
    auto x = c.x.detach().clone().requires_grad_();
    ops::conv1d_direct(x, c.weight, c.bias, s.padding, s.dilation).backward(grad);
    expect_close(x.grad(), exact.grad_x, magnitude.grad_x, GetParam());
    // ... and weights and bias when they ask for gradients (LibTorch's own backward).
    auto w = c.weight.detach().clone().requires_grad_();
    auto b = c.bias.defined() ? c.bias.detach().clone().requires_grad_() : torch::Tensor();
    ops::conv1d_direct(c.x, w, b, s.padding, s.dilation).backward(grad);
    expect_close(w.grad(), exact.grad_weight, magnitude.grad_weight, GetParam());
    if (b.defined()) expect_close(b.grad(), exact.grad_bias, magnitude.grad_bias, GetParam());
  }
}

// Each output column is summed in one order whatever the batch: a row alone gives the same
// bits as in any batch (Model::forward relies on it no more than LibTorch allows).
TEST_P(Conv1dDirectTest, RowsDoNotDependOnTheirBatch) {
  torch::manual_seed(33);
  const ConvShape s{6, 16, 1500, 16, 3, 4, 4, true};
  const auto c = random_conv_case(s, GetParam());
  const auto batch = ops::conv1d_direct(c.x, c.weight, c.bias, s.padding, s.dilation);
  for (int64_t i : {0, 3, 5}) {
    const auto alone = ops::conv1d_direct(c.x.narrow(0, i, 1), c.weight, c.bias, s.padding, s.dilation);
    EXPECT_TRUE(torch::equal(alone[0], batch[i]));
  }
  const auto grad = torch::randn_like(batch);
  const auto all = ops::conv1d_direct_input_grad(grad, c.weight, s.length, s.padding, s.dilation);
  const auto one = ops::conv1d_direct_input_grad(grad.narrow(0, 2, 1), c.weight, s.length, s.padding,
                                               s.dilation);
  EXPECT_TRUE(torch::equal(one[0], all[2]));
}

// Taps that read only zero padding are skipped (kernels/cpu/conv1d_direct_rows.h): the same
// bits as reading the zeros. The reference is the same convolution with the zeros made part of
// the input (explicitly padded x, or for the input gradient a zero-extended gradient), where
// no position the comparison reads is padding and nothing is skipped.
TEST(Conv1dDirect, SkippedPaddingGivesTheSameBits) {
  torch::manual_seed(41);
  auto list = shapes();
  list.push_back({2, 16, 700, 16, 3, 0, 128, true});  // a centre layer's input gradient
  for (const auto& s : list) {
    if (s.out_channels < 8) continue;  // NarrowRows reads every tap
    const auto c = random_conv_case(s, torch::kFloat32);
    const auto y = ops::conv1d_direct(c.x, c.weight, c.bias, s.padding, s.dilation);
    const auto padded = torch::constant_pad_nd(c.x, {s.padding, s.padding});
    EXPECT_TRUE(torch::equal(y, ops::conv1d_direct(padded, c.weight, c.bias, 0, s.dilation)))
        << "forward, dilation " << s.dilation;
    const auto grad = torch::randn_like(y);
    const int64_t extra = (s.kernel - 1) * s.dilation, margin = s.padding + extra;
    const auto grad_x = ops::conv1d_direct_input_grad(grad, c.weight, s.length, s.padding, s.dilation);
    const auto wide = ops::conv1d_direct_input_grad(torch::constant_pad_nd(grad, {extra, extra}),
                                                    c.weight, s.length + 2 * margin, 0, s.dilation);
    EXPECT_TRUE(torch::equal(grad_x, wide.narrow(2, margin, s.length)))
        << "input gradient, dilation " << s.dilation;
  }
}

// ... but not where a weight is infinite: infinity times a padding zero is NaN, as the sum
// over the padding has it.
TEST(Conv1dDirect, InfiniteWeightsReachThePadding) {
  torch::manual_seed(43);
  const ConvShape s{2, 16, 700, 16, 3, 256, 256, true};
  auto c = random_conv_case(s, torch::kFloat32);
  c.weight[0][0][0] = std::numeric_limits<float>::infinity();
  const auto y = ops::conv1d_direct(c.x, c.weight, c.bias, s.padding, s.dilation);
  EXPECT_FALSE(torch::isfinite(y.select(1, 0)).any().item<bool>());
  EXPECT_TRUE(torch::isfinite(y.narrow(1, 1, 15)).all().item<bool>());
}

// Equal inputs give equal outputs at every position (float32; float64 is LibTorch's own):
// a max-pool over them then breaks the tie as exact arithmetic does. A BLAS GEMM over the
// positions does not promise it (its tiles round a column by where it falls).
TEST(Conv1dDirect, EqualInputsGiveEqualOutputs) {
  torch::manual_seed(39);
  for (const auto& s : shapes()) {
    if (s.length < 40) continue;
    // Every position the same column, and a sequence of period 7.
    const auto constant = torch::randn({1, s.channels, 1}).expand({s.n, s.channels, s.length}).contiguous();
    const auto letters = torch::arange(s.length).remainder(7).remainder(s.channels);
    const auto periodic = torch::one_hot(letters, s.channels).t().unsqueeze(0).expand({s.n, -1, -1})
                              .to(torch::kFloat32).mul(0.37).contiguous();
    const auto weight = torch::randn({s.out_channels, s.channels, s.kernel});
    const auto bias = torch::randn({s.out_channels}) * 10;
    const int64_t reach = s.dilation * (s.kernel - 1) + 14;  // past the zero padding's influence
    for (const auto& [x, period] : {std::pair{constant, int64_t{1}}, std::pair{periodic, int64_t{7}}}) {
      const auto y = ops::conv1d_direct(x, weight, bias, s.padding, s.dilation);
      const int64_t inner = y.size(2) - 2 * reach - period;
      if (inner <= 0) continue;
      EXPECT_TRUE(torch::equal(y.narrow(2, reach, inner), y.narrow(2, reach + period, inner)))
          << "kernel " << s.kernel << " dilation " << s.dilation;
    }
  }
}

ConvCase on_cuda(const ConvCase& c) {
  return {c.x.to(kCuda), c.weight.to(kCuda), c.bias.defined() ? c.bias.to(kCuda) : torch::Tensor()};
}

// Calls check(shape, case, the case on the GPU) on a fresh random case of each shape, seeded.
template <typename Check>
void for_each_cuda_case(const std::vector<ConvShape>& list, torch::ScalarType dtype,
                        uint64_t seed, const Check& check) {
  torch::manual_seed(seed);
  for (const auto& s : list) {
    const auto c = random_conv_case(s, dtype);
    check(s, c, on_cuda(c));
  }
}

// The magnitude a CUDA result is held to: cuDNN's float32 convolutions round inputs to TF32
// (11 bits) where LibTorch allows it, as it does by default: 2e-3 of the magnitude then, else
// 10x the CPU's bound. float64 keeps the CPU's.
torch::Tensor cuda_magnitude(const torch::Tensor& magnitude, torch::ScalarType dtype) {
  const double factor = at::globalContext().allowTF32CuDNN() ? 2000 : 10;
  return dtype == torch::kFloat32 ? magnitude * factor : magnitude;
}

TEST_P(Conv1dDirectTest, CudaTwinMatchesCpu) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device";
  const auto check = [&](const ConvShape& s, const ConvCase& c, const ConvCase& g) {
    const auto gpu = ops::conv1d_direct(g.x, g.weight, g.bias, s.padding, s.dilation);
    const auto grad = torch::randn(gpu.sizes(), c.x.options());
    const auto exact = aten_conv64(c, s, grad, false);
    const auto magnitude = aten_conv64(c, s, grad, true);
    const auto scaled = [&](const torch::Tensor& m) { return cuda_magnitude(m, GetParam()); };
    expect_close(gpu.cpu(), exact.out, scaled(magnitude.out), GetParam());
    const auto gpu_grad = ops::conv1d_direct_input_grad(grad.to(kCuda), g.weight, s.length,
                                                        s.padding, s.dilation);
    expect_close(gpu_grad.cpu(), exact.grad_x, scaled(magnitude.grad_x), GetParam());
  };
  for_each_cuda_case(shapes(), GetParam(), 34, check);
}

// conv1d_direct_relu is relu(conv1d_direct) fused: the same values, and through autograd the
// same gradients as eager relu's backward gives (compared with torch::equal, bit for bit).
TEST_P(Conv1dDirectTest, ReluFusedEqualsReluOfTheConvolution) {
  torch::manual_seed(40);
  for (const auto& s : shapes()) {
    const auto c = random_conv_case(s, GetParam());
    auto x1 = c.x.detach().clone().requires_grad_(), x2 = c.x.detach().clone().requires_grad_();
    const auto fused = ops::conv1d_direct_relu(x1, c.weight, c.bias, s.padding, s.dilation);
    const auto apart = torch::relu(ops::conv1d_direct(x2, c.weight, c.bias, s.padding, s.dilation));
    EXPECT_TRUE(torch::equal(fused, apart));
    EXPECT_GT((apart == 0).sum().item<int64_t>(), 0);  // the ReLU cut somewhere
    const auto grad = torch::randn(apart.sizes(), c.x.options());
    fused.backward(grad);
    apart.backward(grad);
    EXPECT_TRUE(torch::equal(x1.grad(), x2.grad()));
    // Weight and bias gradients, where asked for, through the same mask.
    auto w1 = c.weight.detach().clone().requires_grad_(), w2 = c.weight.detach().clone().requires_grad_();
    ops::conv1d_direct_relu(c.x, w1, c.bias, s.padding, s.dilation).backward(grad);
    torch::relu(ops::conv1d_direct(c.x, w2, c.bias, s.padding, s.dilation)).backward(grad);
    EXPECT_TRUE(torch::equal(w1.grad(), w2.grad()));
  }
}

// The gated input gradient reads grad as threshold_backward(grad, gate, 0) would pass it: zero
// where the gate is <= 0 (exact zeros included), grad where it is positive or NaN. Same bits.
TEST_P(Conv1dDirectTest, GatedInputGradEqualsThresholdThenInputGrad) {
  torch::manual_seed(42);
  for (const auto& s : shapes()) {
    const auto c = random_conv_case(s, GetParam());
    const auto out = ops::conv1d_direct(c.x, c.weight, c.bias, s.padding, s.dilation);
    auto gate = torch::relu(out);
    gate.view(-1)[0] = std::numeric_limits<double>::quiet_NaN();
    const auto grad = torch::randn(out.sizes(), c.x.options());
    const auto gated = ops::conv1d_direct_input_grad(grad, c.weight, s.length, s.padding,
                                                     s.dilation, gate);
    const auto apart = ops::conv1d_direct_input_grad(torch::threshold_backward(grad, gate, 0),
                                                     c.weight, s.length, s.padding, s.dilation);
    EXPECT_TRUE(torch::equal(gated, apart)) << "kernel " << s.kernel << " dilation " << s.dilation;
    EXPECT_FALSE(torch::equal(gated, ops::conv1d_direct_input_grad(grad, c.weight, s.length,
                                                                   s.padding, s.dilation)));
  }
}

TEST_P(Conv1dDirectTest, GatedInputGradCudaTwinMatchesCpu) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device";
  const auto check = [&](const ConvShape& s, const ConvCase& c, const ConvCase& g) {
    const auto gate = torch::relu(aten_conv64(c, s, {}, false).out).to(GetParam());
    const auto grad = torch::randn(gate.sizes(), c.x.options());
    const auto passed = torch::threshold_backward(grad, gate, 0);
    const auto exact = aten_conv64(c, s, passed, false);
    const auto magnitude = aten_conv64(c, s, passed, true);
    const auto gpu = ops::conv1d_direct_input_grad(grad.to(kCuda), g.weight, s.length,
                                                   s.padding, s.dilation, gate.to(kCuda));
    expect_close(gpu.cpu(), exact.grad_x, cuda_magnitude(magnitude.grad_x, GetParam()), GetParam());
  };
  for_each_cuda_case(shapes(), GetParam(), 43, check);
}

// Residual layers, x + relu(conv(x)): same padding across position blocks and a dilation past
// the input; fewer than 8 channels (the narrow loops, vectorized over positions); x of one
// channel, which the add broadcasts; and outputs shorter than x, whose residual is x's centre
// (no padding, as chrombpnet's layers, and less than same padding).
const std::vector<ConvShape>& residual_shapes() {
  static const std::vector<ConvShape> list = {
      {3, 16, 1100, 16, 3, 8, 8, true}, {2, 16, 700, 16, 3, 256, 256, false},
      {2, 32, 1500, 32, 3, 4, 4, true}, {2, 4, 50, 4, 3, 1, 1, true},
      {2, 1, 40, 8, 3, 1, 1, true},     {2, 16, 1100, 16, 3, 0, 64, true},
      {2, 16, 300, 16, 3, 2, 8, false}, {2, 4, 50, 4, 3, 0, 2, true},
      {2, 1, 40, 8, 3, 0, 1, true}};
  return list;
}

// The residual term the op adds: x, or its centre where the convolution is shorter.
torch::Tensor centre(const torch::Tensor& x, int64_t length) {
  const int64_t crop = (x.size(2) - length) / 2;
  return x.narrow(2, crop, length);
}

// conv1d_direct_relu_residual is aten::add(x, conv1d_direct_relu(x)) fused (x's centre where
// the output is shorter): the same values, and through autograd the same gradients for x (the
// engine's sum of the two paths), weight and bias, bit for bit.
TEST_P(Conv1dDirectTest, ResidualFusedEqualsAddOfTheReluConvolution) {
  torch::manual_seed(44);
  for (const auto& s : residual_shapes()) {
    const auto c = random_conv_case(s, GetParam());
    const auto parameters = [&] {
      return std::make_pair(c.weight.detach().clone().requires_grad_(),
                            c.bias.defined() ? c.bias.detach().clone().requires_grad_() : torch::Tensor());
    };
    auto x1 = c.x.detach().clone().requires_grad_(), x2 = c.x.detach().clone().requires_grad_();
    auto [w1, b1] = parameters();
    auto [w2, b2] = parameters();
    const auto [fused, relu] = ops::conv1d_direct_relu_residual(x1, w1, b1, s.padding, s.dilation);
    const auto term = ops::conv1d_direct_relu(x2, w2, b2, s.padding, s.dilation);
    const auto apart = torch::add(centre(x2, term.size(2)), term);
    EXPECT_TRUE(torch::equal(fused, apart)) << "channels " << s.channels << " dilation " << s.dilation
                                            << " padding " << s.padding;
    EXPECT_TRUE(torch::equal(relu, term));
    EXPECT_FALSE(relu.requires_grad());
    const auto grad = torch::randn(apart.sizes(), c.x.options());
    fused.backward(grad);
    apart.backward(grad);
    EXPECT_TRUE(torch::equal(x1.grad(), x2.grad())) << "channels " << s.channels << " padding "
                                                    << s.padding;
    EXPECT_TRUE(torch::equal(w1.grad(), w2.grad()));
    if (b1.defined()) EXPECT_TRUE(torch::equal(b1.grad(), b2.grad()));
  }
}

// The input gradient's addend is summed as aten::add(addend, gradient) would: same bits.
TEST_P(Conv1dDirectTest, InputGradAddendEqualsAddAfter) {
  torch::manual_seed(45);
  for (const auto& s : shapes()) {
    const auto c = random_conv_case(s, GetParam());
    const auto gate = torch::relu(ops::conv1d_direct(c.x, c.weight, c.bias, s.padding, s.dilation));
    const auto grad = torch::randn(gate.sizes(), c.x.options());
    const auto addend = torch::randn(c.x.sizes(), c.x.options());
    const auto fused = ops::conv1d_direct_input_grad(grad, c.weight, s.length, s.padding,
                                                     s.dilation, gate, addend);
    const auto products =
        ops::conv1d_direct_input_grad(grad, c.weight, s.length, s.padding, s.dilation, gate);
    EXPECT_TRUE(torch::equal(fused, torch::add(addend, products)))
        << "kernel " << s.kernel << " dilation " << s.dilation;
    // A shorter addend (a cropped residual's gradient) lands on the centre; the ends are the
    // products alone.
    if (s.length <= 4) continue;
    const auto inner = centre(addend, s.length - 4);
    const auto centred = ops::conv1d_direct_input_grad(grad, c.weight, s.length, s.padding,
                                                       s.dilation, gate, inner);
    EXPECT_TRUE(torch::equal(centre(centred, s.length - 4), torch::add(inner, centre(products, s.length - 4))));
    EXPECT_TRUE(torch::equal(centred.narrow(2, 0, 2), products.narrow(2, 0, 2)));
    EXPECT_TRUE(torch::equal(centred.narrow(2, s.length - 2, 2), products.narrow(2, s.length - 2, 2)));
  }
}

TEST_P(Conv1dDirectTest, ResidualFusedCudaTwinMatchesCpu) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device";
  const auto check = [&](const ConvShape& s, const ConvCase& c, const ConvCase& g) {
    const auto [sum, relu] = ops::conv1d_direct_relu_residual(g.x, g.weight, g.bias, s.padding,
                                                              s.dilation);
    const auto exact = torch::relu(aten_conv64(c, s, {}, false).out);
    const auto magnitude = cuda_magnitude(aten_conv64(c, s, {}, true).out, GetParam());
    expect_close(relu.cpu(), exact, magnitude, GetParam());
    const auto x64 = centre(c.x.to(torch::kFloat64), exact.size(2));
    expect_close(sum.cpu(), x64 + exact, magnitude + x64.abs(), GetParam());
    // The input gradient with an addend (what the residual passes x, on x's centre).
    const auto grad = torch::randn(sum.sizes(), c.x.options());
    const auto passed = torch::threshold_backward(grad, relu.cpu(), 0);
    const auto products = aten_conv64(c, s, passed, false).grad_x;
    auto want = products.clone(), scale = cuda_magnitude(aten_conv64(c, s, passed, true).grad_x, GetParam());
    centre(want, x64.size(2)) += at::sum_to(grad.to(torch::kFloat64), x64.sizes());
    centre(scale, x64.size(2)) += at::sum_to(grad.to(torch::kFloat64).abs(), x64.sizes());
    const auto got = ops::conv1d_direct_input_grad(
        passed.to(kCuda), g.weight, s.length, s.padding, s.dilation, c10::nullopt,
        at::sum_to(grad, x64.sizes()).to(kCuda));
    expect_close(got.cpu(), want, scale, GetParam());
  };
  for_each_cuda_case(residual_shapes(), GetParam(), 46, check);
}

TEST_P(Conv1dDirectTest, ReluFusedCudaTwinMatchesCpu) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device";
  const auto check = [&](const ConvShape& s, const ConvCase& c, const ConvCase& g) {
    const auto gpu = ops::conv1d_direct_relu(g.x, g.weight, g.bias, s.padding, s.dilation);
    const auto exact = torch::relu(aten_conv64(c, s, {}, false).out);
    expect_close(gpu.cpu(), exact, cuda_magnitude(aten_conv64(c, s, {}, true).out, GetParam()),
                 GetParam());
  };
  for_each_cuda_case(shapes(), GetParam(), 41, check);
}

TEST(Conv1dDirect, RejectsBadArguments) {
  const auto x = torch::randn({2, 4, 10});
  const auto w = torch::randn({8, 4, 3});
  EXPECT_NO_THROW(ops::conv1d_direct(x, w, {}, 1, 1));
  EXPECT_THROW(ops::conv1d_direct(x, torch::randn({8, 5, 3}), {}, 1, 1), c10::Error);  // channels
  EXPECT_THROW(ops::conv1d_direct(x, w, {}, 0, 6), c10::Error);            // output shorter than 1
  EXPECT_THROW(ops::conv1d_direct(x, w, {}, 1, 0), c10::Error);            // dilation 0
  EXPECT_THROW(ops::conv1d_direct(x, w.to(torch::kFloat64), {}, 1, 1), c10::Error);
  EXPECT_THROW(ops::conv1d_direct(x.to(torch::kLong), w.to(torch::kLong), {}, 1, 1), c10::Error);
  EXPECT_THROW(ops::conv1d_direct(x[0], w, {}, 1, 1), c10::Error);         // not (N, C, L)
  EXPECT_THROW(ops::conv1d_direct_input_grad(torch::randn({2, 8, 9}), w, 10, 1, 1), c10::Error);
  const auto grad = torch::randn({2, 8, 10});
  EXPECT_NO_THROW(ops::conv1d_direct_input_grad(grad, w, 10, 1, 1, grad.abs()));
  EXPECT_THROW(ops::conv1d_direct_input_grad(grad, w, 10, 1, 1, torch::randn({2, 8, 9})),
               c10::Error);  // gate not grad's shape
  EXPECT_THROW(ops::conv1d_direct_input_grad(grad, w, 10, 1, 1, grad.to(torch::kFloat64)),
               c10::Error);
  EXPECT_NO_THROW(ops::conv1d_direct_input_grad(grad, w, 10, 1, 1, {}, torch::randn({2, 4, 10})));
  EXPECT_THROW(ops::conv1d_direct_input_grad(grad, w, 10, 1, 1, {}, torch::randn({2, 8, 10})),
               c10::Error);  // addend not x's shape
  EXPECT_THROW(ops::conv1d_direct_relu_residual(torch::randn({2, 4, 10}), w, {}, 1, 1),
               c10::Error);  // 4 channels and 8 do not add
  const auto square = torch::randn({4, 4, 2});
  EXPECT_NO_THROW(ops::conv1d_direct_relu_residual(x, square, {}, 0, 2));  // 2 shorter: the centre
  EXPECT_THROW(ops::conv1d_direct_relu_residual(x, square, {}, 0, 1), c10::Error);  // 1 shorter
  EXPECT_THROW(ops::conv1d_direct_input_grad(grad, w, 10, 1, 1, {}, torch::randn({2, 4, 7})),
               c10::Error);  // an addend an odd number of positions shorter has no centre
}

// --- the graph rewrite ---------------------------------------------------------------------

std::string source_path(const std::string& relative) {
  return std::string(SEQATTR_SOURCE_DIR) + "/" + relative;
}

// A scripted model (aten::conv1d) and bpnet-lite's traced BPNet (aten::_convolution): every
// convolution is replaced, and forward gives LibTorch's numbers to float32 rounding.
TEST(DirectConvolutions, ReplaceScriptedAndTracedConvolutions) {
  torch::manual_seed(35);
  for (const auto& file : {"tests/data/mini_bpnet.pt", "tests/data/bpnetlite/bpnet.pt"}) {
    auto original = torch::jit::load(source_path(file));
    original.eval();
    auto forward = inlined_forward(original, Freezing::KeepAttributes);
    const int before = test::count_kind(*forward.graph, "aten::conv1d") +
                       test::count_kind(*forward.graph, "aten::_convolution");
    ASSERT_GT(before, 0) << file;
    EXPECT_EQ(use_direct_convolutions(*forward.graph), before) << file;
    EXPECT_EQ(test::count_kind(*forward.graph, "seqattr::conv1d_direct"), before) << file;

    const auto x = torch::one_hot(torch::randint(0, 4, {3, 1000}), 4).permute({0, 2, 1}).to(torch::kFloat32);
    torch::NoGradGuard no_grad;
    const auto expected = test::output_tensors(original.forward({x}));
    const auto got = test::output_tensors(forward.module.forward({x}));
    ASSERT_EQ(got.size(), expected.size());
    for (size_t i = 0; i < got.size(); ++i) {
      const double scale = expected[i].abs().max().item<double>();
      EXPECT_LE((got[i] - expected[i]).abs().max().item<double>(), 1e-5 * scale) << file << " output " << i;
    }
  }
}

// Model::forward runs seqattr::conv1d_direct unless --convolutions aten (which runs the
// module as saved).
TEST(DirectConvolutions, ModelForwardFollowsTheSetting) {
  torch::manual_seed(38);
  const auto x = torch::one_hot(torch::randint(0, 4, {4, 1000}), 4).permute({0, 2, 1}).to(torch::kFloat32);
  torch::NoGradGuard no_grad;
  auto module = torch::jit::load(source_path("tests/data/mini_bpnet.pt"));
  module.eval();
  const auto saved = module.forward({x}).toTensor();
  const auto direct = Model::load(source_path("tests/data/mini_bpnet.pt"), torch::kCPU).forward(x);
  const auto aten = [&] {
    const ScopedConvolutionKernels kernels(ConvolutionKernels::Aten);
    return Model::load(source_path("tests/data/mini_bpnet.pt"), torch::kCPU).forward(x);
  }();
  EXPECT_TRUE(torch::equal(aten, saved));
  EXPECT_LE((direct - saved).abs().max().item<double>(), 1e-5 * saved.abs().max().item<double>());
  EXPECT_EQ(convolution_kernels(), ConvolutionKernels::Direct);  // the scope put it back
}

// bpnet-lite's traced BPNet: each dilated layer's convolution feeds only its relu and is
// fused with it; the first layer's too. Outputs and input gradients stay bit-identical.
TEST(DirectConvolutions, FusesConvolutionsWithTheirOnlyRelu) {
  torch::manual_seed(42);
  auto original = torch::jit::load(source_path("tests/data/bpnetlite/bpnet.pt"));
  original.eval();
  auto plain = inlined_forward(original, Freezing::KeepAttributes);
  auto fused = inlined_forward(original, Freezing::KeepAttributes);
  use_direct_convolutions(*plain.graph);
  const int convolutions = use_direct_convolutions(*fused.graph);
  const int relus = test::count_kind(*fused.graph, "aten::relu");
  const int fusions = fuse_convolution_relus(*fused.graph);
  EXPECT_GT(fusions, 0);
  EXPECT_EQ(test::count_kind(*fused.graph, "seqattr::conv1d_direct_relu"), fusions);
  EXPECT_EQ(test::count_kind(*fused.graph, "seqattr::conv1d_direct"), convolutions - fusions);
  EXPECT_EQ(test::count_kind(*fused.graph, "aten::relu"), relus - fusions);
  // Then each dilated layer's add of its input: all of them but the first layer's.
  auto residual = inlined_forward(original, Freezing::KeepAttributes);
  use_direct_convolutions(*residual.graph);
  fuse_convolution_relus(*residual.graph);
  const int adds = test::count_kind(*residual.graph, "aten::add");
  const int layers = fuse_residual_relus(*residual.graph);
  EXPECT_EQ(layers, fusions - 1);
  EXPECT_EQ(test::count_kind(*residual.graph, "seqattr::conv1d_direct_relu_residual"), layers);
  EXPECT_EQ(test::count_kind(*residual.graph, "seqattr::conv1d_direct_relu"), fusions - layers);
  EXPECT_EQ(test::count_kind(*residual.graph, "aten::add"), adds - layers);
  // And the trace's whole-dimension slices (the counts head's crop slices dims 0 and 1 whole).
  const int slices = test::count_kind(*residual.graph, "aten::slice");
  EXPECT_GE(drop_identity_slices(*residual.graph), 2);
  EXPECT_GE(test::count_kind(*residual.graph, "aten::slice"), 1);
  EXPECT_LT(test::count_kind(*residual.graph, "aten::slice"), slices);

  const auto x = torch::one_hot(torch::randint(0, 4, {3, 1000}), 4).permute({0, 2, 1}).to(torch::kFloat32);
  const auto run = [&](torch::jit::Module& module) {
    auto input = x.clone().requires_grad_();
    const auto outputs = test::output_tensors(module.forward({input}));
    outputs.back().sum().backward();
    return std::make_pair(outputs, input.grad());
  };
  const auto [want, want_grad] = run(plain.module);
  for (auto* module : {&fused.module, &residual.module}) {
    const auto [got, got_grad] = run(*module);
    ASSERT_EQ(got.size(), want.size());
    for (size_t i = 0; i < got.size(); ++i) EXPECT_TRUE(torch::equal(got[i], want[i])) << "output " << i;
    EXPECT_TRUE(torch::equal(got_grad, want_grad));
  }
}

TEST(ModelGraph, DropsOnlyWholeDimensionSlices) {
  auto graph = std::make_shared<torch::jit::Graph>();
  torch::jit::parseIR(R"IR(
graph(%x : Tensor):
  %none : NoneType = prim::Constant()
  %zero : int = prim::Constant[value=0]()
  %one : int = prim::Constant[value=1]()
  %two : int = prim::Constant[value=2]()
  %max : int = prim::Constant[value=9223372036854775807]()
  %a : Tensor = aten::slice(%x, %zero, %zero, %max, %one)
  %b : Tensor = aten::slice(%a, %one, %none, %none, %one)
  %c : Tensor = aten::slice(%b, %two, %one, %max, %one)
  %d : Tensor = aten::slice(%c, %two, %zero, %max, %two)
  %e : Tensor = aten::slice(%d, %two, %zero, %two, %one)
  return (%e))IR",
                      graph.get());
  EXPECT_EQ(drop_identity_slices(*graph), 2);
  EXPECT_EQ(test::count_kind(*graph, "aten::slice"), 3);
  const auto* first = graph->outputs()[0]->node()->input(0)->node()->input(0)->node();
  EXPECT_EQ(first->input(0), graph->inputs()[0]);  // %c now slices %x itself
}

// Only an add of the convolution's own input, with alpha 1, to a relu-convolution used nowhere
// else is a residual layer.
TEST(DirectConvolutions, FusesOnlyResidualAdds) {
  auto graph = std::make_shared<torch::jit::Graph>();
  torch::jit::parseIR(R"IR(
graph(%x : Tensor, %other : Tensor, %w : Tensor):
  %none : NoneType = prim::Constant()
  %p : int = prim::Constant[value=1]()
  %one : int = prim::Constant[value=1]()
  %two : int = prim::Constant[value=2]()
  %y1 : Tensor = seqattr::conv1d_direct_relu(%x, %w, %none, %p, %p)
  %a1 : Tensor = aten::add(%other, %y1, %one)
  %y2 : Tensor = seqattr::conv1d_direct_relu(%x, %w, %none, %p, %p)
  %a2 : Tensor = aten::add(%x, %y2, %two)
  %y3 : Tensor = seqattr::conv1d_direct_relu(%x, %w, %none, %p, %p)
  %a3 : Tensor = aten::add(%x, %y3, %one)
  %y4 : Tensor = seqattr::conv1d_direct_relu(%x, %w, %none, %p, %p)
  %a4 : Tensor = aten::add(%y4, %x, %one)
  %out : (Tensor, Tensor, Tensor, Tensor, Tensor) = prim::TupleConstruct(%a1, %a2, %a3, %y3, %a4)
  return (%out))IR",
                      graph.get());
  EXPECT_EQ(fuse_residual_relus(*graph), 1);  // %a4 only: %y3 is also returned
  EXPECT_EQ(test::count_kind(*graph, "seqattr::conv1d_direct_relu_residual"), 1);
  EXPECT_EQ(test::count_kind(*graph, "aten::add"), 3);
}

TEST(DirectConvolutions, LeavesOtherConvolutionsAlone) {
  auto graph = std::make_shared<torch::jit::Graph>();
  torch::jit::parseIR(R"IR(
graph(%x : Tensor, %w : Tensor):
  %none : NoneType = prim::Constant()
  %s2 : int[] = prim::Constant[value=[2]]()
  %s1 : int[] = prim::Constant[value=[1]]()
  %p : int[] = prim::Constant[value=[0]]()
  %g1 : int = prim::Constant[value=1]()
  %g2 : int = prim::Constant[value=2]()
  %same : str = prim::Constant[value="same"]()
  %strided : Tensor = aten::conv1d(%x, %w, %none, %s2, %p, %s1, %g1)
  %grouped : Tensor = aten::conv1d(%x, %w, %none, %s1, %p, %s1, %g2)
  %padded : Tensor = aten::conv1d(%x, %w, %none, %s1, %same, %s1, %g1)
  %plain : Tensor = aten::conv1d(%x, %w, %none, %s1, %p, %s1, %g1)
  %out : (Tensor, Tensor, Tensor, Tensor) = prim::TupleConstruct(%strided, %grouped, %padded, %plain)
  return (%out))IR",
                      graph.get());
  EXPECT_EQ(use_direct_convolutions(*graph), 1);
  EXPECT_EQ(test::count_kind(*graph, "aten::conv1d"), 3);
}

// --- the fused ReLU rule -----------------------------------------------------------------

class ReluRescaleGradTest : public ::testing::TestWithParam<torch::ScalarType> {};

struct PairCase {
  torch::Tensor x, grad, owner;
  int64_t inputs;
};

// 3 inputs and 7 references over (C, L) = (5, 40); a fifth of the reference elements equal
// their input's, a tenth differ by 1e-8 (below epsilon); some NaN-free negatives and zeros.
PairCase random_pair_case(torch::ScalarType dtype) {
  const auto options = torch::TensorOptions().dtype(dtype);
  const int64_t inputs = 3, references = 7;
  const auto owner = torch::tensor({0, 0, 1, 2, 2, 2, 1}, torch::kLong);
  auto x = torch::randn({inputs + references, 5, 40}, options);
  const auto paired = x.narrow(0, 0, inputs).index_select(0, owner);
  const auto u = torch::rand({references, 5, 40}, options);
  auto refs = x.narrow(0, inputs, references);
  refs.copy_(torch::where(u < 0.2, paired, torch::where(u < 0.3, paired + 1e-8, refs)));
  x.narrow(0, inputs, 1).select(1, 0).zero_();
  return {x, torch::randn_like(x), owner, inputs};
}

// The unfused rule: rescale_multipliers on the reference rows, relu's backward of to_y at
// the reference activations, their sum; zero on the input rows.
torch::Tensor unfused(const PairCase& c) {
  const auto xi = c.x.narrow(0, 0, c.inputs).index_select(0, c.owner);
  const auto xr = c.x.narrow(0, c.inputs, c.owner.size(0));
  const auto g = c.grad.narrow(0, c.inputs, c.owner.size(0));
  const auto [to_x, to_y] = ops::rescale_multipliers(xi, xr, torch::relu(xi), torch::relu(xr), g, 1e-6);
  auto out = torch::zeros_like(c.x);
  out.narrow(0, c.inputs, c.owner.size(0)).copy_(to_x + torch::threshold_backward(to_y, xr, 0));
  return out;
}

TEST_P(ReluRescaleGradTest, EqualsTheUnfusedRule) {
  torch::manual_seed(36);
  const auto c = random_pair_case(GetParam());
  const auto got = ops::relu_rescale_grad(c.x, c.grad, c.owner, c.inputs, 1e-6);
  EXPECT_TRUE(torch::equal(got, unfused(c)));
}

TEST_P(ReluRescaleGradTest, CudaTwinMatchesCpu) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device";
  torch::manual_seed(37);
  const auto c = random_pair_case(GetParam());
  const auto cpu = ops::relu_rescale_grad(c.x, c.grad, c.owner, c.inputs, 1e-6);
  const auto gpu = ops::relu_rescale_grad(c.x.to(kCuda), c.grad.to(kCuda), c.owner.to(kCuda),
                                          c.inputs, 1e-6);
  const double tol = test::tolerance(GetParam());
  EXPECT_TRUE(torch::allclose(gpu.cpu(), cpu, tol, tol));
}

TEST(ReluRescaleGrad, RejectsBadArguments) {
  const auto x = torch::randn({5, 2, 3});
  const auto owner = torch::tensor({0, 1, 1}, torch::kLong);
  EXPECT_NO_THROW(ops::relu_rescale_grad(x, x, owner, 2, 1e-6));
  EXPECT_THROW(ops::relu_rescale_grad(x, x, owner, 3, 1e-6), c10::Error);  // rows
  EXPECT_THROW(ops::relu_rescale_grad(x, x.narrow(2, 0, 2), owner, 2, 1e-6), c10::Error);
  EXPECT_THROW(ops::relu_rescale_grad(x, x, owner.to(torch::kInt), 2, 1e-6), c10::Error);
  EXPECT_THROW(ops::relu_rescale_grad(x, x, torch::tensor({0, 2, 1}, torch::kLong), 2, 1e-6),
               c10::Error);  // owner 2 is not an input row
}

// DeepLIFT's graph fuses each relu with its rule unless it carries Δ.
TEST(ReluRescaleGrad, DeepLiftGraphFusesReluRules) {
  const auto model = Model::load(source_path("tests/data/mini_bpnet.pt"), torch::kCPU);
  const auto fused = deeplift::prepare_model(model);
  const auto& graph = *fused.model.module().get_method("forward").graph();
  EXPECT_GT(test::count_kind(graph, "seqattr::deeplift_relu"), 0);
  EXPECT_EQ(test::count_kind(graph, "aten::relu"), 0);
  const auto forced = deeplift::prepare_model(model, deeplift::Secants::FromDelta);
  ASSERT_TRUE(forced.carries_delta);
  const auto& delta_graph = *forced.model.module().get_method("forward").graph();
  EXPECT_EQ(test::count_kind(delta_graph, "seqattr::deeplift_relu"), 0);
  EXPECT_GT(test::count_kind(delta_graph, "seqattr::deeplift_rescale"), 0);
}

// seqattr::deeplift_relu_residual is aten::add(x, deeplift_relu(conv1d_direct(x, ...))) in one
// node (x's centre where the convolution is unpadded): the same values and input gradients,
// bit for bit, in a DeepLIFT pass (the rule's multipliers) and outside one (relu's gradient).
TEST(ReluRescaleGrad, ResidualRuleFusedEqualsItsOps) {
  torch::manual_seed(47);
  static const auto fused_op = c10::Dispatcher::singleton()
                                   .findSchemaOrThrow("seqattr::deeplift_relu_residual", "")
                                   .typed<torch::Tensor(const torch::Tensor&, const torch::Tensor&,
                                                        const c10::optional<torch::Tensor>&, int64_t, int64_t)>();
  static const auto rule = c10::Dispatcher::singleton()
                               .findSchemaOrThrow("seqattr::deeplift_relu", "")
                               .typed<torch::Tensor(const torch::Tensor&)>();
  const int64_t inputs = 2;
  const auto owner = torch::tensor({0, 0, 1, 1, 1}, torch::kLong);
  const auto weight = torch::randn({16, 16, 3}) * 0.2;
  const auto bias = torch::randn({16});
  for (const int64_t padding : {8, 0}) {
    for (const bool paired : {true, false}) {
      const auto x = torch::randn({inputs + owner.size(0), 16, 600});
      const auto grad = torch::randn({x.size(0), 16, 600 + 2 * padding - 16});
      std::optional<deeplift::PairLayoutGuard> layout;
      if (paired) layout.emplace(deeplift::PairLayout{inputs, owner, {}});
      auto x1 = x.clone().requires_grad_(), x2 = x.clone().requires_grad_();
      const auto fused = fused_op.call(x1, weight, bias, padding, 8);
      const auto term = rule.call(ops::conv1d_direct(x2, weight, bias, padding, 8));
      const auto apart = torch::add(x2.narrow(2, 8 - padding, term.size(2)), term);
      EXPECT_TRUE(torch::equal(fused, apart)) << "padding " << padding;
      fused.backward(grad);
      apart.backward(grad);
      EXPECT_TRUE(torch::equal(x1.grad(), x2.grad())) << "padding " << padding << " paired " << paired;
    }
  }
  auto w = weight.clone().requires_grad_();
  EXPECT_THROW(fused_op.call(torch::randn({2, 16, 40}), w, bias, 8, 8), c10::Error);  // not frozen
}

// Model's graph for DeepLIFT fuses each residual layer with its rule (Model's convolution
// pass), and its layers compute only what the counts head reads.
TEST(ReluRescaleGrad, DeepLiftModelFusesResidualLayers) {
  auto ruled = deeplift::prepare_model(Model::load(source_path("tests/data/mini_bpnet.pt"), torch::kCPU));
  const auto runner = ruled.model.runner(1000);
  const auto& graph = *runner.get_method("forward").graph();
  EXPECT_EQ(test::count_kind(graph, "seqattr::deeplift_relu_residual"), 4);
  EXPECT_EQ(test::count_kind(graph, "aten::add"), 0);
}

INSTANTIATE_TEST_SUITE_P(Dtypes, Conv1dDirectTest, ::testing::Values(torch::kFloat32, torch::kFloat64),
                         [](const auto& info) { return std::string(c10::toString(info.param)); });
INSTANTIATE_TEST_SUITE_P(Dtypes, ReluRescaleGradTest,
                         ::testing::Values(torch::kFloat32, torch::kFloat64),
                         [](const auto& info) { return std::string(c10::toString(info.param)); });

}  // namespace
}  // namespace seqattr
