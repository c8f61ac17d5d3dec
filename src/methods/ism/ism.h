#pragma once
// In-silico saturation mutagenesis: every single-base substitution inside a window, scored
// as f(mutant)[target] - f(input)[target]. Identity edits (the observed base) are not run;
// at an N (all-zero column) all four bases are scored.
#include <torch/torch.h>

#include "core/attribution_block.h"
#include "core/model.h"
#include "methods/ism/fast_ism.h"

namespace seqattr {

struct IsmWindow {
  int64_t start = 0;  // 0-based, half-open
  int64_t end = 0;
};

// Blocks carry, besides the contract's arrays, `ism_delta` (S, 4, L): the delta, 0 at the
// observed base and outside the window. hypothetical = delta minus its mean over the 4 bases;
// attributions = hypothetical x one-hot. Mutants of many sequences share a pass of at most
// `batch_rows` rows; a sequence's mutants may span passes. With `fast`, the mutants of a
// block of positions of one sequence (its size set by the model, ism.cpp) are scored
// incrementally (fast_ism.h) per pass.
void run_ism(Model& model, const torch::Tensor& one_hot, const IsmWindow& window, int64_t target,
             int64_t outputs, int64_t batch_rows, const FastIsmPlan* fast, const BlockSink& sink,
             const ProgressCallback& progress);

}  // namespace seqattr
