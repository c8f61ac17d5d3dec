// The ops behind rescale multipliers, hypothetical projection, ISM mutants, dinucleotide
// shuffles and fast ISM's ReLU-then-max-pool: each CPU kernel against a plain tensor expression of the same function on fresh
// random inputs, their argument checks, and (with a GPU) the CUDA twins against the CPU.
// The IG ops are in test_kernels.cpp.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "kernels/ops/dinucleotide_shuffle.h"
#include "kernels/ops/hypothetical_projection.h"
#include "kernels/ops/ism_mutants.h"
#include "kernels/ops/relu_change.h"
#include "kernels/ops/relu_max_pool_change.h"
#include "kernels/ops/rescale_multipliers.h"
#include "test_support.h"

namespace seqattr {
namespace {

using torch::indexing::Slice;

const torch::Device kCuda(torch::kCUDA);


torch::Tensor random_one_hot(int64_t sequences, int64_t length, bool with_n) {
  const auto letters = torch::randint(0, with_n ? 5 : 4, {sequences, length}, torch::kLong);
  // Letter 4 (N) is an all-zero column.
  return torch::one_hot(letters, 5).narrow(2, 0, 4).permute({0, 2, 1}).to(torch::kUInt8).contiguous();
}

// --- rescale multipliers ----------------------------------------------------------------

struct RescaleCase {
  torch::Tensor x, x_ref, y, y_ref, grad;
};

// x - x_ref is exactly 0 at about a tenth of the elements and below epsilon at another tenth.
RescaleCase random_rescale_case(torch::ScalarType dtype, std::vector<int64_t> shape) {
  const auto options = torch::TensorOptions().dtype(dtype);
  const auto x = torch::randn(shape, options);
  const auto u = torch::rand(shape, options);
  auto x_ref = torch::randn(shape, options);
  x_ref = torch::where(u < 0.1, x, torch::where(u < 0.2, x + 1e-8, x_ref));
  return {x, x_ref, torch::tanh(x), torch::tanh(x_ref), torch::randn(shape, options)};
}

class RescaleTest : public ::testing::TestWithParam<torch::ScalarType> {};

TEST_P(RescaleTest, MatchesTensorExpressionExactly) {
  torch::manual_seed(11);
  for (const auto& shape : {std::vector<int64_t>{1}, {3, 64, 50}, {7, 5, 2, 9}}) {
    const auto c = random_rescale_case(GetParam(), shape);
    const auto [to_x, to_y] = ops::rescale_multipliers(c.x, c.x_ref, c.y, c.y_ref, c.grad, 1e-6);
    const auto delta_in = c.x - c.x_ref;
    const auto small = delta_in.abs() < 1e-6;
    const auto zero = torch::zeros_like(c.grad);
    EXPECT_TRUE(torch::equal(to_x, torch::where(small, zero, c.grad * ((c.y - c.y_ref) / delta_in))));
    EXPECT_TRUE(torch::equal(to_y, torch::where(small, c.grad, zero)));
    if (c.x.numel() > 100) EXPECT_GT(small.sum().item<int64_t>(), 0);
  }
}

TEST_P(RescaleTest, CudaTwinMatchesCpu) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device";
  torch::manual_seed(12);
  const auto c = random_rescale_case(GetParam(), {9, 64, 211});
  const auto [cpu_x, cpu_y] = ops::rescale_multipliers(c.x, c.x_ref, c.y, c.y_ref, c.grad, 1e-6);
  const auto [gpu_x, gpu_y] = ops::rescale_multipliers(
      c.x.to(kCuda), c.x_ref.to(kCuda), c.y.to(kCuda), c.y_ref.to(kCuda), c.grad.to(kCuda), 1e-6);
  const double tol = test::tolerance(GetParam());
  EXPECT_TRUE(torch::allclose(gpu_x.cpu(), cpu_x, tol, tol));
  EXPECT_TRUE(torch::equal(gpu_y.cpu(), cpu_y));
}

TEST(RescaleMultipliers, RejectsBadArguments) {
  const auto x = torch::zeros({2, 3});
  EXPECT_THROW(ops::rescale_multipliers(x, x, x, x, torch::zeros({2, 4}), 1e-6), c10::Error);
  EXPECT_THROW(ops::rescale_multipliers(x, x.to(torch::kFloat64), x, x, x, 1e-6), c10::Error);
  const auto ints = torch::zeros({2, 3}, torch::kLong);
  EXPECT_THROW(ops::rescale_multipliers(ints, ints, ints, ints, ints, 1e-6), c10::Error);
}

// --- hypothetical projection ------------------------------------------------------------

class ProjectionTest : public ::testing::TestWithParam<torch::ScalarType> {};

// Bit for bit with 4 channels (DNA), where ATen sums the channels in order; with more,
// ATen may group its sum differently.
TEST_P(ProjectionTest, MatchesTensorExpression) {
  torch::manual_seed(21);
  for (const auto& [k, c, l] : {std::tuple{1, 1, 1}, {3, 4, 50}, {17, 4, 211}, {64, 4, 2114}, {2, 5, 7}}) {
    const auto options = torch::TensorOptions().dtype(GetParam());
    const auto m = torch::randn({k, c, l}, options);
    const auto r = torch::rand({k, c, l}, options);
    const auto got = ops::hypothetical_projection(m, r);
    const auto expected = m - (r * m).sum(1, true);
    if (c <= 4) {
      EXPECT_TRUE(torch::equal(got, expected)) << k << "x" << c << "x" << l;
    } else {
      EXPECT_TRUE(torch::allclose(got, expected, test::tolerance(GetParam()), test::tolerance(GetParam())));
    }
  }
}

TEST_P(ProjectionTest, CudaTwinMatchesCpu) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device";
  torch::manual_seed(22);
  const auto options = torch::TensorOptions().dtype(GetParam());
  const auto m = torch::randn({40, 4, 2114}, options);
  const auto r = random_one_hot(40, 2114, true).to(GetParam());
  const auto cpu = ops::hypothetical_projection(m, r);
  const auto gpu = ops::hypothetical_projection(m.to(kCuda), r.to(kCuda));
  EXPECT_TRUE(torch::allclose(gpu.cpu(), cpu, test::tolerance(GetParam()), test::tolerance(GetParam())));
}

TEST(HypotheticalProjection, RejectsBadArguments) {
  const auto m = torch::zeros({2, 4, 3});
  EXPECT_THROW(ops::hypothetical_projection(m, torch::zeros({2, 4, 4})), c10::Error);
  EXPECT_THROW(ops::hypothetical_projection(m, m.to(torch::kFloat64)), c10::Error);
  EXPECT_THROW(ops::hypothetical_projection(torch::zeros({4, 3}), torch::zeros({4, 3})), c10::Error);
  const auto ints = torch::zeros({2, 4, 3}, torch::kLong);
  EXPECT_THROW(ops::hypothetical_projection(ints, ints), c10::Error);
}

INSTANTIATE_TEST_SUITE_P(Dtypes, RescaleTest, ::testing::Values(torch::kFloat32, torch::kFloat64),
                         [](const auto& info) { return std::string(c10::toString(info.param)); });
INSTANTIATE_TEST_SUITE_P(Dtypes, ProjectionTest, ::testing::Values(torch::kFloat32, torch::kFloat64),
                         [](const auto& info) { return std::string(c10::toString(info.param)); });

// --- ISM mutants ------------------------------------------------------------------------

struct MutantCase {
  torch::Tensor one_hot, row_seq, position, base;
};

MutantCase random_mutant_case(int64_t sequences, int64_t rows, int64_t length) {
  return {random_one_hot(sequences, length, true), torch::randint(0, sequences, {rows}, torch::kLong),
          torch::randint(0, length, {rows}, torch::kLong), torch::randint(0, 4, {rows}, torch::kLong)};
}

TEST(IsmMutants, MatchTensorExpression) {
  torch::manual_seed(31);
  for (const auto& [s, r, l] : {std::tuple{1, 1, 1}, {3, 40, 50}, {8, 300, 2114}}) {
    const auto c = random_mutant_case(s, r, l);
    auto expected = c.one_hot.index_select(0, c.row_seq).to(torch::kFloat32);
    expected.index_put_({torch::arange(r), Slice(), c.position},
                        torch::one_hot(c.base, 4).to(torch::kFloat32));
    EXPECT_TRUE(torch::equal(ops::ism_mutants(c.one_hot, c.row_seq, c.position, c.base), expected));
  }
}

TEST(IsmMutants, CudaTwinMatchesCpu) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device";
  torch::manual_seed(32);
  const auto c = random_mutant_case(6, 500, 2114);
  const auto cpu = ops::ism_mutants(c.one_hot, c.row_seq, c.position, c.base);
  const auto gpu = ops::ism_mutants(c.one_hot.to(kCuda), c.row_seq.to(kCuda), c.position.to(kCuda),
                                    c.base.to(kCuda));
  EXPECT_TRUE(torch::equal(gpu.cpu(), cpu));  // exact: only copies of 0 and 1
}

TEST(IsmMutants, RejectsBadArguments) {
  const auto c = random_mutant_case(2, 3, 5);
  const auto too_far = torch::tensor({0, 1, 5}, torch::kLong);  // position 5 of L = 5
  EXPECT_THROW(ops::ism_mutants(c.one_hot, c.row_seq, too_far, c.base), c10::Error);
  EXPECT_THROW(ops::ism_mutants(c.one_hot, c.row_seq, c.position, c.base + 4), c10::Error);
  EXPECT_THROW(ops::ism_mutants(c.one_hot, c.row_seq + 2, c.position, c.base), c10::Error);
  EXPECT_THROW(ops::ism_mutants(c.one_hot.to(torch::kFloat32), c.row_seq, c.position, c.base),
               c10::Error);
  EXPECT_THROW(ops::ism_mutants(c.one_hot, c.row_seq.to(torch::kInt), c.position, c.base), c10::Error);
  EXPECT_THROW(ops::ism_mutants(c.one_hot, c.row_seq, c.position.narrow(0, 0, 2), c.base), c10::Error);
}

// --- dinucleotide shuffles --------------------------------------------------------------

// Letters 0..4 (N = 4) of (S, [K,] 4, L) one-hot.
torch::Tensor letters_of(const torch::Tensor& one_hot) {
  const auto channel = torch::arange(4, torch::kLong).view({4, 1});
  const auto first_one = (one_hot.to(torch::kLong) * (channel + 1)).amax(-2);  // 0 where N
  return torch::where(first_one == 0, torch::full_like(first_one, 4), first_one - 1);
}

// (..., 25): how often each dinucleotide (5 x first + second) occurs.
torch::Tensor dinucleotide_counts(const torch::Tensor& letters) {
  const auto length = letters.size(-1);
  const auto pairs = letters.narrow(-1, 0, length - 1) * 5 + letters.narrow(-1, 1, length - 1);
  return torch::one_hot(pairs, 25).sum(-2);
}

TEST(DinucleotideShuffleOp, KeepsEndsAndDinucleotideCounts) {
  torch::manual_seed(41);
  const int64_t sequences = 6, count = 5, length = 300;
  const auto one_hot = random_one_hot(sequences, length, true);
  const auto [shuffles, only_one] = ops::dinucleotide_shuffles(one_hot, count, 7, 100);
  ASSERT_EQ(shuffles.sizes(), (std::vector<int64_t>{sequences, count, 4, length}));
  EXPECT_FALSE(only_one.any().item<bool>());
  const auto original = letters_of(one_hot).unsqueeze(1).expand({sequences, count, length});
  const auto shuffled = letters_of(shuffles);
  EXPECT_TRUE(torch::equal(shuffled.select(2, 0), original.select(2, 0)));
  EXPECT_TRUE(torch::equal(shuffled.select(2, length - 1), original.select(2, length - 1)));
  EXPECT_TRUE(torch::equal(dinucleotide_counts(shuffled), dinucleotide_counts(original)));
  EXPECT_TRUE(shuffles.sum(2).le(1).all().item<bool>());  // one-hot or N
  EXPECT_FALSE(torch::equal(shuffled, original));
}

TEST(DinucleotideShuffleOp, RowsDependOnlyOnTheirIndex) {
  torch::manual_seed(42);
  const auto one_hot = random_one_hot(5, 120, false);
  const auto [all, unused] = ops::dinucleotide_shuffles(one_hot, 3, 99, 10);
  for (int64_t s = 0; s < 5; ++s) {
    const auto [one, flag] = ops::dinucleotide_shuffles(one_hot.narrow(0, s, 1), 3, 99, 10 + s);
    EXPECT_TRUE(torch::equal(one[0], all[s]));
  }
}

TEST(DinucleotideShuffleOp, OnlyShuffleGivesCopies) {
  auto repeat = torch::zeros({1, 4, 12}, torch::kUInt8);
  for (int64_t l = 0; l < 12; ++l) repeat[0][l % 2][l] = 1;  // ACACAC...
  const auto [shuffles, only_one] = ops::dinucleotide_shuffles(repeat, 3, 0, 0);
  EXPECT_TRUE(only_one[0].item<bool>());
  EXPECT_TRUE(torch::equal(shuffles[0], repeat.expand({3, 4, 12})));
  const auto [empty, none] = ops::dinucleotide_shuffles(torch::zeros({2, 4, 0}, torch::kUInt8), 2, 0, 0);
  EXPECT_EQ(empty.sizes(), (std::vector<int64_t>{2, 2, 4, 0}));
  EXPECT_TRUE(none.all().item<bool>());
}

TEST(DinucleotideShuffleOp, CudaTwinIsIdentical) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device";
  torch::manual_seed(43);
  auto one_hot = random_one_hot(24, 2114, true);
  one_hot[3].zero_();  // all N
  one_hot[5].zero_();  // ACGACG...: only one shuffle
  for (int64_t l = 0; l < 2114; ++l) one_hot[5][l % 3][l] = 1;
  const auto [cpu, cpu_only] = ops::dinucleotide_shuffles(one_hot, 20, 12345, 7);
  const auto [gpu, gpu_only] = ops::dinucleotide_shuffles(one_hot.to(kCuda), 20, 12345, 7);
  EXPECT_TRUE(torch::equal(gpu.cpu(), cpu));  // same generator streams: bit for bit
  EXPECT_TRUE(torch::equal(gpu_only.cpu(), cpu_only));
}

TEST(DinucleotideShuffleOp, RejectsBadArguments) {
  const auto one_hot = random_one_hot(2, 10, false);
  EXPECT_THROW(ops::dinucleotide_shuffles(one_hot.to(torch::kFloat32), 2, 0, 0), c10::Error);
  EXPECT_THROW(ops::dinucleotide_shuffles(one_hot[0], 2, 0, 0), c10::Error);
  EXPECT_THROW(ops::dinucleotide_shuffles(one_hot.narrow(1, 0, 3), 2, 0, 0), c10::Error);
  EXPECT_THROW(ops::dinucleotide_shuffles(one_hot, -1, 0, 0), c10::Error);
}

// --- fast ISM: change of max_pool1d(relu(x)) ------------------------------------------

struct PoolCase {
  torch::Tensor delta, lo, reference, gap, out_lo;
  int64_t kernel = 0, out_width = 0;
};

// Windows of width `width` in a length-`length` sequence, the first row's at the left edge and
// the second's at the right (past the last whole pool when k does not divide L); delta is
// channel-last (as fast ISM's convolutions leave it) when `channel_last`.
PoolCase random_pool_case(torch::ScalarType dtype, int64_t rows, int64_t channels,
                          int64_t length, int64_t width, int64_t k, bool channel_last) {
  const auto options = torch::TensorOptions().dtype(dtype);
  PoolCase c;
  c.kernel = k;
  c.delta = channel_last ? torch::randn({rows, width, channels}, options).transpose(1, 2)
                         : torch::randn({rows, channels, width}, options);
  c.reference = torch::randn({channels, length}, options);
  const int64_t pools = length / k;
  const auto relu = torch::relu(c.reference);
  const auto pooled = torch::max_pool1d(relu.unsqueeze(0), {k}, {k}).squeeze(0);
  c.gap = relu.clone();
  c.gap.narrow(1, 0, pools * k).sub_(pooled.repeat_interleave(k, 1));
  c.lo = torch::randint(0, length - width + 1, {rows}, torch::kLong);
  c.lo[0] = 0;
  c.lo[1] = length - width;
  c.out_width = std::min(pools, (width + k - 1) / k + 1);
  // Each row's pools cover its window where they can (clipped at the right edge).
  c.out_lo = c.lo.div(k, "floor").clamp_max(pools - c.out_width);
  return c;
}

// The same function as tensor expressions: the change over all positions, ReLU's change,
// the gap added, pooled, and each row's pools picked.
torch::Tensor pool_expression(const PoolCase& c) {
  const int64_t rows = c.delta.size(0), channels = c.delta.size(1), width = c.delta.size(2);
  const int64_t length = c.reference.size(1);
  auto full = torch::zeros({rows, channels, length}, c.delta.options());
  for (int64_t r = 0; r < rows; ++r) {
    full[r].narrow(1, c.lo[r].item<int64_t>(), width).copy_(c.delta[r]);
  }
  const auto relu_change = torch::maximum(full + c.reference.clamp_max(0), -c.reference.clamp_min(0));
  const auto pooled = torch::max_pool1d(relu_change + c.gap, {c.kernel}, {c.kernel});
  const auto index = (c.out_lo.unsqueeze(1) + torch::arange(c.out_width)).unsqueeze(1);
  return pooled.gather(2, index.expand({rows, channels, c.out_width}));
}

class ReluPoolTest : public ::testing::TestWithParam<torch::ScalarType> {};

TEST_P(ReluPoolTest, MatchesTensorExpressionExactly) {
  torch::manual_seed(51);
  for (const bool channel_last : {true, false}) {
    for (const int64_t k : {1, 3, 4}) {
      const auto c = random_pool_case(GetParam(), 9, 37, 203, 17, k, channel_last);
      const auto got = ops::relu_max_pool_change(c.delta, c.lo, c.reference, c.gap, c.kernel,
                                                 c.out_lo, c.out_width);
      EXPECT_TRUE(torch::equal(got, pool_expression(c))) << "k " << k;
    }
  }
}

TEST_P(ReluPoolTest, PropagatesNan) {
  auto c = random_pool_case(GetParam(), 3, 5, 40, 8, 4, true);
  c.delta[2][1][3] = std::numeric_limits<double>::quiet_NaN();
  const auto got = ops::relu_max_pool_change(c.delta, c.lo, c.reference, c.gap, c.kernel,
                                             c.out_lo, c.out_width);
  const int64_t pool = (c.lo[2].item<int64_t>() + 3) / 4 - c.out_lo[2].item<int64_t>();
  EXPECT_TRUE(std::isnan(got[2][1][pool].item<double>()));
  EXPECT_EQ(got.isnan().sum().item<int64_t>(), 1);
}

TEST_P(ReluPoolTest, CudaTwinMatchesCpu) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device";
  torch::manual_seed(52);
  const auto c = random_pool_case(GetParam(), 192, 128, 600, 19, 3, true);
  const auto cpu = ops::relu_max_pool_change(c.delta, c.lo, c.reference, c.gap, c.kernel,
                                             c.out_lo, c.out_width);
  const auto gpu = ops::relu_max_pool_change(c.delta.to(kCuda), c.lo.to(kCuda),
                                             c.reference.to(kCuda), c.gap.to(kCuda), c.kernel,
                                             c.out_lo.to(kCuda), c.out_width);
  const double tol = test::tolerance(GetParam());
  EXPECT_TRUE(torch::allclose(gpu.cpu(), cpu, tol, tol));
}

TEST(ReluMaxPoolChange, RejectsBadArguments) {
  const auto c = random_pool_case(torch::kFloat32, 4, 6, 30, 5, 3, false);
  const auto call = [&](const torch::Tensor& lo, const torch::Tensor& reference, int64_t k,
                        const torch::Tensor& out_lo, int64_t out_width) {
    return ops::relu_max_pool_change(c.delta, lo, reference, c.gap, k, out_lo, out_width);
  };
  EXPECT_NO_THROW(call(c.lo, c.reference, 3, c.out_lo, c.out_width));
  EXPECT_THROW(call(c.lo + 30, c.reference, 3, c.out_lo, c.out_width), c10::Error);  // window past L
  EXPECT_THROW(call(c.lo, c.reference, 3, c.out_lo + 10, c.out_width), c10::Error);  // pools past L/k
  EXPECT_THROW(call(c.lo, c.reference, 3, c.out_lo, 11), c10::Error);
  EXPECT_THROW(call(c.lo, c.reference, 0, c.out_lo, c.out_width), c10::Error);
  EXPECT_THROW(call(c.lo, c.reference.to(torch::kFloat64), 3, c.out_lo, c.out_width), c10::Error);
  EXPECT_THROW(call(c.lo, c.reference.narrow(0, 0, 5), 3, c.out_lo, c.out_width), c10::Error);
  EXPECT_THROW(call(c.lo.to(torch::kInt), c.reference, 3, c.out_lo, c.out_width), c10::Error);
}

INSTANTIATE_TEST_SUITE_P(Dtypes, ReluPoolTest, ::testing::Values(torch::kFloat32, torch::kFloat64),
                         [](const auto& info) { return std::string(c10::toString(info.param)); });

// seqattr::relu_change against fast ISM's unfused ReLU rule: the reference's terms gathered
// at each row's window, added and maximised (the expressions it replaces), bit for bit.
torch::Tensor relu_change_expression(const PoolCase& c) {
  const int64_t width = c.delta.size(2);
  const auto index = (c.lo.unsqueeze(1) + torch::arange(width)).unsqueeze(1);
  const auto at_rows = [&](const torch::Tensor& term) {
    const auto rows = term.unsqueeze(0).expand({c.delta.size(0), -1, -1});
    return rows.gather(2, index.expand(c.delta.sizes()));
  };
  const auto low = at_rows(c.reference.clamp_max(0)), high = at_rows(-c.reference.clamp_min(0));
  return torch::maximum(c.delta + low, high);
}

TEST_P(ReluPoolTest, ReluChangeMatchesTheRuleExactly) {
  torch::manual_seed(53);
  for (const bool channel_last : {true, false}) {
    for (const int64_t width : {1, 17, 203}) {
      auto c = random_pool_case(GetParam(), 9, 37, 203, width, 1, channel_last);
      c.reference[3][c.lo[4].item<int64_t>()] = 0.0;  // r = 0: -max(r, 0) is -0
      const auto got = ops::relu_change(c.delta, c.lo, c.reference);
      EXPECT_TRUE(torch::equal(got, relu_change_expression(c))) << "width " << width;
      // The layout comes back as it went in (fast ISM's next convolution reads it as it lies).
      EXPECT_TRUE(channel_last ? got.transpose(1, 2).is_contiguous() : got.is_contiguous());
    }
  }
}

TEST_P(ReluPoolTest, ReluChangePropagatesNan) {
  auto c = random_pool_case(GetParam(), 3, 5, 40, 8, 1, true);
  c.delta[2][1][3] = std::numeric_limits<double>::quiet_NaN();
  c.reference[4][c.lo[0].item<int64_t>() + 5] = std::numeric_limits<double>::quiet_NaN();
  const auto got = ops::relu_change(c.delta, c.lo, c.reference);
  EXPECT_TRUE(std::isnan(got[2][1][3].item<double>()));
  EXPECT_TRUE(std::isnan(got[0][4][5].item<double>()));
  const auto expected = relu_change_expression(c);
  EXPECT_TRUE(torch::equal(got.isnan(), expected.isnan()));
  EXPECT_TRUE(torch::equal(got.nan_to_num(0), expected.nan_to_num(0)));
}

TEST_P(ReluPoolTest, ReluChangeCudaTwinMatchesCpu) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device";
  torch::manual_seed(54);
  for (const bool channel_last : {true, false}) {
    const auto c = random_pool_case(GetParam(), 192, 64, 2114, 301, 1, channel_last);
    const auto cpu = ops::relu_change(c.delta, c.lo, c.reference);
    const auto gpu = ops::relu_change(c.delta.to(kCuda), c.lo.to(kCuda), c.reference.to(kCuda));
    EXPECT_TRUE(torch::equal(gpu.cpu(), cpu));  // one addition and a max: no rounding to differ
  }
}

TEST(ReluChange, RejectsBadArguments) {
  const auto c = random_pool_case(torch::kFloat32, 4, 6, 30, 5, 1, false);
  EXPECT_NO_THROW(ops::relu_change(c.delta, c.lo, c.reference));
  EXPECT_THROW(ops::relu_change(c.delta, c.lo + 30, c.reference), c10::Error);  // window past L
  EXPECT_THROW(ops::relu_change(c.delta, c.lo.to(torch::kInt), c.reference), c10::Error);
  EXPECT_THROW(ops::relu_change(c.delta, c.lo.narrow(0, 0, 3), c.reference), c10::Error);
  EXPECT_THROW(ops::relu_change(c.delta, c.lo, c.reference.to(torch::kFloat64)), c10::Error);
  EXPECT_THROW(ops::relu_change(c.delta, c.lo, c.reference.narrow(0, 0, 5)), c10::Error);
  EXPECT_THROW(ops::relu_change(c.delta, c.lo, c.reference.narrow(1, 0, 4)), c10::Error);  // W > L
}

}  // namespace
}  // namespace seqattr
