#pragma once
// DeepLIFT on the model's graph rather than on its nn.Modules: a copy of the TorchScript
// module has its forward inlined, so functional calls, reused modules and activations built inside
// forward are all plain graph nodes; each ruled node y = op(x) gets a rule op after it
// (rules.h) that all of y's users read instead.
#include <torch/script.h>

#include <set>
#include <string>

namespace seqattr::deeplift {

struct RewrittenModel {
  torch::jit::Module module;          // frozen, with rule ops inserted
  std::set<std::string> unruled_ops;  // input-dependent ops with no rule: gradients pass
};

// `module` must be in eval mode; it is not changed.
RewrittenModel rewrite_for_deeplift(const torch::jit::Module& module);

}  // namespace seqattr::deeplift
