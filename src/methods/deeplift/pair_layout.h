#pragma once
// How a DeepLIFT batch is laid out: [inputs; references]. The first `inputs` rows are the
// sequences explained, each computed once; reference row k pairs with input row owner[k].
// The rule ops read the layout of the forward pass they run in (set by PairLayoutGuard on
// the calling thread) and keep it for their backward.
#include <torch/torch.h>

namespace seqattr::deeplift {

struct PairLayout {
  int64_t inputs = 0;
  torch::Tensor owner;  // (P,) int64 in [0, inputs), on the batch's device
  // Δ of the model output, (inputs + P, T), when the graph carries Δ (delta_ops.h): set by
  // the forward pass, read by its caller.
  mutable torch::Tensor output_delta;

  int64_t references() const { return owner.size(0); }
};

// Sets the layout for forward passes on this thread for the guard's lifetime.
class PairLayoutGuard {
 public:
  explicit PairLayoutGuard(PairLayout layout);
  ~PairLayoutGuard();
  PairLayoutGuard(const PairLayoutGuard&) = delete;
  PairLayoutGuard& operator=(const PairLayoutGuard&) = delete;

 private:
  PairLayout layout_;
  const PairLayout* previous_;
};

// The layout set on this thread, or nullptr outside a DeepLIFT pass.
const PairLayout* current_pair_layout();

}  // namespace seqattr::deeplift
