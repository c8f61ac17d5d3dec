#include "pipeline/bench_job.h"

#include <sys/resource.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include "common/errors.h"
#include "common/heap.h"
#include "common/log.h"
#include "core/device.h"
#include "core/model.h"
#include "core/model_adapter.h"
#include "core/model_flops.h"
#include "core/model_metadata.h"
#include "methods/registry.h"
#include "pipeline/attribute_job.h"

#if __has_include(<torch/version.h>)
#include <torch/version.h>
#endif

// CUDA events and the CUDA allocator's statistics need LibTorch's CUDA headers and the
// CUDA runtime. A LibTorch built with CUDA puts both on the include path (its torch_cuda
// target carries the toolkit's); Debian's CPU LibTorch ships c10/cuda headers but neither
// ATen/cuda/CUDAConfig.h nor the CUDA runtime, so this is 0 there.
#if __has_include(<cuda_runtime_api.h>) && __has_include(<ATen/cuda/CUDAConfig.h>) && \
    __has_include(<c10/cuda/CUDACachingAllocator.h>)
#define SEQATTR_BENCH_CUDA 1
#include <c10/cuda/CUDACachingAllocator.h>
#include <c10/cuda/CUDAException.h>
#include <c10/cuda/CUDAStream.h>
#include <cuda_runtime_api.h>
#else
#define SEQATTR_BENCH_CUDA 0
#endif

namespace seqattr {
namespace {

// ---- options ------------------------------------------------------------------------

std::string trim(const std::string& text) {
  const auto begin = text.find_first_not_of(" \t");
  if (begin == std::string::npos) return "";
  return text.substr(begin, text.find_last_not_of(" \t") - begin + 1);
}

// The items of a comma-separated list; throws InputError naming `option` on an empty list
// or item, or an item given twice.
std::vector<std::string> split_list(const std::string& option, const std::string& text) {
  std::vector<std::string> items;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) items.push_back(trim(item));
  if (!text.empty() && text.back() == ',') items.emplace_back();
  if (items.empty()) throw InputError(option + ": give at least one value");
  for (size_t i = 0; i < items.size(); ++i) {
    if (items[i].empty()) throw InputError(option + " '" + text + "': empty item in the list");
  }
  return items;
}

template <typename T>
void reject_duplicates(const std::string& option, const std::string& text,
                       const std::vector<T>& values, const std::vector<std::string>& names) {
  for (size_t i = 0; i < values.size(); ++i) {
    for (size_t j = 0; j < i; ++j) {
      if (values[i] == values[j]) {
        throw InputError(option + " '" + text + "': '" + names[i] + "' repeats '" + names[j] + "'");
      }
    }
  }
}

std::vector<int64_t> parse_int_list(const std::string& option, const std::string& text,
                                    int64_t minimum) {
  const auto items = split_list(option, text);
  std::vector<int64_t> values;
  for (const auto& item : items) {
    const bool digits = item.size() < 10 && item.find_first_not_of("0123456789") == std::string::npos;
    if (!digits || std::stoll(item) < minimum) {
      throw InputError(option + " '" + text + "': '" + item + "' is not an integer >= " +
                       std::to_string(minimum));
    }
    values.push_back(std::stoll(item));
  }
  reject_duplicates(option, text, values, items);
  return values;
}

std::string canonical_method(const std::string& name) {
  if (name == "ig") return "integrated_gradients";
  return name;
}

std::vector<std::string> parse_methods(const std::string& text) {
  const auto items = split_list("--methods", text);
  const auto known = method_names();
  std::vector<std::string> methods;
  for (const auto& item : items) {
    const auto name = canonical_method(item);
    if (std::find(known.begin(), known.end(), name) == known.end()) {
      std::string list = "ig";
      for (const auto& k : known) list += ", " + k;
      throw InputError("--methods '" + text + "': unknown method '" + item + "' (known: " + list + ")");
    }
    methods.push_back(name);
  }
  reject_duplicates("--methods", text, methods, items);
  return methods;
}

std::vector<std::string> parse_precisions(const std::string& text) {
  const auto items = split_list("--precision", text);
  static const std::set<std::string> later = {"fp16", "bf16", "tf32", "float16", "bfloat16", "half"};
  for (const auto& item : items) {
    if (item == "fp32") continue;
    if (later.count(item)) {
      throw InputError("--precision '" + item + "': not supported yet; seqattr computes in fp32 "
                       "(reduced precision comes with GPU support)");
    }
    throw InputError("--precision '" + item + "': unknown precision (supported: fp32)");
  }
  reject_duplicates("--precision", text, items, items);
  return items;
}

std::vector<ConvolutionKernels> parse_convolutions(const std::string& text) {
  const auto items = split_list("--convolutions", text);
  std::vector<ConvolutionKernels> kernels;
  // parse_convolution_kernels throws InputError naming a bad item.
  for (const auto& item : items) kernels.push_back(parse_convolution_kernels(item));
  reject_duplicates("--convolutions", text, items, items);
  return kernels;
}

std::vector<DeviceChoice> parse_devices(const std::string& text) {
  const auto items = split_list("--device", text);
  std::vector<DeviceChoice> devices;
  for (const auto& item : items) devices.push_back(parse_device(item));  // InputError naming --device
  return devices;
}

// The devices, checked to be present; duplicates (cuda and cuda:0) rejected.
std::vector<torch::Device> resolve_devices(const std::string& text,
                                           const std::vector<DeviceChoice>& choices) {
  std::vector<torch::Device> devices;
  std::vector<std::string> names;
  for (const auto& choice : choices) {
    auto device = resolve_device(choice);  // InputError naming --device
    // "cuda" is the current device, 0 unless CUDA_VISIBLE_DEVICES says otherwise: name it,
    // so that reports, timers and allocator statistics all refer to one index.
    if (device.is_cuda() && !device.has_index()) device = torch::Device(torch::kCUDA, 0);
    devices.push_back(device);
    names.push_back(choice.text);
  }
  reject_duplicates("--device", text, devices, names);
  return devices;
}

// ---- system -------------------------------------------------------------------------

std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  for (const char* key : {"model name", "Model", "Hardware", "cpu model"}) {
    in.clear();
    in.seekg(0);
    while (std::getline(in, line)) {
      if (line.rfind(key, 0) != 0) continue;
      const auto colon = line.find(':');
      if (colon != std::string::npos && !trim(line.substr(colon + 1)).empty()) {
        return trim(line.substr(colon + 1));
      }
    }
  }
  return "unknown CPU";
}

std::string libtorch_version() {
#ifdef TORCH_VERSION
  return TORCH_VERSION;
#else
  return "unknown";
#endif
}

std::string device_name(const torch::Device& device, const std::string& cpu) {
  if (!device.is_cuda()) return cpu;
#if SEQATTR_BENCH_CUDA
  cudaDeviceProp properties;
  C10_CUDA_CHECK(cudaGetDeviceProperties(&properties, device.index() < 0 ? 0 : device.index()));
  return properties.name;
#else
  return "CUDA device";
#endif
}

// ---- memory -------------------------------------------------------------------------

// Resets the process's peak resident set (VmHWM) to its current size, through
// /proc/self/clear_refs (Linux >= 4.0). False when that is not possible: the peak is then
// the process's since it started.
bool reset_peak_rss() {
  std::ofstream clear("/proc/self/clear_refs");
  if (!clear) return false;
  clear << "5" << std::flush;
  return static_cast<bool>(clear);
}

double peak_rss_mib() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stod(line.substr(6)) / 1024.0;  // kB
  }
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024.0;  // kB on Linux
}

void reset_cuda_peak(const torch::Device& device) {
#if SEQATTR_BENCH_CUDA
  if (device.is_cuda()) c10::cuda::CUDACachingAllocator::resetPeakStats(device.index());
#else
  (void)device;
#endif
}

// Peak bytes allocated through LibTorch's CUDA allocator since the last reset, in MiB
// (torch.cuda.max_memory_allocated); -1 on the CPU.
double cuda_peak_mib(const torch::Device& device) {
#if SEQATTR_BENCH_CUDA
  if (device.is_cuda()) {
    const auto stats = c10::cuda::CUDACachingAllocator::getDeviceStats(device.index());
    return static_cast<double>(stats.allocated_bytes[0].peak) / (1024.0 * 1024.0);  // aggregate
  }
#else
  (void)device;
#endif
  return -1;
}

// ---- timing -------------------------------------------------------------------------

void synchronize(const torch::Device& device) {
  if (device.is_cuda()) torch::cuda::synchronize(device.index());
}

const char* timing_name(const torch::Device& device) {
  return device.is_cuda() && SEQATTR_BENCH_CUDA ? "cuda_events" : "steady_clock";
}

#if SEQATTR_BENCH_CUDA
// A CUDA event with timing, destroyed with its owner (also when the timed work throws).
struct CudaEvent {
  CudaEvent() { C10_CUDA_CHECK(cudaEventCreate(&event)); }
  ~CudaEvent() { cudaEventDestroy(event); }
  CudaEvent(const CudaEvent&) = delete;
  CudaEvent& operator=(const CudaEvent&) = delete;
  cudaEvent_t event = nullptr;
};
#endif

// Seconds `work` takes: between CUDA events on the device's current stream on a GPU, else
// on a steady clock, the device synchronised before and after.
double time_it(const torch::Device& device, const std::function<void()>& work) {
  synchronize(device);
#if SEQATTR_BENCH_CUDA
  if (device.is_cuda()) {
    const auto stream = c10::cuda::getCurrentCUDAStream(device.index()).stream();
    const CudaEvent start, end;
    C10_CUDA_CHECK(cudaEventRecord(start.event, stream));
    work();
    C10_CUDA_CHECK(cudaEventRecord(end.event, stream));
    C10_CUDA_CHECK(cudaEventSynchronize(end.event));
    float milliseconds = 0;
    C10_CUDA_CHECK(cudaEventElapsedTime(&milliseconds, start.event, end.event));
    return milliseconds / 1000.0;
  }
#endif
  const auto start = std::chrono::steady_clock::now();
  work();
  synchronize(device);
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// The machine's attainable rate for this device and thread count: the best of 3 float32
// square matrix products (2,048 on a CPU, 8,192 on a GPU), after one untimed. Measured once per
// (device, threads) in the process: it is each row's ceiling.
double gemm_flops_per_second(const torch::Device& device) {
  static std::map<std::pair<std::string, int>, double> measured;
  const auto key = std::make_pair(device.str(), torch::get_num_threads());
  const auto found = measured.find(key);
  if (found != measured.end()) return found->second;
  torch::NoGradGuard no_grad;
  const int64_t n = device.is_cuda() ? 8192 : 2048;
  const auto options = torch::TensorOptions().dtype(torch::kFloat32).device(device);
  const auto a = torch::randn({n, n}, options), b = torch::randn({n, n}, options);
  auto c = torch::empty({n, n}, options);
  torch::mm_out(c, a, b);
  double best = 0;
  for (int i = 0; i < 3; ++i) {
    const double seconds = time_it(device, [&] { torch::mm_out(c, a, b); });
    best = std::max(best, 2.0 * static_cast<double>(n) * static_cast<double>(n) *
                              static_cast<double>(n) / std::max(seconds, 1e-12));
  }
  measured[key] = best;
  return best;
}

struct Stats {
  double mean = 0, sd = 0;  // sample standard deviation; 0 for one value
};

Stats stats_of(const std::vector<double>& values) {
  Stats s;
  for (double v : values) s.mean += v;
  s.mean /= static_cast<double>(values.size());
  if (values.size() > 1) {
    double squares = 0;
    for (double v : values) squares += (v - s.mean) * (v - s.mean);
    s.sd = std::sqrt(squares / static_cast<double>(values.size() - 1));
  }
  return s;
}

// ---- methods ------------------------------------------------------------------------

struct IsmRange {
  int64_t start = 0, end = 0;
};

IsmRange ism_range(int64_t window, int64_t length) {
  if (window <= 0 || window >= length) return {0, length};
  const int64_t start = (length - window) / 2;
  return {start, start + window};
}

// The method options one combination runs with.
MethodOptions method_options(const BenchOptions& o, const BenchSettings& settings,
                             const std::string& method, int64_t batch_size, int64_t length) {
  MethodOptions m;
  m.batch_size = batch_size;
  m.n_steps = o.n_steps;
  m.n_shuffles = o.n_shuffles;
  m.seed = o.seed;
  m.ism_mode = settings.ism_mode;
  if (method == "ism") {
    const auto range = ism_range(o.ism_window, length);
    m.ism_start = range.start;
    m.ism_end = range.end;
  }
  return m;
}

// ---- the run ------------------------------------------------------------------------

torch::Tensor synthetic_one_hot(int64_t sequences, int64_t length, uint64_t seed) {
  auto one_hot = torch::zeros({sequences, 4, length}, torch::kUInt8);
  auto acc = one_hot.accessor<uint8_t, 3>();
  std::mt19937_64 rng(seed);
  for (int64_t s = 0; s < sequences; ++s) {
    for (int64_t l = 0; l < length; ++l) acc[s][static_cast<int64_t>(rng() >> 62)][l] = 1;
  }
  return one_hot;
}

int64_t resolve_length(const BenchOptions& o, const std::optional<ModelMetadata>& metadata) {
  if (o.length > 0) return o.length;
  if (metadata && metadata->input_length > 0) return metadata->input_length;
  throw InputError("--length: required (the model '" + o.model +
                   "' has no JSON file beside it giving input_length)");
}

// The forward FLOPs of `model` as given, or with `executed` of the graph its forward runs.
int64_t count_flops(Model& model, int64_t length, bool executed) {
  try {
    const auto module = executed ? model.runner(length) : model.module();
    const auto flops = forward_flops_per_sequence(module, model.device(), length);
    for (const auto& op : flops.uncounted) {
      if (!executed) log::warn("FLOPs: " + op + " in model '" + model.path() + "' is not counted");
    }
    return flops.total;
  } catch (const std::exception& e) {
    log::warn("FLOPs of model '" + model.path() + "' could not be counted on its graph (" +
              first_line(e.what()) + "); FLOP figures are left out");
    return -1;
  }
}

struct Context {
  const BenchOptions* options = nullptr;
  const BenchSettings* settings = nullptr;
  int64_t length = 0, target = 0, outputs = 0;
  int64_t forward_flops = -1;
  int64_t executed_flops = -1;  // of the graph the model's forward runs (Model::runner)
  std::string cpu;
  torch::Tensor one_hot;
};

BenchRow run_combination(const Context& c, const std::shared_ptr<Model>& model,
                         const std::string& method, int64_t batch_size,
                         const std::string& precision, int threads) {
  const auto& o = *c.options;
  const auto& device = model->device();
  const ScopedThreadCount thread_count(effective_threads(threads));
  const MethodSpec& spec = find_method(method);
  const auto m = method_options(o, *c.settings, method, batch_size, c.length);
  const auto prepared = spec.prepare(m, {model, c.target, c.outputs, o.sequences, c.length, {}});
  const auto cost = spec.cost(m, c.length, prepared);

  heap::release_free_memory();  // the heap keeps freed blocks (common/heap.h)
  const bool rss_reset = reset_peak_rss();
  reset_cuda_peak(device);
  const BlockSink discard = [](const AttributionBlock&) {};
  const ProgressCallback silent = [](int64_t) {};
  const auto run_once = [&] { prepared.run(c.one_hot, 0, discard, silent, nullptr); };
  for (int i = 0; i < o.warmup; ++i) run_once();
  std::vector<double> seconds, rates;
  for (int i = 0; i < o.repetitions; ++i) {
    seconds.push_back(time_it(device, run_once));
    rates.push_back(static_cast<double>(o.sequences) / std::max(seconds.back(), 1e-12));
  }

  BenchRow row;
  row.model = o.model;
  row.method = method;
  row.settings = cost.settings;
  row.device = device.str();
  row.device_name = device_name(device, c.cpu);
  row.cpu_model = c.cpu;
  row.threads = torch::get_num_threads();
  row.precision = precision;
  row.batch_size = batch_size;
  row.sequences = o.sequences;
  row.length = c.length;
  row.warmup = o.warmup;
  row.repetitions = o.repetitions;
  row.forward_rows_per_sequence = cost.forward_rows;
  row.backward_rows_per_sequence = cost.backward_rows;
  row.forward_flops_per_sequence = c.forward_flops;
  row.executed_flops_per_sequence = c.executed_flops;
  const auto time = stats_of(seconds);
  const auto rate = stats_of(rates);
  row.seconds_mean = time.mean;
  row.seconds_sd = time.sd;
  row.sequences_per_second_mean = rate.mean;
  row.sequences_per_second_sd = rate.sd;
  row.bases_per_second_mean = rate.mean * static_cast<double>(c.length);
  row.bases_per_second_sd = rate.sd * static_cast<double>(c.length);
  // Forward rows + 2 x backward rows: the convention FLOPs per sequence are counted in.
  const auto rows = static_cast<double>(cost.forward_rows + 2 * cost.backward_rows);
  if (c.forward_flops >= 0) {
    row.method_flops_per_sequence = static_cast<double>(c.forward_flops) * rows;
    row.flops_per_second_mean = row.method_flops_per_sequence * rate.mean;
    row.flops_per_second_sd = row.method_flops_per_sequence * rate.sd;
  }
  if (o.profile > 0) {
    row.profile = profile_ops([&] { synchronize(device); run_once(); synchronize(device); });
    if (static_cast<int64_t>(row.profile.size()) > o.profile) row.profile.resize(static_cast<size_t>(o.profile));
  }
  row.gemm_flops_per_second = gemm_flops_per_second(device);
  if (c.executed_flops >= 0) {
    row.gemm_fraction = static_cast<double>(c.executed_flops) * rows * rate.mean /
                        row.gemm_flops_per_second;
  }
  row.peak_rss_mib = peak_rss_mib();
  row.peak_rss_scope = rss_reset ? "combination" : "process";
  row.cuda_peak_mib = cuda_peak_mib(device);
  row.timing = timing_name(device);
  row.libtorch_version = libtorch_version();
  row.seqattr_version = SEQATTR_VERSION;
  return row;
}

}  // namespace

BenchSettings validate(const BenchOptions& o) {
  if (o.model.empty()) throw InputError("--model: required");
  if (o.length < 0) throw InputError("--length " + std::to_string(o.length) + ": must be >= 1");
  if (o.sequences < 1) {
    throw InputError("--sequences " + std::to_string(o.sequences) + ": must be >= 1");
  }
  if (o.repetitions < 1) {
    throw InputError("--repetitions " + std::to_string(o.repetitions) + ": must be >= 1");
  }
  if (o.warmup < 0) throw InputError("--warmup " + std::to_string(o.warmup) + ": must be >= 0");
  if (o.n_steps < 1) throw InputError("--n-steps " + std::to_string(o.n_steps) + ": must be >= 1");
  if (o.n_shuffles < 1) {
    throw InputError("--n-shuffles " + std::to_string(o.n_shuffles) + ": must be >= 1");
  }
  if (o.ism_window < 0) {
    throw InputError("--ism-window " + std::to_string(o.ism_window) + ": must be >= 0");
  }
  BenchSettings settings;
  settings.ism_mode = parse_ism_mode(o.ism_mode);
  if (o.format != "md" && o.format != "csv" && o.format != "json") {
    throw InputError("-o/--output '" + o.format + "': expected md, csv or json");
  }
  settings.methods = parse_methods(o.methods);
  settings.batch_sizes = parse_int_list("--batch-size", o.batch_sizes, 1);
  settings.precisions = parse_precisions(o.precisions);
  settings.threads = parse_int_list("--threads", o.threads, 0);
  settings.convolutions = parse_convolutions(o.convolutions);
  settings.devices = parse_devices(o.devices);
  return settings;
}

void run_bench(const BenchOptions& o, const BenchSettings& settings,
               const std::function<void(const BenchRow&)>& report) {
  const auto devices = resolve_devices(o.devices, settings.devices);

  const auto metadata = read_model_metadata(o.model);
  Context c;
  c.options = &o;
  c.settings = &settings;
  c.length = resolve_length(o, metadata);
  c.cpu = cpu_model();
  c.one_hot = synthetic_one_hot(o.sequences, c.length, o.seed);
  bool flops_counted = false;  // the same graph on every device and kernel: counted once
  for (const auto& device : devices) {
    for (const ConvolutionKernels convolutions : settings.convolutions) {
      // Models made while this is set (the loaded one, DeepLIFT's rewritten one) use these.
      const ScopedConvolutionKernels kernels(convolutions);
      auto adapted = load_adapted_model(
          o.model, {o.head, o.reduce, o.input_layout, o.extra_inputs, o.target}, metadata, c.length, device);
      const auto model = std::make_shared<Model>(std::move(adapted.model));
      c.target = adapted.target;
      c.outputs = adapted.outputs;
      if (!flops_counted) c.forward_flops = count_flops(*model, c.length, false);
      flops_counted = true;
      c.executed_flops = count_flops(*model, c.length, true);
      for (const auto& precision : settings.precisions) {
        for (const int64_t threads : settings.threads) {
          for (const auto& method : settings.methods) {
            for (const int64_t batch_size : settings.batch_sizes) {
              auto row = run_combination(c, model, method, batch_size, precision, static_cast<int>(threads));
              row.convolutions = convolution_kernel_name(convolutions);
              report(row);
            }
          }
        }
      }
    }
  }
}

// ---- output -------------------------------------------------------------------------

namespace {

nlohmann::ordered_json known(double value) {
  return value < 0 ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(value);
}

std::string csv_field(const nlohmann::ordered_json& value) {
  if (value.is_null()) return "-";
  if (!value.is_string()) return value.dump();
  const auto text = value.get<std::string>();
  if (text.find_first_of(",\"\n") == std::string::npos) return text;
  std::string quoted = "\"";
  for (char ch : text) quoted += ch == '"' ? std::string("\"\"") : std::string(1, ch);
  return quoted + "\"";
}

// `value` with an SI prefix (k, M, G, T, P) and 3 significant digits, scaled by `scale`
// (the prefix of a mean, for its standard deviation).
double si_scale(double value) {
  double scale = 1;
  for (int i = 0; i < 5 && std::abs(value) >= 1000 * scale; ++i) scale *= 1000;
  return scale;
}

std::string si_prefix(double scale) {
  static const char* const prefixes[] = {"", " k", " M", " G", " T", " P"};
  int i = 0;
  for (double s = scale; s >= 1000; s /= 1000) ++i;
  return prefixes[i];
}

std::string fixed(double value, int decimals) {
  char text[64];
  std::snprintf(text, sizeof text, "%.*f", decimals, value);
  return text;
}

// Two significant digits below 0.1, so a small but real fraction (a tiny model on one
// thread) never prints as 0.00.
std::string fraction(double value) {
  if (value >= 0.1) return fixed(value, 2);
  char text[64];
  std::snprintf(text, sizeof text, "%.2g", value);
  return text;
}

std::string with_sd(double mean, double sd) {
  const double scale = si_scale(mean);
  return fixed(mean / scale, 2) + " ± " + fixed(sd / scale, 2) + si_prefix(scale);
}

std::string si(double value) {
  if (value < 0) return "-";
  const double scale = si_scale(value);
  return fixed(value / scale, 2) + si_prefix(scale);
}

const char* const kMarkdownHeader =
    "| method | settings | device | precision | threads | batch | conv | seq/s | bases/s | FLOP/seq | "
    "FLOP/s | of GEMM | peak RSS MiB | CUDA peak MiB |\n"
    "| --- | --- | --- | --- | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n";

std::string markdown_row(const BenchRow& r) {
  std::ostringstream out;
  out << "| " << r.method << " | " << r.settings << " | " << r.device << " | " << r.precision
      << " | " << r.threads << " | " << r.batch_size << " | " << r.convolutions << " | "
      << with_sd(r.sequences_per_second_mean, r.sequences_per_second_sd) << " | "
      << with_sd(r.bases_per_second_mean, r.bases_per_second_sd) << " | "
      << si(r.method_flops_per_sequence) << " | "
      << (r.flops_per_second_mean < 0 ? "-" : with_sd(r.flops_per_second_mean, r.flops_per_second_sd))
      << " | " << (r.gemm_fraction < 0 ? "-" : fraction(r.gemm_fraction)) << " | "
      << fixed(r.peak_rss_mib, 1) << " | "
      << (r.cuda_peak_mib < 0 ? "-" : fixed(r.cuda_peak_mib, 1)) << " |\n";
  return out.str();
}

// What every row shares, and the conventions, as notes under the table.
std::string markdown_notes(const std::vector<BenchRow>& rows) {
  const auto& first = rows.front();
  std::map<std::string, std::string> gpus;
  std::set<std::string> timings, scopes;
  std::string ism_settings;
  for (const auto& r : rows) {
    if (r.device != "cpu") gpus[r.device] = r.device_name;
    if (r.method == "ism") ism_settings = r.settings;
    timings.insert(r.timing);
    scopes.insert(r.peak_rss_scope);
  }
  const auto joined = [](const std::set<std::string>& items) {
    std::string text;
    for (const auto& item : items) text += (text.empty() ? "" : ", ") + item;
    return text;
  };
  std::ostringstream out;
  out << "\n- model " << first.model << ": " << first.sequences << " synthetic sequences of "
      << first.length << " bp; warm-up " << first.warmup << ", repetitions " << first.repetitions
      << "; rates are mean ± sd over the repetitions\n";
  out << "- model FLOPs per sequence: " << si(static_cast<double>(first.forward_flops_per_sequence))
      << " (forward; 2 × multiply-accumulates of conv, linear and matmul ops, counted on the "
         "graph)\n";
  out << "- FLOP/seq: the method's, forward FLOPs × (forward rows + 2 × backward rows) per "
         "sequence; FLOP/s = FLOP/seq × seq/s. The usual 1 : 2 rule counts weight gradients, "
         "which attribution never computes: the arithmetic done is (forward + backward rows) / "
         "(forward + 2 × backward rows) of this (about 2/3 for gradients, IG and DeepLIFT)\n";
  out << "- of GEMM: FLOP/s as above (the 1 : 2 rule) but of the forward FLOPs the run "
         "executes, over the machine's ceiling measured in this run, a float32 square matrix "
         "product (2,048 on a CPU, 8,192 on a GPU; best of 3) on the same device and threads "
         "(the arithmetic done is about 2/3 of it, as above): " << si(first.gemm_flops_per_second)
      << "FLOP/s for the first row's. Executed forward FLOPs per sequence: "
      << si(static_cast<double>(first.executed_flops_per_sequence))
      << " for the first row's (fewer than the model's where convolutions compute only the "
         "positions its output reads)\n";
  if (!ism_settings.empty()) {
    out << "- ism: " << ism_settings << "; only the central --ism-window positions (default "
           "100; 0: all 3·L substitutions); FLOPs count the naive 1 + 3·W mutant rows, so with "
           "fast ISM FLOP/s is an effective rate\n";
  }
  out << "- system: CPU " << first.cpu_model;
  for (const auto& [device, name] : gpus) out << "; " << device << " " << name;
  out << "; LibTorch " << first.libtorch_version << "; seqattr " << first.seqattr_version << "\n";
  const std::string scope = joined(scopes);
  out << "- timing: " << joined(timings) << "; peak RSS per " << scope
      << (scope == "combination" ? " (VmHWM reset before each)" : " (the process's peak so far)")
      << "\n";
  return out.str();
}

// With --profile: each row's top operators in one run, by self time (core/op_profile.h).
std::string markdown_profiles(const std::vector<BenchRow>& rows) {
  std::ostringstream out;
  for (const auto& r : rows) {
    if (r.profile.empty()) continue;
    double run_ms = 0;
    for (const auto& op : r.profile) run_ms = std::max(run_ms, op.total_ms);
    out << "\n### Where the time goes: " << r.method << " (" << r.settings << "), batch "
        << r.batch_size << ", one run of " << r.sequences << " sequences\n\n"
        << "| operator | calls | self ms | total ms |\n| --- | ---: | ---: | ---: |\n";
    for (const auto& op : r.profile) {
      out << "| " << op.name << " | " << op.calls << " | " << fixed(op.self_ms, 1) << " | "
          << fixed(op.total_ms, 1) << " |\n";
    }
  }
  return out.str();
}

}  // namespace

nlohmann::ordered_json to_json(const BenchRow& r) {
  nlohmann::ordered_json j;
  j["model"] = r.model;
  j["method"] = r.method;
  j["settings"] = r.settings;
  j["device"] = r.device;
  j["device_name"] = r.device_name;
  j["cpu_model"] = r.cpu_model;
  j["threads"] = r.threads;
  j["precision"] = r.precision;
  j["convolutions"] = r.convolutions;
  j["batch_size"] = r.batch_size;
  j["sequences"] = r.sequences;
  j["length"] = r.length;
  j["warmup"] = r.warmup;
  j["repetitions"] = r.repetitions;
  j["forward_rows_per_sequence"] = r.forward_rows_per_sequence;
  j["backward_rows_per_sequence"] = r.backward_rows_per_sequence;
  j["forward_flops_per_sequence"] = r.forward_flops_per_sequence < 0
                                        ? nlohmann::ordered_json(nullptr)
                                        : nlohmann::ordered_json(r.forward_flops_per_sequence);
  j["method_flops_per_sequence"] = known(r.method_flops_per_sequence);
  j["executed_flops_per_sequence"] = r.executed_flops_per_sequence < 0
                                         ? nlohmann::ordered_json(nullptr)
                                         : nlohmann::ordered_json(r.executed_flops_per_sequence);
  j["seconds_mean"] = r.seconds_mean;
  j["seconds_sd"] = r.seconds_sd;
  j["sequences_per_second_mean"] = r.sequences_per_second_mean;
  j["sequences_per_second_sd"] = r.sequences_per_second_sd;
  j["bases_per_second_mean"] = r.bases_per_second_mean;
  j["bases_per_second_sd"] = r.bases_per_second_sd;
  j["flops_per_second_mean"] = known(r.flops_per_second_mean);
  j["flops_per_second_sd"] = known(r.flops_per_second_sd);
  j["gemm_flops_per_second"] = r.gemm_flops_per_second;
  j["gemm_fraction"] = known(r.gemm_fraction);
  j["peak_rss_mib"] = r.peak_rss_mib;
  j["peak_rss_scope"] = r.peak_rss_scope;
  j["cuda_peak_mib"] = known(r.cuda_peak_mib);
  j["timing"] = r.timing;
  j["libtorch_version"] = r.libtorch_version;
  j["seqattr_version"] = r.seqattr_version;
  return j;
}

BenchWriter::BenchWriter(std::ostream& out, std::string format)
    : out_(out), format_(std::move(format)) {}

void BenchWriter::add(const BenchRow& row) {
  const bool first = rows_.empty();
  rows_.push_back(row);
  if (format_ == "md") {
    if (first) out_ << kMarkdownHeader;
    out_ << markdown_row(row);
  } else if (format_ == "csv") {
    const auto j = to_json(row);
    std::string line;
    if (first) {
      for (const auto& item : j.items()) line += (line.empty() ? "" : ",") + item.key();
      out_ << line << "\n";
      line.clear();
    }
    for (const auto& item : j.items()) line += (line.empty() ? "" : ",") + csv_field(item.value());
    out_ << line << "\n";
  } else {
    out_ << (first ? "[\n  " : ",\n  ") << to_json(row).dump();
  }
  out_.flush();
}

void BenchWriter::finish() {
  if (format_ == "json") out_ << (rows_.empty() ? "[]\n" : "\n]\n");
  if (format_ == "md" && !rows_.empty()) out_ << markdown_notes(rows_) << markdown_profiles(rows_);
  out_.flush();
}

}  // namespace seqattr
