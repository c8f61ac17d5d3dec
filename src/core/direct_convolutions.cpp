#include "core/direct_convolutions.h"

#include <torch/csrc/jit/ir/ir.h>
#include <torch/csrc/jit/ir/constants.h>

#include <optional>

#include "core/model_graph.h"

namespace seqattr {
namespace {

// The single value of a constant one-element int list argument, if it is one.
std::optional<int64_t> single_int(torch::jit::Node* node, const char* name) {
  const auto value = torch::jit::toIValue(node->namedInput(name));
  if (!value || !value->isIntList()) return std::nullopt;
  const auto list = value->toIntVector();
  if (list.size() != 1) return std::nullopt;
  return list[0];
}

bool constant_equals(torch::jit::Node* node, const char* name, const c10::IValue& expected) {
  const auto value = torch::jit::toIValue(node->namedInput(name));
  return value && *value == expected;
}

struct Conv1dArgs {
  int64_t padding, dilation;
};

// The padding and dilation of a convolution seqattr::conv1d_direct computes, or none. Traced
// convolutions were made aten::conv1d first (canonicalise_convolutions).
std::optional<Conv1dArgs> direct_convolution(torch::jit::Node* node) {
  static const auto conv1d = c10::Symbol::fromQualString("aten::conv1d");
  if (node->kind() != conv1d) return std::nullopt;
  // aten::conv1d's overload with string padding ("same", "valid") is left alone.
  if (!node->schema().overload_name().empty()) return std::nullopt;
  const auto stride = single_int(node, "stride");
  const auto padding = single_int(node, "padding");
  const auto dilation = single_int(node, "dilation");
  if (!stride || *stride != 1 || !padding || !dilation) return std::nullopt;
  if (!constant_equals(node, "groups", int64_t{1})) return std::nullopt;
  return Conv1dArgs{*padding, *dilation};
}

}  // namespace

int use_direct_convolutions(torch::jit::Graph& graph) {
  canonicalise_convolutions(graph);
  std::vector<std::pair<torch::jit::Node*, Conv1dArgs>> found;
  for (torch::jit::Node* node : graph.nodes()) {
    if (const auto args = direct_convolution(node)) found.emplace_back(node, *args);
  }
  static const auto op = c10::Symbol::fromQualString("seqattr::conv1d_direct");
  for (const auto& [node, args] : found) {
    torch::jit::WithInsertPoint guard(node);
    torch::jit::Value* conv = graph.insert(
        op, {node->namedInput("input"), node->namedInput("weight"), node->namedInput("bias"),
             args.padding, args.dilation});
    conv->setType(node->output()->type());
    node->output()->replaceAllUsesWith(conv);
    node->destroy();
  }
  return static_cast<int>(found.size());
}

int fuse_convolution_relus(torch::jit::Graph& graph) {
  static const auto conv = c10::Symbol::fromQualString("seqattr::conv1d_direct");
  static const auto fused = c10::Symbol::fromQualString("seqattr::conv1d_direct_relu");
  static const auto relu = c10::Symbol::fromQualString("aten::relu");
  static const auto relu_ = c10::Symbol::fromQualString("aten::relu_");
  std::vector<torch::jit::Node*> found;  // the relus
  for (torch::jit::Node* node : graph.nodes()) {
    if (node->kind() != relu && node->kind() != relu_) continue;
    torch::jit::Value* input = node->input(0);
    if (input->node()->kind() == conv && only_read_by(input, node)) found.push_back(node);
  }
  for (torch::jit::Node* node : found) {
    torch::jit::Node* convolution = node->input(0)->node();
    torch::jit::WithInsertPoint guard(node);
    std::vector<torch::jit::NamedValue> args(convolution->inputs().begin(), convolution->inputs().end());
    torch::jit::Value* both = graph.insert(fused, args);
    both->setType(node->output()->type());
    node->output()->replaceAllUsesWith(both);
    node->destroy();
    // Shape reads of the convolution (a batch norm folded into it checked input.dim()) read
    // the fused output, of the same shape; they come before the relu, so it moves up to them.
    convolution->output()->replaceAllUsesWith(both);
    both->node()->moveBefore(convolution);
    convolution->destroy();
  }
  return static_cast<int>(found.size());
}

bool only_read_by(torch::jit::Value* value, torch::jit::Node* user) {
  for (const auto& use : value->uses()) {
    const std::string kind = use.user->kind().toQualString();
    if (use.user != user && kind != "aten::dim" && kind != "aten::size") return false;
  }
  return true;
}

bool is_direct_convolution(const std::string& kind) {
  return kind == "seqattr::conv1d_direct" || kind == "seqattr::conv1d_direct_relu" ||
         adds_residual(kind);
}

bool adds_residual(const std::string& kind) {
  return kind == "seqattr::conv1d_direct_relu_residual" ||
         kind == "seqattr::deeplift_relu_residual";
}

namespace {

// Whether `node` is aten::add(Tensor, Tensor, alpha=1) (alpha a constant one).
bool adds_with_unit_alpha(torch::jit::Node* node) {
  static const auto add = c10::Symbol::fromQualString("aten::add");
  if (node->kind() != add || node->inputs().size() != 3) return false;
  if (node->schema().overload_name() != "Tensor") return false;
  const auto alpha = torch::jit::toIValue(node->input(2));
  return alpha && ((alpha->isInt() && alpha->toInt() == 1) ||
                   (alpha->isDouble() && alpha->toDouble() == 1.0));
}

// The conv1d_direct_relu that `term` is the output of, used only by the add, whose input is
// `other`; else null.
torch::jit::Node* residual_convolution(torch::jit::Value* term, torch::jit::Value* other) {
  static const auto conv_relu = c10::Symbol::fromQualString("seqattr::conv1d_direct_relu");
  torch::jit::Node* node = term->node();
  if (node->kind() != conv_relu || term->uses().size() != 1) return nullptr;
  return node->input(0) == other ? node : nullptr;
}

}  // namespace

std::vector<std::pair<torch::jit::Node*, torch::jit::Node*>> residual_adds(
    torch::jit::Graph& graph, const ResidualMatch& layer) {
  std::vector<std::pair<torch::jit::Node*, torch::jit::Node*>> found;
  for (torch::jit::Node* node : graph.nodes()) {
    if (!adds_with_unit_alpha(node)) continue;
    torch::jit::Node* match = layer(node->input(1), node->input(0));
    if (!match) match = layer(node->input(0), node->input(1));
    if (match) found.emplace_back(node, match);
  }
  return found;
}

int fuse_residual_relus(torch::jit::Graph& graph) {
  static const auto fused = c10::Symbol::fromQualString("seqattr::conv1d_direct_relu_residual");
  const auto found = residual_adds(graph, residual_convolution);  // (add, convolution)
  for (const auto& [add, convolution] : found) {
    torch::jit::Node* both = graph.create(fused, convolution->inputs(), 2);
    both->insertBefore(add);
    both->output(0)->setType(add->output()->type());
    both->output(1)->setType(convolution->output()->type());
    add->output()->replaceAllUsesWith(both->output(0));
    add->destroy();
    convolution->destroy();
  }
  return static_cast<int>(found.size());
}

}  // namespace seqattr
