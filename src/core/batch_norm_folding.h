#pragma once
// Folds eval-mode batch norm into the 1-D convolution before it, the graph rewrite Model
// (core/model.h) applies before it puts in seqattr's convolutions (core/direct_convolutions.h).
#include <torch/script.h>

namespace seqattr {

// Replaces each aten::batch_norm (training a constant false) whose input is an aten::conv1d's
// output read by nothing else (shape reads aside), and whose weight, bias, running mean and
// variance are constants or attributes of `module`, by that convolution with the folded
// weights and bias:
//   s = weight / sqrt(running_var + eps),  W' = W * s (per output channel),
//   b' = (b - running_mean) * s + bias,
// computed in float64 by LibTorch's torch::jit::computeUpdatedConvWeightAndBias and rounded
// once to the convolution's dtype, as graph constants (the module's own attributes stay as
// they are: a convolution module used elsewhere keeps its weights there). The same function; float32 results differ from the two separate ops by
// rounding. A relu after the batch norm then fuses with the convolution, and the batch norm's
// forward and backward passes over the activations are gone. Returns how many were folded.
// (LibTorch's FoldFrozenConvBatchnorm pass does this only on frozen graphs; Model's keeps its
// parameters as attributes, core/model_graph.h, so that aten::detach survives.)
int fold_batch_norms(const torch::jit::Module& module, torch::jit::Graph& graph);

}  // namespace seqattr
