#include "core/batch_norm_folding.h"

#include <torch/csrc/jit/ir/constants.h>
#include <torch/csrc/jit/ir/ir.h>

#include <optional>
#include <string>
#include <vector>

#include "core/direct_convolutions.h"
#include "core/model_graph.h"

namespace seqattr {
namespace {

using torch::jit::Node;
using torch::jit::Value;

// An operand's tensor: defined, or undefined for None where the operand may be None; `known`
// false where its value is not known (or None where it may not be).
struct Operand {
  bool known = false;
  at::Tensor tensor;
};

Operand tensor_operand(const torch::jit::Module& module, const torch::jit::Graph& graph,
                       Value* value, bool may_be_none) {
  const auto known = known_value(module, graph, value);
  if (!known) return {};
  if (known->isNone()) return {may_be_none, at::Tensor()};
  if (!known->isTensor()) return {};
  return {true, known->toTensor()};
}

// The folded (weight, bias) of `conv` followed by `norm`, or none where an operand is not
// known or the shapes do not fit.
std::optional<std::pair<at::Tensor, at::Tensor>> folded(const torch::jit::Module& module,
                                                        const torch::jit::Graph& graph,
                                                        Node* conv, Node* norm) {
  const auto training = torch::jit::toIValue(norm->namedInput("training"));
  const auto eps = torch::jit::toIValue(norm->namedInput("eps"));
  if (!training || !training->isBool() || training->toBool() || !eps || !eps->isDouble()) {
    return std::nullopt;
  }
  const auto weight = tensor_operand(module, graph, conv->namedInput("weight"), false);
  const auto bias = tensor_operand(module, graph, conv->namedInput("bias"), true);
  const auto gamma = tensor_operand(module, graph, norm->namedInput("weight"), true);
  const auto beta = tensor_operand(module, graph, norm->namedInput("bias"), true);
  const auto mean = tensor_operand(module, graph, norm->namedInput("running_mean"), false);
  const auto var = tensor_operand(module, graph, norm->namedInput("running_var"), false);
  for (const auto* operand : {&weight, &bias, &gamma, &beta, &mean, &var}) {
    if (!operand->known) return std::nullopt;
  }
  const auto& w = weight.tensor;
  if (w.dim() != 3 || !w.is_floating_point()) return std::nullopt;
  const int64_t channels = w.size(0);
  const auto per_channel = [channels](const at::Tensor& t) {
    return !t.defined() || (t.dim() == 1 && t.size(0) == channels);
  };
  for (const auto& t : {bias.tensor, gamma.tensor, beta.tensor, mean.tensor, var.tensor}) {
    if (!per_channel(t)) return std::nullopt;
  }
  const auto f64 = [](const at::Tensor& t) { return t.detach().to(at::kDouble); };
  auto scale = (f64(var.tensor) + eps->toDouble()).rsqrt();
  if (gamma.tensor.defined()) scale = scale * f64(gamma.tensor);
  auto shift = bias.tensor.defined() ? f64(bias.tensor) - f64(mean.tensor) : -f64(mean.tensor);
  shift = shift * scale;
  if (beta.tensor.defined()) shift = shift + f64(beta.tensor);
  return std::make_pair((f64(w) * scale.view({channels, 1, 1})).to(w.scalar_type()),
                        shift.to(w.scalar_type()));
}

}  // namespace

int fold_batch_norms(const torch::jit::Module& module, torch::jit::Graph& graph) {
  canonicalise_convolutions(graph);
  static const auto batch_norm = c10::Symbol::fromQualString("aten::batch_norm");
  static const auto conv1d = c10::Symbol::fromQualString("aten::conv1d");
  // The convolution's output may also be read for its shape (nn.BatchNorm1d's scripted
  // forward checks input.dim()): the folded output has the same.
  std::vector<Node*> norms;
  for (Node* node : graph.nodes()) {
    if (node->kind() != batch_norm) continue;
    Value* input = node->input(0);
    if (input->node()->kind() == conv1d && only_read_by(input, node)) norms.push_back(node);
  }
  int count = 0;
  for (Node* norm : norms) {
    Node* conv = norm->input(0)->node();
    const auto parameters = folded(module, graph, conv, norm);
    if (!parameters) continue;
    torch::jit::WithInsertPoint guard(conv);
    conv->replaceInput(1, graph.insertConstant(parameters->first));
    conv->replaceInput(2, graph.insertConstant(parameters->second));
    norm->output()->replaceAllUsesWith(conv->output());
    norm->destroy();
    ++count;
  }
  return count;
}

}  // namespace seqattr
