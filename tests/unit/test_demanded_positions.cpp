// core/demanded_positions.h: convolutions compute only the positions a model's output reads,
// with the same bits at those positions and the same input gradient (zero elsewhere).
#include <gtest/gtest.h>
#include <torch/script.h>
#include <torch/torch.h>

#include <string>
#include <vector>

#include "core/convolution_kernels.h"
#include "core/demanded_positions.h"
#include "core/direct_convolutions.h"
#include "core/model.h"
#include "core/model_flops.h"
#include "core/model_graph.h"
#include "test_support.h"

namespace seqattr {
namespace {

// `module`'s forward as Model runs it, with or without the positions pass.
ForwardGraph direct_forward(const torch::jit::Module& module, int64_t length, bool demanded,
                            int* narrowed = nullptr) {
  auto forward = inlined_forward(module, Freezing::KeepAttributes);
  use_direct_convolutions(*forward.graph);
  fuse_convolution_relus(*forward.graph);
  fuse_residual_relus(*forward.graph);
  const int n = demanded ? compute_only_demanded_positions(forward.module, forward.graph, length) : 0;
  drop_identity_slices(*forward.graph);
  if (narrowed) *narrowed = n;
  return forward;
}

struct Run {
  std::vector<torch::Tensor> outputs;
  torch::Tensor input_grad;
};

// Outputs, and the input gradient of a random weighting of all of them.
Run run_with_gradient(torch::jit::Module& module, const torch::Tensor& x, uint64_t seed) {
  auto input = x.clone().requires_grad_();
  const auto outputs = test::output_tensors(module.forward({input}));
  torch::manual_seed(seed);
  torch::Tensor total = torch::zeros({}, x.options());
  for (const auto& y : outputs) total = total + (y * torch::randn(y.sizes(), y.options())).sum();
  total.backward();
  return {outputs, input.grad()};
}

torch::Tensor random_one_hot(int64_t n, int64_t length) {
  return torch::one_hot(torch::randint(0, 4, {n, length}), 4).permute({0, 2, 1}).to(torch::kFloat32);
}

void expect_same_bits(const Run& got, const Run& want) {
  ASSERT_EQ(got.outputs.size(), want.outputs.size());
  for (size_t i = 0; i < got.outputs.size(); ++i) {
    EXPECT_TRUE(torch::equal(got.outputs[i], want.outputs[i])) << "output " << i;
  }
  EXPECT_TRUE(torch::equal(got.input_grad, want.input_grad));
}

// bpnet-lite's traced BPNet: every convolution (the first, the dilated layers and the profile
// head) computes only what the heads' crops read, and outputs and input gradients keep their
// bits.
TEST(DemandedPositions, BPNetLayersComputeOnlyWhatTheHeadsRead) {
  torch::manual_seed(60);
  auto original = torch::jit::load(std::string(SEQATTR_SOURCE_DIR) + "/tests/data/bpnetlite/bpnet.pt");
  original.eval();
  const int64_t length = 1000;
  int narrowed = 0;
  auto full = direct_forward(original, length, false);
  auto part = direct_forward(original, length, true, &narrowed);
  int convolutions = 0;
  for (const auto* node : part.graph->nodes()) {
    convolutions += std::string(node->kind().toQualString()).rfind("seqattr::conv1d_direct", 0) == 0;
  }
  EXPECT_GT(narrowed, 2);
  EXPECT_LE(narrowed, convolutions);
  const auto x = random_one_hot(3, length);
  expect_same_bits(run_with_gradient(part.module, x, 61), run_with_gradient(full.module, x, 61));
}

// FLOPs counted on the graph Model runs: seqattr's convolutions count as LibTorch's do, and a
// narrowed graph counts fewer (seqattr bench's executed FLOPs).
TEST(DemandedPositions, ExecutedFlopsCountOnlyThePositionsComputed) {
  auto original = torch::jit::load(std::string(SEQATTR_SOURCE_DIR) + "/tests/data/bpnetlite/bpnet.pt");
  original.eval();
  const int64_t length = 1000;
  const auto model = forward_flops_per_sequence(original, torch::kCPU, length).total;
  const auto direct = forward_flops_per_sequence(direct_forward(original, length, false).module,
                                                 torch::kCPU, length).total;
  const auto executed = forward_flops_per_sequence(direct_forward(original, length, true).module,
                                                   torch::kCPU, length).total;
  EXPECT_EQ(direct, model);
  EXPECT_LT(executed, model);
  EXPECT_GT(executed, model / 2);
}

// A scripted model: a first layer, a residual layer and a third convolution, whose output two
// crops read. Each layer computes the part the next reads, the input gradient is zero outside
// the input positions read, and the bits are those of the full computation.
TEST(DemandedPositions, FollowsReadsBackThroughTheLayers) {
  torch::manual_seed(62);
  torch::jit::Module module("Layers");
  module.register_parameter("w1", torch::randn({8, 4, 5}), false);
  module.register_parameter("b1", torch::randn({8}), false);
  module.register_parameter("w2", torch::randn({8, 8, 3}), false);
  module.register_parameter("w3", torch::randn({8, 8, 3}), false);
  module.define(R"JIT(
def forward(self, x):
    a = torch.relu(torch.conv1d(x, self.w1, self.b1, padding=2))
    b = a + torch.relu(torch.conv1d(a, self.w2, None, padding=4, dilation=4))
    c = torch.conv1d(b, self.w3, None, padding=8, dilation=8)
    return torch.cat([c[:, :, 30:-30].mean(dim=2), c[:, :, 25:30].mean(dim=2)], 1)
)JIT");
  module.eval();
  const int64_t length = 200;
  int narrowed = 0;
  auto full = direct_forward(module, length, false);
  auto part = direct_forward(module, length, true, &narrowed);
  EXPECT_EQ(narrowed, 3);
  const auto x = random_one_hot(2, length);
  const auto got = run_with_gradient(part.module, x, 63);
  expect_same_bits(got, run_with_gradient(full.module, x, 63));
  // c is read at [25, 170); b at [17, 178); a at [13, 182); x at [11, 184).
  const auto grad = got.input_grad.abs().sum(std::vector<int64_t>{0, 1});
  EXPECT_EQ(grad.narrow(0, 0, 11).max().item<float>(), 0.0f);
  EXPECT_EQ(grad.narrow(0, 184, length - 184).max().item<float>(), 0.0f);
  EXPECT_GT(grad.narrow(0, 11, 1).item<float>(), 0.0f);
  EXPECT_GT(grad.narrow(0, 183, 1).item<float>(), 0.0f);
}

// A value that an op reading every position also reads (here a mean over all of c) is computed
// whole, and so is everything before it; a graph with nothing cropped is left as it was.
TEST(DemandedPositions, ComputesWholeWhatAnyOpReadsWhole) {
  torch::manual_seed(64);
  torch::jit::Module module("Whole");
  module.register_parameter("w1", torch::randn({8, 4, 5}), false);
  module.register_parameter("w2", torch::randn({8, 8, 3}), false);
  module.define(R"JIT(
def forward(self, x):
    a = torch.relu(torch.conv1d(x, self.w1, None, padding=2))
    c = torch.conv1d(a, self.w2, None, padding=2, dilation=2)
    return torch.stack([c[:, :, 30:-30].mean(dim=2), c.mean(dim=2)], 1).sum(dim=2)
)JIT");
  module.eval();
  int narrowed = -1;
  auto part = direct_forward(module, 120, true, &narrowed);
  EXPECT_EQ(narrowed, 0);
  auto full = direct_forward(module, 120, false);
  const auto x = random_one_hot(2, 120);
  expect_same_bits(run_with_gradient(part.module, x, 65), run_with_gradient(full.module, x, 65));
}

// Model specializes its graph per input length (the crop's end is read from the input's
// length): each length gets its own, and each agrees with LibTorch's own convolutions.
TEST(DemandedPositions, ModelRunsEachLengthWithItsOwnGraph) {
  torch::manual_seed(66);
  const auto path = std::string(SEQATTR_SOURCE_DIR) + "/tests/data/mini_bpnet.pt";
  auto direct = Model::load(path, torch::kCPU);
  auto aten = [&] {
    const ScopedConvolutionKernels kernels(ConvolutionKernels::Aten);
    return Model::load(path, torch::kCPU);
  }();
  torch::NoGradGuard no_grad;
  for (const int64_t length : {1000, 1200, 1000}) {
    const auto x = random_one_hot(2, length);
    const auto got = direct.forward(x);
    const auto want = [&] {
      const ScopedConvolutionKernels kernels(ConvolutionKernels::Aten);
      return aten.forward(x);
    }();
    ASSERT_EQ(got.sizes(), want.sizes());
    EXPECT_LE((got - want).abs().max().item<double>(), 1e-5 * (1.0 + want.abs().max().item<double>()))
        << "length " << length;
  }
}

// A few lengths' graphs are kept; a new length past them drops the least recently used one,
// not the others (a run alternating two lengths among many keeps both).
TEST(DemandedPositions, ModelKeepsTheRecentlyUsedLengths) {
  auto model = Model::load(std::string(SEQATTR_SOURCE_DIR) + "/tests/data/mini_bpnet.pt", torch::kCPU);
  // Handles held here keep each graph alive, so a graph made again has a new address.
  const auto first = model.runner(1000), second = model.runner(1001);
  const auto same = [](const torch::jit::Module& a, const torch::jit::Module& b) {
    return a._ivalue().get() == b._ivalue().get();
  };
  for (int64_t length = 1002; length < 1008; ++length) model.runner(length);  // 8 lengths kept
  EXPECT_TRUE(same(model.runner(1000), first));  // now the most recent
  model.runner(1008);                             // drops 1001, the least recently used
  EXPECT_TRUE(same(model.runner(1000), first));
  EXPECT_FALSE(same(model.runner(1001), second));  // made again
}

}  // namespace
}  // namespace seqattr
