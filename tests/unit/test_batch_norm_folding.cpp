// core/batch_norm_folding.h: eval batch norm folded into the convolution before it, in the graph
// Model runs; its relu then fuses with the convolution. Judged against the unfolded model in
// float64 (the same definition, exact to float64 rounding), outputs and input gradients.
#include <gtest/gtest.h>
#include <torch/script.h>
#include <torch/torch.h>

#include <string>

#include "core/batch_norm_folding.h"
#include "core/direct_convolutions.h"
#include "core/model.h"
#include "core/model_graph.h"
#include "test_support.h"

namespace seqattr {
namespace {

// A Basset-like first layer: convolution, batch norm (checking its input's rank, as
// nn.BatchNorm1d's scripted forward does), relu, max-pool; and a second convolution whose
// output the model also returns besides normalising it (not folded: the unnormalised values
// are read).
torch::jit::Module basset_like() {
  torch::jit::Module module("BassetLike");
  module.register_parameter("w1", torch::randn({16, 4, 5}), false);
  module.register_parameter("b1", torch::randn({16}), false);
  module.register_buffer("gamma", torch::rand({16}) + 0.5);
  module.register_buffer("beta", torch::randn({16}));
  module.register_buffer("mean", torch::randn({16}));
  module.register_buffer("var", torch::rand({16}) * 3 + 0.1);
  module.register_parameter("w2", torch::randn({16, 16, 3}) * 0.3, false);
  module.define(R"JIT(
def forward(self, x):
    h = torch.conv1d(x, self.w1, self.b1, padding=2)
    assert h.dim() == 3
    h = torch.relu(torch.batch_norm(h, self.gamma, self.beta, self.mean, self.var, False, 0.1, 1e-5, False))
    h = torch.max_pool1d(h, 3)
    z = torch.conv1d(h, self.w2, None, padding=1)
    n = torch.batch_norm(z, None, None, self.mean, self.var, False, 0.1, 1e-5, False)
    return torch.cat([n.mean(dim=2), z.amax(dim=2)], 1)
)JIT");
  module.eval();
  return module;
}

TEST(BatchNormFolding, FoldsWhereOnlyTheNormReadsTheConvolution) {
  torch::manual_seed(71);
  const auto module = basset_like();
  auto forward = inlined_forward(module, Freezing::KeepAttributes);
  ASSERT_EQ(test::count_kind(*forward.graph, "aten::batch_norm"), 2);
  EXPECT_EQ(fold_batch_norms(forward.module, *forward.graph), 1);
  EXPECT_EQ(test::count_kind(*forward.graph, "aten::batch_norm"), 1);
  use_direct_convolutions(*forward.graph);
  EXPECT_EQ(fuse_convolution_relus(*forward.graph), 1);  // the shape check reads the fused op
  EXPECT_EQ(test::count_kind(*forward.graph, "aten::relu"), 0);
  forward.graph->lint();
}

TEST(BatchNormFolding, ModelAgreesWithTheUnfoldedModelInFloat64) {
  torch::manual_seed(72);
  const auto module = basset_like();
  auto exact = module.clone();
  exact.to(torch::kFloat64);
  Model model = Model::from_module(module.clone(), "basset_like", torch::kCPU);
  const auto x = torch::one_hot(torch::randint(0, 4, {3, 120}), 4).permute({0, 2, 1}).to(torch::kFloat32);

  const auto x32 = x.clone().requires_grad_();
  const auto y = model.forward(x32);
  const auto grad32 = torch::autograd::grad({y.sum()}, {x32})[0];
  const auto x64 = x.to(torch::kFloat64).requires_grad_();
  const auto y64 = exact.forward({x64}).toTensor();
  const auto grad64 = torch::autograd::grad({y64.sum()}, {x64})[0];

  const double scale = y64.abs().max().item<double>();
  EXPECT_LE((y.to(torch::kFloat64) - y64).abs().max().item<double>(), 1e-5 * scale);
  const double grad_scale = grad64.abs().max().item<double>();
  EXPECT_LE((grad32.to(torch::kFloat64) - grad64).abs().max().item<double>(), 1e-5 * grad_scale);
}

// A convolution without bias and a batch norm without affine parameters (None operands: zero
// bias, unit scale).
TEST(BatchNormFolding, FoldsNormsWithoutBiasOrAffineParameters) {
  torch::manual_seed(73);
  torch::jit::Module module("Plain");
  module.register_parameter("w", torch::randn({8, 4, 3}), false);
  module.register_buffer("mean", torch::randn({8}));
  module.register_buffer("var", torch::rand({8}) + 0.2);
  module.define(R"JIT(
def forward(self, x):
    h = torch.batch_norm(torch.conv1d(x, self.w, None, padding=1), None, None, self.mean, self.var, False, 0.1, 1e-5, False)
    return torch.relu(h).mean(dim=2)
)JIT");
  module.eval();
  auto forward = inlined_forward(module, Freezing::KeepAttributes);
  EXPECT_EQ(fold_batch_norms(forward.module, *forward.graph), 1);
  const auto x = torch::one_hot(torch::randint(0, 4, {2, 50}), 4).permute({0, 2, 1}).to(torch::kFloat32);
  torch::NoGradGuard no_grad;
  const auto got = forward.module.forward({x}).toTensor();
  auto exact = module.clone();
  exact.to(torch::kFloat64);
  const auto y64 = exact.forward({x.to(torch::kFloat64)}).toTensor();
  EXPECT_LE((got.to(torch::kFloat64) - y64).abs().max().item<double>(), 1e-5 * y64.abs().max().item<double>());
}

}  // namespace
}  // namespace seqattr
