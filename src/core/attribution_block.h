#pragma once
#include <torch/torch.h>

#include <functional>

namespace seqattr {

// Finished results for the consecutive sequences [first, first + S), on the CPU.
struct AttributionBlock {
  int64_t first = 0;
  torch::Tensor hypothetical;       // (S, 4, L) float32
  torch::Tensor attributions;       // (S, 4, L) float32: hypothetical x one-hot
  torch::Tensor predictions;        // (S, T) float32
  torch::Tensor convergence_delta;  // (S,) float32, or undefined when the method has none
  torch::Tensor ism_delta;          // (S, 4, L) float32, ISM only
};

// Receives blocks in input order; each sequence appears in exactly one block.
using BlockSink = std::function<void(const AttributionBlock&)>;
// Told how many sequences are finished so far.
using ProgressCallback = std::function<void(int64_t finished)>;

}  // namespace seqattr
