// Fast ISM computes the same function as full recomputation:
// - in float64, where rounding cannot hide a wrong window: |fast - naive| <= 1e-9 of the
//   largest delta, or a few float64 ulps of the output where the deltas are themselves at
//   rounding level (a window outside a cropped model's reach: naive deltas of 1e-12 on
//   bpnet_2114, whose exact value is 0);
// - in float32, against exact ISM (naive, float64): within 1e-5 of the largest delta. Naive
//   float32 ISM cannot promise that (f(mutant) - f(input) rounds both terms at |f|); fast ISM
//   carries changes, not values.
#include <gtest/gtest.h>
#include <torch/cuda.h>
#include <torch/script.h>

#include <limits>
#include <random>

#include "methods/ism/fast_ism.h"
#include "test_support.h"

namespace seqattr {
namespace {

struct Case {
  std::string model;  // relative to the repository
  int64_t length;
  int64_t target;
};

void PrintTo(const Case& c, std::ostream* out) { *out << c.model << " target " << c.target; }

torch::Tensor random_one_hot(int64_t length, std::mt19937& rng) {
  auto x = torch::zeros({4, length}, torch::kUInt8);
  for (int64_t l = 0; l < length; ++l) {
    if (rng() % 13 == 0) continue;  // N
    x[rng() % 4][l] = 1;
  }
  return x;
}

double max_abs(const torch::Tensor& t) { return t.abs().max().item<double>(); }

torch::jit::Module load(const Case& c, torch::ScalarType dtype) {
  auto module = torch::jit::load(std::string(SEQATTR_SOURCE_DIR) + "/" + c.model);
  module.eval();
  module.to(dtype);
  return module;
}

// Windows at both edges (padding), in the middle, and scattered; all four bases.
std::vector<std::vector<int64_t>> windows(int64_t length) {
  return {{0, 1, 2}, {length - 3, length - 2, length - 1}, {length / 2}, {3, length / 2 + 5, length - 7}};
}

struct Substitutions {
  std::vector<int64_t> positions, bases;
};

Substitutions every_base_at(const std::vector<int64_t>& window) {
  Substitutions s;
  for (int64_t p : window) {
    for (int64_t b = 0; b < 4; ++b) {
      s.positions.push_back(p);
      s.bases.push_back(b);
    }
  }
  return s;
}

// Naive ISM: each mutant run in full by `module` (in its dtype).
struct NaiveIsm {
  torch::Tensor deltas;  // f(mutant)[target] - f(input)[target]
  double magnitude;      // the largest |f|[target] over the input and mutants
};

NaiveIsm naive_ism(torch::jit::Module& module, const torch::Tensor& one_hot,
                   const Substitutions& s, int64_t target, torch::ScalarType dtype) {
  torch::NoGradGuard no_grad;
  const auto input = one_hot.to(dtype).unsqueeze(0);
  std::vector<torch::Tensor> mutants;
  for (size_t r = 0; r < s.positions.size(); ++r) {
    auto m = input.clone();
    m[0].select(1, s.positions[r]).zero_();
    m[0][s.bases[r]][s.positions[r]] = 1.0;
    mutants.push_back(m);
  }
  const auto reference = module.forward({torch::cat({input, input})}).toTensor()[0][target];
  const auto outputs = module.forward({torch::cat(mutants)}).toTensor().select(1, target);
  return {outputs - reference, std::max(max_abs(outputs), reference.abs().item<double>())};
}

class FastIsm : public ::testing::TestWithParam<Case> {};

TEST_P(FastIsm, EqualsNaiveInDouble) {
  const auto& c = GetParam();
  auto module = load(c, torch::kDouble);
  const auto plan = FastIsmPlan::analyse(module, torch::kCPU);
  ASSERT_TRUE(plan.qualifies()) << plan.reason();
  std::mt19937 rng(7);
  const auto one_hot = random_one_hot(c.length, rng);
  const auto session = plan.start(one_hot);
  for (const auto& window : windows(c.length)) {
    const auto s = every_base_at(window);
    const auto naive = naive_ism(module, one_hot, s, c.target, torch::kDouble);
    const auto fast = session.score(s.positions, s.bases, c.target);
    const double scale = max_abs(naive.deltas);
    // 64 ulps of the output: naive float64 ISM rounds f(mutant) and f(input) there.
    const double ulps = 64 * std::numeric_limits<double>::epsilon() * naive.magnitude;
    EXPECT_LE(max_abs(fast - naive.deltas), 1e-9 * scale + ulps)
        << c.model << " window at " << window.front() << ": largest delta " << scale
        << ", output ulps " << ulps;
  }
}

TEST_P(FastIsm, Float32WithinOneE5OfExact) {
  const auto& c = GetParam();
  auto module = load(c, torch::kFloat32);
  auto exact_module = load(c, torch::kDouble);
  const auto plan = FastIsmPlan::analyse(module, torch::kCPU);
  ASSERT_TRUE(plan.qualifies()) << plan.reason();
  std::mt19937 rng(11);
  const auto one_hot = random_one_hot(c.length, rng);
  const auto session = plan.start(one_hot);
  // The largest delta over all windows: an edge window outside a cropped model's reach has
  // none of its own.
  std::vector<torch::Tensor> fast, exact;
  for (const auto& window : windows(c.length)) {
    const auto s = every_base_at(window);
    exact.push_back(naive_ism(exact_module, one_hot, s, c.target, torch::kDouble).deltas);
    fast.push_back(session.score(s.positions, s.bases, c.target).to(torch::kDouble));
  }
  const double scale = max_abs(torch::cat(exact));
  ASSERT_GT(scale, 0.0);
  EXPECT_LE(max_abs(torch::cat(fast) - torch::cat(exact)), 1e-5 * scale)
      << c.model << ": largest delta " << scale;
}

// A batch session (several sequences, one substitution each, as variants' SNVs): each row's
// change is its own sequence's, against naive ISM of that sequence in float64. Positions differ
// by row (edges, middle) or are all one (variants: every SNV at L/2); a base of -1 changes
// nothing. In float64 within 1e-9 of the largest delta (a wrong window or a row reading another
// row's reference is far off); in float32 within 1e-5, as a one-sequence session.
void expect_batch_matches_exact(const Case& c, torch::ScalarType dtype, double tolerance) {
  auto module = load(c, dtype);
  auto exact_module = load(c, torch::kDouble);
  const auto plan = FastIsmPlan::analyse(module, torch::kCPU);
  ASSERT_TRUE(plan.qualifies()) << plan.reason();
  std::mt19937 rng(17);
  const int64_t sequences = 5;
  std::vector<torch::Tensor> one_hots;
  for (int64_t i = 0; i < sequences; ++i) one_hots.push_back(random_one_hot(c.length, rng));
  const auto batch = torch::stack(one_hots);
  const auto session = plan.start_batch(batch);
  const std::vector<std::vector<int64_t>> placements = {
      {0, c.length - 1, c.length / 2, 7, c.length - 9},
      std::vector<int64_t>(sequences, c.length / 2)};
  for (const auto& positions : placements) {
    std::vector<int64_t> bases(sequences);
    for (auto& b : bases) b = static_cast<int64_t>(rng() % 4);
    bases[2] = -1;
    const auto fast = session.changes(positions, bases).select(1, c.target).to(torch::kDouble);
    std::vector<torch::Tensor> exact;
    double magnitude = 0;
    for (int64_t i = 0; i < sequences; ++i) {
      if (bases[i] < 0) {
        exact.push_back(torch::zeros({1}, torch::kDouble));
        continue;
      }
      const auto naive = naive_ism(exact_module, one_hots[i], {{positions[i]}, {bases[i]}}, c.target,
                                   torch::kDouble);
      exact.push_back(naive.deltas);
      magnitude = std::max(magnitude, naive.magnitude);
    }
    const auto expected = torch::cat(exact);
    const double scale = max_abs(expected);
    const double ulps = 64 * std::numeric_limits<double>::epsilon() * magnitude;
    // Zero but for float64 rounding where a rule sums terms across positions.
    EXPECT_LE(std::abs(fast[2].item<double>()), 1e-12 * scale + ulps)
        << c.model << ": a base of -1 changed the output";
    EXPECT_LE(max_abs(fast - expected), tolerance * scale + ulps)
        << c.model << " positions from " << positions.front() << ": largest delta " << scale;
  }
  // The reference pass's outputs are the model's outputs.
  torch::NoGradGuard no_grad;
  const auto forward = module.forward({batch.to(dtype)}).toTensor();
  const double largest = max_abs(forward);
  EXPECT_LE(max_abs(session.outputs() - forward), 1e-5 * largest + 1e-30) << c.model;
}

TEST_P(FastIsm, BatchSessionMatchesExactInDouble) {
  expect_batch_matches_exact(GetParam(), torch::kDouble, 1e-9);
}

TEST_P(FastIsm, BatchSessionFloat32WithinOneE5OfExact) {
  expect_batch_matches_exact(GetParam(), torch::kFloat32, 1e-5);
}

// One sequence in a batch session (padded to a pass's two rows) is that sequence's change.
TEST(FastIsmBatch, OneSequence) {
  auto module = load({"tests/data/mini_bpnet.pt", 160, 0}, torch::kFloat32);
  const auto plan = FastIsmPlan::analyse(module, torch::kCPU);
  std::mt19937 rng(19);
  const auto one_hot = random_one_hot(160, rng);
  const auto single = plan.start(one_hot).changes({80}, {2});
  const auto batch = plan.start_batch(one_hot.unsqueeze(0)).changes({80}, {2});
  ASSERT_EQ(batch.sizes(), single.sizes());
  EXPECT_LE(max_abs(batch - single), 1e-5 * max_abs(single) + 1e-30);
}

// The same session on a CUDA device: within 1e-5 of the largest delta of the CPU's.
TEST_P(FastIsm, CudaMatchesCpu) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device";
  const auto& c = GetParam();
  auto module = load(c, torch::kFloat32);
  const auto cpu_plan = FastIsmPlan::analyse(module, torch::kCPU);
  auto cuda_module = load(c, torch::kFloat32);
  cuda_module.to(torch::kCUDA);
  const auto cuda_plan = FastIsmPlan::analyse(cuda_module, torch::kCUDA);
  ASSERT_TRUE(cuda_plan.qualifies()) << cuda_plan.reason();
  std::mt19937 rng(13);
  const auto one_hot = random_one_hot(c.length, rng);
  const auto cpu = cpu_plan.start(one_hot), cuda = cuda_plan.start(one_hot);
  std::vector<torch::Tensor> expected, got;
  for (const auto& window : windows(c.length)) {
    const auto s = every_base_at(window);
    expected.push_back(cpu.score(s.positions, s.bases, c.target));
    got.push_back(cuda.score(s.positions, s.bases, c.target));
  }
  const double scale = max_abs(torch::cat(expected));
  ASSERT_GT(scale, 0.0);
  EXPECT_LE(max_abs(torch::cat(got) - torch::cat(expected)), 1e-5 * scale) << c.model;
}

INSTANTIATE_TEST_SUITE_P(
    Fixtures, FastIsm,
    ::testing::Values(Case{"tests/data/conv_dense.pt", 100, 2},     // conv, dilated conv, mean
                      Case{"tests/data/mini_basset.pt", 100, 1},    // conv-pool-dense
                      Case{"tests/data/mini_bpnet.pt", 160, 0},     // residual stack, crop, counts
                      Case{"tests/data/mini_bpnet.pt", 160, 1},     // profile head, softmax
                      Case{"models/fixtures/dl_residual.pt", 100, 1},
                      Case{"models/fixtures/dl_batchnorm.pt", 100, 0},  // batchnorm, avg-pool
                      Case{"models/fixtures/dl_activations.pt", 100, 1},  // channel slices, cat
                      Case{"models/fixtures/dl_maxpool.pt", 100, 0},  // overlapping pools: full
                      Case{"models/fixtures/basset_600.pt", 600, 3},
                      Case{"models/fixtures/dl_unruled.pt", 100, 0},  // product of two windows
                      Case{"models/fixtures/dl_unruled.pt", 100, 2},  // logsumexp: no rule
                      // strided and "same" convolutions, gating, softmax over channels, a
                      // linear over channels, log-softmax over length; rsub, pow, amax
                      Case{"models/fixtures/fast_ism_rules.pt", 100, 0},
                      Case{"models/fixtures/fast_ism_rules.pt", 100, 2},
                      // BPNet-sized: float32 f(mutant) - f(input) is 3e-4 off here.
                      Case{"bench/data/bpnet_2114.pt", 2114, 0},
                      Case{"bench/data/bpnet_2114.pt", 2114, 1}),
    [](const auto& info) { return "case" + std::to_string(info.index); });

}  // namespace
}  // namespace seqattr
