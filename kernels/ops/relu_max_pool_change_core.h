#pragma once
// The arithmetic of seqattr::relu_max_pool_change, written once for the host and the device
// so that the CPU kernel and its CUDA twin agree bit for bit; and the argument checks they
// share.
//
// With r the reference input, d its change and g = relu(r) - (r's pool maximum of relu):
//   relu(r + d) - relu(r) = max(d + min(r, 0), -max(r, 0)),
// exact where r > 0 and rounded once otherwise, and the pool's change is the maximum over
// the pool of g + that (exact at the reference's arg-max, where g = 0). These are the
// expressions fast ISM's unfused ReLU and max-pool rules evaluate (relu_terms and
// max_pool_terms in src/methods/ism/rules_pointwise.cpp and rules_windowed.cpp), in the same
// order. NaN propagates, as in at::maximum and at::max_pool1d.
#include <ATen/ATen.h>
#include <c10/macros/Macros.h>

#include "kernels/ops/ism_mutants_checks.h"

namespace seqattr::ops::relu_pool {

template <typename T>
C10_HOST_DEVICE inline T nan_max(T a, T b) {
  return (a > b || a != a) ? a : b;
}

template <typename T>
C10_HOST_DEVICE inline T relu_change(T d, T r) {
  const T low = r > T(0) ? T(0) : r;     // min(r, 0), NaN kept
  const T high = r < T(0) ? T(0) : r;    // max(r, 0), NaN kept
  return nan_max(d + low, -high);
}

// One step of a pool's maximum: `best` so far, then the position with change d, reference
// r and gap g. Branch-free selects, so that the CPU loop over channels vectorizes.
template <typename T>
C10_HOST_DEVICE inline T pool_step(T best, T d, T r, T g) {
  const T v = g + relu_change(d, r);
  return (v > best || v != v) ? v : best;
}

}  // namespace seqattr::ops::relu_pool

namespace seqattr::ops {

inline void check_relu_max_pool_change(const at::Tensor& delta, const at::Tensor& lo,
                                       const at::Tensor& reference, const at::Tensor& gap,
                                       int64_t kernel, const at::Tensor& out_lo,
                                       int64_t out_width) {
  TORCH_CHECK(delta.dim() == 3 && at::isFloatingType(delta.scalar_type()),
              "delta must be (B, C, W) floating, got ", delta.sizes(), " ", delta.scalar_type());
  TORCH_CHECK(reference.dim() == 2 && reference.size(0) == delta.size(1),
              "reference must be (C, L) with C = ", delta.size(1), ", got ", reference.sizes());
  TORCH_CHECK(gap.sizes() == reference.sizes(), "gap must be ", reference.sizes(), ", got ",
              gap.sizes());
  for (const auto* t : {&reference, &gap}) {
    TORCH_CHECK(t->scalar_type() == delta.scalar_type() && t->device() == delta.device(),
                "reference and gap must match delta's dtype and device");
  }
  TORCH_CHECK(kernel >= 1, "kernel must be positive, got ", kernel);
  const int64_t length = reference.size(1), pools = length / kernel;
  TORCH_CHECK(delta.size(2) <= length, "window width ", delta.size(2), " exceeds length ", length);
  TORCH_CHECK(out_width >= 0 && out_width <= pools, "out_width must be in [0, ", pools, "], got ",
              out_width);
  const int64_t rows = delta.size(0);
  check_index(lo, rows, delta.device(), length - delta.size(2) + 1, "lo");
  check_index(out_lo, rows, delta.device(), pools - out_width + 1, "out_lo");
}

}  // namespace seqattr::ops
