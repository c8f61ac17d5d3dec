// FLOPs counted on the model graph equal 2 x multiply-accumulates worked out by hand from
// each fixture's layers (shapes from `torch.jit.load(...)` and its parameters).
#include <gtest/gtest.h>
#include <torch/script.h>

#include "core/model_flops.h"
#include "test_support.h"

namespace seqattr {
namespace {

torch::jit::Module load(const std::string& name) {
  auto module = torch::jit::load(test::data_dir() + "/" + name);
  module.eval();
  return module;
}

// conv_dense: c1 Conv1d(4->8, k7, pad 3), ReLU, c2 Conv1d(8->8, k5, dil 2, pad 4), ReLU,
// mean over length, fc Linear(8->3). Both convolutions keep the length L.
int64_t conv_dense_flops(int64_t length) {
  const int64_t c1 = 8 * length * (4 * 7);
  const int64_t c2 = 8 * length * (8 * 5);
  const int64_t fc = 3 * 8;
  return 2 * (c1 + c2 + fc);
}

TEST(ModelFlops, ConvDenseByHand) {
  const auto module = load("conv_dense.pt");
  const auto flops = forward_flops_per_sequence(module, torch::kCPU, 100);
  EXPECT_EQ(flops.total, 108848);
  EXPECT_EQ(flops.total, conv_dense_flops(100));
  EXPECT_EQ(flops.by_op.at("aten::conv1d"), 2 * (8 * 100 * 28 + 8 * 100 * 40));
  EXPECT_EQ(flops.by_op.at("aten::linear"), 2 * 24);
  EXPECT_TRUE(flops.uncounted.empty());
  EXPECT_EQ(forward_flops_per_sequence(module, torch::kCPU, 50).total, conv_dense_flops(50));
}

TEST(ModelFlops, ProportionalToBatchRows) {
  const auto module = load("conv_dense.pt");
  const auto one = count_forward_flops(module, torch::zeros({1, 4, 64}));
  const auto three = count_forward_flops(module, torch::rand({3, 4, 64}));
  EXPECT_EQ(three.total, 3 * one.total);
}

// mini_basset: c1 Conv1d(4->12, k9, pad 4), ReLU, MaxPool(4), c2 Conv1d(12->12, k5, pad 2),
// ReLU, MaxPool(5), flatten (12 x 5 = 60), fc1 Linear(60->16), ReLU, fc2 Linear(16->2).
TEST(ModelFlops, MiniBassetByHand) {
  const int64_t c1 = 12 * 100 * (4 * 9), c2 = 12 * 25 * (12 * 5), fc1 = 16 * 60, fc2 = 2 * 16;
  EXPECT_EQ(forward_flops_per_sequence(load("mini_basset.pt"), torch::kCPU, 100).total,
            2 * (c1 + c2 + fc1 + fc2));
}

// mini_bpnet: iconv Conv1d(4->16, k21, pad 10), four residual Conv1d(16->16, k3, dilated,
// same padding), a crop of 20 bases each side (160 -> 120), fconv Conv1d(16->1, k25, pad
// 12) on the crop, and Linear(16->1) on its mean; softmax and products are not counted.
TEST(ModelFlops, MiniBpnetByHand) {
  const int64_t iconv = 16 * 160 * (4 * 21), residual = 4 * (16 * 160 * (16 * 3));
  const int64_t fconv = 1 * 120 * (16 * 25), linear = 16;
  EXPECT_EQ(forward_flops_per_sequence(load("mini_bpnet.pt"), torch::kCPU, 160).total,
            2 * (iconv + residual + fconv + linear));
}

// Control flow runs as the input takes it: L // 8 convolutions in a loop, and one more only
// when the length exceeds 10. Each: Conv1d(4->4, k3, pad 1), 4 x L x 12 multiply-accumulates.
TEST(ModelFlops, FollowsLoopsAndBranches) {
  torch::jit::Module module("Looping");
  module.register_attribute("training", c10::BoolType::get(), false);
  module.register_parameter("w", torch::randn({4, 4, 3}), /*is_buffer=*/false);
  module.define(R"(
def forward(self, x):
    h = x
    for i in range(x.size(2) // 8):
        h = torch.conv1d(h, self.w, None, 1, 1)
    if h.size(2) > 10:
        h = torch.conv1d(h, self.w, None, 1, 1)
    return torch.mean(h, [2])
)");
  const auto per_conv = [](int64_t length) { return 2 * 4 * length * 12; };
  EXPECT_EQ(forward_flops_per_sequence(module, torch::kCPU, 20).total, (2 + 1) * per_conv(20));
  EXPECT_EQ(forward_flops_per_sequence(module, torch::kCPU, 8).total, (1 + 0) * per_conv(8));
  EXPECT_EQ(forward_flops_per_sequence(module, torch::kCPU, 40).total, (5 + 1) * per_conv(40));
}

}  // namespace
}  // namespace seqattr
