// Fast ISM computes the same function as full recomputation. Checked in float64, where
// rounding cannot hide a wrong window: |fast - naive| <= 1e-9 of the largest delta.
#include <gtest/gtest.h>
#include <torch/script.h>

#include <random>

#include "methods/fast_ism.h"
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

class FastIsm : public ::testing::TestWithParam<Case> {};

TEST_P(FastIsm, EqualsNaiveInDouble) {
  const auto& c = GetParam();
  auto module = torch::jit::load(std::string(SEQATTR_SOURCE_DIR) + "/" + c.model);
  module.eval();
  module.to(torch::kDouble);
  const auto plan = FastIsmPlan::analyse(module, torch::kCPU);
  ASSERT_TRUE(plan.qualifies()) << plan.reason();

  std::mt19937 rng(7);
  const auto one_hot = random_one_hot(c.length, rng);
  const auto session = plan.start(one_hot);
  // Windows at both edges (padding), in the middle, and scattered; all four bases.
  const std::vector<std::vector<int64_t>> windows = {
      {0, 1, 2}, {c.length - 3, c.length - 2, c.length - 1}, {c.length / 2}, {3, c.length / 2 + 5, c.length - 7}};
  torch::NoGradGuard no_grad;
  const auto input = one_hot.to(torch::kDouble).unsqueeze(0);
  const double reference = module.forward({torch::cat({input, input})}).toTensor()[0][c.target].item<double>();
  for (const auto& window : windows) {
    std::vector<int64_t> positions, bases;
    std::vector<torch::Tensor> mutants;
    for (int64_t p : window) {
      for (int64_t b = 0; b < 4; ++b) {
        positions.push_back(p);
        bases.push_back(b);
        auto m = input.clone();
        m[0].select(1, p).zero_();
        m[0][b][p] = 1.0;
        mutants.push_back(m);
      }
    }
    const auto naive = module.forward({torch::cat(mutants)}).toTensor().select(1, c.target);
    const auto fast = session.score(positions, bases, c.target);
    const double scale = std::max(1e-12, max_abs(naive - reference));
    EXPECT_LE(max_abs(fast - naive), 1e-9 * scale)
        << c.model << " window at " << window.front() << ": largest delta " << scale;
  }
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
                      Case{"models/fixtures/basset_600.pt", 600, 3}),
    [](const auto& info) { return "case" + std::to_string(info.index); });

}  // namespace
}  // namespace seqattr
