// Microbenchmarks of every kernel op on inputs the size of real runs (BPNet/chrombpnet
// width: 4 channels, L = 2,114), on the CPU always and on the GPU when LibTorch sees one.
// The argument is the batch's rows (path points, pairs, mutants, shuffles). Bytes count
// each op's minimal reads and writes; items are rows. CUDA iterations end with a
// synchronize, so their times are those of the kernels, launches included.
//   build/bench/seqattr_bench_kernels [--benchmark_filter=cuda] [--benchmark_min_time=0.5]
#include <benchmark/benchmark.h>
#include <torch/torch.h>

#include <string>

#include "common/heap.h"
#include "kernels/ops/conv1d_direct.h"
#include "kernels/ops/dinucleotide_shuffle.h"
#include "kernels/ops/hypothetical_projection.h"
#include "kernels/ops/ig_accumulate.h"
#include "kernels/ops/ig_path_points.h"
#include "kernels/ops/ism_mutants.h"
#include "kernels/ops/relu_change.h"
#include "kernels/ops/relu_max_pool_change.h"
#include "kernels/ops/relu_rescale_grad.h"
#include "kernels/ops/rescale_multipliers.h"

namespace seqattr {
namespace {

constexpr int64_t kLength = 2114;
constexpr int64_t kChannels = 4;
constexpr int64_t kFilters = 64;      // channels of the layer a rescale rule sits on
constexpr int64_t kRowsPerSequence = 16;  // IG steps, references or shuffles per sequence
constexpr int64_t kFloat = sizeof(float);

torch::Tensor random_one_hot(int64_t sequences, const torch::Device& device) {
  const auto letters = torch::randint(0, 4, {sequences, kLength}, torch::kLong);
  return torch::one_hot(letters, 4).permute({0, 2, 1}).to(device, torch::kUInt8).contiguous();
}

// Each row's sequence, sequence-major with kRowsPerSequence rows each.
torch::Tensor row_sequences(int64_t rows, const torch::Device& device) {
  return torch::arange(rows, torch::kLong).div(kRowsPerSequence, "floor").to(device);
}

int64_t sequences_of(int64_t rows) { return (rows + kRowsPerSequence - 1) / kRowsPerSequence; }

// Runs `body` once per iteration, waiting for the GPU before the iteration ends.
template <typename Body>
void time_loop(benchmark::State& state, const torch::Device& device, Body body) {
  for (auto _ : state) {
    body();
    if (device.is_cuda()) torch::cuda::synchronize();
  }
  state.SetLabel(device.str());
}

void ig_path_points(benchmark::State& state, torch::Device device) {
  const int64_t rows = state.range(0), sequences = sequences_of(rows);
  const auto f32 = torch::TensorOptions().dtype(torch::kFloat32).device(device);
  const auto x = random_one_hot(sequences, device).to(torch::kFloat32);
  const auto b = torch::zeros_like(x);
  const auto row_seq = row_sequences(rows, device);
  const auto alpha = torch::rand({rows}, f32.dtype(torch::kFloat64));
  time_loop(state, device, [&] { benchmark::DoNotOptimize(ops::ig_path_points(x, b, row_seq, alpha)); });
  // Per row: read input and baseline, write the point.
  state.SetBytesProcessed(state.iterations() * rows * kChannels * kLength * kFloat * 3);
  state.SetItemsProcessed(state.iterations() * rows);
}

void ig_accumulate(benchmark::State& state, torch::Device device) {
  const int64_t rows = state.range(0), sequences = sequences_of(rows);
  const auto f32 = torch::TensorOptions().dtype(torch::kFloat32).device(device);
  auto accum = torch::zeros({sequences, kChannels, kLength}, f32);
  const auto grads = torch::randn({rows, kChannels, kLength}, f32);
  const auto row_seq = row_sequences(rows, device);
  const auto weight = torch::rand({rows}, f32.dtype(torch::kFloat64));
  time_loop(state, device, [&] { ops::ig_accumulate_(accum, grads, row_seq, weight); });
  // Per row: read the gradient, read and write the accumulator.
  state.SetBytesProcessed(state.iterations() * rows * kChannels * kLength * kFloat * 3);
  state.SetItemsProcessed(state.iterations() * rows);
}

void rescale_multipliers(benchmark::State& state, torch::Device device) {
  const int64_t rows = state.range(0);
  const auto f32 = torch::TensorOptions().dtype(torch::kFloat32).device(device);
  const auto x = torch::randn({rows, kFilters, kLength}, f32);
  const auto x_ref = torch::randn({rows, kFilters, kLength}, f32);
  const auto y = torch::relu(x), y_ref = torch::relu(x_ref);
  const auto grad = torch::randn({rows, kFilters, kLength}, f32);
  time_loop(state, device, [&] {
    benchmark::DoNotOptimize(ops::rescale_multipliers(x, x_ref, y, y_ref, grad, 1e-6));
  });
  // Five inputs read, two outputs written.
  state.SetBytesProcessed(state.iterations() * rows * kFilters * kLength * kFloat * 7);
  state.SetItemsProcessed(state.iterations() * rows);
}

void hypothetical_projection(benchmark::State& state, torch::Device device) {
  const int64_t rows = state.range(0);
  const auto f32 = torch::TensorOptions().dtype(torch::kFloat32).device(device);
  const auto m = torch::randn({rows, kChannels, kLength}, f32);
  const auto references = random_one_hot(rows, device).to(torch::kFloat32);
  time_loop(state, device, [&] { benchmark::DoNotOptimize(ops::hypothetical_projection(m, references)); });
  // Multipliers and references read, the projection written.
  state.SetBytesProcessed(state.iterations() * rows * kChannels * kLength * kFloat * 3);
  state.SetItemsProcessed(state.iterations() * rows);
}

void ism_mutants(benchmark::State& state, torch::Device device) {
  const int64_t rows = state.range(0), sequences = sequences_of(rows);
  const auto one_hot = random_one_hot(sequences, device);
  const auto long_on_device = torch::TensorOptions().dtype(torch::kLong).device(device);
  const auto row_seq = row_sequences(rows, device);
  const auto position = torch::randint(0, kLength, {rows}, long_on_device);
  const auto base = torch::randint(0, 4, {rows}, long_on_device);
  time_loop(state, device, [&] {
    benchmark::DoNotOptimize(ops::ism_mutants(one_hot, row_seq, position, base));
  });
  // Per mutant: its uint8 one-hot row read, its float32 row written.
  state.SetBytesProcessed(state.iterations() * rows * kChannels * kLength * (1 + kFloat));
  state.SetItemsProcessed(state.iterations() * rows);
}

void dinucleotide_shuffles(benchmark::State& state, torch::Device device) {
  const int64_t rows = state.range(0), sequences = sequences_of(rows);
  const auto one_hot = random_one_hot(sequences, device);
  time_loop(state, device, [&] {
    benchmark::DoNotOptimize(ops::dinucleotide_shuffles(one_hot, kRowsPerSequence, 0, 0));
  });
  // Per shuffle: its sequence read, the uint8 shuffle written.
  state.SetBytesProcessed(state.iterations() * sequences * kRowsPerSequence * kChannels * kLength * 2);
  state.SetItemsProcessed(state.iterations() * sequences * kRowsPerSequence);
}

// Fast ISM on a Basset-shaped layer: 128 channels, L = 600, 19-wide windows, pools of 3.
void relu_max_pool_change(benchmark::State& state, torch::Device device) {
  constexpr int64_t kBassetChannels = 128, kBassetLength = 600, kWindow = 19, kPool = 3;
  constexpr int64_t kPools = (kWindow + kPool - 1) / kPool;
  const int64_t rows = state.range(0);
  const auto f32 = torch::TensorOptions().dtype(torch::kFloat32).device(device);
  const auto long_on_device = torch::TensorOptions().dtype(torch::kLong).device(device);
  const auto delta = torch::randn({rows, kWindow, kBassetChannels}, f32).transpose(1, 2);
  const auto reference = torch::randn({kBassetLength, kBassetChannels}, f32).t();
  const auto gap = -torch::rand({kBassetLength, kBassetChannels}, f32).t();
  const auto lo = torch::randint(0, kBassetLength - kPools * kPool, {rows}, long_on_device);
  const auto out_lo = lo.div(kPool, "floor");
  time_loop(state, device, [&] {
    benchmark::DoNotOptimize(
        ops::relu_max_pool_change(delta, lo, reference, gap, kPool, out_lo, kPools));
  });
  // Per row: its changes read, the reference and gap under its pools read, the pools written.
  state.SetBytesProcessed(state.iterations() * rows * kBassetChannels *
                          (kWindow + 2 * kPools * kPool + kPools) * kFloat);
  state.SetItemsProcessed(state.iterations() * rows);
}

// A BPNet dilated layer (64 -> 64 filters, kernel 3, dilation 16): seqattr::conv1d_direct
// forward and input gradient, and LibTorch's convolution on the same inputs for scale.
// Counter FLOP/s: 2 x multiply-accumulates per second.
enum class ConvPass { Direct, DirectInputGrad, Aten, AtenInputGrad };

void convolution(benchmark::State& state, torch::Device device, ConvPass pass) {
  const int64_t rows = state.range(0), dilation = 16;
  const auto f32 = torch::TensorOptions().dtype(torch::kFloat32).device(device);
  const auto x = torch::randn({rows, kFilters, kLength}, f32);
  const auto w = torch::randn({kFilters, kFilters, 3}, f32);
  const auto b = torch::randn({kFilters}, f32);
  const auto grad = torch::randn({rows, kFilters, kLength}, f32);
  time_loop(state, device, [&] {
    switch (pass) {
      case ConvPass::Direct:
        benchmark::DoNotOptimize(ops::conv1d_direct(x, w, b, dilation, dilation));
        break;
      case ConvPass::DirectInputGrad:
        benchmark::DoNotOptimize(ops::conv1d_direct_input_grad(grad, w, kLength, dilation, dilation));
        break;
      case ConvPass::Aten:
        benchmark::DoNotOptimize(torch::conv1d(x, w, b, 1, dilation, dilation));
        break;
      case ConvPass::AtenInputGrad:
        benchmark::DoNotOptimize(at::convolution_backward(grad, x, w, c10::nullopt, {1}, {dilation},
                                                          {dilation}, false, {0}, 1,
                                                          {true, false, false}));
        break;
    }
  });
  state.counters["FLOP/s"] = benchmark::Counter(2.0 * rows * kLength * kFilters * kFilters * 3,
                                                benchmark::Counter::kIsIterationInvariantRate);
  state.SetItemsProcessed(state.iterations() * rows);
}

void conv1d_direct(benchmark::State& state, torch::Device device) {
  convolution(state, device, ConvPass::Direct);
}
void conv1d_direct_input_grad(benchmark::State& state, torch::Device device) {
  convolution(state, device, ConvPass::DirectInputGrad);
}
void conv1d_aten(benchmark::State& state, torch::Device device) {
  convolution(state, device, ConvPass::Aten);
}
void conv1d_aten_input_grad(benchmark::State& state, torch::Device device) {
  convolution(state, device, ConvPass::AtenInputGrad);
}

// A BPNet profile head (64 -> 1 track, kernel 25, same padding): seqattr::conv1d_direct's
// narrow loops (vectorized over positions) against LibTorch's convolution.
void narrow_convolution(benchmark::State& state, torch::Device device, bool direct) {
  const int64_t rows = state.range(0), kernel = 25;
  const auto f32 = torch::TensorOptions().dtype(torch::kFloat32).device(device);
  const auto x = torch::randn({rows, kFilters, kLength}, f32);
  const auto w = torch::randn({1, kFilters, kernel}, f32);
  const auto b = torch::randn({1}, f32);
  time_loop(state, device, [&] {
    benchmark::DoNotOptimize(direct ? ops::conv1d_direct(x, w, b, kernel / 2, 1)
                                    : torch::conv1d(x, w, b, 1, kernel / 2, 1));
  });
  state.counters["FLOP/s"] = benchmark::Counter(2.0 * rows * kLength * kFilters * kernel,
                                                benchmark::Counter::kIsIterationInvariantRate);
  state.SetItemsProcessed(state.iterations() * rows);
}

void conv1d_direct_narrow(benchmark::State& state, torch::Device device) {
  narrow_convolution(state, device, true);
}
void conv1d_aten_narrow(benchmark::State& state, torch::Device device) {
  narrow_convolution(state, device, false);
}

// A BPNet residual layer (kernel 3, dilation 16), x + relu(conv(x)): same-padded (all 2,114
// positions) and unpadded (the 2,082 centre positions, as a layer computes where
// core/demanded_positions.h narrows it), 64 filters; and a ChromBPNet-sized one, 512 filters
// (an eighth of the rows: the same work). FLOP/s of the positions computed.
void residual_layer(benchmark::State& state, torch::Device device, bool padded, int64_t filters) {
  const int64_t rows = std::max<int64_t>(1, state.range(0) * kFilters / filters), dilation = 16;
  const int64_t out_length = padded ? kLength : kLength - 2 * dilation;
  const auto f32 = torch::TensorOptions().dtype(torch::kFloat32).device(device);
  const auto x = torch::randn({rows, filters, kLength}, f32);
  const auto w = torch::randn({filters, filters, 3}, f32);
  const auto b = torch::randn({filters}, f32);
  time_loop(state, device, [&] {
    benchmark::DoNotOptimize(ops::conv1d_direct_relu_residual(x, w, b, padded ? dilation : 0, dilation));
  });
  state.counters["FLOP/s"] = benchmark::Counter(2.0 * rows * out_length * filters * filters * 3,
                                                benchmark::Counter::kIsIterationInvariantRate);
  state.SetItemsProcessed(state.iterations() * rows);
}

void conv1d_direct_residual_same(benchmark::State& state, torch::Device device) {
  residual_layer(state, device, true, kFilters);
}
void conv1d_direct_residual_centre(benchmark::State& state, torch::Device device) {
  residual_layer(state, device, false, kFilters);
}
void conv1d_direct_residual_wide(benchmark::State& state, torch::Device device) {
  residual_layer(state, device, false, 512);
}

// The input gradient of BPNet's last dilated layer (dilation 256) where
// core/demanded_positions.h narrows it: the gradient of the 1,074 positions the counts head
// reads, to the layer's 1,586 input positions. Its first and last 512 read the gradient's zero
// padding at one or two of the three taps, which the loops skip. FLOP/s of the multiply-adds
// that meet the gradient (the forward's count).
void conv1d_direct_input_grad_centre(benchmark::State& state, torch::Device device) {
  const int64_t rows = state.range(0), dilation = 256, out_length = 1074;
  const int64_t length = out_length + 2 * dilation;
  const auto f32 = torch::TensorOptions().dtype(torch::kFloat32).device(device);
  const auto w = torch::randn({kFilters, kFilters, 3}, f32);
  const auto grad = torch::randn({rows, kFilters, out_length}, f32);
  time_loop(state, device, [&] {
    benchmark::DoNotOptimize(ops::conv1d_direct_input_grad(grad, w, length, 0, dilation));
  });
  state.counters["FLOP/s"] = benchmark::Counter(2.0 * rows * out_length * kFilters * kFilters * 3,
                                                benchmark::Counter::kIsIterationInvariantRate);
  state.SetItemsProcessed(state.iterations() * rows);
}

// DeepLIFT's fused ReLU rule on a [inputs; references] batch at a 64-filter layer.
void relu_rescale_grad(benchmark::State& state, torch::Device device) {
  const int64_t rows = state.range(0), inputs = sequences_of(rows);
  const auto f32 = torch::TensorOptions().dtype(torch::kFloat32).device(device);
  const auto x = torch::randn({inputs + rows, kFilters, kLength}, f32);
  const auto grad = torch::randn_like(x);
  const auto owner = row_sequences(rows, device);
  time_loop(state, device, [&] {
    benchmark::DoNotOptimize(ops::relu_rescale_grad(x, grad, owner, inputs, 1e-6));
  });
  // Per reference row: read x, its input row (cached across its references) and grad; write.
  state.SetBytesProcessed(state.iterations() * rows * kFilters * kLength * kFloat * 3);
  state.SetItemsProcessed(state.iterations() * rows);
}

// Fast ISM's ReLU on a BPNet layer's changes: 64 channels, 301-wide windows (a 100-position
// scan's last dilated layers), channel-last as its convolutions leave them; against the
// unfused rule it replaced (reference terms gathered per row, added, maximised).
void relu_change_windows(benchmark::State& state, torch::Device device, bool fused) {
  constexpr int64_t kWindow = 301;
  const int64_t rows = state.range(0);
  const auto f32 = torch::TensorOptions().dtype(torch::kFloat32).device(device);
  const auto delta = torch::randn({rows, kWindow, kFilters}, f32).transpose(1, 2);
  const auto reference = torch::randn({kLength, kFilters}, f32).t();
  const auto lo = torch::randint(0, kLength - kWindow, {rows}, f32.dtype(torch::kLong));
  const auto low = reference.clamp_max(0), high = -reference.clamp_min(0);
  time_loop(state, device, [&] {
    if (fused) {
      benchmark::DoNotOptimize(ops::relu_change(delta, lo, reference));
    } else {
      // As the rule read them (fast_ism_change.cpp, reference_rows): one run per row.
      const auto at_rows = [&](const torch::Tensor& t) {
        return t.unfold(-1, kWindow, 1).movedim(-2, 0).index_select(0, lo);
      };
      auto out = delta + at_rows(low);
      benchmark::DoNotOptimize(at::maximum_out(out, out, at_rows(high)));
    }
  });
  // Per row: its changes read and written, the reference under its window read.
  state.SetBytesProcessed(state.iterations() * rows * kFilters * kWindow * 3 * kFloat);
  state.SetItemsProcessed(state.iterations() * rows);
}

void relu_change(benchmark::State& state, torch::Device device) {
  relu_change_windows(state, device, true);
}
void relu_change_unfused(benchmark::State& state, torch::Device device) {
  relu_change_windows(state, device, false);
}

using Bench = void (*)(benchmark::State&, torch::Device);

void register_all(const torch::Device& device) {
  const std::pair<const char*, Bench> benches[] = {
      {"ig_path_points", ig_path_points},
      {"ig_accumulate", ig_accumulate},
      {"rescale_multipliers", rescale_multipliers},
      {"hypothetical_projection", hypothetical_projection},
      {"ism_mutants", ism_mutants},
      {"dinucleotide_shuffles", dinucleotide_shuffles},
      {"relu_max_pool_change", relu_max_pool_change},
      {"relu_change", relu_change},
      {"relu_change_unfused", relu_change_unfused},
      {"relu_rescale_grad", relu_rescale_grad},
      {"conv1d_direct", conv1d_direct},
      {"conv1d_direct_input_grad", conv1d_direct_input_grad},
      {"conv1d_direct_input_grad_centre", conv1d_direct_input_grad_centre},
      {"conv1d_aten", conv1d_aten},
      {"conv1d_aten_input_grad", conv1d_aten_input_grad},
      {"conv1d_direct_narrow", conv1d_direct_narrow},
      {"conv1d_aten_narrow", conv1d_aten_narrow},
      {"conv1d_direct_residual_same", conv1d_direct_residual_same},
      {"conv1d_direct_residual_centre", conv1d_direct_residual_centre},
      {"conv1d_direct_residual_wide", conv1d_direct_residual_wide},
  };
  for (const auto& [name, bench] : benches) {
    const std::string full_name = std::string(name) + "/" + (device.is_cuda() ? "cuda" : "cpu");
    benchmark::RegisterBenchmark(full_name.c_str(), bench, device)
        ->Arg(64)
        ->Arg(256)
        ->Unit(benchmark::kMillisecond)
        ->UseRealTime();
  }
}

}  // namespace
}  // namespace seqattr

int main(int argc, char** argv) {
  // The heap as seqattr runs it (common/heap.h): outputs reuse freed blocks instead of
  // faulting fresh pages in, which took ~20% of a 64-filter residual layer's time here.
  seqattr::heap::keep_freed_memory_for_reuse();
  torch::manual_seed(0);
  seqattr::register_all(torch::Device(torch::kCPU));
  if (torch::cuda::is_available()) seqattr::register_all(torch::Device(torch::kCUDA));
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
