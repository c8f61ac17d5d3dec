#pragma once
// Fast ISM: a substitution at position p changes a layer's output only inside p's receptive
// window at that layer. The model's graph (frozen, inlined) is executed node by node: once on
// the input, keeping every activation, then for a batch of substitutions of that sequence only
// the windows that can change are recomputed, each mutant with its own window, layer by layer,
// until the first operation that mixes all positions; from there on the graph runs on whole
// tensors, except that a mean or sum over length is updated by the window's contribution alone.
//
// Activations are carried as changes from the reference's (fast_ism_change.h), so the result
// is f(mutant) - f(input) without the rounding of either term; the reference's activations are
// computed in the model's dtype where the rules never multiply a change by the reference
// (convolutions, linear maps, piecewise-linear activations), else in float64 and rounded once.
// Operations without a rule of their own (the mutant
// pass, ism/fast_ism_pass.h) run on the mutants' values and on the reference's in float64, and
// their change is the difference.
//
// Windowed operations (on a length-last tensor): conv1d (any kernel, stride, dilation,
// padding), elementwise activations and arithmetic with constants, batchnorm, residual
// add/sub, concatenation along channels, crops along length, channel selects, and max/avg
// pooling with stride equal to kernel and no padding.
#include <torch/script.h>

#include <memory>
#include <unordered_map>
#include <string>
#include <vector>

#include "core/model.h"
#include "methods/ism/fast_ism_pass.h"

namespace seqattr {

class FastIsmPlan {
 public:
  // Analyses the model's graph. `reason` explains, when windowing stops at or before the
  // first operation, why (the op that stopped it).
  static FastIsmPlan analyse(const Model& model);
  static FastIsmPlan analyse(const torch::jit::Module& module, const torch::Device& device);

  // Whether at least the first operation on the input is windowed.
  bool qualifies() const { return qualifies_; }
  const std::string& reason() const { return reason_; }

  // One sequence's activations, computed once and reused for all its substitutions; or a
  // batch of sequences' activations (start_batch), for one substitution of each.
  class Session {
   public:
    // f(mutant)[target] - f(input)[target] of substitutions (positions[r], bases[r]); (B,) on
    // the CPU, in the model's dtype.
    torch::Tensor score(const std::vector<int64_t>& positions, const std::vector<int64_t>& bases,
                        int64_t target) const;
    // f(mutant) - f(input) on every output column: (B, T) on the CPU. From a batch session,
    // B is its number of sequences and substitution r is of sequence r; a base of -1 leaves
    // that sequence as it is (its change is zero).
    torch::Tensor changes(const std::vector<int64_t>& positions, const std::vector<int64_t>& bases) const;

    // f(input) of the session's sequences, (S, T) on the CPU, as the reference pass computed it.
    torch::Tensor outputs() const;
    // Bytes of the reference values and terms the session holds, per sequence.
    int64_t bytes_per_sequence() const;

    // How many activation changes one substitution in the middle of the sequence carries,
    // summed over the graph's values: a mutant's share of a pass's memory. It depends on the
    // model and the sequence length, not on the sequence.
    int64_t changes_per_mutant() const;

   private:
    friend class FastIsmPlan;
    const FastIsmPlan* plan_ = nullptr;
    int64_t sequences_ = 1;
    fast_ism::ReferenceRows layout_;
    std::unordered_map<const torch::jit::Value*, c10::IValue> reference_;  // laid out as layout_
    // Small values (a model's tail) as computed, in float64 (ism/fast_ism_pass.h).
    std::unordered_map<const torch::jit::Value*, c10::IValue> exact_;
    // Reference-derived terms of ReLU and max-pool nodes (ism/fast_ism_pass.h).
    std::unordered_map<const torch::jit::Node*, std::vector<torch::Tensor>> terms_;
    torch::Tensor input_;  // (layout_.used, 4, L) in the model's dtype, on its device
  };

  // one_hot: (4, L) uint8 on the CPU. The reference in the model's dtype (about a forward
  // pass's cost) where the graph's rules never multiply a change by the reference, else in
  // float64, rounded once.
  Session start(const torch::Tensor& one_hot) const;
  // one_hots: (S, 4, L) uint8 on the CPU, S >= 1: one pass of all S, for one substitution of
  // each (variants' SNVs); the reference's dtype as start's. Its memory is every activation of
  // S sequences: callers keep S small.
  Session start_batch(const torch::Tensor& one_hots) const;

 private:
  torch::jit::Module frozen_;
  std::shared_ptr<torch::jit::Graph> graph_;
  torch::Device device_ = torch::kCPU;
  torch::ScalarType dtype_ = torch::kFloat32;  // the model's parameters' dtype
  // Each node's operator, looked up once (lookup is far slower than a small window's work).
  std::shared_ptr<std::unordered_map<const torch::jit::Node*, torch::jit::Operation>> operations_;
  bool qualifies_ = false;
  bool float32_reference_ = false;  // a reference in the model's dtype suffices (not float64)
  std::string reason_;
};

}  // namespace seqattr
