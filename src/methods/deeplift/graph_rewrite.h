#pragma once
// DeepLIFT on the model's graph rather than on its nn.Modules: a copy of the TorchScript
// module has its forward inlined, so functional calls, reused modules and activations built inside
// forward are all plain graph nodes; each ruled node y = op(x) gets a rule op after it
// (rules.h) that all of y's users read instead.
#include <torch/script.h>

#include <map>
#include <set>
#include <string>

namespace seqattr::deeplift {

struct RewrittenModel {
  torch::jit::Module module;          // frozen, with rule ops inserted
  std::set<std::string> unruled_ops;  // input-dependent ops with no rule: gradients pass
  // Input-dependent ops with a rule, and the rule: "rescale", "max-pool", "softmax",
  // "detached product", or "linear" (their gradient is the multiplier).
  std::map<std::string, std::string> ruled_ops;
  // A rule whose result is ill-conditioned in the activations themselves, not only in how it
  // is evaluated: softmax's rescale divides softmax(x)_i - softmax(r)_i, which the other
  // positions' changes move through the normaliser, by x_i - r_i. Where x_i - r_i is small
  // the multiplier is large and its relative error is that of x_i - r_i: float32 rounding of
  // x and r (2e-4 of the largest attribution on tests/data/softmax.pt, and different on every
  // CPU's kernels). bpnet-lite's profile rule (z * softmax(z) rescaled as one op) is so too.
  // Such models are explained in float64, Δ (delta_graph.h) or not: exact Δ does not save
  // them in float32, as their multipliers are themselves large and of both signs, and the
  // float32 backward through the convolutions below cancels them (6e-6 of the float64
  // answer on tests/data/softmax.pt with exact Δ).
  bool ill_conditioned = false;
  // Whether the rules take their secants from Δ carried through the graph (delta_graph.h)
  // rather than from differences of activations; `secants_note` says why (not).
  bool carries_delta = false;
  std::string secants_note;
};

// Where the rules' secants come from. Auto: from Δ where a rule is not piecewise linear
// (smooth activations, exp and log, softmax), where differences of separately rounded
// activations lose digits; a graph of ReLUs and max-pools takes them from values, which is
// as exact there (on one linear piece the secant is the slope whatever the rounding; across
// the kink |x - r| >= |x|, |r|, so nothing cancels) and costs no extra pass.
enum class Secants { Auto, FromDelta, FromValues };

// Elementwise nonlinearities (and exp, log) that get the rescale rule, and whether one of
// them is piecewise linear (ReLU and its kin).
const std::set<std::string>& rescale_ops();
bool piecewise_linear(const std::string& kind);

// `module` must be in eval mode; it is not changed.
RewrittenModel rewrite_for_deeplift(const torch::jit::Module& module, Secants secants = Secants::Auto);

// In the graph Model runs (after core/direct_convolutions.h's rewrites): each residual layer
// under the ReLU rule, aten::add(x, deeplift_relu(conv1d_direct(x, ...))) with the convolution
// and the rule used only there, becomes one seqattr::deeplift_relu_residual (rules.h). Model's
// convolution pass for DeepLIFT's rewritten model. Returns how many were fused.
int fuse_relu_rule_residuals(torch::jit::Graph& graph);

}  // namespace seqattr::deeplift
