// `seqattr bench`: throughput of the attribution methods on synthetic sequences, swept
// over every combination of the lists given (pipeline/bench_job.h).
#include <iostream>
#include <memory>

#include "command.h"
#include "common/log.h"
#include "pipeline/bench_job.h"

namespace seqattr::cli {
namespace {

void declare_options(CLI::App* cmd, BenchOptions& o, bool& verbose) {
  cmd->add_option("--model", o.model, "TorchScript model ((N,4,L) one-hot in, (N,T) out) or Keras .h5")
      ->required();
  cmd->add_option("--length", o.length,
                  "Sequence length (0: input_length from MODEL.json beside the model)");
  cmd->add_option("--sequences", o.sequences,
                  "Synthetic random one-hot sequences each repetition explains");
  cmd->add_option("--seed", o.seed, "Seed of the synthetic sequences and of the shuffles");
  add_model_interface_options(cmd, o.target, o.head, o.reduce, o.input_layout, o.extra_inputs);
  cmd->add_option("--methods", o.methods,
                  "Comma-separated methods: ig (integrated_gradients), gradient, "
                  "input_x_gradient, integrated_gradients, deeplift, deeplift_shap, ism");
  cmd->add_option("--batch-size", o.batch_sizes, "Comma-separated model rows per pass");
  cmd->add_option("--device", o.devices, "Comma-separated devices: auto, cpu, cuda, cuda:N");
  cmd->add_option("--precision", o.precisions, "Comma-separated precisions (fp32 only for now)");
  cmd->add_option("--threads", o.threads,
                  "Comma-separated LibTorch intra-op thread counts (0: every core)");
  cmd->add_option("--convolutions", o.convolutions,
                  "Comma-separated kernels of the model's 1-D convolutions: direct "
                  "(seqattr::conv1d_direct), aten (LibTorch's own)");
  cmd->add_option("-r,--repetitions", o.repetitions, "Timed repetitions per combination");
  cmd->add_option("--warmup", o.warmup, "Untimed runs before the repetitions");
  cmd->add_option("--n-steps", o.n_steps, "integrated_gradients: integration steps");
  cmd->add_option("--n-shuffles", o.n_shuffles,
                  "deeplift_shap: dinucleotide-shuffled references per sequence");
  cmd->add_option("--ism-window", o.ism_window,
                  "ism: score the central W positions (0: the whole sequence, 3·L mutants)");
  cmd->add_option("--ism-mode", o.ism_mode, "ism: naive, fast or auto");
  cmd->add_option("-o,--output", o.format, "Output format on stdout: md, csv or json");
  cmd->add_option("--profile", o.profile,
                  "After the timed runs, one more under LibTorch's profiler: print its N "
                  "operators of most self time (md output)")
      ->check(CLI::Range(int64_t{0}, int64_t{1000}));
  cmd->add_flag("--verbose,-v", verbose, "Debug logging");
}

}  // namespace

Command bench_command(CLI::App& app) {
  auto options = std::make_shared<BenchOptions>();
  auto verbose = std::make_shared<bool>(false);
  auto* cmd = add_command(
      app, "bench", "Benchmark the attribution methods on synthetic sequences: every combination of "
                     "the lists given, with mean ± sd of sequences/s and bases/s, FLOPs and memory");
  declare_options(cmd, *options, *verbose);
  return {cmd, [options, verbose] {
            log::configure(*verbose ? log::Level::Debug : log::Level::Warn);
            const auto settings = validate(*options);
            BenchWriter writer(std::cout, options->format);
            run_bench(*options, settings, [&](const BenchRow& row) { writer.add(row); });
            writer.finish();
          }};
}

}  // namespace seqattr::cli
