#pragma once
#include <ATen/ATen.h>

#include <cstdint>

namespace seqattr::ops {

// DeepLIFT's rescale rule through y = relu(x), for a batch laid out as [inputs; references]
// (methods/deeplift/pair_layout.h), in one pass: the same numbers as rescale_multipliers
// followed by relu's own backward on to_y and the sum of the two, without their tensors.
//   x (S + P, ...): the activations entering the ReLU; row S + k is reference k, paired with
//     input row owner[k].
//   grad (S + P, ...): the gradient at relu(x); only its reference rows are read.
//   owner (P,) int64 in [0, S), on x's device; inputs = S.
// Returns the gradient at x, x's shape: zero on the input rows; on reference row S + k, with
// xi = x[owner[k]], xr = x[S + k], g = grad[S + k] (elementwise):
//   |xi - xr| < epsilon ? (xr <= 0 ? 0 : g) : g * ((relu(xi) - relu(xr)) / (xi - xr)).
at::Tensor relu_rescale_grad(const at::Tensor& x, const at::Tensor& grad, const at::Tensor& owner,
                             int64_t inputs, double epsilon);

}  // namespace seqattr::ops
