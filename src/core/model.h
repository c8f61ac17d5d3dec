#pragma once
#include <torch/script.h>

#include <functional>
#include <map>
#include <string>

namespace seqattr {

// A TorchScript sequence model: forward takes float one-hot DNA (N, 4, L), A C G T order,
// and returns (N, T). Loaded in eval mode with every parameter frozen (no weight gradients).
// module() is the model as given, for the code that reads its graph; forward() runs a copy
// whose 1-D convolutions are seqattr::conv1d_direct (core/direct_convolutions.h), the same
// function computed faster, unless --convolutions aten.
class Model {
 public:
  // Throws InputError naming --model and the path when the file is missing or not TorchScript.
  static Model load(const std::string& path, const torch::Device& device);

  // A rewrite of the graph forward() runs, after its convolutions became seqattr's own (and
  // fused with their relus and residual adds) and before core/demanded_positions.h; returns
  // how many nodes it replaced. For a model derived for a method whose ops fuse with them.
  using GraphPass = std::function<int(torch::jit::Graph&)>;

  // A model already loaded (or derived from one, e.g. rewritten for DeepLIFT, then with
  // `convolution_pass` for its rules).
  static Model from_module(torch::jit::Module module, std::string path, const torch::Device& device,
                           GraphPass convolution_pass = {});

  // Runs forward on `batch` (B, 4, L) and checks the output is a (B, T) floating tensor.
  // Throws InputError naming the model when forward fails or the output has another shape.
  torch::Tensor forward(const torch::Tensor& batch);

  // The module forward() runs on inputs of `length` positions (see runners_), made now if no
  // forward of that length has run yet (a handle: it shares the copy). For counting what it
  // computes (seqattr bench).
  torch::jit::Module runner(int64_t length);

  const std::string& path() const { return path_; }
  const torch::jit::Module& module() const { return module_; }
  // False after load: gradients are taken with respect to the input only.
  bool any_parameter_requires_grad() const;
  const torch::Device& device() const { return device_; }

 private:
  Model(torch::jit::Module module, std::string path, torch::Device device,
        GraphPass convolution_pass = {});

  torch::jit::Module module_;
  // What forward() runs, per input length: module_, or its copy with seqattr::conv1d_direct
  // convolutions that compute only the positions the output reads (core/demanded_positions.h),
  // made by the first forward of that length from module_ as it is then (a model only read, or
  // only adapted into another, never needs it; convert module_, e.g. to float64, before its
  // first forward). A few lengths are kept, the least recently used dropped first.
  struct Runner {
    torch::jit::Module module;
    uint64_t last_use = 0;
  };
  std::map<int64_t, Runner> runners_;
  uint64_t runner_uses_ = 0;
  std::string path_;
  torch::Device device_;
  GraphPass convolution_pass_;
};

// A shape as messages and reports show it: "(2, 4, 300)", or with `batch_as_n` the first
// dimension as N, "(N, 4, 300)" (a head's shape, whatever the batch).
std::string shape_text(c10::IntArrayRef sizes, bool batch_as_n = false);

// What went wrong in a TorchScript forward: its cause (the interpreter's errors open with a
// generic line and end with the cause), without a backtrace.
std::string forward_error_cause(const std::exception& e);

// Model outputs for `inputs` (N, 4, L), computed without autograd in passes of at most
// `batch_rows` rows. Returns (N, T) float32 on the CPU.
torch::Tensor predict(Model& model, const torch::Tensor& inputs, int64_t batch_rows);

// Returns `outputs` (the model's T); throws InputError naming --target when `target` is not
// below it. Adaptation checks this once (AdaptedModel::outputs).
int64_t check_target(const Model& model, int64_t outputs, int64_t target);

}  // namespace seqattr
