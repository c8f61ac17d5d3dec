// Rules for operations that map a change as a whole (linear maps, reshapes, the flatten before
// a linear layer), or along channels within a window; and for the values around them that are
// not per position (lists of changes, the mutants' sizes).
#include "methods/ism/mutant_pass.h"

namespace seqattr::fast_ism {

// Sizes are the reference's, with B rows; dtype, device and rank are the reference's.
bool MutantPass::rule_shape(Node* node) {
  const Value* x = node->inputs().at(0);
  std::vector<c10::IValue> inputs;
  if (!is_change(x) || !arguments(node, 1, &inputs)) return false;
  if (node->kind() != c10::aten::size) {
    set(node->output(), value_slot(reference_.at(node->output())));
    return true;
  }
  const auto& reference = slot(x).reference;
  inputs.insert(inputs.begin(), reference);
  auto out = run_node(node, inputs).at(0);
  if (out.isIntList()) {
    auto sizes = out.toIntVector();
    sizes.at(0) = rows_;
    out = sizes;
  } else if (dim_of(arg(node, inputs, "dim", 0), reference.dim()) == 0) {  // size(x, dim)
    out = rows_;
  }
  set(node->output(), value_slot(out));
  return true;
}

bool MutantPass::rule_list(Node* node) {
  Slot list;
  list.kind = Slot::Kind::List;
  for (const Value* v : node->inputs()) {
    if (!is_change(v)) return false;
    list.items.push_back(slot(v));
  }
  set(node->output(), std::move(list));
  return true;
}

// A slice or select along a channel dimension: applied to the window's change.
bool MutantPass::rule_channel_map(Node* node) {
  const Slot& in = slot(node->inputs()[0]);
  std::vector<c10::IValue> args;
  if (!arguments(node, 1, &args)) return false;
  const int64_t dim = dim_of(arg(node, args, "dim"), in.reference.dim());
  if (dim == 0 || dim == in.reference.dim() - 1) return false;
  args.insert(args.begin(), in.delta);
  set(node->output(), window_slot(reference_output(node), in.lo, run_tensor_node(node, args)));
  return true;
}

// An operation linear in its one changing input, on that input's whole change. A bias
// (linear's, conv1d's) is dropped: it cancels from the change.
bool MutantPass::rule_linear_map(Node* node) {
  const auto bias = node->schema().argumentIndexWithName("bias");
  const bool sums = node->kind() == c10::aten::sum || node->kind() == c10::aten::mean;
  std::vector<c10::IValue> inputs;
  int changing = -1;
  for (size_t i = 0; i < node->inputs().size(); ++i) {
    const Value* v = node->inputs()[i];
    if (is_change(v)) {
      if (changing >= 0) return false;
      changing = static_cast<int>(i);
      inputs.push_back(to_dense(slot(v)).delta);
      // Sums and means add their terms in float64 (as rule_length_reduction does).
      if (sums) inputs.back() = inputs.back().toTensor().to(torch::kDouble);
      continue;
    }
    c10::IValue value;
    if (!argument(v, &value)) return false;
    inputs.push_back(bias && static_cast<int>(i) == *bias ? c10::IValue() : value);
  }
  if (changing < 0) return false;
  const auto out_reference = reference_.at(node->output()).toTensor();
  const auto delta = run_tensor_node(node, std::move(inputs)).to(out_reference.scalar_type());
  if (!layout_.batched(out_reference) || delta.dim() != out_reference.dim() ||
      delta.size(0) != rows_) {
    return false;  // the batch dimension did not survive
  }
  set(node->output(), dense_slot(layout_.read(out_reference), delta));
  return true;
}

// flatten(x, 1, -1) of a (B, C, L) window read only by linear(., weight, bias): left to the
// linear layer (rule_windowed_linear), so that the change is never spread over all L.
bool MutantPass::rule_flatten_into_linear(Node* flatten) {
  const Slot& in = slot(flatten->inputs().at(0));
  std::vector<c10::IValue> args;
  const auto& uses = flatten->output()->uses();
  if (in.delta.dim() != 3 || !arguments(flatten, 1, &args) || uses.size() != 1) return false;
  if (dim_of(arg(flatten, args, "start_dim"), 3) != 1 ||
      dim_of(arg(flatten, args, "end_dim"), 3) != 2) {
    return false;
  }
  const Node* linear = uses.front().user;
  c10::IValue weight;
  if (linear->kind() != c10::aten::linear || uses.front().offset != 0 ||
      !argument(input_named(linear, "weight"), &weight) || !weight.isTensor()) {
    return false;
  }
  const auto& w = weight.toTensor();
  if (w.dim() != 2 || w.size(1) != in.reference.size(1) * in.length()) return false;
  set(flatten->output(), in);
  left_to_reader_.insert(flatten->output());
  return true;
}

}  // namespace seqattr::fast_ism
