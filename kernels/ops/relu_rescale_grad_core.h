#pragma once
// The per-element rule of seqattr::relu_rescale_grad, shared by its CPU reference and CUDA
// twin. Built from rescale_element (rescale_core.h) so that it rounds exactly as the generic
// rescale rule followed by relu's backward does.
#include <c10/macros/Macros.h>

#include "kernels/ops/rescale_core.h"

namespace seqattr::ops {

// relu as LibTorch computes it (NaN stays NaN).
template <typename scalar_t>
C10_HOST_DEVICE inline scalar_t relu_value(scalar_t v) {
  return v < static_cast<scalar_t>(0) ? static_cast<scalar_t>(0) : v;
}

template <typename scalar_t>
C10_HOST_DEVICE inline scalar_t relu_rescale_element(scalar_t xi, scalar_t xr, scalar_t g,
                                                     scalar_t eps) {
  scalar_t to_x, to_y;
  rescale_element(xi, xr, relu_value(xi), relu_value(xr), g, eps, to_x, to_y);
  // relu's backward of to_y at the row's own activation (threshold_backward: zero where
  // xr <= 0); one of the two terms is zero.
  const scalar_t through_relu = xr <= static_cast<scalar_t>(0) ? static_cast<scalar_t>(0) : to_y;
  return to_x + through_relu;
}

}  // namespace seqattr::ops
