#pragma once
// Computes only the positions a model's output reads.
//
// bpnet-lite's BPNet pads every dilated layer to the input's length, then its heads read only
// the centre of the last one (the counts head averages 1,074 of 2,114 positions). Each layer
// before needs only the positions the next one reads: its own centre widened by the next
// dilation on each side. Everything outside is arithmetic whose result no output sees (13% of
// a 64- or 512-filter, 8-layer BPNet's convolutions), which Captum and tangermeme do anyway.
//
// The pass walks the graph Model runs (after core/direct_convolutions.h's rewrites) from its
// outputs back and gives each value the interval of positions that something reads. A
// convolution (seqattr::conv1d_direct, _relu, _relu_residual) whose demanded interval is a
// strict part of its output and whose inputs there need no padding then reads that part of its
// input with no padding: a shorter output, a residual's centre (the op's crop). Elementwise ops,
// slices along the length and slices of other dimensions follow their operands' intervals; any
// other op (a mean over positions, a reshape, a linear layer) reads all of its input. Values keep
// their intervals; slices are inserted only where an operand holds more than its reader needs.
//
// Each computed value equals the same position of the full computation bit for bit (the same
// sums in the same order); the input gradient is zero outside the positions read, as it was.
#include <torch/script.h>

#include <cstdint>
#include <memory>

namespace seqattr {

// Rewrites `graph`, the forward of `module` (whose attributes hold the convolutions' weights;
// frozen constants do too), for inputs of `length` positions: reads of the input's length
// become that constant and fold, so the result holds for that length only. A graph with control
// flow is left alone. Returns how many convolutions now compute fewer positions.
int compute_only_demanded_positions(const torch::jit::Module& module,
                                    std::shared_ptr<torch::jit::Graph> graph, int64_t length);

}  // namespace seqattr
