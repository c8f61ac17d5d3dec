#include "methods/deeplift/delta_graph.h"

#include <torch/csrc/jit/passes/dead_code_elimination.h>

#include <functional>
#include <set>
#include <unordered_map>
#include <vector>

#include "core/model_graph.h"
#include "methods/deeplift/graph_rewrite.h"

namespace seqattr::deeplift {
namespace {

using torch::jit::Graph;
using torch::jit::NamedValue;
using torch::jit::Node;
using torch::jit::Value;

// Linear operations without a constant term: Δ goes through the operation itself. Only the
// first operand (the data, or the list of tensors for cat/stack) may carry Δ.
const std::set<std::string>& same_op_kinds() {
  static const std::set<std::string> kinds = {
      "aten::avg_pool1d", "aten::adaptive_avg_pool1d", "aten::mean", "aten::sum", "aten::cat",
      "aten::stack", "aten::slice", "aten::select", "aten::narrow", "aten::index_select",
      "aten::reshape", "aten::view", "aten::flatten", "aten::squeeze", "aten::unsqueeze",
      "aten::permute", "aten::transpose", "aten::t", "aten::contiguous", "aten::expand",
      "aten::repeat", "aten::flip", "aten::roll", "aten::chunk", "aten::split", "aten::unbind",
      "aten::clone", "aten::dropout", "aten::feature_dropout", "aten::alpha_dropout",
      "aten::neg", "prim::ListUnpack", "prim::TupleUnpack", "prim::TupleIndex",
      "aten::__getitem__", "aten::to", "aten::type_as", "aten::expand_as", "aten::view_as",
      "aten::reshape_as"};
  return kinds;
}

// Of those, the ones whose other tensor operand gives only a shape or dtype.
const std::set<std::string>& shape_from_other_kinds() {
  static const std::set<std::string> kinds = {"aten::to", "aten::type_as", "aten::expand_as",
                                              "aten::view_as", "aten::reshape_as"};
  return kinds;
}

// Nonlinear operations taken at both points in float64: the rescale rule's activations
// (graph_rewrite.h; ReLU aside, mapped exactly in float32), softmax and log_softmax (not
// elementwise, but functions of their row), bpnet-lite's profile scaling.
bool evaluated_at_both_points(const std::string& kind) {
  return (rescale_ops().count(kind) > 0 && kind != "aten::relu") || kind == "aten::softmax" ||
         kind == "aten::log_softmax" || kind == "seqattr::profile_logit_scaling";
}

const std::set<std::string>& convolution_kinds() {
  static const std::set<std::string> kinds = {"aten::_convolution", "aten::conv1d", "aten::conv2d",
                                              "aten::convolution", "aten::linear"};
  return kinds;
}

bool is_constant(const Value* v, const c10::IValue& expected) {
  const auto value = torch::jit::toIValue(v);
  if (!value) return false;
  if (expected.isBool()) return value->isBool() && value->toBool() == expected.toBool();
  if (expected.isString()) return value->isString() && value->toStringRef() == expected.toStringRef();
  if (value->isInt()) return static_cast<double>(value->toInt()) == expected.toDouble();
  return value->isDouble() && value->toDouble() == expected.toDouble();
}

class DeltaBuilder {
 public:
  explicit DeltaBuilder(Graph& graph) : graph_(graph) {}

  // Maps every node; false (with unsupported_op set) at the first that has no mapping.
  bool build() {
    const std::vector<Node*> nodes(graph_.nodes().begin(), graph_.nodes().end());  // the model's
    Value* input = graph_.inputs().at(1);
    {
      torch::jit::WithInsertPoint guard(*graph_.nodes().begin());
      delta_[input] = insert("seqattr::deeplift_input_delta", {input});
    }
    for (Node* node : nodes) {
      torch::jit::WithInsertPoint guard(node->next());
      if (!visit(node)) {
        unsupported_op = node->kind().toQualString();
        return false;
      }
    }
    return true;
  }

  // Gives each rule op its (Δx, Δy), its last two operands, and records the output's Δ.
  void wire() {
    for (const auto& [rule, dx, dy] : rules_) {
      const size_t n = rule->inputs().size();
      rule->replaceInput(n - 2, dx);
      rule->replaceInput(n - 1, dy);
    }
    Node* ret = graph_.return_node();
    Value* output = ret->inputs().at(0);
    if (Value* d = delta(output); d != nullptr && output->type()->kind() == c10::TypeKind::TensorType) {
      torch::jit::WithInsertPoint guard(ret);
      ret->replaceInput(0, insert("seqattr::deeplift_output_delta", {output, d}));
    }
  }

  std::string unsupported_op;

 private:
  Value* delta(Value* v) const {
    const auto it = delta_.find(v);
    return it == delta_.end() ? nullptr : it->second;
  }

  Value* insert(const std::string& op, std::vector<NamedValue> args) {
    return graph_.insert(c10::Symbol::fromQualString(op), args);
  }

  // `node` again at the insert point, its operands replaced by `operand(value)`.
  Node* clone(Node* node, const std::function<Value*(Value*)>& operand) {
    return graph_.insertNode(graph_.createClone(node, operand));
  }

  void map_outputs(Node* from, Node* to) {
    for (size_t i = 0; i < from->outputs().size(); ++i) delta_[from->output(i)] = to->output(i);
  }

  // `value` scaled by the constant or scalar `alpha` (aten::add's and aten::sub's).
  Value* scaled(Value* value, Value* alpha) {
    return is_constant(alpha, 1.0) ? value : insert("aten::mul", {value, alpha});
  }

  Value* zeros_like(Value* v) { return insert("seqattr::deeplift_zero_delta", {v}); }

  // The Δ of a tensor operand, zeros where it has none.
  Value* delta_or_zero(Value* v) {
    if (Value* d = delta(v)) return d;
    return v->type()->kind() == c10::TypeKind::TensorType ? zeros_like(v) : v;
  }

  Value* delta_or_value(Value* v) { return delta(v) ? delta(v) : v; }

  bool visit(Node* node) {
    const std::string kind = node->kind().toQualString();
    const auto in = node->inputs();
    if (kind == "seqattr::deeplift_rescale" || kind == "seqattr::deeplift_max_pool1d" ||
        kind == "seqattr::deeplift_softmax") {
      Value* dx = delta(in[0]);
      Value* dy = delta(in[1]);
      if (!dx || !dy) return false;
      rules_.push_back({node, dx, dy});
      delta_[node->output()] = dy;
      return true;
    }
    if (kind == "seqattr::deeplift_detached_product") {
      Value* dz = delta(in[2]);
      if (!dz) return false;
      delta_[node->output()] = dz;
      return true;
    }
    std::vector<bool> has(in.size());
    bool any = false;
    for (size_t i = 0; i < in.size(); ++i) any = any || (has[i] = delta(in[i]) != nullptr);
    const bool tensor_outputs = std::any_of(node->outputs().begin(), node->outputs().end(),
                                            [](const Value* v) { return value_carries_tensors(v); });
    if (!any || !tensor_outputs) return true;  // constants, parameters, sizes
    if (!node->blocks().empty()) return false;
    return map_node(node, kind, has);
  }

  bool map_node(Node* node, const std::string& kind, const std::vector<bool>& has) {
    const auto in = node->inputs();
    auto others_have_delta = [&] { return std::any_of(has.begin() + 1, has.end(), [](bool b) { return b; }); };
    if (kind == "aten::detach") {
      delta_[node->output()] = delta(in[0]);
      return true;
    }
    if (kind == "prim::ListConstruct" || kind == "prim::TupleConstruct") {
      map_outputs(node, clone(node, [&](Value* v) { return delta_or_zero(v); }));
      return true;
    }
    if (same_op_kinds().count(kind)) {
      if (!has[0]) {
        if (!shape_from_other_kinds().count(kind)) return false;
        delta_[node->output()] = zeros_like(node->output());
        return true;
      }
      if (others_have_delta() && !shape_from_other_kinds().count(kind)) return false;
      map_outputs(node, clone(node, [&](Value* v) { return v == in[0] ? delta(v) : v; }));
      return true;
    }
    if (convolution_kinds().count(kind) || kind == "aten::batch_norm") return map_affine(node, kind, has);
    if (kind == "aten::constant_pad_nd" || kind == "aten::pad") return map_padding(node, kind, has);
    if (kind == "aten::add" || kind == "aten::sub" || kind == "aten::rsub") return map_sum(node, kind);
    if (kind == "aten::mul" || kind == "aten::div" || kind == "aten::matmul" || kind == "aten::mm" ||
        kind == "aten::bmm" || kind == "aten::addmm") {
      return map_product(node, kind, has);
    }
    if (kind == "aten::relu") {
      if (!has[0] || others_have_delta()) return false;
      delta_[node->output()] = insert("seqattr::deeplift_relu_delta", {in[0], delta(in[0])});
      return true;
    }
    if (kind == "aten::max_pool1d") {
      if (!has[0] || others_have_delta()) return false;
      delta_[node->output()] = insert("seqattr::deeplift_max_pool1d_delta",
                                      {in[0], delta(in[0]), in[1], in[2], in[3], in[4], in[5]});
      return true;
    }
    if (evaluated_at_both_points(kind)) {
      if (!has[0] || others_have_delta()) return false;
      Value* points = insert("seqattr::deeplift_delta_points", {in[0], delta(in[0])});
      Node* at_points = clone(node, [&](Value* v) {
        if (v == in[0]) return points;
        return v->type()->kind() == c10::TypeKind::TensorType ? insert("seqattr::deeplift_to_double", {v}) : v;
      });
      delta_[node->output()] =
          insert("seqattr::deeplift_delta_difference", {at_points->output(), node->output()});
      return true;
    }
    return false;
  }

  // Convolutions and linear layers without their bias; batch norm (eval) without its shift.
  bool map_affine(Node* node, const std::string& kind, const std::vector<bool>& has) {
    const auto in = node->inputs();
    if (!has[0] || std::any_of(has.begin() + 1, has.end(), [](bool b) { return b; })) return false;
    Value* none = graph_.insertConstant(c10::IValue());
    if (kind == "aten::batch_norm") {
      // Running statistics in eval mode; with batch statistics it is not per-row linear.
      if (in.size() < 6 || in[3]->type()->kind() == c10::TypeKind::NoneType ||
          !is_constant(in[5], c10::IValue(false))) {
        return false;
      }
      Value* zero_mean = zeros_like(in[3]);
      map_outputs(node, clone(node, [&](Value* v) {
        return v == in[0] ? delta(v) : v == in[2] ? none : v == in[3] ? zero_mean : v;
      }));
      return true;
    }
    if (in.size() < 3) return false;
    map_outputs(node, clone(node, [&](Value* v) { return v == in[0] ? delta(v) : v == in[2] ? none : v; }));
    return true;
  }

  // Constant padding pads Δ with zeros; reflect/replicate/circular are linear as they are.
  bool map_padding(Node* node, const std::string& kind, const std::vector<bool>& has) {
    const auto in = node->inputs();
    if (!has[0] || has[1]) return false;
    Value* pad_value = nullptr;  // the operand that is replaced by zero padding
    Value* zero = nullptr;
    if (kind == "aten::constant_pad_nd") {
      if (in.size() > 2) pad_value = in[2], zero = graph_.insertConstant(0.0);
    } else if (is_constant(in[2], c10::IValue(std::string("constant")))) {
      if (in.size() > 3) pad_value = in[3], zero = graph_.insertConstant(c10::IValue());
    } else if (!is_constant(in[2], c10::IValue(std::string("reflect"))) &&
               !is_constant(in[2], c10::IValue(std::string("replicate"))) &&
               !is_constant(in[2], c10::IValue(std::string("circular")))) {
      return false;
    }
    map_outputs(node, clone(node, [&](Value* v) {
      return v == in[0] ? delta(v) : (pad_value && v == pad_value) ? zero : v;
    }));
    return true;
  }

  // a + alpha b, a − alpha b, b − alpha a (rsub's self is a).
  bool map_sum(Node* node, const std::string& kind) {
    const auto in = node->inputs();
    if (in.size() != 3 || node->output()->type()->kind() != c10::TypeKind::TensorType) return false;
    Value* a = delta(in[0]);
    Value* b = delta(in[1]);
    Value* alpha = in[2];
    Value* out = nullptr;
    if (kind == "aten::add") {
      out = a && b ? clone(node, [&](Value* v) { return delta_or_value(v); })->output()
            : a    ? a
                   : scaled(b, alpha);
    } else if (kind == "aten::sub") {
      out = a && b ? clone(node, [&](Value* v) { return delta_or_value(v); })->output()
            : a    ? a
                   : insert("aten::neg", {scaled(b, alpha)});
    } else {  // rsub
      out = a && b ? insert("aten::sub", {b, a, alpha}) : b ? b : insert("aten::neg", {scaled(a, alpha)});
    }
    delta_[node->output()] = out;
    return true;
  }

  bool map_product(Node* node, const std::string& kind, const std::vector<bool>& has) {
    const auto in = node->inputs();
    if (kind == "aten::addmm") {
      if (in.size() != 5 || (has[1] && has[2])) return false;
      map_outputs(node, clone(node, [&](Value* v) { return v == in[0] ? delta_or_zero(v) : delta_or_value(v); }));
      return true;
    }
    if (in.size() != 2) return false;  // div with a rounding mode
    if (has[0] && has[1]) {
      if (kind != "aten::mul") return false;
      delta_[node->output()] =
          insert("seqattr::deeplift_delta_product", {in[0], delta(in[0]), in[1], delta(in[1])});
      return true;
    }
    if (kind == "aten::div" && has[1]) return false;
    map_outputs(node, clone(node, [&](Value* v) { return delta_or_value(v); }));
    return true;
  }

  Graph& graph_;
  std::unordered_map<Value*, Value*> delta_;
  struct RuleDeltas {
    Node* rule;
    Value* dx;
    Value* dy;
  };
  std::vector<RuleDeltas> rules_;
};

}  // namespace

DeltaPropagation add_delta_propagation(torch::jit::Graph& graph) {
  DeltaBuilder builder(graph);
  DeltaPropagation out;
  out.added = builder.build();
  if (out.added) {
    builder.wire();
  } else {
    out.unsupported_op = builder.unsupported_op;
  }
  // Unwired, every Δ node is unused: this removes them all again.
  torch::jit::EliminateDeadCode(graph.block());
  return out;
}

}  // namespace seqattr::deeplift
