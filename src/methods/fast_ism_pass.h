#pragma once
// Fast ISM's mutant pass: the graph run for a batch of substitutions of one sequence, from
// that sequence's reference activations, one rule per operation (src/methods/fast_ism.h says
// which operations are windowed; fast_ism_change.h how changes are held).
#include <torch/script.h>

#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

namespace seqattr::fast_ism {

using Env = std::unordered_map<const torch::jit::Value*, c10::IValue>;
using Operations = std::unordered_map<const torch::jit::Node*, torch::jit::Operation>;
// Per sequence, reference-derived terms of some nodes (ReLU, max-pool), precomputed so that a
// mutant pass only gathers them.
using PrecomputedTerms = std::unordered_map<const torch::jit::Node*, std::vector<torch::Tensor>>;

// `v` with its floating-point tensors (alone or in a list) in `dtype`.
c10::IValue cast_floating(const c10::IValue& v, torch::ScalarType dtype);

// Whether an operation on the input itself can be windowed (convolution, pointwise).
bool windows_from_input(const std::string& kind);

// The operators of every node of `graph` that has one, looked up once (lookup is far slower
// than a small window's work), and the thread's current set of them for run_node.
std::shared_ptr<Operations> lookup_operations(torch::jit::Graph& graph);
void use_operations(Operations* operations);
std::vector<c10::IValue> run_node(torch::jit::Node* node, std::vector<c10::IValue> inputs);

// From the reference's values as computed (before rounding to the model's dtype).
PrecomputedTerms precompute_terms(torch::jit::Graph& graph, const Env& reference);

struct PassResult {
  torch::Tensor output_change;  // f(mutant) - f(input) of the graph's output, (rows, ...)
  int64_t tracked_changes = 0;  // changes held over all values of the pass
};

// Runs `graph` for substitutions (position[r], base[r]) of `input` (1, 4, L), given the
// reference's values (two rows, in the model's dtype), some of them in float64 as computed
// (`exact`, may be null) and precomputed terms. At least two substitutions, so that an
// operation's batch dimension can be told from the others.
PassResult run_mutant_pass(torch::jit::Graph& graph, const Env& reference, const Env* exact,
                           const PrecomputedTerms& terms, const torch::Tensor& input,
                           const std::vector<int64_t>& position, const std::vector<int64_t>& base);

}  // namespace seqattr::fast_ism
