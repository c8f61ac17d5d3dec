#include "core/model_graph.h"

#include <torch/csrc/jit/ir/constants.h>
#include <torch/csrc/jit/ir/ir.h>
#include <torch/csrc/jit/passes/constant_propagation.h>
#include <torch/csrc/jit/passes/dead_code_elimination.h>
#include <torch/csrc/jit/passes/freeze_module.h>
#include <torch/csrc/jit/passes/inliner.h>
#include <torch/csrc/jit/passes/lower_tuples.h>
#include <torch/csrc/jit/passes/remove_mutation.h>
#include <torch/csrc/jit/runtime/operator.h>

#include <string>
#include <vector>

namespace seqattr {
namespace {

// Reads of `self.training` become the constant false, so that the branches functional ops
// take on it (F.relu's inplace, batch norm's training) fold away.
void fold_eval_mode(torch::jit::Graph& graph) {
  std::vector<torch::jit::Node*> reads;
  for (torch::jit::Node* node : graph.nodes()) {
    if (node->kind() == c10::prim::GetAttr && node->s(c10::attr::name) == "training") {
      reads.push_back(node);
    }
  }
  for (torch::jit::Node* node : reads) {
    torch::jit::WithInsertPoint guard(node);
    node->output()->replaceAllUsesWith(graph.insertConstant(false));
  }
}

// Whether a traced convolution is a 1-D, untransposed one (see canonicalise_convolutions).
bool is_traced_conv1d(torch::jit::Node* node) {
  const std::string kind = node->kind().toQualString();
  if (kind != "aten::_convolution" && kind != "aten::convolution") return false;
  const auto stride = torch::jit::toIValue(node->namedInput("stride"));
  const auto transposed = torch::jit::toIValue(node->namedInput("transposed"));
  return stride && stride->isIntList() && stride->toIntVector().size() == 1 && transposed &&
         transposed->isBool() && !transposed->toBool();
}

}  // namespace

int canonicalise_convolutions(torch::jit::Graph& graph) {
  std::vector<torch::jit::Node*> convolutions;
  for (torch::jit::Node* node : graph.nodes()) {
    if (is_traced_conv1d(node)) convolutions.push_back(node);
  }
  static const auto conv1d = c10::Symbol::fromQualString("aten::conv1d");
  for (torch::jit::Node* node : convolutions) {
    torch::jit::WithInsertPoint guard(node);
    const auto in = [node](const char* name) { return node->namedInput(name); };
    torch::jit::Value* conv = graph.insert(conv1d, {in("input"), in("weight"), in("bias"),
                                                    in("stride"), in("padding"), in("dilation"),
                                                    in("groups")});
    conv->setType(node->output()->type());
    node->output()->replaceAllUsesWith(conv);
    node->destroy();
  }
  return static_cast<int>(convolutions.size());
}

int drop_identity_slices(torch::jit::Graph& graph) {
  static const auto slice = c10::Symbol::fromQualString("aten::slice");
  const auto constant = [](torch::jit::Value* value) { return torch::jit::toIValue(value); };
  std::vector<torch::jit::Node*> found;
  for (torch::jit::Node* node : graph.nodes()) {
    if (node->kind() != slice || node->schema().overload_name() != "Tensor") continue;
    const auto start = constant(node->namedInput("start"));
    const auto end = constant(node->namedInput("end"));
    const auto step = constant(node->namedInput("step"));
    const bool from_start = start && (start->isNone() || (start->isInt() && start->toInt() == 0));
    const bool to_end = end && (end->isNone() || (end->isInt() && end->toInt() == INT64_MAX));
    if (from_start && to_end && step && step->isInt() && step->toInt() == 1) found.push_back(node);
  }
  for (torch::jit::Node* node : found) {
    node->output()->replaceAllUsesWith(node->namedInput("self"));
    node->destroy();
  }
  return static_cast<int>(found.size());
}

ForwardGraph inlined_forward(const torch::jit::Module& module, Freezing freezing) {
  ForwardGraph out;
  out.module = freezing == Freezing::Freeze ? torch::jit::freeze_module(module) : module.clone();
  out.graph = out.module.get_method("forward").graph();
  torch::jit::Inline(*out.graph);
  if (freezing == Freezing::KeepAttributes) fold_eval_mode(*out.graph);
  torch::jit::ConstantPropagation(out.graph);
  // A head picked from a tuple (model_adapter.h) reads its element directly; the other
  // heads' operations are then dead code.
  torch::jit::LowerSimpleTuples(out.graph);
  torch::jit::EliminateDeadCode(out.graph);
  torch::jit::RemoveListMutation(out.graph);
  torch::jit::InplaceToFunctionalActivation(out.graph);
  torch::jit::RemoveTensorMutation(out.graph);
  return out;
}

std::optional<c10::IValue> known_value(const torch::jit::Module& module,
                                       const torch::jit::Graph& graph,
                                       const torch::jit::Value* value) {
  if (auto constant = torch::jit::toIValue(value)) return constant;
  std::vector<std::string> names;  // innermost attribute first
  while (value->node()->kind() == c10::prim::GetAttr) {
    names.push_back(value->node()->s(c10::attr::name));
    value = value->node()->input(0);
  }
  if (names.empty() || value != graph.inputs().at(0)) return std::nullopt;
  c10::IValue object = module._ivalue();
  for (auto name = names.rbegin(); name != names.rend(); ++name) {
    if (!object.isObject() || !object.toObjectRef().type()->hasAttribute(*name)) return std::nullopt;
    object = object.toObjectRef().getAttr(*name);
  }
  return object;
}

bool value_carries_tensors(const torch::jit::Value* value) {
  const auto& type = value->type();
  if (type->kind() == c10::TypeKind::TensorType) return true;
  for (const auto& contained : type->containedTypes()) {
    if (contained->kind() == c10::TypeKind::TensorType || !contained->containedTypes().empty()) {
      return true;
    }
  }
  return false;
}

std::vector<c10::IValue> run_graph_node(torch::jit::Node* node, std::vector<c10::IValue> inputs,
                                        torch::jit::Operation* operation) {
  const auto kind = node->kind();
  if (kind == c10::prim::ListConstruct) {
    c10::impl::GenericList list(node->output()->type()->expectRef<c10::ListType>().getElementType());
    for (auto& v : inputs) list.push_back(std::move(v));
    return {c10::IValue(std::move(list))};
  }
  if (kind == c10::prim::TupleConstruct) {
    return {c10::IValue(c10::ivalue::Tuple::create(std::move(inputs)))};
  }
  if (kind == c10::prim::ListUnpack) {
    const auto list = inputs.at(0).toListRef();
    return std::vector<c10::IValue>(list.begin(), list.end());
  }
  if (kind == c10::prim::TupleUnpack) {
    const auto& elements = inputs.at(0).toTupleRef().elements();
    return std::vector<c10::IValue>(elements.begin(), elements.end());
  }
  if (kind == c10::prim::GetAttr) {
    return {inputs.at(0).toObject()->getAttr(node->s(c10::attr::name))};
  }
  torch::jit::Stack stack(std::move(inputs));
  if (operation) {
    (*operation)(stack);
  } else {
    node->getOperation()(stack);
  }
  return stack;
}

}  // namespace seqattr
