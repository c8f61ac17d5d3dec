// The batching of path methods: any --batch-size gives the same result, every sequence
// is finished once and in order.
#include <gtest/gtest.h>

#include "core/model.h"
#include "formats/fasta.h"
#include "formats/one_hot.h"
#include "methods/path/path_attribution.h"
#include "test_support.h"

namespace seqattr {
namespace {

struct Result {
  torch::Tensor hypothetical, attributions, predictions, delta;
  std::vector<int64_t> block_starts;
};

Result run(Model& model, const torch::Tensor& one_hot, const PathPlan& plan, int64_t batch) {
  Result result;
  std::vector<torch::Tensor> hyp, attr, pred, delta;
  run_path_attribution(
      model, one_hot, plan, /*target=*/2, batch,
      [&](const AttributionBlock& b) {
        result.block_starts.push_back(b.first);
        hyp.push_back(b.hypothetical);
        attr.push_back(b.attributions);
        pred.push_back(b.predictions);
        if (b.convergence_delta.defined()) delta.push_back(b.convergence_delta);
      },
      [](int64_t) {});
  result.hypothetical = torch::cat(hyp);
  result.attributions = torch::cat(attr);
  result.predictions = torch::cat(pred);
  if (!delta.empty()) result.delta = torch::cat(delta);
  return result;
}

class PathAttribution : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto fasta = test::data_dir() + "/conv_dense.fa";
    const auto records = read_fasta(fasta);
    one_hot_ = one_hot_encode(records, common_length(records, fasta)).slice(0, 0, 6);
  }
  Model model_ = Model::load(test::data_dir() + "/conv_dense.pt", torch::kCPU);
  torch::Tensor one_hot_;
};

TEST_F(PathAttribution, IntegratedGradientsIndependentOfBatchSize) {
  const auto plan = integrated_gradients_plan(IgRule::GaussLegendre, 10, Baseline::Uniform);
  const auto reference = run(model_, one_hot_, plan, 1000);
  EXPECT_EQ(reference.block_starts, std::vector<int64_t>{0});
  // 1: one row a pass; 7 and 13: passes that split sequences; 10: exactly one sequence.
  for (int64_t batch : {1, 7, 10, 13}) {
    const auto other = run(model_, one_hot_, plan, batch);
    ASSERT_EQ(other.hypothetical.size(0), one_hot_.size(0)) << batch;
    for (size_t i = 1; i < other.block_starts.size(); ++i) {
      EXPECT_LT(other.block_starts[i - 1], other.block_starts[i]);
    }
    EXPECT_TRUE(torch::allclose(other.hypothetical, reference.hypothetical, 1e-5, 1e-6)) << batch;
    EXPECT_TRUE(torch::allclose(other.attributions, reference.attributions, 1e-5, 1e-6)) << batch;
    EXPECT_TRUE(torch::allclose(other.delta, reference.delta, 1e-5, 1e-6)) << batch;
    EXPECT_TRUE(torch::allclose(other.predictions, reference.predictions, 1e-5, 1e-6)) << batch;
  }
}

TEST_F(PathAttribution, HypotheticalFollowsContractForUniformBaseline) {
  const auto plan = integrated_gradients_plan(IgRule::RiemannMiddle, 5, Baseline::Uniform);
  const auto r = run(model_, one_hot_, plan, 64);
  // hyp[i] = m_i - 0.25 sum_c m_c  =>  sum_i hyp[i] = 0 at every position.
  EXPECT_LT(r.hypothetical.sum(1).abs().max().item<float>(), 1e-5);
  EXPECT_TRUE(torch::allclose(r.attributions, r.hypothetical * one_hot_.to(torch::kFloat32)));
}

TEST_F(PathAttribution, OnlyTheInputGetsGradients) {
  EXPECT_FALSE(model_.any_parameter_requires_grad());
  run(model_, one_hot_, gradient_plan(), 4);
  EXPECT_FALSE(model_.any_parameter_requires_grad());
}

TEST_F(PathAttribution, GradientIsOneNodeAtTheInput) {
  const auto r = run(model_, one_hot_, gradient_plan(), 4);
  EXPECT_FALSE(r.delta.defined());
  auto x = one_hot_.to(torch::kFloat32).requires_grad_(true);
  Model model = Model::load(test::data_dir() + "/conv_dense.pt", torch::kCPU);
  model.forward(x).select(1, 2).sum().backward();
  EXPECT_TRUE(torch::allclose(r.hypothetical, x.grad(), 1e-6, 1e-7));
}

}  // namespace
}  // namespace seqattr
