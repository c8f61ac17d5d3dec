#include "core/batch_norm_folding.h"

#include <torch/csrc/jit/ir/constants.h>
#include <torch/csrc/jit/ir/ir.h>
#include <torch/csrc/jit/passes/fold_conv_bn.h>

#include <optional>
#include <vector>

#include "core/direct_convolutions.h"
#include "core/model_graph.h"

namespace seqattr {
namespace {

using torch::jit::Node;
using torch::jit::Value;

// The tensor an operand holds (undefined for None), or none where it is not known.
std::optional<at::Tensor> known_tensor(const torch::jit::Module& module,
                                       const torch::jit::Graph& graph, Value* value) {
  const auto known = known_value(module, graph, value);
  if (!known || !(known->isNone() || known->isTensor())) return std::nullopt;
  return known->isNone() ? at::Tensor() : known->toTensor();
}

// The folded (weight, bias) of `conv` followed by `norm`, or none where an operand is not
// known or the shapes do not fit. LibTorch's own fold (torch/nn/utils/fusion.py's), given
// float64 operands (None as zero bias, unit scale), rounded once to the weight's dtype.
std::optional<std::pair<at::Tensor, at::Tensor>> folded(const torch::jit::Module& module,
                                                        const torch::jit::Graph& graph,
                                                        Node* conv, Node* norm) {
  const auto training = torch::jit::toIValue(norm->namedInput("training"));
  const auto eps = torch::jit::toIValue(norm->namedInput("eps"));
  if (!training || !training->isBool() || training->toBool() || !eps || !eps->isDouble()) {
    return std::nullopt;
  }
  const auto weight = known_tensor(module, graph, conv->namedInput("weight"));
  const auto bias = known_tensor(module, graph, conv->namedInput("bias"));
  const auto gamma = known_tensor(module, graph, norm->namedInput("weight"));
  const auto beta = known_tensor(module, graph, norm->namedInput("bias"));
  const auto mean = known_tensor(module, graph, norm->namedInput("running_mean"));
  const auto var = known_tensor(module, graph, norm->namedInput("running_var"));
  if (!weight || !bias || !gamma || !beta || !mean || !var) return std::nullopt;
  const auto& w = *weight;
  if (!w.defined() || w.dim() != 3 || !w.is_floating_point()) return std::nullopt;
  if (!mean->defined() || !var->defined()) return std::nullopt;
  const int64_t channels = w.size(0);
  for (const auto& t : {*bias, *gamma, *beta, *mean, *var}) {
    if (t.defined() && (t.dim() != 1 || t.size(0) != channels)) return std::nullopt;
  }
  const auto options = w.options().dtype(at::kDouble);
  const auto f64 = [&](const at::Tensor& t, double absent) {
    return t.defined() ? t.detach().to(at::kDouble) : at::full({channels}, absent, options);
  };
  torch::jit::ConvBNParameters p;
  p.conv_w = w.detach().to(at::kDouble);
  p.conv_b = f64(*bias, 0.0);
  p.bn_rm = f64(*mean, 0.0);
  p.bn_rv = f64(*var, 1.0);
  p.bn_eps = eps->toDouble();
  p.bn_w = f64(*gamma, 1.0);
  p.bn_b = f64(*beta, 0.0);
  const auto [new_w, new_b] = torch::jit::computeUpdatedConvWeightAndBias(p);
  return std::make_pair(new_w.to(w.scalar_type()), new_b.to(w.scalar_type()));
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
