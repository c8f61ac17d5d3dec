#pragma once
// Δ propagation for a DeepLIFT graph (graph_rewrite.h): next to every value that depends on
// the input, its Δ = (input side) − (reference side), computed by mapping Δ through each
// operation instead of subtracting two separately rounded activations (delta_ops.h).
// Linear operations map Δ as they map values, without their constant terms (bias, batch
// norm's shift, padding values); nonlinear ones take f(r + Δ) − f(r) without cancellation.
// Each rule op then gets (Δx, Δy) and takes its secant Δy / Δx from them, with Δx == 0 as
// the exact test for "no change". Where the rounding of x − r was the error (smooth
// activations, softmax, max-pool), results move from ~1e-4 to ~1e-7 of the float64 answer.
#include <torch/csrc/jit/ir/ir.h>

#include <string>

namespace seqattr::deeplift {

struct DeltaPropagation {
  bool added = false;
  // Why not, when not added: the first operation on the input with no Δ mapping.
  std::string unsupported_op;
};

// Adds Δ propagation to `graph`, whose rule ops have been inserted, and feeds each rule op
// its (Δx, Δy); the model output's Δ is recorded by seqattr::deeplift_output_delta. Leaves
// the graph as it was (its rules taking secants from values) when an operation on the input
// has no Δ mapping (control flow, products of two inputs inside a divisor, unknown ops).
DeltaPropagation add_delta_propagation(torch::jit::Graph& graph);

}  // namespace seqattr::deeplift
