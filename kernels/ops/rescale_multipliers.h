#pragma once
#include <ATen/ATen.h>

#include <tuple>

namespace seqattr::ops {

// DeepLIFT's rescale rule for y = f(x) elementwise, per (input, reference) pair, given the
// incoming gradient g at y:
//   small = |x - x_ref| < epsilon           (compared in the data's dtype)
//   to_x  = small ? 0 : g * ((y - y_ref) / (x - x_ref))    g times the multiplier dy/dx
//   to_y  = small ? g : 0                                   sent on through f's own backward
// All five tensors have one shape, one floating dtype and one device. Returns (to_x, to_y).
std::tuple<at::Tensor, at::Tensor> rescale_multipliers(const at::Tensor& x, const at::Tensor& x_ref,
                                                       const at::Tensor& y, const at::Tensor& y_ref,
                                                       const at::Tensor& grad, double epsilon);

}  // namespace seqattr::ops
