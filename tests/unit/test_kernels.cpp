// The registered ops against plain tensor expressions on fresh random inputs, per dtype;
// and (with a GPU) the CUDA twins against the CPU references.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "kernels/ops/ig_accumulate.h"
#include "kernels/ops/ig_path_points.h"
#include "test_support.h"

namespace seqattr {
namespace {

struct RowCase {
  torch::Tensor input, baseline, row_seq, row_scalar;
};

RowCase random_case(torch::ScalarType dtype, int64_t sequences, int64_t rows, int64_t length) {
  auto options = torch::TensorOptions().dtype(dtype);
  return {torch::randn({sequences, 4, length}, options), torch::rand({sequences, 4, length}, options),
          torch::randint(0, sequences, {rows}, torch::kLong),
          torch::rand({rows}, torch::kFloat64)};
}


class KernelTest : public ::testing::TestWithParam<torch::ScalarType> {};

TEST_P(KernelTest, PathPointsMatchReference) {
  torch::manual_seed(1);
  for (const auto& [s, r, l] : {std::tuple{1, 1, 1}, {3, 17, 50}, {8, 200, 37}}) {
    const auto c = random_case(GetParam(), s, r, l);
    const auto got = ops::ig_path_points(c.input, c.baseline, c.row_seq, c.row_scalar);
    const auto b = c.baseline.index_select(0, c.row_seq);
    const auto x = c.input.index_select(0, c.row_seq);
    const auto alpha = c.row_scalar.to(GetParam()).view({-1, 1, 1});
    EXPECT_TRUE(torch::allclose(got, b + alpha * (x - b), test::tolerance(GetParam()), test::tolerance(GetParam())));
  }
}

TEST_P(KernelTest, AccumulateMatchesReference) {
  torch::manual_seed(2);
  for (const auto& [s, r, l] : {std::tuple{1, 1, 1}, {3, 17, 50}, {8, 200, 37}}) {
    const auto c = random_case(GetParam(), s, r, l);
    const auto grads = torch::randn({r, 4, l}, c.input.options());
    auto accum = c.baseline.clone();
    ops::ig_accumulate_(accum, grads, c.row_seq, c.row_scalar);
    const auto weighted = grads.to(torch::kFloat64) * c.row_scalar.view({-1, 1, 1});
    const auto expected = c.baseline.to(torch::kFloat64).index_add(0, c.row_seq, weighted);
    EXPECT_TRUE(torch::allclose(accum.to(torch::kFloat64), expected, test::tolerance(GetParam()),
                                test::tolerance(GetParam())));
  }
}

TEST_P(KernelTest, CudaTwinsMatchCpu) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device";
  torch::manual_seed(3);
  const auto c = random_case(GetParam(), 5, 300, 211);
  const auto cuda = torch::Device(torch::kCUDA);
  const auto cpu_points = ops::ig_path_points(c.input, c.baseline, c.row_seq, c.row_scalar);
  const auto gpu_points = ops::ig_path_points(c.input.to(cuda), c.baseline.to(cuda),
                                              c.row_seq.to(cuda), c.row_scalar.to(cuda));
  EXPECT_TRUE(torch::allclose(gpu_points.cpu(), cpu_points, test::tolerance(GetParam()), test::tolerance(GetParam())));
  auto cpu_accum = torch::zeros_like(c.input);
  auto gpu_accum = cpu_accum.to(cuda);
  ops::ig_accumulate_(cpu_accum, cpu_points, c.row_seq, c.row_scalar);
  ops::ig_accumulate_(gpu_accum, gpu_points, c.row_seq.to(cuda), c.row_scalar.to(cuda));
  EXPECT_TRUE(torch::allclose(gpu_accum.cpu(), cpu_accum, 1e-5, 1e-5));
}

TEST(Kernels, RejectBadArguments) {
  const auto x = torch::zeros({2, 4, 3});
  const auto seq = torch::tensor({0, 2}, torch::kLong);  // 2 is out of range
  const auto alpha = torch::tensor({0.5, 0.5}, torch::kFloat64);
  EXPECT_THROW(ops::ig_path_points(x, x, seq, alpha), c10::Error);
  EXPECT_THROW(ops::ig_path_points(x, x, seq.to(torch::kInt), alpha), c10::Error);
  EXPECT_THROW(ops::ig_path_points(x, torch::zeros({2, 4, 4}), seq, alpha), c10::Error);
}

INSTANTIATE_TEST_SUITE_P(Dtypes, KernelTest, ::testing::Values(torch::kFloat32, torch::kFloat64),
                         [](const auto& info) { return std::string(c10::toString(info.param)); });

}  // namespace
}  // namespace seqattr
