// Throughput of the path methods on a BPNet-sized model (64 filters, 8 dilated layers,
// 2,114 bp in), on the GPU when one is present, else the CPU. Items are sequences.
//   build/bench/seqattr_bench [--benchmark_filter=...]
#include <benchmark/benchmark.h>
#include <torch/torch.h>

#include "core/model.h"
#include "kernels/ops/ig_accumulate.h"
#include "kernels/ops/ig_path_points.h"
#include "methods/deeplift/deeplift.h"
#include "methods/path/path_attribution.h"

namespace seqattr {
namespace {

constexpr int64_t kLength = 2114;

torch::Device bench_device() {
  return torch::cuda::is_available() ? torch::Device(torch::kCUDA) : torch::Device(torch::kCPU);
}

torch::Tensor random_one_hot(int64_t n) {
  torch::manual_seed(0);
  const auto bases = torch::randint(0, 4, {n, kLength}, torch::kLong);
  return torch::one_hot(bases, 4).permute({0, 2, 1}).to(torch::kUInt8).contiguous();
}

void run_method(benchmark::State& state, const PathPlan& plan, int64_t sequences) {
  auto model = Model::load(SEQATTR_BENCH_MODEL, bench_device());
  const auto one_hot = random_one_hot(sequences);
  for (auto _ : state) {
    run_path_attribution(
        model, one_hot, plan, /*target=*/0, state.range(0),
        [](const AttributionBlock& block) { benchmark::DoNotOptimize(block.attributions); },
        [](int64_t) {});
  }
  state.SetItemsProcessed(state.iterations() * sequences);
  state.SetLabel(bench_device().str());
}

void BM_Gradient(benchmark::State& state) { run_method(state, gradient_plan(), 64); }
BENCHMARK(BM_Gradient)->Arg(16)->Arg(64)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_IntegratedGradients20(benchmark::State& state) {
  run_method(state, integrated_gradients_plan(IgRule::GaussLegendre, 20, Baseline::Zeros), 8);
}
BENCHMARK(BM_IntegratedGradients20)->Arg(40)->Arg(160)->Unit(benchmark::kMillisecond)->UseRealTime();

// DeepLIFT-SHAP, 4 sequences x 20 references (random one-hot), 128 pairs a pass, with the
// secants from activations (the default on this ReLU model) and from Δ carried through the
// graph (the default where a rule is smooth): the cost of carrying Δ (issue 24 asks <= 1.3x).
void run_deeplift_shap(benchmark::State& state, deeplift::Secants secants) {
  const int64_t sequences = 4, references = 20;
  auto ruled = deeplift::prepare_model(Model::load(SEQATTR_BENCH_MODEL, bench_device()), secants);
  const auto one_hot = random_one_hot(sequences);
  const auto refs = torch::one_hot(torch::randint(0, 4, {sequences, references, kLength}), 4)
                        .permute({0, 1, 3, 2})
                        .to(torch::kFloat32)
                        .contiguous();
  deeplift::Plan plan;
  plan.references = references;
  plan.largest_absolute_delta = true;
  plan.make_references = [&](int64_t first, int64_t count) { return refs.narrow(0, first, count); };
  for (auto _ : state) {
    run_deeplift(
        ruled, one_hot, plan, /*target=*/0, /*outputs=*/2, /*batch_pairs=*/128,
        [](const AttributionBlock& block) { benchmark::DoNotOptimize(block.attributions); },
        [](int64_t) {});
  }
  state.SetItemsProcessed(state.iterations() * sequences);
  state.SetLabel(bench_device().str() + (ruled.carries_delta ? ", secants from delta" : ", secants from values"));
}

void BM_DeepLiftShap20(benchmark::State& state) { run_deeplift_shap(state, deeplift::Secants::Auto); }
BENCHMARK(BM_DeepLiftShap20)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_DeepLiftShap20Delta(benchmark::State& state) {
  run_deeplift_shap(state, deeplift::Secants::FromDelta);
}
BENCHMARK(BM_DeepLiftShap20Delta)->Unit(benchmark::kMillisecond)->UseRealTime();

// The two IG ops alone, for 64 sequences x 50 steps.
void BM_IgOps(benchmark::State& state) {
  const auto device = bench_device();
  const int64_t sequences = 64, steps = 50, rows = sequences * steps;
  const auto f32 = torch::TensorOptions().dtype(torch::kFloat32).device(device);
  const auto x = random_one_hot(sequences).to(f32);
  const auto b = torch::zeros_like(x);
  const auto idx = torch::arange(rows, torch::TensorOptions(torch::kLong).device(device));
  const auto row_seq = idx.div(steps, "floor");
  const auto row_alpha = idx.remainder(steps).to(torch::kFloat64) / steps;
  auto accum = torch::zeros_like(x);
  for (auto _ : state) {
    const auto points = ops::ig_path_points(x, b, row_seq, row_alpha);
    ops::ig_accumulate_(accum, points, row_seq, row_alpha);
    if (device.is_cuda()) torch::cuda::synchronize();
  }
  state.SetBytesProcessed(state.iterations() * rows * 4 * kLength * 4 * 3);
  state.SetLabel(device.str());
}
BENCHMARK(BM_IgOps)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace seqattr

BENCHMARK_MAIN();
