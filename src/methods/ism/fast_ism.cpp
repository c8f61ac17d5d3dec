#include "methods/ism/fast_ism.h"

#include <torch/csrc/jit/passes/dead_code_elimination.h>

#include <algorithm>
#include <numeric>
#include <optional>
#include <unordered_set>

#include "core/model_graph.h"
#include "methods/ism/fast_ism_pass.h"
#include "methods/ism/schema_args.h"

namespace seqattr {

using fast_ism::Env;
using fast_ism::input_named;
using torch::jit::Node;
using torch::jit::Value;

FastIsmPlan FastIsmPlan::analyse(const Model& model) {
  return analyse(model.module(), model.device());
}

namespace {

// The permutation a permute or transpose node applies to a tensor of `rank` dimensions, or
// none when its arguments are not constants.
std::optional<std::vector<int64_t>> permutation_of(const Node* node, int64_t rank) {
  const std::string kind = node->kind().toQualString();
  std::vector<int64_t> order(rank);
  std::iota(order.begin(), order.end(), 0);
  const auto normal = [rank](int64_t d) { return d < 0 ? d + rank : d; };
  if (kind == "aten::permute") {
    const auto dims = torch::jit::toIValue(input_named(node, "dims"));
    if (!dims || !dims->isIntList() || static_cast<int64_t>(dims->toIntVector().size()) != rank) {
      return std::nullopt;
    }
    const auto list = dims->toIntVector();
    for (int64_t i = 0; i < rank; ++i) order[i] = normal(list[i]);
    return order;
  }
  if (kind == "aten::transpose") {
    const auto a = torch::jit::toIValue(input_named(node, "dim0"));
    const auto b = torch::jit::toIValue(input_named(node, "dim1"));
    if (!a || !b || !a->isInt() || !b->isInt()) return std::nullopt;
    std::swap(order[normal(a->toInt())], order[normal(b->toInt())]);
    return order;
  }
  return std::nullopt;
}

// A permute undone by the next one (an (N, L, 4) model's own permute after the adapter's,
// --input-layout nlc) is no operation: its reader reads the first one's input.
void drop_inverse_permutes(torch::jit::Graph& graph) {
  constexpr int64_t kRank = 3;  // one-hot batches; other ranks are left alone
  for (Node* node : graph.nodes()) {
    Node* first = node->inputs().empty() ? nullptr : node->inputs().at(0)->node();
    if (!first || first->kind() == c10::prim::Param) continue;
    const auto outer = permutation_of(node, kRank);
    const auto inner = permutation_of(first, kRank);
    if (!outer || !inner) continue;
    bool identity = true;
    for (int64_t i = 0; i < kRank; ++i) identity = identity && (*inner)[(*outer)[i]] == i;
    if (identity) node->output()->replaceAllUsesWith(first->inputs().at(0));
  }
  torch::jit::EliminateDeadCode(graph.block());
}

// Whether every change the rules carry through `graph` is exact from a reference rounded to
// the model's dtype: convolutions, linear maps and sums never multiply a change by the
// reference, and piecewise-linear activations read only its sign. Smooth activations,
// softmax, products of two changes and operations without a rule do, so a session of such a
// graph computes its reference in float64: on a BPNet profile head, a float32 reference put
// the change 3e-5 off.
bool float32_reference_suffices(const torch::jit::Graph& graph) {
  static const std::unordered_set<std::string> linear_or_piecewise = {
      "prim::Constant", "prim::ListConstruct", "prim::TupleConstruct", "prim::NumToTensor",
      "prim::dtype", "prim::device", "aten::size", "aten::dim", "aten::Int", "aten::conv1d",
      "aten::relu", "aten::leaky_relu", "aten::hardtanh", "aten::relu6", "aten::max_pool1d",
      "aten::avg_pool1d", "aten::batch_norm", "aten::add", "aten::sub", "aten::rsub",
      "aten::mean", "aten::sum", "aten::linear", "aten::flatten", "aten::slice", "aten::select",
      "aten::cat", "aten::view", "aten::reshape", "aten::unsqueeze", "aten::squeeze",
      "aten::transpose", "aten::permute", "aten::contiguous", "aten::dropout", "aten::clone",
      "aten::detach", "aten::neg", "aten::narrow"};
  for (const Node* node : graph.nodes()) {
    const std::string kind = node->kind().toQualString();
    if (kind == "aten::mul" || kind == "aten::div") {
      // By a constant (a scale): linear. By another value: a product of changes.
      bool constant = false;
      for (const Value* v : node->inputs()) constant = constant || v->node()->kind() == c10::prim::Constant;
      if (!constant) return false;
      continue;
    }
    if (!linear_or_piecewise.count(kind)) return false;
  }
  return true;
}

}  // namespace

FastIsmPlan FastIsmPlan::analyse(const torch::jit::Module& module, const torch::Device& device) {
  FastIsmPlan plan;
  plan.device_ = device;
  for (const auto& parameter : module.parameters()) {
    plan.dtype_ = parameter.scalar_type();
    break;
  }
  auto forward = inlined_forward(module, Freezing::Freeze);  // no gradients: detach is moot
  plan.frozen_ = forward.module;
  plan.graph_ = forward.graph;
  canonicalise_convolutions(*plan.graph_);
  drop_inverse_permutes(*plan.graph_);
  for (const Node* node : plan.graph_->nodes()) {
    if (!node->blocks().empty()) {
      plan.reason_ = std::string("control flow (") + node->kind().toQualString() + ")";
      return plan;
    }
  }
  // The first operation on the input decides whether windowing helps at all. Shape queries
  // (a traced model's sizes) are not data.
  const Value* input = plan.graph_->inputs().at(1);
  for (const auto& use : input->uses()) {
    const std::string kind = use.user->kind().toQualString();
    if (kind == "aten::size" || kind == "aten::dim" || kind == "prim::dtype" ||
        kind == "prim::device") {
      continue;
    }
    if (!fast_ism::windows_from_input(use.user->kind())) {
      plan.reason_ = "the input's first operation " + kind + " is not windowed";
      return plan;
    }
  }
  plan.operations_ = fast_ism::lookup_operations(*plan.graph_);
  plan.float32_reference_ = float32_reference_suffices(*plan.graph_);
  plan.qualifies_ = true;
  return plan;
}

namespace {

struct Reference {
  Env values;                          // every value of the graph, in the model's dtype
  Env exact;                           // small floating values as computed (float64)
  fast_ism::PrecomputedTerms terms;    // computed before rounding, then rounded
};

// Values of at most this many elements a row are kept in float64 as well: a model's tail
// after its last per-position layer (profile logits, their softmax), whose rules multiply
// changes by the reference. The trunk's wide activations are not (memory).
constexpr int64_t kExactElementsPerRow = 1 << 16;

// Every value of `graph` on `batch` (rows.stored rows), computed in `compute` and kept in
// `storage`, and the precomputed terms (differences of reference values, such as a pool's
// gaps to its maximum, need the unrounded values).
Reference reference_values(torch::jit::Graph& graph, const c10::IValue& self,
                           const torch::Tensor& batch, const fast_ism::ReferenceRows& rows,
                           torch::ScalarType compute, torch::ScalarType storage) {
  TORCH_INTERNAL_ASSERT(batch.size(0) == rows.stored);
  Env env, computed;
  env[graph.inputs().at(0)] = computed[graph.inputs().at(0)] = self;
  env[graph.inputs().at(1)] = batch;
  computed[graph.inputs().at(1)] = fast_ism::cast_floating(env[graph.inputs().at(1)], compute);
  for (Node* node : graph.nodes()) {
    if (node->kind() == c10::prim::Constant) {
      env[node->output()] = *torch::jit::toIValue(node->output());
      computed[node->output()] = fast_ism::cast_floating(env[node->output()], compute);
      continue;
    }
    std::vector<c10::IValue> inputs;
    for (const Value* v : node->inputs()) inputs.push_back(computed.at(v));
    const auto outputs = fast_ism::run_node(node, std::move(inputs));
    for (size_t i = 0; i < outputs.size(); ++i) {
      computed[node->outputs()[i]] = outputs[i];
      env[node->outputs()[i]] = fast_ism::cast_floating(outputs[i], storage);
    }
  }
  auto terms = fast_ism::precompute_terms(graph, computed, rows);
  for (auto& [node, list] : terms) {
    for (auto& t : list) t = t.to(storage);
  }
  Env exact;
  if (compute != storage) {
    for (const auto& [value, v] : computed) {
      if (v.isTensor() && v.toTensor().is_floating_point() && v.toTensor().dim() > 0 &&
          v.toTensor().numel() <= rows.stored * kExactElementsPerRow) {
        exact[value] = v;
      }
    }
  }
  return {std::move(env), std::move(exact), std::move(terms)};
}

// A session's reference, from which its changes are measured. Where they are exact from a
// reference rounded to the model's dtype (float32_reference_suffices), in that dtype: a
// float64 forward costs several float32 ones (LibTorch's float64 dilated convolution runs
// ~30 GFLOP/s here; on a 512-filter BPNet with 30 substitutions a sequence it was 40% of fast
// ISM's time). Else in float64, rounded once: a float32 forward's own rounding moves a
// profile head's result by several 1e-6 of the largest change. A graph that will not run in
// float64 (a cast to float32 inside it, say) runs in the model's dtype.
Reference session_reference(torch::jit::Graph& graph, const c10::IValue& self,
                            const torch::Tensor& batch, const fast_ism::ReferenceRows& rows,
                            torch::ScalarType dtype, bool model_dtype_suffices) {
  if (model_dtype_suffices) return reference_values(graph, self, batch, rows, dtype, dtype);
  try {
    return reference_values(graph, self, batch, rows, torch::kDouble, dtype);
  } catch (const c10::Error&) {
    return reference_values(graph, self, batch, rows, dtype, dtype);
  }
}

}  // namespace

FastIsmPlan::Session FastIsmPlan::start(const torch::Tensor& one_hot) const {
  Session session;
  session.plan_ = this;
  torch::NoGradGuard no_grad;
  fast_ism::ScopedOperations operations(operations_.get());
  session.input_ = one_hot.unsqueeze(0).to(device_, dtype_);
  const auto rows = fast_ism::ReferenceRows::one_sequence();
  const auto batch = torch::cat(std::vector<torch::Tensor>(rows.stored, session.input_));
  auto reference = session_reference(*graph_, frozen_._ivalue(), batch, rows, dtype_,
                                     float32_reference_);
  session.layout_ = rows;
  session.reference_ = std::move(reference.values);
  session.exact_ = std::move(reference.exact);
  session.terms_ = std::move(reference.terms);
  return session;
}

FastIsmPlan::Session FastIsmPlan::start_batch(const torch::Tensor& one_hots) const {
  TORCH_INTERNAL_ASSERT(one_hots.dim() == 3 && one_hots.size(0) >= 1);
  Session session;
  session.plan_ = this;
  session.sequences_ = one_hots.size(0);
  torch::NoGradGuard no_grad;
  fast_ism::ScopedOperations operations(operations_.get());
  // At least kMinMutantRows rows (a pass's minimum), the last sequence repeated.
  auto input = one_hots.to(device_, dtype_);
  const int64_t rows = std::max(fast_ism::kMinMutantRows, session.sequences_);
  if (rows > session.sequences_) {
    input = torch::cat({input, input.narrow(0, session.sequences_ - 1, 1)
                                   .expand({rows - session.sequences_, -1, -1})});
  }
  session.layout_ = fast_ism::ReferenceRows::one_per_mutant(rows);
  auto reference = session_reference(*graph_, frozen_._ivalue(), input, session.layout_, dtype_,
                                     float32_reference_);
  session.input_ = input;
  session.reference_ = std::move(reference.values);
  session.exact_ = std::move(reference.exact);
  session.terms_ = std::move(reference.terms);
  return session;
}

torch::Tensor FastIsmPlan::Session::outputs() const {
  const auto& output = reference_.at(plan_->graph_->outputs().at(0)).toTensor();
  return output.narrow(0, 0, sequences_).to(torch::kCPU);
}

int64_t FastIsmPlan::Session::bytes_per_sequence() const {
  int64_t bytes = 0;
  const auto add = [&bytes](const c10::IValue& v) {
    if (v.isTensor()) bytes += static_cast<int64_t>(v.toTensor().nbytes());
  };
  for (const auto& [value, v] : reference_) add(v);
  for (const auto& [value, v] : exact_) add(v);
  for (const auto& [node, list] : terms_) {
    for (const auto& t : list) add(t);
  }
  return bytes / layout_.stored;
}

torch::Tensor FastIsmPlan::Session::score(const std::vector<int64_t>& positions,
                                          const std::vector<int64_t>& bases, int64_t target) const {
  return changes(positions, bases).select(1, target);
}

torch::Tensor FastIsmPlan::Session::changes(const std::vector<int64_t>& positions,
                                            const std::vector<int64_t>& bases) const {
  TORCH_INTERNAL_ASSERT(!positions.empty() && positions.size() == bases.size());
  torch::NoGradGuard no_grad;
  fast_ism::ScopedOperations operations(plan_->operations_.get());
  // At least kMinMutantRows rows (run_mutant_pass): a single substitution is scored twice. A
  // batch session's rows are its sequences, padded as start_batch padded them.
  const int64_t count = static_cast<int64_t>(positions.size());
  TORCH_INTERNAL_ASSERT(layout_.used == 1 || count == sequences_);
  const int64_t rows = layout_.used == 1 ? std::max<int64_t>(fast_ism::kMinMutantRows, count)
                                         : layout_.used;
  std::vector<int64_t> position(rows, positions.back()), base(rows, bases.back());
  std::copy(positions.begin(), positions.end(), position.begin());
  std::copy(bases.begin(), bases.end(), base.begin());
  const auto result = fast_ism::run_mutant_pass(*plan_->graph_, reference_, layout_, &exact_,
                                                terms_, input_, position, base);
  return result.output_change.narrow(0, 0, count).to(torch::kCPU);
}

int64_t FastIsmPlan::Session::changes_per_mutant() const {
  torch::NoGradGuard no_grad;
  fast_ism::ScopedOperations operations(plan_->operations_.get());
  const int64_t middle = input_.size(-1) / 2;
  const std::vector<int64_t> position(layout_.used == 1 ? 2 : layout_.used, middle);
  std::vector<int64_t> base(position.size(), 0);
  base.back() = 1;
  const auto pass = fast_ism::run_mutant_pass(*plan_->graph_, reference_, layout_, &exact_, terms_,
                                              input_, position, base);
  return pass.tracked_changes / static_cast<int64_t>(position.size());
}

}  // namespace seqattr
