#pragma once
// The per-element rule of seqattr::rescale_multipliers, shared by its CPU reference and CUDA
// twin so that both compute it in the same operations and order.
#include <ATen/OpMathType.h>
#include <c10/macros/Macros.h>

namespace seqattr::ops {

// Each operation is rounded to scalar_t, in the order of the tensor expression the op
// replaced: to_x = small ? 0 : g * ((y - y_ref) / (x - x_ref)), to_y = small ? g : 0, with
// small = |x - x_ref| < eps compared exactly in the op-math type (Half has no own <).
template <typename scalar_t>
C10_HOST_DEVICE inline void rescale_element(scalar_t x, scalar_t x_ref, scalar_t y,
                                            scalar_t y_ref, scalar_t g, scalar_t eps,
                                            scalar_t& to_x, scalar_t& to_y) {
  using opmath_t = at::opmath_type<scalar_t>;
  const auto zero = static_cast<scalar_t>(0);
  const scalar_t delta_in = x - x_ref;
  const scalar_t delta_out = y - y_ref;
  const auto magnitude = static_cast<opmath_t>(delta_in);
  const bool small = (magnitude < 0 ? -magnitude : magnitude) < static_cast<opmath_t>(eps);
  to_x = small ? zero : static_cast<scalar_t>(g * static_cast<scalar_t>(delta_out / delta_in));
  to_y = small ? g : zero;
}

}  // namespace seqattr::ops
