#pragma once
// `seqattr bench` as a library call: the throughput of each attribution method on synthetic
// one-hot sequences, for every combination of the lists given (as llama-bench does), run
// through the same engine as `seqattr attribute` (methods/registry.h).
//
// For each combination: `warmup` untimed runs over all the sequences, then `repetitions`
// timed runs (CUDA events on a GPU; a steady clock after synchronising otherwise), reported
// as mean and sample standard deviation of sequences/s and bases/s.
//
// FLOP convention (core/model_flops.h for the count itself): a method's FLOPs per
// sequence = forward FLOPs per sequence x (forward rows + 2 x backward rows), where a row is
// one model input of length L, and a backward pass costs twice its forward (the usual
// 1 : 2 rule). Rows per sequence: gradient and input_x_gradient 2 forward (gradient pass,
// prediction) + 1 backward; integrated gradients n_steps + 2 forward (path points, input,
// baseline) + n_steps backward; deeplift and deeplift_shap R + 1 forward and backward
// (the input and its R references in one pass; R = 1 for deeplift); ism 1 + 3 W forward
// for a window of W positions: the naive mutant passes, so with fast ISM (which recomputes
// only the windows a substitution changes) FLOP/s is an effective, naive-equivalent rate.
// The 1 : 2 rule counts weight gradients, which no method computes (a backward row's
// arithmetic is about one forward's), so the arithmetic actually done is (forward + backward)
// / (forward + 2 x backward) of the count: ~2/3 for IG and DeepLIFT. Kept, as the rule is
// what peers and the targets quote; the md notes say so.
#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>
#include <ostream>
#include <string>
#include <vector>

#include "core/convolution_kernels.h"
#include "core/device_choice.h"
#include "core/op_profile.h"
#include "methods/method.h"

namespace seqattr {

struct BenchOptions {
  std::string model;
  int64_t length = 0;      // 0: input_length from the model's JSON file (model_metadata.h)
  int64_t sequences = 32;  // synthetic random one-hot sequences, drawn with `seed`
  uint64_t seed = 0;
  // How the model is read, as `seqattr attribute` takes them (core/model_adapter.h).
  std::string target;
  std::string head;
  std::string reduce;
  std::string input_layout;
  std::string extra_inputs;
  // Comma-separated lists; every combination is run.
  std::string methods = "ig,deeplift_shap,ism";  // seqattr's names, and `ig`
  std::string batch_sizes = "128";               // model rows per pass, as --batch-size
  std::string devices = "auto";                  // auto, cpu, cuda, cuda:N
  std::string precisions = "fp32";               // fp32 only, until reduced precision lands
  std::string threads = "0";                     // LibTorch intra-op threads; 0: every core
  std::string convolutions = "direct";           // direct, aten (core/convolution_kernels.h)
  int warmup = 1;
  int repetitions = 5;
  // Per-method settings, as `seqattr attribute` takes them.
  int n_steps = 50;          // integrated_gradients
  int64_t n_shuffles = 20;   // deeplift_shap
  int64_t ism_window = 100;  // ism: the central W positions; 0 or >= L: the whole sequence
  std::string ism_mode = "auto";
  std::string format = "md";  // md | csv | json
  int64_t profile = 0;  // > 0: after the timed runs, one more under the profiler; its top operators
};

// The lists and names of BenchOptions, parsed once (validate).
struct BenchSettings {
  std::vector<std::string> methods;  // registered names (`ig` made integrated_gradients)
  std::vector<int64_t> batch_sizes;
  std::vector<std::string> precisions;
  std::vector<int64_t> threads;
  std::vector<ConvolutionKernels> convolutions;
  std::vector<DeviceChoice> devices;
  IsmMode ism_mode = IsmMode::Auto;
};

// Checks every option that can be checked without the model; throws InputError naming the
// first bad one (a list option, its value and the bad item).
BenchSettings validate(const BenchOptions& options);

// One combination's results.
struct BenchRow {
  std::string model;
  std::string method;    // seqattr's name (`ig` reported as integrated_gradients)
  std::string settings;  // the method's settings that set its cost
  std::string device;    // "cpu", "cuda:0"
  std::string device_name;  // the CPU model, or the GPU's name
  std::string cpu_model;
  int threads = 0;
  std::string precision;
  std::string convolutions;  // the kernels of the model's 1-D convolutions: direct or aten
  int64_t batch_size = 0;
  int64_t sequences = 0;
  int64_t length = 0;
  int warmup = 0;
  int repetitions = 0;
  int64_t forward_rows_per_sequence = 0;
  int64_t backward_rows_per_sequence = 0;
  int64_t forward_flops_per_sequence = -1;  // -1: the graph could not be counted
  double method_flops_per_sequence = -1;    // forward FLOPs x (forward + 2 x backward rows)
  // Forward FLOPs of the graph the run executes (Model::runner): fewer than the model's where
  // convolutions compute only the positions the output reads (core/demanded_positions.h).
  int64_t executed_flops_per_sequence = -1;
  double seconds_mean = 0, seconds_sd = 0;  // per repetition
  double sequences_per_second_mean = 0, sequences_per_second_sd = 0;
  double bases_per_second_mean = 0, bases_per_second_sd = 0;
  double flops_per_second_mean = -1, flops_per_second_sd = -1;  // -1: unknown FLOPs
  double gemm_flops_per_second = 0;  // the ceiling: a float32 GEMM on the same device and threads
  // The executed FLOPs' rate (same 1 : 2 convention) over gemm_flops_per_second; -1: unknown.
  double gemm_fraction = -1;
  double peak_rss_mib = 0;
  std::string peak_rss_scope;     // "combination" (VmHWM reset before it) or "process"
  double cuda_peak_mib = -1;      // peak allocated by LibTorch's CUDA allocator; -1 on CPU
  std::string timing;             // "cuda_events" | "steady_clock"
  std::string libtorch_version;
  std::string seqattr_version;
  std::vector<OpTime> profile;  // with --profile: the top operators of one run, by self time
};

// Runs every combination, handing each row to `report` as it finishes.
// Runs every combination, reporting each row when done. `settings`: validate(options).
void run_bench(const BenchOptions& options, const BenchSettings& settings,
               const std::function<void(const BenchRow&)>& report);

// A row as a JSON object, keys in a fixed order (the CSV columns); unknown values are null.
nlohmann::ordered_json to_json(const BenchRow& row);

// Writes rows as they come in the chosen format: md (a table, then the settings, system
// and conventions as notes), csv (header, rows) or json (one array of objects).
class BenchWriter {
 public:
  BenchWriter(std::ostream& out, std::string format);
  void add(const BenchRow& row);
  void finish();

 private:
  std::ostream& out_;
  std::string format_;
  std::vector<BenchRow> rows_;
};

}  // namespace seqattr
