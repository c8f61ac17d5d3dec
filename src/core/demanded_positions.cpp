#include "core/demanded_positions.h"

#include <torch/csrc/jit/ir/constants.h>
#include <torch/csrc/jit/ir/ir.h>
#include <torch/csrc/jit/passes/constant_propagation.h>
#include <torch/csrc/jit/passes/dead_code_elimination.h>

#include <algorithm>
#include <limits>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/direct_convolutions.h"
#include "core/model_graph.h"

namespace seqattr {
namespace {

using torch::jit::Graph;
using torch::jit::Node;
using torch::jit::Value;

// Positions [lo, hi) along a value's length (its last dimension of three).
struct Span {
  int64_t lo = 0, hi = 0;
  bool empty() const { return hi <= lo; }
  bool operator==(const Span& other) const { return lo == other.lo && hi == other.hi; }
  bool operator!=(const Span& other) const { return !(*this == other); }
};

Span hull(const Span& a, const Span& b) {
  if (a.empty()) return b;
  if (b.empty()) return a;
  return {std::min(a.lo, b.lo), std::max(a.hi, b.hi)};
}

// What a node does along the length. Reader: anything not known to keep positions apart (it
// reads all of its operands).
enum class Role { Reader, Convolution, Pointwise, LengthSlice };

struct Step {
  Role role = Role::Reader;
  // Convolution: out[t] reads in[t - padding + k * dilation], k < kernel.
  int64_t padding = 0, dilation = 1, kernel = 1;
  int64_t start = 0;  // LengthSlice: the input position of output position 0
  Span window;        // Convolution: the output positions it computes (set going backward)
};

// Ops whose output at a position depends only on their operands at that position.
bool is_pointwise(const Node* node) {
  static const std::set<std::string> kinds = {
      "aten::relu",  "aten::sigmoid", "aten::tanh",       "aten::add",   "aten::sub",
      "aten::mul",   "aten::div",     "aten::dropout",    "aten::clone", "aten::contiguous",
      "seqattr::deeplift_relu"};
  return kinds.count(node->kind().toQualString()) > 0;
}

bool is_tensor(const Value* v) { return v->type()->kind() == c10::TypeKind::TensorType; }

std::optional<int64_t> constant_int(const Value* v) {
  const auto value = torch::jit::constant_as<int64_t>(v);
  return value ? std::optional<int64_t>(*value) : std::nullopt;
}

// The tensor behind a frozen constant or a chain of attribute reads from `self`.
std::optional<at::Tensor> tensor_value(const torch::jit::Module& module, const Graph& graph,
                                       const Value* v) {
  const auto value = known_value(module, graph, v);
  if (!value || !value->isTensor()) return std::nullopt;
  return value->toTensor();
}

class DemandedPositions {
 public:
  DemandedPositions(const torch::jit::Module& module, Graph& graph, int64_t length)
      : module_(module), graph_(graph) {
    length_[graph.inputs().at(1)] = length;
  }

  int run() {
    const std::vector<Node*> nodes(graph_.nodes().begin(), graph_.nodes().end());
    for (Node* node : nodes) {
      if (!node->blocks().empty()) return 0;  // control flow: its bodies are not followed
      steps_[node] = classify(node);
    }
    for (const Value* v : graph_.outputs()) want(v, full(v));
    for (auto node = nodes.rbegin(); node != nodes.rend(); ++node) demand_inputs(*node);
    int narrowed = 0;
    for (Node* node : nodes) narrowed += rewrite(node);
    return narrowed;
  }

 private:
  bool known(const Value* v) const { return length_.count(v) > 0; }
  Span full(const Value* v) const { return known(v) ? Span{0, length_.at(v)} : Span{}; }

  // Each tensor operand's length where known; nullopt if any differs or is unknown.
  std::optional<int64_t> common_length(const Node* node) const {
    std::optional<int64_t> common;
    for (const Value* v : node->inputs()) {
      if (!is_tensor(v)) continue;
      if (!known(v) || (common && *common != length_.at(v))) return std::nullopt;
      common = length_.at(v);
    }
    return common;
  }

  Step classify(const Node* node) {
    Step step;
    if (is_direct_convolution(node->kind().toQualString()) && known(node->input(0))) {
      const auto padding = constant_int(node->input(3));
      const auto dilation = constant_int(node->input(4));
      const auto weight = tensor_value(module_, graph_, node->input(1));
      if (!padding || !dilation || !weight || weight->dim() != 3) return step;
      const int64_t in = length_.at(node->input(0));
      const int64_t out = in + 2 * *padding - *dilation * (weight->size(2) - 1);
      const bool residual = adds_residual(node->kind().toQualString());
      if (out < 1 || (residual && ((in - out) < 0 || (in - out) % 2 != 0))) {
        return step;
      }
      step.role = Role::Convolution;
      step.padding = *padding;
      step.dilation = *dilation;
      step.kernel = weight->size(2);
      for (const Value* v : node->outputs()) length_[v] = out;
      return step;
    }
    if (node->kind() == c10::aten::slice && known(node->input(0))) {
      const auto dim = constant_int(node->input(1));
      const auto step_size = constant_int(node->input(4));
      if (!dim || !step_size || *step_size != 1 || *dim < -3 || *dim > 2) return step;
      const int64_t in = length_.at(node->input(0));
      if (*dim != 2 && *dim != -1) {  // a batch or channel slice keeps the positions
        length_[node->output()] = in;
        step.role = Role::Pointwise;
        return step;
      }
      const auto bound = [&](const Value* v, int64_t otherwise) -> std::optional<int64_t> {
        if (v->mustBeNone()) return otherwise;
        auto b = constant_int(v);
        if (!b) return std::nullopt;
        if (*b < 0) *b += in;
        return std::clamp<int64_t>(*b, 0, in);
      };
      const auto start = bound(node->input(2), 0), end = bound(node->input(3), in);
      if (!start || !end || *end <= *start) return step;
      length_[node->output()] = *end - *start;
      step.role = Role::LengthSlice;
      step.start = *start;
      return step;
    }
    if (is_pointwise(node) && node->outputs().size() == 1 && is_tensor(node->output())) {
      if (const auto length = common_length(node)) {
        length_[node->output()] = *length;
        step.role = Role::Pointwise;
        return step;
      }
    }
    return step;
  }

  void want(const Value* v, const Span& span) {
    if (!known(v) || span.empty()) return;
    const Span clipped{std::max<int64_t>(span.lo, 0), std::min(span.hi, length_.at(v))};
    demand_[v] = hull(demand_[v], clipped);
  }

  // What the node's outputs are read at; all of them where nothing reads them.
  Span demanded(const Node* node) const {
    Span span;
    for (const Value* v : node->outputs()) {
      if (const auto it = demand_.find(v); it != demand_.end()) span = hull(span, it->second);
    }
    return span.empty() ? full(node->output(0)) : span;
  }

  void demand_inputs(Node* node) {
    Step& step = steps_.at(node);
    switch (step.role) {
      case Role::Reader:
        for (const Value* v : node->inputs()) want(v, full(v));
        return;
      case Role::Pointwise:
        for (const Value* v : node->inputs()) want(v, demanded(node));
        return;
      case Role::LengthSlice: {
        const Span d = demanded(node);
        want(node->input(0), {step.start + d.lo, step.start + d.hi});
        return;
      }
      case Role::Convolution: {
        const Span d = demanded(node), reads = read_by(step, d);
        // Narrowed only where the part read lies inside the input: no padding, so the op's
        // padding becomes 0 and the residual term its input's centre.
        const bool narrow = d != full(node->output(0)) && reads.lo >= 0 &&
                            reads.hi <= length_.at(node->input(0));
        step.window = narrow ? d : full(node->output(0));
        want(node->input(0), read_by(step, step.window));  // clipped to the input: its padding
        return;
      }
    }
  }

  // The input positions a convolution reads to compute `window` of its output (outside the
  // input: its padding).
  static Span read_by(const Step& step, const Span& window) {
    const int64_t reach = step.dilation * (step.kernel - 1);
    return {window.lo - step.padding, window.hi - step.padding + reach};
  }

  // The positions `v` holds now, in its own coordinates.
  Span holds(const Value* v) const {
    const auto it = held_.find(v);
    return it == held_.end() ? full(v) : it->second;
  }

  // `v` cut to `span` (which it holds) before `reader`: itself where it holds just that.
  Value* cut(Value* v, const Span& span, Node* reader) {
    const Span h = holds(v);
    TORCH_INTERNAL_ASSERT(h.lo <= span.lo && span.hi <= h.hi, "demanded positions: a value holds [",
                          h.lo, ", ", h.hi, "), its reader needs [", span.lo, ", ", span.hi, ")");
    if (h == span) return v;
    torch::jit::WithInsertPoint guard(reader);
    Value* part =
        graph_.insert(c10::aten::slice, {v, int64_t{2}, span.lo - h.lo, span.hi - h.lo, int64_t{1}});
    part->setType(v->type());
    held_[part] = span;
    length_[part] = length_.at(v);
    return part;
  }

  int rewrite(Node* node) {
    const Step& step = steps_.at(node);
    switch (step.role) {
      case Role::Reader:
        for (size_t i = 0; i < node->inputs().size(); ++i) {
          Value* v = node->input(i);
          if (known(v)) node->replaceInput(i, cut(v, full(v), node));
        }
        return 0;
      case Role::Pointwise: {
        const Span d = demanded(node);
        for (size_t i = 0; i < node->inputs().size(); ++i) {
          if (known(node->input(i))) node->replaceInput(i, cut(node->input(i), d, node));
        }
        held_[node->output()] = d;
        return 0;
      }
      case Role::LengthSlice: {
        const Span d = demanded(node), h = holds(node->input(0));
        torch::jit::WithInsertPoint guard(node);
        const int64_t end = step.start + d.hi - h.lo;
        // The whole of what the input holds: drop_identity_slices removes such a slice.
        const bool whole = step.start + d.lo - h.lo == 0 && end == h.hi - h.lo;
        node->replaceInput(2, graph_.insertConstant(step.start + d.lo - h.lo));
        const int64_t kept_end = whole ? std::numeric_limits<int64_t>::max() : end;
        node->replaceInput(3, graph_.insertConstant(kept_end));
        held_[node->output()] = d;
        return 0;
      }
      case Role::Convolution: {
        const bool whole = step.window == full(node->output(0));
        const Span reads = whole ? full(node->input(0)) : read_by(step, step.window);
        node->replaceInput(0, cut(node->input(0), reads, node));
        for (const Value* v : node->outputs()) held_[v] = step.window;
        if (whole) return 0;
        torch::jit::WithInsertPoint guard(node);
        node->replaceInput(3, graph_.insertConstant(int64_t{0}));
        return 1;
      }
    }
    return 0;
  }

  const torch::jit::Module& module_;
  Graph& graph_;
  std::unordered_map<const Value*, int64_t> length_;  // of (N, C, L) values along the input's L
  std::unordered_map<const Node*, Step> steps_;
  std::unordered_map<const Value*, Span> demand_;     // positions something reads
  std::unordered_map<const Value*, Span> held_;       // positions computed, where not all
};

// Reads of the model input's length (aten::size(x, 2), as a trace records BPNet's crop)
// become `length`, then fold.
void fix_input_length(Graph& graph, int64_t length) {
  std::vector<Node*> reads;
  for (Node* node : graph.nodes()) {
    if (node->kind() != c10::aten::size || node->inputs().size() != 2) continue;
    const auto dim = constant_int(node->input(1));
    if (node->input(0) == graph.inputs().at(1) && dim && (*dim == 2 || *dim == -1)) {
      reads.push_back(node);
    }
  }
  for (Node* node : reads) {
    torch::jit::WithInsertPoint guard(node);
    node->output()->replaceAllUsesWith(graph.insertConstant(length));
    node->destroy();
  }
}

}  // namespace

int compute_only_demanded_positions(const torch::jit::Module& module,
                                    std::shared_ptr<torch::jit::Graph> graph, int64_t length) {
  if (graph->inputs().size() != 2) return 0;
  fix_input_length(*graph, length);
  torch::jit::ConstantPropagation(graph);
  torch::jit::EliminateDeadCode(graph);
  const int narrowed = DemandedPositions(module, *graph, length).run();
  torch::jit::EliminateDeadCode(graph);
  return narrowed;
}

}  // namespace seqattr
