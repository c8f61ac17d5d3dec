// The mutant pass's walk over a graph: the table of rules by node kind (the rules themselves are
// in rules_*.cpp), the generic path for nodes that no rule takes, and the precomputed terms.
#include "methods/ism/fast_ism_pass.h"

#include <algorithm>
#include <unordered_set>

#include "methods/ism/mutant_pass.h"

namespace seqattr::fast_ism {

int64_t dim_of(const c10::IValue& dim, int64_t rank) {
  const int64_t d = dim.toInt();
  return d < 0 ? d + rank : d;
}

namespace {

namespace aten = c10::aten;

// Elementwise, or per-channel: a window of positions is computed from the same window. The
// linear ones' change is the operation applied to the change (dropout only in eval mode).
const std::vector<c10::Symbol>& linear_pointwise_ops() {
  static const std::vector<c10::Symbol> ops = {aten::dropout, aten::neg, aten::clone,
                                               aten::contiguous, aten::detach};
  return ops;
}
const std::vector<c10::Symbol>& nonlinear_pointwise_ops() {
  static const std::vector<c10::Symbol> ops = {
      aten::relu6, aten::leaky_relu, aten::elu,      aten::selu,        aten::celu,     aten::gelu,
      aten::silu,  aten::mish,       aten::sigmoid,  aten::tanh,        aten::softplus,
      aten::log_sigmoid, aten::hardtanh, aten::prelu, aten::exp, aten::log};
  return ops;
}

}  // namespace

// Where a step is tried: on any node of its kind, or only where the node's input 0 is a
// change held as a Window, or only where input 0 was left to this node by the operation that
// computed it (left_to_reader_). (Not file-local: MutantPass::Step, a member type, holds it.)
enum class When { Always, WindowedInput, FusedInput };

// One rule to try for a node, and when.
struct MutantPass::Step {
  Step(Rule rule_, When when_ = When::Always, bool decides_ = false)
      : rule(rule_), when(when_), decides(decides_) {}
  Rule rule;
  When when;
  // Once tried, this step's answer is the node's: false sends it to the generic path rather
  // than on to the next step.
  bool decides;
};

// What a node kind tries: its steps in order until one sets the output, then (all false) the
// generic path. Only nodes with an input carrying a change or a list of them get here.
struct MutantPass::Entry {
  // The steps apply only to a node with one output, a tensor: all but list construction and
  // shape queries, whose outputs are the list and the sizes.
  bool tensor_output = true;
  std::vector<Step> steps;
};

const std::unordered_map<c10::Symbol, MutantPass::Entry>& MutantPass::rules() {
  static const auto table = [] {
    std::unordered_map<c10::Symbol, Entry> t;
    const auto add = [&t](const std::vector<c10::Symbol>& kinds, const Entry& entry) {
      for (const c10::Symbol kind : kinds) {
        TORCH_INTERNAL_ASSERT(t.emplace(kind, entry).second, "fast ISM: two rules for ",
                              kind.toQualString());
      }
    };
    // Each entry: {whether the node must have one tensor output, its steps}. Where a kind has
    // several steps, the specific forms come first (x[:] before a channel slice before a crop
    // along length) and the general linear map last.
    using P = MutantPass;
    const Step linear_map = {&P::rule_linear_map};
    add({c10::prim::ListConstruct}, {false, {{&P::rule_list}}});
    add({aten::size, aten::dim, c10::prim::dtype, c10::prim::device}, {false, {{&P::rule_shape}}});
    add(linear_pointwise_ops(), {true, {{&P::rule_linear_pointwise}}});
    add({aten::batch_norm}, {true, {{&P::rule_batch_norm}}});
    add({aten::relu}, {true, {{&P::rule_relu}}});
    add(nonlinear_pointwise_ops(), {true, {{&P::rule_pointwise}}});
    add({aten::add, aten::sub, aten::rsub, aten::mul, aten::div}, {true, {{&P::rule_binary}}});
    add({aten::slice}, {true,
                        {{&P::rule_whole_slice},
                         {&P::rule_channel_map, When::WindowedInput},
                         {&P::rule_crop, When::WindowedInput},
                         linear_map}});
    add({aten::select}, {true, {{&P::rule_channel_map, When::WindowedInput}, linear_map}});
    add({aten::conv1d}, {true, {{&P::rule_conv, When::WindowedInput}, linear_map}});
    add({aten::max_pool1d}, {true, {{&P::rule_pool, When::WindowedInput}}});
    add({aten::avg_pool1d}, {true, {{&P::rule_pool, When::WindowedInput}, linear_map}});
    add({aten::mean, aten::sum},
        {true, {{&P::rule_length_reduction, When::WindowedInput}, linear_map}});
    add({aten::flatten}, {true, {{&P::rule_flatten_into_linear, When::WindowedInput}, linear_map}});
    add({aten::linear},
        {true, {{&P::rule_windowed_linear, When::FusedInput, /*decides=*/true}, linear_map}});
    add({aten::cat}, {true, {{&P::rule_cat}, linear_map}});
    add({aten::softmax, aten::log_softmax}, {true, {{&P::rule_softmax}}});
    add({aten::logsumexp, aten::amax}, {true, {{&P::rule_reduction}}});
    add({aten::pow}, {true, {{&P::rule_power}}});
    // Linear in their one tensor input (bias-free once a bias argument is dropped), keeping the
    // batch dimension first: rule_linear_map alone (the kinds above try it last).
    add({aten::matmul, aten::view, aten::reshape, aten::unsqueeze, aten::squeeze, aten::transpose,
         aten::permute, aten::narrow},
        {true, {linear_map}});
    return t;
  }();
  return table;
}

bool MutantPass::applies(const Step& step, const Node* node) const {
  const Value* x = node->inputs().at(0);
  switch (step.when) {
    case When::Always: return true;
    case When::WindowedInput: return is_change(x) && slot(x).kind == Slot::Kind::Window;
    case When::FusedInput: return left_to_reader_.count(x) > 0;
  }
  return false;
}

bool MutantPass::apply_rule(Node* node) {
  const auto& table = rules();
  const auto found = table.find(node->kind());
  if (found == table.end()) return false;
  const Entry& entry = found->second;
  // Values computed from the mutants' sizes (a traced model's aten::size, NumToTensor, Int
  // and arithmetic on them) carry no change: the generic path runs them as they are.
  if (std::none_of(node->inputs().begin(), node->inputs().end(), [&](const Value* v) {
        return is_change(v) || (dependent(v) && slot(v).kind == Slot::Kind::List);
      })) {
    return false;
  }
  if (entry.tensor_output && (node->outputs().size() != 1 ||
                              node->output()->type()->kind() != c10::TypeKind::TensorType)) {
    return false;
  }
  for (const Step& step : entry.steps) {
    if (!applies(step, node)) continue;
    if ((this->*step.rule)(node)) return true;
    if (step.decides) return false;
  }
  return false;
}

void MutantPass::run(Node* node) {
  if (apply_rule(node)) return;
  for (const Value* v : node->inputs()) {
    // Such a slot holds another operation's input: only its fusing reader may take it.
    TORCH_INTERNAL_ASSERT(!left_to_reader_.count(v), "fast ISM: ", node->kind().toQualString(),
                          " read a value left to a fused reader");
  }
  run_generic(node);
}

bool MutantPass::argument(const Value* v, c10::IValue* out) const {
  if (!dependent(v)) {
    *out = reference_.at(v);
    return true;
  }
  if (slot(v).kind != Slot::Kind::Value || slot(v).value.isTensor()) return false;
  *out = slot(v).value;
  return true;
}

bool MutantPass::arguments(const Node* node, size_t first, std::vector<c10::IValue>* out) const {
  for (size_t i = first; i < node->inputs().size(); ++i) {
    c10::IValue v;
    if (!argument(node->inputs()[i], &v)) return false;
    out->push_back(std::move(v));
  }
  return true;
}

int64_t MutantPass::tracked_changes() const {
  int64_t total = 0;
  for (const auto& [value, s] : slots_) total += s.is_change() ? s.delta.numel() : 0;
  return total;
}

torch::Tensor MutantPass::exact_reference(const Value* v) const {
  const auto stored = layout_.read(reference_.at(v).toTensor());
  if (exact_) {
    const auto found = exact_->find(v);
    if (found != exact_->end() && found->second.isTensor() &&
        found->second.toTensor().sizes() == reference_.at(v).toTensor().sizes()) {
      return layout_.read(found->second.toTensor());
    }
  }
  return stored.to(torch::kDouble);
}

torch::Tensor MutantPass::exact_under(const Value* v, const Slot& in) const {
  const auto exact = exact_reference(v);
  if (exact.sizes() != in.reference.sizes()) return reference_under(in).to(torch::kDouble);
  return in.kind == Slot::Kind::Window ? reference_rows(exact, in.lo, in.width()) : exact;
}

// Any other operation: in float64 where it can (run_generic_wide), else on the mutants' values
// in the model's dtype, a tensor output's change then being its difference from the
// reference (rounded at the size of the values, not of the change).
void MutantPass::run_generic(Node* node) {
  if (run_constant_fill(node) || run_generic_wide(node)) return;
  std::vector<c10::IValue> inputs;
  for (const Value* v : node->inputs()) {
    inputs.push_back(dependent(v) ? mutant_value(slot(v)) : reference_.at(v));
  }
  const auto outputs = run_node(node, std::move(inputs));
  for (size_t i = 0; i < outputs.size(); ++i) {
    const auto& reference = reference_.at(node->outputs()[i]);
    const bool batched = outputs[i].isTensor() && layout_.batched(reference) &&
                         outputs[i].toTensor().dim() == reference.toTensor().dim() &&
                         outputs[i].toTensor().size(0) == rows_;
    if (batched) {
      const auto one = layout_.read(reference.toTensor());
      set(node->outputs()[i], dense_slot(one, outputs[i].toTensor() - one));
    } else {
      set(node->outputs()[i], value_slot(outputs[i]));
    }
  }
}

// zeros, ones or full of the mutants' sizes (an adapter's zeros for a model's control
// tracks): every row equals the reference's, so a (B, C, L) one is an empty window, which
// windowed readers (a concatenation along channels) keep windowed.
bool MutantPass::run_constant_fill(Node* node) {
  static const std::unordered_set<c10::Symbol> sized = {aten::zeros, aten::ones, aten::full,
                                                        aten::new_zeros};
  static const std::unordered_set<c10::Symbol> like_input = {aten::zeros_like, aten::ones_like,
                                                             aten::full_like};
  const bool like = like_input.count(node->kind()) > 0;
  if (!like && !sized.count(node->kind())) return false;
  for (const Value* v : node->inputs()) {
    if (is_change(v) && !like) return false;
  }
  const auto& reference = reference_.at(node->output());
  if (!layout_.batched(reference) || reference.toTensor().dim() != 3) return false;
  set(node->output(), empty_window(reference_output(node), rows_));
  return true;
}

// run_generic in float64, on the mutants' values and on the reference's, so that a tensor
// output's change is their difference without float32's rounding of either. False (and no
// value set) where an input carries no change or an output is not a batched tensor, or the
// operation will not run in float64.
bool MutantPass::run_generic_wide(Node* node) {
  std::vector<c10::IValue> mutant, reference;
  for (const Value* v : node->inputs()) {
    if (dependent(v) && !slot(v).is_change()) return false;
    if (dependent(v)) {
      const auto exact = exact_reference(v);
      mutant.push_back(exact + to_dense(slot(v)).delta.to(torch::kDouble));
      reference.push_back(exact);
      continue;
    }
    mutant.push_back(cast_floating(reference_.at(v), torch::kDouble));
    reference.push_back(cast_floating(reference_.at(v), torch::kDouble));
  }
  std::vector<c10::IValue> mutant_out, reference_out;
  try {
    mutant_out = run_node(node, std::move(mutant));
    reference_out = run_node(node, std::move(reference));
  } catch (const c10::Error&) {
    return false;
  }
  std::vector<Slot> outputs;
  for (size_t i = 0; i < mutant_out.size(); ++i) {
    const auto& stored = reference_.at(node->outputs()[i]);
    if (!mutant_out[i].isTensor() || !layout_.batched(stored) ||
        mutant_out[i].toTensor().size(0) != rows_) {
      return false;
    }
    const auto one = layout_.read(stored.toTensor());
    const auto change = mutant_out[i].toTensor() - reference_out[i].toTensor();
    outputs.push_back(dense_slot(one, change.to(one.scalar_type())));
  }
  for (size_t i = 0; i < outputs.size(); ++i) set(node->outputs()[i], std::move(outputs[i]));
  return true;
}

bool windows_from_input(c10::Symbol kind) {
  const auto among = [kind](const std::vector<c10::Symbol>& ops) {
    return std::find(ops.begin(), ops.end(), kind) != ops.end();
  };
  return kind == aten::conv1d || kind == aten::batch_norm || kind == aten::relu ||
         among(linear_pointwise_ops()) || among(nonlinear_pointwise_ops());
}

PrecomputedTerms precompute_terms(torch::jit::Graph& graph, const Env& env,
                                  const ReferenceRows& rows) {
  PrecomputedTerms terms;
  for (Node* node : graph.nodes()) {
    const c10::Symbol kind = node->kind();
    if (kind != aten::relu && kind != aten::max_pool1d && kind != aten::amax) continue;
    // One substitution a sequence reads a ReLU's reference in one narrow window: rule_relu
    // computes its terms there, rather than here over every position of every sequence.
    if (kind == aten::relu && rows.used > 1) continue;
    const auto input = rows.read(env.at(node->inputs().at(0)).toTensor());
    if (kind == aten::relu) {
      terms[node] = relu_terms(input);
      continue;
    }
    if (kind == aten::amax) {  // its input's gap to it
      auto dims = env.at(input_named(node, "dim")).toIntVector();
      for (auto& d : dims) d = d < 0 ? d + input.dim() : d;
      const auto out = rows.read(env.at(node->output()).toTensor());
      const bool keepdim = env.at(input_named(node, "keepdim")).toBool();
      terms[node] = {input - with_reduced_dims(out, dims, keepdim)};
      continue;
    }
    // The kernel size alone: rule_pool checks the other arguments.
    const int64_t k = single(env.at(input_named(node, "kernel_size")), 1);
    if (k > 0 && input.size(-1) >= k) terms[node] = max_pool_terms(input, k);
  }
  return terms;
}

PassResult run_mutant_pass(torch::jit::Graph& graph, const Env& reference,
                           const ReferenceRows& layout, const Env* exact,
                           const PrecomputedTerms& terms, const torch::Tensor& input,
                           const std::vector<int64_t>& position, const std::vector<int64_t>& base) {
  const int64_t rows = static_cast<int64_t>(position.size());
  TORCH_INTERNAL_ASSERT(rows >= kMinMutantRows && base.size() == position.size());
  TORCH_INTERNAL_ASSERT(input.size(0) == layout.used && (layout.used == 1 || layout.used == rows));
  const auto device = input.device();
  const auto at = long_tensor(position, device);
  const auto observed =  // (rows, 4): each mutant's sequence at its position
      layout.used == 1 ? input[0].index_select(1, at).t()
                       : input.gather(2, at.view({rows, 1, 1}).expand({rows, input.size(1), 1})).squeeze(2);
  const auto bases = long_tensor(base, device).unsqueeze(1);
  auto substituted = torch::zeros_like(observed).scatter_(1, bases.clamp_min(0), 1.0);
  substituted = torch::where(bases < 0, observed, substituted);
  MutantPass pass(reference, layout, exact, terms, rows);
  pass.set(graph.inputs().at(1), window_slot(input, position, (substituted - observed).unsqueeze(-1)));
  for (Node* node : graph.nodes()) {
    bool any = false;
    for (const Value* v : node->inputs()) any = any || pass.dependent(v);
    if (any) pass.run(node);  // otherwise the reference's value serves
  }
  const Value* output = graph.outputs().at(0);
  const auto output_reference = layout.read(reference.at(output).toTensor());
  PassResult result;
  result.tracked_changes = pass.tracked_changes();
  if (!pass.dependent(output)) {
    auto shape = output_reference.sizes().vec();
    shape.front() = rows;
    result.output_change = torch::zeros(shape, output_reference.options());
  } else if (pass.slot(output).is_change()) {
    result.output_change = to_dense(pass.slot(output)).delta;
  } else {
    result.output_change = pass.slot(output).value.toTensor() - output_reference;
  }
  return result;
}

}  // namespace seqattr::fast_ism
