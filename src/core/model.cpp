#include "core/model.h"

#include <algorithm>
#include <fstream>
#include <sstream>

#include "common/errors.h"
#include "common/input_file.h"
#include "common/log.h"
#include "core/batch_norm_folding.h"
#include "core/demanded_positions.h"
#include "core/direct_convolutions.h"
#include "core/model_graph.h"
#include "core/keras/keras_file.h"
#include "core/keras/keras_model.h"

namespace seqattr {
namespace {

// TorchScript errors open with a generic line and end with the cause
// ("RuntimeError: mat1 and mat2 shapes cannot be multiplied ..."): keep the cause.
std::string script_error_cause(const std::string& message) {
  auto end = message.find_last_not_of(" \n");
  if (end == std::string::npos) return message;
  const auto begin = message.rfind('\n', end);
  return message.substr(begin == std::string::npos ? 0 : begin + 1, end - (begin == std::string::npos ? 0 : begin + 1) + 1);
}

std::string message_without_backtrace(const std::exception& e) {
  const auto* torch_error = dynamic_cast<const c10::Error*>(&e);
  return torch_error ? torch_error->what_without_backtrace() : e.what();
}

// The module forward() runs on inputs of `length` positions: a copy of `module` whose 1-D
// convolutions (eval batch norms folded in) are seqattr::conv1d_direct computing only the
// positions its output reads, or `module` itself where there are none to replace, where
// --convolutions aten asks so, or where its forward cannot be inlined (it then runs as saved).
torch::jit::Module runnable(const torch::jit::Module& module, const std::string& path,
                            int64_t length, const Model::GraphPass& convolution_pass) {
  if (convolution_kernels() != ConvolutionKernels::Direct) return module;
  try {
    auto forward = inlined_forward(module, Freezing::KeepAttributes);
    const int folded = fold_batch_norms(forward.module, *forward.graph);
    const int replaced = use_direct_convolutions(*forward.graph);
    const int fused = fuse_convolution_relus(*forward.graph);
    const int residual = fuse_residual_relus(*forward.graph);
    const int method_fused = convolution_pass ? convolution_pass(*forward.graph) : 0;
    const int narrowed = compute_only_demanded_positions(forward.module, forward.graph, length);
    drop_identity_slices(*forward.graph);
    log::debug("'" + path + "': " + std::to_string(folded) +
               " batch norm(s) folded into their convolution; " + std::to_string(replaced) +
               " convolution(s) run as seqattr::conv1d_direct, " + std::to_string(fused) +
               " of them with their relu, " + std::to_string(residual) +
               " of those with their residual add; " + std::to_string(method_fused) +
               " fused with a method's rules; " + std::to_string(narrowed) +
               " compute only the positions the output reads (inputs of " +
               std::to_string(length) + ")");
    if (replaced == 0) return module;
    return forward.module;
  } catch (const std::exception& e) {
    log::debug("'" + path + "': convolutions kept as saved (" + first_line(e.what()) + ")");
    return module;
  }
}

}  // namespace

Model::Model(torch::jit::Module module, std::string path, torch::Device device,
             GraphPass convolution_pass)
    : module_(std::move(module)), path_(std::move(path)), device_(device),
      convolution_pass_(std::move(convolution_pass)) {}

std::string forward_error_cause(const std::exception& e) {
  return script_error_cause(message_without_backtrace(e));
}

Model Model::load(const std::string& path, const torch::Device& device) {
  require_regular_file("--model", path);
  if (!std::ifstream(path)) throw InputError("--model '" + path + "': cannot open file");
  torch::jit::Module module;
  if (keras::is_hdf5(path)) {  // a Keras model, built as TorchScript (core/keras/)
    module = keras::import_model(path).module;
    module.to(device);
  } else {
    try {
      module = torch::jit::load(path, device);
    } catch (const c10::Error& e) {
      throw InputError("--model '" + path + "': not a loadable TorchScript model (" +
                       first_line(e.what_without_backtrace()) + ")");
    }
  }
  module.eval();
  for (auto parameter : module.parameters()) parameter.set_requires_grad(false);
  return Model(std::move(module), path, device);
}

Model Model::from_module(torch::jit::Module module, std::string path, const torch::Device& device,
                         GraphPass convolution_pass) {
  return Model(std::move(module), std::move(path), device, std::move(convolution_pass));
}

torch::Tensor Model::forward(const torch::Tensor& batch) {
  // LibTorch's CPU convolution takes another kernel path for a batch of one row, which
  // rounds differently; run such a row as two so that results never depend on batching.
  if (batch.size(0) == 1) return forward(torch::cat({batch, batch})).narrow(0, 0, 1);
  torch::IValue output;
  try {
    output = runner(batch.size(2)).forward({batch});
  } catch (const std::exception& e) {  // c10::Error, or the interpreter's own runtime_error
    throw InputError("--model '" + path_ + "': forward failed on input of shape " +
                     shape_text(batch.sizes()) + ": " + forward_error_cause(e));
  }
  if (!output.isTensor()) {
    throw InputError("--model '" + path_ + "': output must be a tensor of shape (N, T), got " +
                     output.tagKind());
  }
  auto y = output.toTensor();
  if (y.dim() != 2 || y.size(0) != batch.size(0) || !y.is_floating_point()) {
    throw InputError("--model '" + path_ + "': output has shape " + shape_text(y.sizes()) +
                     " and dtype " + std::string(c10::toString(y.scalar_type())) +
                     "; expected a floating (N, T) tensor with N = " +
                     std::to_string(batch.size(0)));
  }
  return y;
}

torch::jit::Module Model::runner(int64_t length) {
  // Runs of sequences of many lengths (a fully convolutional model on varied regions) would
  // keep a copy per length: a few are kept, the least recently used dropped for a new one.
  constexpr size_t kKeptLengths = 8;
  auto found = runners_.find(length);
  if (found == runners_.end()) {
    if (runners_.size() >= kKeptLengths) {
      const auto earlier = [](const auto& a, const auto& b) {
        return a.second.last_use < b.second.last_use;
      };
      runners_.erase(std::min_element(runners_.begin(), runners_.end(), earlier));
    }
    const auto module = runnable(module_, path_, length, convolution_pass_);
    found = runners_.emplace(length, Runner{module}).first;
  }
  found->second.last_use = ++runner_uses_;
  return found->second.module;
}

bool Model::any_parameter_requires_grad() const {
  for (const auto& parameter : module_.parameters()) {
    if (parameter.requires_grad()) return true;
  }
  return false;
}

torch::Tensor predict(Model& model, const torch::Tensor& inputs, int64_t batch_rows) {
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> parts;
  for (int64_t begin = 0; begin < inputs.size(0); begin += batch_rows) {
    const auto end = std::min(inputs.size(0), begin + batch_rows);
    const auto rows = inputs.slice(0, begin, end).to(model.device(), torch::kFloat32);
    parts.push_back(model.forward(rows).to(torch::kCPU, torch::kFloat32));
  }
  return torch::cat(parts, 0);
}

std::string shape_text(c10::IntArrayRef sizes, bool batch_as_n) {
  std::ostringstream out;
  out << "(";
  for (size_t i = 0; i < sizes.size(); ++i) {
    out << (i ? ", " : "");
    if (i == 0 && batch_as_n) out << "N"; else out << sizes[i];
  }
  out << ")";
  return out.str();
}

int64_t check_target(const Model& model, int64_t outputs, int64_t target) {
  if (target >= outputs) {
    throw InputError("--target " + std::to_string(target) + ": out of range; model '" +
                     model.path() + "' has " + std::to_string(outputs) +
                     " output(s), so the target must be in 0.." + std::to_string(outputs - 1));
  }
  return outputs;
}

}  // namespace seqattr
