#pragma once
// The operations that carry Δ = (input side) − (reference side) through a DeepLIFT graph
// (delta_graph.h). A Δ tensor has the shape of the value it belongs to; its first `inputs`
// rows (the sequences' own rows, pair_layout.h) are zero and reference row k holds
// (value of input row owner[k]) − (value of reference row k), computed without subtracting
// the two. Δ tensors never require grad: they feed the rules' backward, not autograd.
//
//   seqattr::deeplift_input_delta(x)                 Δ at the model input, x[owner] − r
//   seqattr::deeplift_relu_delta(x, dx)              relu(r + Δ) − relu(r), one rounding
//   seqattr::deeplift_delta_points(x, dx)            [r; r + Δ] in float64, for a smooth op
//   seqattr::deeplift_delta_difference(yy, like)     f(r + Δ) − f(r) from those points, in
//                                                    like's dtype
//   seqattr::deeplift_to_double(t)                   an op's other tensor operands, float64
//   seqattr::deeplift_max_pool1d_delta(x, dx, ...)   max(r + Δ) − max(r) per window, float64
//   seqattr::deeplift_delta_product(a, da, b, db)    (a + da)(b + db) − ab = a db + da b + da db
//   seqattr::deeplift_zero_delta(t)                  zeros like t
//   seqattr::deeplift_output_delta(y, dy)            returns y; keeps dy for the caller
//                                                    (recorded_output_delta)
#include <torch/torch.h>

namespace seqattr::deeplift {

// The Δ of the model output recorded by the last forward pass on this thread inside the
// current PairLayoutGuard, or an undefined tensor.
torch::Tensor recorded_output_delta();

}  // namespace seqattr::deeplift
