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
  // Such models are explained with float64 activations.
  bool ill_conditioned = false;
};

// `module` must be in eval mode; it is not changed.
RewrittenModel rewrite_for_deeplift(const torch::jit::Module& module);

}  // namespace seqattr::deeplift
