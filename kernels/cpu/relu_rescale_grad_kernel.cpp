// CPU reference for seqattr::relu_rescale_grad; the CUDA twin must match it.
#include <ATen/ATen.h>
#include <ATen/Dispatch.h>
#include <ATen/Parallel.h>
#include <torch/library.h>

#include <algorithm>
#include <cmath>
#include <type_traits>

#include "kernels/ops/relu_rescale_grad_checks.h"
#include "kernels/ops/relu_rescale_grad_core.h"

namespace seqattr::ops {
namespace {

// One span of a reference row, as relu_rescale_element computes it (the same values; only
// the sign of a zero result may differ), written as selects that the compiler vectorizes.
template <typename T>
__attribute__((always_inline)) inline void relu_rescale_span(T* __restrict__ out,
                                                             const T* __restrict__ xi,
                                                             const T* __restrict__ xr,
                                                             const T* __restrict__ g, int64_t n,
                                                             T eps) {
  for (int64_t i = 0; i < n; ++i) {
    const T d = xi[i] - xr[i];
    const T secant = g[i] * ((relu_value(xi[i]) - relu_value(xr[i])) / d);
    const T through_relu = xr[i] <= T(0) ? T(0) : g[i];
    out[i] = std::abs(d) < eps ? through_relu : secant;
  }
}

// Built for AVX2 too, chosen at run time where the CPU has it; without FMA (there is no
// product to contract), so every CPU computes the same bits. The division is done for every
// element and selected after, in vectors: the kernels are built with -fno-trapping-math
// (CMakeLists.txt), as LibTorch is, which allows that and changes no value.
__attribute__((target_clones("avx2", "default"))) void relu_rescale_span_float(
    float* out, const float* xi, const float* xr, const float* g, int64_t n, float eps) {
  relu_rescale_span(out, xi, xr, g, n, eps);
}

__attribute__((target_clones("avx2", "default"))) void relu_rescale_span_double(
    double* out, const double* xi, const double* xr, const double* g, int64_t n, double eps) {
  relu_rescale_span(out, xi, xr, g, n, eps);
}

template <typename T>
void rescale_span(T* out, const T* xi, const T* xr, const T* g, int64_t n, T eps) {
  if constexpr (std::is_same_v<T, float>) {
    relu_rescale_span_float(out, xi, xr, g, n, eps);
  } else if constexpr (std::is_same_v<T, double>) {
    relu_rescale_span_double(out, xi, xr, g, n, eps);
  } else {  // Half, BFloat16: element by element
    for (int64_t i = 0; i < n; ++i) out[i] = relu_rescale_element(xi[i], xr[i], g[i], eps);
  }
}

// Elements of one row handled by one work item: a reference row of bpnet_2114 (64 x 2,114)
// is ~33 of them, enough for two threads to share a small batch.
constexpr int64_t kChunk = 4096;

at::Tensor relu_rescale_grad_cpu(const at::Tensor& x, const at::Tensor& grad,
                                 const at::Tensor& owner, int64_t inputs, double epsilon) {
  check_relu_rescale_grad(x, grad, owner, inputs);
  const auto xc = x.contiguous();
  const auto gc = grad.contiguous();
  const auto oc = owner.contiguous();
  auto out = at::empty_like(xc);
  const int64_t references = oc.size(0);
  const int64_t row = xc.numel() / std::max<int64_t>(xc.size(0), 1);
  out.narrow(0, 0, inputs).zero_();
  if (references == 0 || row == 0) return out;
  const int64_t chunks = (row + kChunk - 1) / kChunk;
  const int64_t* op = oc.data_ptr<int64_t>();
  for (int64_t k = 0; k < references; ++k) {
    TORCH_CHECK(op[k] >= 0 && op[k] < inputs, "owner[", k, "] = ", op[k], " is not an input row");
  }
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, x.scalar_type(), "relu_rescale_grad_cpu", [&] {
    const scalar_t* xp = xc.data_ptr<scalar_t>();
    const scalar_t* gp = gc.data_ptr<scalar_t>();
    scalar_t* outp = out.data_ptr<scalar_t>();
    // epsilon in the data's dtype, as ATen compares `tensor < double`.
    const auto eps = static_cast<scalar_t>(epsilon);
    at::parallel_for(0, references * chunks, 1, [&](int64_t begin, int64_t end) {
      for (int64_t item = begin; item < end; ++item) {
        const int64_t k = item / chunks;
        const int64_t lo = (item % chunks) * kChunk, hi = std::min(row, lo + kChunk);
        const int64_t at = (inputs + k) * row + lo;
        rescale_span(outp + at, xp + op[k] * row + lo, xp + at, gp + at, hi - lo, eps);
      }
    });
  });
  return out;
}

}  // namespace

TORCH_LIBRARY_IMPL(seqattr, CPU, m) {
  m.impl("relu_rescale_grad", &relu_rescale_grad_cpu);
}

}  // namespace seqattr::ops
