// CPU reference for seqattr::rescale_multipliers; the CUDA twin must match it.
#include <ATen/ATen.h>
#include <ATen/Dispatch.h>
#include <ATen/Parallel.h>
#include <torch/library.h>

#include "kernels/ops/rescale_checks.h"
#include "kernels/ops/rescale_core.h"

namespace seqattr::ops {
namespace {

std::tuple<at::Tensor, at::Tensor> rescale_multipliers_cpu(const at::Tensor& x,
                                                           const at::Tensor& x_ref,
                                                           const at::Tensor& y,
                                                           const at::Tensor& y_ref,
                                                           const at::Tensor& grad, double epsilon) {
  check_rescale(x, x_ref, y, y_ref, grad);
  const auto xi = x.contiguous(), xr = x_ref.contiguous();
  const auto yi = y.contiguous(), yr = y_ref.contiguous();
  const auto g = grad.contiguous();
  auto to_x = at::empty_like(xi);
  auto to_y = at::empty_like(xi);
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, x.scalar_type(), "rescale_multipliers_cpu", [&] {
    const scalar_t* xip = xi.data_ptr<scalar_t>();
    const scalar_t* xrp = xr.data_ptr<scalar_t>();
    const scalar_t* yip = yi.data_ptr<scalar_t>();
    const scalar_t* yrp = yr.data_ptr<scalar_t>();
    const scalar_t* gp = g.data_ptr<scalar_t>();
    scalar_t* txp = to_x.data_ptr<scalar_t>();
    scalar_t* typ = to_y.data_ptr<scalar_t>();
    // epsilon in the data's dtype, as ATen compares `tensor < double`.
    const auto eps = static_cast<scalar_t>(epsilon);
    at::parallel_for(0, xi.numel(), 4096, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) {
        rescale_element(xip[i], xrp[i], yip[i], yrp[i], gp[i], eps, txp[i], typ[i]);
      }
    });
  });
  return {to_x, to_y};
}

}  // namespace

TORCH_LIBRARY_IMPL(seqattr, CPU, m) {
  m.impl("rescale_multipliers", &rescale_multipliers_cpu);
}

}  // namespace seqattr::ops
