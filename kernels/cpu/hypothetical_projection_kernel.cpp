// CPU reference for seqattr::hypothetical_projection; the CUDA twin must match it.
#include <ATen/ATen.h>
#include <ATen/Dispatch.h>
#include <ATen/Parallel.h>
#include <torch/library.h>

#include "kernels/ops/hypothetical_projection_checks.h"

namespace seqattr::ops {
namespace {

at::Tensor hypothetical_projection_cpu(const at::Tensor& multipliers, const at::Tensor& references) {
  check_hypothetical_projection(multipliers, references);
  const auto m = multipliers.contiguous();
  const auto r = references.contiguous();
  const int64_t rows = m.size(0), channels = m.size(1), length = m.size(2);
  auto out = at::empty_like(m);
  AT_DISPATCH_FLOATING_TYPES(m.scalar_type(), "hypothetical_projection_cpu", [&] {
    const scalar_t* mp = m.data_ptr<scalar_t>();
    const scalar_t* rp = r.data_ptr<scalar_t>();
    scalar_t* op = out.data_ptr<scalar_t>();
    at::parallel_for(0, rows * length, 256, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) {  // i = (row, position)
        const int64_t first = (i / length) * channels * length + i % length;
        // Products rounded one by one, summed in channel order from +0 (so all -0
        // products give +0, as ATen's sum does).
        scalar_t projected = 0;
        for (int64_t c = 0; c < channels; ++c) {
          const scalar_t product = rp[first + c * length] * mp[first + c * length];
          projected += product;
        }
        for (int64_t c = 0; c < channels; ++c) {
          op[first + c * length] = mp[first + c * length] - projected;
        }
      }
    });
  });
  return out;
}

}  // namespace

TORCH_LIBRARY_IMPL(seqattr, CPU, m) {
  m.impl("hypothetical_projection", &hypothetical_projection_cpu);
}

}  // namespace seqattr::ops
