#include "methods/deeplift/graph_rewrite.h"

#include <torch/csrc/jit/ir/ir.h>

#include <algorithm>
#include <unordered_set>

#include "core/direct_convolutions.h"
#include "core/model_graph.h"
#include "methods/deeplift/delta_graph.h"

namespace seqattr::deeplift {
const std::set<std::string>& rescale_ops() {
  static const std::set<std::string> ops = {
      "aten::relu",    "aten::relu6",    "aten::leaky_relu", "aten::elu",      "aten::selu",
      "aten::celu",    "aten::gelu",     "aten::silu",       "aten::mish",     "aten::sigmoid",
      "aten::tanh",    "aten::softplus", "aten::log_sigmoid", "aten::hardtanh", "aten::prelu",
      "aten::exp",     "aten::log"};
  return ops;
}

bool piecewise_linear(const std::string& kind) {
  static const std::set<std::string> kinds = {"aten::relu", "aten::relu6", "aten::leaky_relu",
                                              "aten::hardtanh", "aten::prelu"};
  return kinds.count(kind) > 0;
}

namespace {

using torch::jit::Node;
using torch::jit::Value;

// Operations that are linear (or affine) in their input-dependent operand, so DeepLIFT's
// multipliers are their gradients. Products and quotients are checked separately.
const std::set<std::string>& linear_ops() {
  static const std::set<std::string> ops = {
      "aten::_convolution", "aten::conv1d", "aten::conv2d", "aten::convolution", "aten::linear",
      "aten::batch_norm", "aten::avg_pool1d", "aten::adaptive_avg_pool1d", "aten::add",
      "aten::sub", "aten::rsub", "aten::neg", "aten::mean", "aten::sum", "aten::cat", "aten::stack",
      "aten::slice", "aten::select", "aten::narrow", "aten::index_select", "aten::reshape",
      "aten::view", "aten::flatten", "aten::squeeze", "aten::unsqueeze", "aten::permute",
      "aten::transpose", "aten::t", "aten::contiguous", "aten::expand", "aten::expand_as",
      "aten::repeat", "aten::flip", "aten::roll", "aten::chunk", "aten::split", "aten::unbind",
      "aten::constant_pad_nd", "aten::pad", "aten::clone", "aten::to", "aten::type_as",
      "aten::dropout", "aten::feature_dropout", "aten::alpha_dropout", "aten::detach",
      "aten::size", "aten::dim", "aten::len", "aten::__getitem__", "aten::Int", "aten::Float"};
  return ops;
}

// Products and quotients are linear when only one factor depends on the input (and it is
// not the divisor); matmul-like ops likewise.
const std::set<std::string>& bilinear_ops() {
  static const std::set<std::string> ops = {"aten::mul", "aten::div", "aten::matmul", "aten::mm",
                                            "aten::bmm", "aten::addmm", "aten::einsum"};
  return ops;
}

// Constants, lists, tuples, attribute reads. Control flow (nodes with blocks) is not
// structural: nonlinearities inside it would escape the rewrite.
bool is_structural(const Node* node) { return node->kind().is_prim() && node->blocks().empty(); }

// Inserts `rule_op(x, y, extra...)` after `node` and points y's users at its result.
Value* insert_rule(torch::jit::Graph& graph, Node* node, const std::string& rule_op,
                 std::vector<torch::jit::NamedValue> extra) {
  Value* x = node->inputs()[0];
  Value* y = node->outputs()[0];
  torch::jit::WithInsertPoint guard(node->next());
  std::vector<torch::jit::NamedValue> args = {x, y};
  args.insert(args.end(), extra.begin(), extra.end());
  Value* ruled = graph.insert(c10::Symbol::fromQualString(rule_op), args);
  y->replaceAllUsesAfterNodeWith(ruled->node(), ruled);
  return ruled;
}

// Whether any value used inside the node's blocks (if/loop bodies) is in `values`.
bool blocks_use(const Node* node, const std::unordered_set<const Value*>& values) {
  for (const auto* block : node->blocks()) {
    for (const Node* inner : block->nodes()) {
      for (const Value* v : inner->inputs()) {
        if (values.count(v)) return true;
      }
      if (blocks_use(inner, values)) return true;
    }
    for (const Value* v : block->outputs()) {
      if (values.count(v)) return true;
    }
  }
  return false;
}

// Whether every reader of `value` is aten::detach.
bool only_detached(const Value* value) {
  const auto& uses = value->uses();
  return !uses.empty() && std::all_of(uses.begin(), uses.end(), [](const torch::jit::Use& use) {
    return use.user->kind() == c10::Symbol::fromQualString("aten::detach");
  });
}

}  // namespace

namespace {

// Inserts DeepLIFT's rule for `node`, an operation on the input that is not linear or
// structural, and records it (or records that it has none). `dependent` gains the rule's
// output.
void rule_node(torch::jit::Graph& graph, Node* node, const std::string& kind,
               const std::vector<bool>& input_dependent, bool detached_factor,
               std::unordered_set<const Value*>& dependent, RewrittenModel& out) {
  if (rescale_ops().count(kind) && input_dependent[0]) {
    dependent.insert(insert_rule(graph, node, "seqattr::deeplift_rescale", {}));
    out.ruled_ops[kind] = "rescale";
  } else if (kind == "seqattr::profile_logit_scaling") {
    out.ruled_ops[kind] = "rescale (bpnet-lite's profile rule)";
    // bpnet-lite's rule: z * softmax(z) as one elementwise nonlinearity, each element's
    // multiplier its own secant. Ill-conditioned as softmax's rule is (graph_rewrite.h).
    dependent.insert(insert_rule(graph, node, "seqattr::deeplift_rescale", {}));
    out.ill_conditioned = true;
  } else if (kind == "aten::max_pool1d") {
    const auto in = node->inputs();
    dependent.insert(insert_rule(graph, node, "seqattr::deeplift_max_pool1d",
                                 {in[1], in[2], in[3], in[4], in[5]}));
    out.ruled_ops[kind] = "max-pool";
  } else if (kind == "aten::softmax" && only_detached(node->output())) {
    // chrombpnet's stop-gradient weights: no gradient flows through it, so no rule.
    out.ruled_ops[kind] = "none needed (detached)";
    return;
  } else if (kind == "aten::softmax") {
    dependent.insert(insert_rule(graph, node, "seqattr::deeplift_softmax", {node->inputs()[1]}));
    out.ruled_ops[kind] = "softmax (Captum's)";
    out.ill_conditioned = true;
  } else if (detached_factor && input_dependent[0] != input_dependent[1]) {
    Value* w = node->inputs()[input_dependent[0] ? 1 : 0];
    Value* c = node->inputs()[input_dependent[0] ? 0 : 1];
    Value* z = node->outputs()[0];
    torch::jit::WithInsertPoint guard(node->next());
    Value* ruled = graph.insert(c10::Symbol::fromQualString("seqattr::deeplift_detached_product"),
                                 {w, c, z});
    z->replaceAllUsesAfterNodeWith(ruled->node(), ruled);
    dependent.insert(ruled);
    out.ruled_ops[kind] = "detached product";
  } else if (bilinear_ops().count(kind)) {
    const int dependent_factors = static_cast<int>(input_dependent[0]) +
                                  static_cast<int>(input_dependent.size() > 1 && input_dependent[1]);
    const bool divisor_dependent = kind == "aten::div" && input_dependent.size() > 1 && input_dependent[1];
    const bool addmm_product = kind == "aten::addmm" && input_dependent.size() > 2 &&
                               input_dependent[1] && input_dependent[2];
    if ((kind != "aten::addmm" && dependent_factors > 1) || divisor_dependent || addmm_product ||
        kind == "aten::einsum") {
      out.unruled_ops.insert(kind);
    } else {
      out.ruled_ops[kind] = "linear";
    }
  } else {
    out.unruled_ops.insert(kind);
  }
}

// Whether a rule takes a secant whose float32 evaluation from two activations can cancel: a
// smooth activation, exp or log. Piecewise-linear ones and max-pool divide differences of
// the same two values where both sides are on one piece (slope exact) and add, not cancel,
// across a kink; measured, their float32 results sit within 1e-6 of float64 either way
// (tests/unit/test_deeplift_exact.cpp). Softmax and the profile rule make a graph
// ill-conditioned, which runs in float64 instead.
bool rule_needs_delta(const std::string& kind, const std::string& rule) {
  return rule == "rescale" && !piecewise_linear(kind);
}

void choose_secants(torch::jit::Graph& graph, Secants secants, RewrittenModel& out) {
  if (secants == Secants::Auto && out.ill_conditioned) {
    // Run in float64 (prepare_model), where differences of activations are exact to ~1e-12:
    // carrying Δ would only add its pass.
    out.secants_note = "from float64 activations (softmax or profile rule)";
    return;
  }
  const bool wanted = secants == Secants::FromDelta ||
                      (secants == Secants::Auto &&
                       std::any_of(out.ruled_ops.begin(), out.ruled_ops.end(), [](const auto& op) {
                         return rule_needs_delta(op.first, op.second);
                       }));
  if (!wanted) {
    out.secants_note = secants == Secants::FromValues ? "from activations (as asked)"
                                                      : "from activations (piecewise-linear rules only)";
    return;
  }
  const auto delta = add_delta_propagation(graph);
  out.carries_delta = delta.added;
  out.secants_note = delta.added ? "from Δ carried through the graph"
                                 : "from activations (no Δ mapping for " + delta.unsupported_op + ")";
}

// A relu whose only reader is its rescale rule, the rule given no Δ, becomes one
// deeplift_relu (rules.cpp): the same numbers in fewer passes over the activations. Its
// backward needs x alone, which the relu's output no longer has to be kept for.
void fuse_relu_rules(torch::jit::Graph& graph) {
  static const auto rescale = c10::Symbol::fromQualString("seqattr::deeplift_rescale");
  static const auto relu = c10::Symbol::fromQualString("aten::relu");
  static const auto fused = c10::Symbol::fromQualString("seqattr::deeplift_relu");
  std::vector<Node*> rules;
  for (Node* node : graph.nodes()) {
    if (node->kind() == rescale) rules.push_back(node);
  }
  for (Node* rule : rules) {
    Value* x = rule->inputs()[0];
    Value* y = rule->inputs()[1];
    Node* producer = y->node();
    const bool without_delta = rule->inputs()[2]->mustBeNone() && rule->inputs()[3]->mustBeNone();
    if (producer->kind() != relu || producer->inputs()[0] != x || y->uses().size() != 1 ||
        !without_delta) {
      continue;
    }
    torch::jit::WithInsertPoint guard(rule);
    Value* ruled = graph.insert(fused, {x});
    ruled->setType(rule->output()->type());
    rule->output()->replaceAllUsesWith(ruled);
    rule->destroy();
    producer->destroy();
  }
}

}  // namespace

int fuse_relu_rule_residuals(torch::jit::Graph& graph) {
  static const auto rule = c10::Symbol::fromQualString("seqattr::deeplift_relu");
  static const auto conv = c10::Symbol::fromQualString("seqattr::conv1d_direct");
  static const auto fused = c10::Symbol::fromQualString("seqattr::deeplift_relu_residual");
  // The rule's node when `term` = deeplift_relu(conv1d_direct(other, ...)), both used once.
  const auto layer_rule = [&](Value* term, Value* other) -> Node* {
    Node* relu = term->node();
    if (relu->kind() != rule || term->uses().size() != 1) return nullptr;
    Node* convolution = relu->input(0)->node();
    if (convolution->kind() != conv || relu->input(0)->uses().size() != 1) return nullptr;
    return convolution->input(0) == other ? relu : nullptr;
  };
  const auto found = residual_adds(graph, layer_rule);  // (add, rule)
  for (const auto& [add, relu] : found) {
    Node* convolution = relu->input(0)->node();
    torch::jit::WithInsertPoint guard(add);
    std::vector<torch::jit::NamedValue> args(convolution->inputs().begin(), convolution->inputs().end());
    Value* layer = graph.insert(fused, args);
    layer->setType(add->output()->type());
    add->output()->replaceAllUsesWith(layer);
    add->destroy();
    relu->destroy();
    convolution->destroy();
  }
  return static_cast<int>(found.size());
}

RewrittenModel rewrite_for_deeplift(const torch::jit::Module& module, Secants secants) {
  // Not frozen: freezing's clean-up drops aten::detach, which must stay.
  auto forward = inlined_forward(module, Freezing::KeepAttributes);
  RewrittenModel out;
  out.module = forward.module;
  auto& graph = forward.graph;

  // Values that depend on the model input (graph input 1; input 0 is the module itself),
  // through anything but detach.
  std::unordered_set<const Value*> dependent = {graph->inputs().at(1)};
  // Values that depend on the input only through detach: constants to autograd, but not
  // the same for an input and its reference.
  std::unordered_set<const Value*> detached;
  std::vector<Node*> nodes(graph->nodes().begin(), graph->nodes().end());
  for (Node* node : nodes) {
    std::vector<bool> input_dependent;
    bool any = false, any_detached = false;
    for (const Value* v : node->inputs()) {
      input_dependent.push_back(dependent.count(v) > 0);
      any = any || input_dependent.back();
      any_detached = any_detached || detached.count(v) > 0;
    }
    const std::string kind = node->kind().toQualString();
    // Control flow that computes tensors from the input: its body is not rewritten. (Shape
    // checks, which only read sizes, are harmless.)
    const bool tensor_outputs = std::any_of(node->outputs().begin(), node->outputs().end(),
                                            [](const Value* v) { return value_carries_tensors(v); });
    if (!node->blocks().empty() && tensor_outputs && blocks_use(node, dependent)) {
      out.unruled_ops.insert(kind);
      any = true;
    }
    if (!any) {
      if (any_detached) detached.insert(node->outputs().begin(), node->outputs().end());
      continue;
    }
    if (kind == "aten::detach") {  // gradients stop here
      detached.insert(node->outputs().begin(), node->outputs().end());
      continue;
    }
    const bool detached_factor =
        kind == "aten::mul" && node->inputs().size() == 2 &&
        (detached.count(node->inputs()[0]) > 0 || detached.count(node->inputs()[1]) > 0);
    for (const Value* v : node->outputs()) {
      if (value_carries_tensors(v)) dependent.insert(v);
    }
    if (!node->blocks().empty() || is_structural(node)) continue;
    if (linear_ops().count(kind)) {
      if (node->outputs().size() > 0 && node->output(0)->type()->kind() == c10::TypeKind::TensorType) {
        out.ruled_ops[kind] = "linear";
      }
      continue;
    }

    rule_node(*graph, node, kind, input_dependent, detached_factor, dependent, out);
  }
  choose_secants(*graph, secants, out);
  if (!out.carries_delta) fuse_relu_rules(*graph);
  return out;
}

}  // namespace seqattr::deeplift
