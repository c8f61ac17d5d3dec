#pragma once
// Fast ISM's mutant pass: the graph run for a batch of substitutions of one sequence, from
// that sequence's reference activations, one rule per operation (src/methods/fast_ism.h says
// which operations are windowed; fast_ism_change.h how changes are held).
#include <torch/script.h>

#include <cstdint>
#include <memory>
#include <unordered_map>
#include <vector>

namespace seqattr::fast_ism {

// The reference's values are computed on a batch of the input twice, never once: a value
// whose first dimension is kReferenceRows kept the batch dimension, which is thereby told
// apart from the size-1 dimensions that broadcasting adds or keeps. Every row of such a value
// is the same; rules read row 0.
constexpr int64_t kReferenceRows = 2;
// How a pass reads the reference's values. One sequence: a value that kept the batch dimension
// has kReferenceRows identical rows, and rules read row 0, broadcast over the mutants. A batch
// of sequences, one substitution each (variants' SNVs): such a value has one row per mutant,
// row r being sequence r's, and rules read it whole. Either way a rule's reference tensor has
// `used` rows, 1 or the mutants', and broadcasts against their changes.
struct ReferenceRows {
  int64_t stored = kReferenceRows;  // the first dimension of a value that kept the batch
  int64_t used = 1;                 // rows a rule reads: 1, or all (one per mutant)

  static ReferenceRows one_sequence() { return {}; }
  static ReferenceRows one_per_mutant(int64_t rows) { return {rows, rows}; }
  bool batched(const c10::IValue& v) const {
    return v.isTensor() && v.toTensor().dim() > 0 && v.toTensor().size(0) == stored;
  }
  torch::Tensor read(const torch::Tensor& stored_value) const {
    return stored_value.narrow(0, 0, used);
  }
};

// A mutant pass runs at least this many substitutions (a single one is scored twice), so that
// an operation's batch dimension can be told from the others in the mutants' values as well.
constexpr int64_t kMinMutantRows = 2;

using Env = std::unordered_map<const torch::jit::Value*, c10::IValue>;
using Operations = std::unordered_map<const torch::jit::Node*, torch::jit::Operation>;
// Per sequence, reference-derived terms of some nodes (ReLU, max-pool), precomputed so that a
// mutant pass only gathers them.
using PrecomputedTerms = std::unordered_map<const torch::jit::Node*, std::vector<torch::Tensor>>;

// `v` with its floating-point tensors (alone or in a list) in `dtype`.
c10::IValue cast_floating(const c10::IValue& v, torch::ScalarType dtype);

// Whether an operation on the input itself can be windowed (convolution, pointwise).
bool windows_from_input(c10::Symbol kind);

// The operators of every node of `graph` that has one, looked up once (lookup is far slower
// than a small window's work).
std::shared_ptr<Operations> lookup_operations(torch::jit::Graph& graph);

// The thread's current set of operators for run_node, for the guard's lifetime; the previous
// set (none, or an enclosing guard's) is restored after. `operations` must outlive the guard.
class ScopedOperations {
 public:
  explicit ScopedOperations(Operations* operations);
  ~ScopedOperations();
  ScopedOperations(const ScopedOperations&) = delete;
  ScopedOperations& operator=(const ScopedOperations&) = delete;

 private:
  Operations* previous_;
};

// Runs one node, with its operator from the thread's current set when a ScopedOperations
// holds one for it, else looking it up.
std::vector<c10::IValue> run_node(torch::jit::Node* node, std::vector<c10::IValue> inputs);

// From the reference's values as computed (before rounding to the model's dtype); each term
// has `rows.used` rows.
PrecomputedTerms precompute_terms(torch::jit::Graph& graph, const Env& reference,
                                  const ReferenceRows& rows);

struct PassResult {
  torch::Tensor output_change;  // f(mutant) - f(input) of the graph's output, (rows, ...)
  int64_t tracked_changes = 0;  // changes held over all values of the pass
};

// Runs `graph` for substitutions (position[r], base[r]) of `input` (rows.used, 4, L): of its
// one sequence, or row r of sequence r. Given the reference's values (laid out as `rows` says,
// in the model's dtype), some of them in float64 as computed (`exact`, may be null) and
// precomputed terms. At least kMinMutantRows substitutions. A base of -1 substitutes nothing
// (that row's change is zero).
PassResult run_mutant_pass(torch::jit::Graph& graph, const Env& reference,
                           const ReferenceRows& rows, const Env* exact,
                           const PrecomputedTerms& terms, const torch::Tensor& input,
                           const std::vector<int64_t>& position, const std::vector<int64_t>& base);

}  // namespace seqattr::fast_ism
