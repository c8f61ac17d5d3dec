#pragma once
// Private to src/methods/ism: the mutant pass (fast_ism_pass.cpp drives it over a graph) and
// the helpers its rules share. The rules are members, defined by kind of operation in
// rules_windowed.cpp, rules_pointwise.cpp, rules_dense.cpp and rules_reductions.cpp; the table
// that picks them is in fast_ism_pass.cpp.
#include <torch/script.h>

#include <cstdint>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "methods/ism/fast_ism_change.h"
#include "methods/ism/fast_ism_pass.h"
#include "methods/ism/schema_args.h"

namespace seqattr::fast_ism {

using torch::jit::Node;
using torch::jit::Value;

torch::Tensor run_tensor_node(Node* node, std::vector<c10::IValue> inputs);

// The single int of an int[] argument of a 1d op (or `fallback` when the list is empty).
int64_t single(const c10::IValue& v, int64_t fallback);

int64_t floor_div(int64_t a, int64_t b);
int64_t ceil_div(int64_t a, int64_t b);

// A dim argument, counted from 0 for a tensor of `rank` dimensions.
int64_t dim_of(const c10::IValue& dim, int64_t rank);

// (1, C, L) with the channels of each position adjacent in memory (strides (C*L, 1, C)).
torch::Tensor channels_last(const torch::Tensor& t);

// Per row, one window holding `windows`' windows of that row.
Placement union_of(const std::vector<const Slot*>& windows, int64_t length);

// A window of width 0 in every one of `rows` rows: a value that no mutant changes.
Slot empty_window(const torch::Tensor& reference, int64_t rows);

// `reduced` (a reduction over `dims`, 0-based) as if the reduction had kept its dims.
torch::Tensor with_reduced_dims(torch::Tensor reduced, std::vector<int64_t> dims, bool keepdim);

// Reference terms of a ReLU (rules_pointwise.cpp) and a max-pool (rules_windowed.cpp), for
// precompute_terms: `r` is the node's input, as many rows as the pass reads.
std::vector<torch::Tensor> relu_terms(const torch::Tensor& r);
std::vector<torch::Tensor> max_pool_terms(const torch::Tensor& r, int64_t k);

// The mutants' values of one pass, as slots (fast_ism_change.h), filled node by node in graph
// order. A rule reads the tensor it propagates a change through as input 0, by position (every
// operation with a rule takes it first), and its other arguments by name (schema_args.h).
class MutantPass {
 public:
  MutantPass(const Env& reference, const ReferenceRows& layout, const Env* exact,
             const PrecomputedTerms& terms, int64_t rows)
      : reference_(reference), layout_(layout), exact_(exact), terms_(terms), rows_(rows) {}

  bool dependent(const Value* v) const { return slots_.count(v) > 0; }
  const Slot& slot(const Value* v) const { return slots_.at(v); }
  void set(const Value* v, Slot s) { slots_[v] = std::move(s); }
  bool is_change(const Value* v) const { return dependent(v) && slot(v).is_change(); }

  // The mutants' value of an input that carries no change: a constant, a reference-only value
  // or a size computed from the mutants. False for a mutant tensor whose change is unknown.
  bool argument(const Value* v, c10::IValue* out) const;
  // Every input from `first` on, as arguments; false if one carries a change.
  bool arguments(const Node* node, size_t first, std::vector<c10::IValue>* out) const;

  torch::Tensor reference_output(const Node* node) const {
    return layout_.read(reference_.at(node->output()).toTensor());
  }

  // How many changes the pass holds, over all its values.
  int64_t tracked_changes() const;

  // `node`'s outputs from its inputs' slots: by its rule where one applies, else generically.
  void run(Node* node);

 private:
  // fast_ism_pass.cpp: the table of rules by node kind, and the generic path.
  using Rule = bool (MutantPass::*)(Node* node);
  struct Step;
  struct Entry;
  static const std::unordered_map<c10::Symbol, Entry>& rules();
  bool applies(const Step& step, const Node* node) const;
  bool apply_rule(Node* node);
  void run_generic(Node* node);
  bool run_constant_fill(Node* node);
  bool run_generic_wide(Node* node);

  // The rules (rule_*): each sets `node`'s output and returns true, or returns false having
  // set nothing, so that the next rule, or the generic path, starts from the same state.

  // rules_pointwise.cpp
  bool rule_linear_pointwise(Node* node);
  bool rule_batch_norm(Node* node);
  bool rule_relu(Node* node);
  bool rule_pointwise(Node* node);
  bool rule_power(Node* node);
  bool rule_binary(Node* node);
  bool rule_binary_constant(Node* node, c10::Symbol kind, const Value* a, const Value* b,
                            double alpha);
  bool rule_binary_changes(Node* node, c10::Symbol kind, const Value* a, const Value* b,
                           double alpha);
  // Whether input 0 is a change and the others arguments (into `args`, from input 1 on).
  bool pointwise_arguments(const Node* node, std::vector<c10::IValue>* args) const;
  // g(r + d) - g(r) for an activation g of input 0 (a change), as `node`'s output.
  void set_nonlinear_change(Node* node, const std::vector<c10::IValue>& args);

  // rules_windowed.cpp
  bool rule_conv(Node* node);
  bool rule_pool(Node* node);
  bool rule_whole_slice(Node* node);
  bool rule_crop(Node* node);
  bool rule_cat(Node* node);
  bool rule_windowed_linear(Node* linear);
  bool pool_kernel(Node* node, int64_t* kernel) const;
  bool fuses_into_max_pool(Node* relu) const;

  // rules_dense.cpp
  bool rule_shape(Node* node);
  bool rule_list(Node* node);
  bool rule_channel_map(Node* node);
  bool rule_linear_map(Node* node);
  bool rule_flatten_into_linear(Node* flatten);

  // rules_reductions.cpp
  bool rule_length_reduction(Node* node);
  bool rule_softmax(Node* node);
  bool rule_reduction(Node* node);

  // A slot like `in` (same rows and window) holding `delta` for `node`'s output.
  Slot like(const Slot& in, const Node* node, torch::Tensor delta) const {
    return in.kind == Slot::Kind::Window ? window_slot(reference_output(node), in.lo, std::move(delta))
                                         : dense_slot(reference_output(node), std::move(delta));
  }
  // The reference under `in`'s change: its window's positions, or all of it.
  static torch::Tensor reference_under(const Slot& in) {
    return in.kind == Slot::Kind::Window ? reference_rows(in.reference, in.lo, in.width())
                                         : in.reference;
  }

  // `v`'s reference value, its rows read (layout_), in float64: as computed before rounding where the
  // session kept it (exact_), else the stored value widened. Rules whose change multiplies
  // the reference (products, softmax, smooth activations) read it: a softmax-weighted
  // profile's change moves weight between positions whose logits are in the hundreds, and
  // the logits' float32 rounding alone put that change 5e-5 off.
  torch::Tensor exact_reference(const Value* v) const;
  // The same under `in`'s change (`in` being v's slot).
  torch::Tensor exact_under(const Value* v, const Slot& in) const;

  const Env& reference_;
  ReferenceRows layout_;
  const Env* exact_;  // may be null
  const PrecomputedTerms& terms_;
  int64_t rows_;
  std::unordered_map<const Value*, Slot> slots_;
  // Outputs left to their one reader, which fuses their operation into its own (a ReLU into
  // the max-pool after it, a flatten into the linear layer after it): their slot holds the
  // operation's input.
  std::unordered_set<const Value*> left_to_reader_;
};

}  // namespace seqattr::fast_ism
