// CPU reference for seqattr::relu_change; the CUDA twin must match it.
//
// One loop for both layouts: each (row, position) or (row, channel) is a run of contiguous
// values in delta and the output, read against a run of the reference in the same layout
// ((L, C) rows for channel-last changes, (C, L) rows otherwise), so the inner loop
// vectorizes.
#include <ATen/ATen.h>
#include <ATen/Dispatch.h>
#include <ATen/Parallel.h>
#include <torch/library.h>

#include "kernels/ops/relu_change_checks.h"
#include "kernels/ops/relu_max_pool_change_core.h"

namespace seqattr::ops {
namespace {

template <typename T>
void change_run(T* __restrict__ out, const T* __restrict__ d, const T* __restrict__ r, int64_t n) {
  for (int64_t i = 0; i < n; ++i) out[i] = relu_pool::relu_change(d[i], r[i]);
}

at::Tensor relu_change_cpu(const at::Tensor& delta, const at::Tensor& lo, const at::Tensor& reference) {
  check_relu_change(delta, lo, reference);
  const int64_t rows = delta.size(0), channels = delta.size(1), width = delta.size(2);
  const bool last = relu_change_channels_last(delta);
  // Channel-last: (B, W, C) changes, (L, C) reference; else (B, C, W) and (C, L).
  const auto changes = last ? delta.transpose(1, 2) : delta.contiguous();
  const auto ref = last ? reference.t().contiguous() : reference.contiguous();
  const auto lo_c = lo.contiguous();
  auto out = at::empty_like(changes, at::MemoryFormat::Contiguous);
  if (out.numel() == 0) return last ? out.transpose(1, 2) : out;
  AT_DISPATCH_FLOATING_TYPES(delta.scalar_type(), "relu_change_cpu", [&] {
    const scalar_t* dp = changes.data_ptr<scalar_t>();
    const scalar_t* rp = ref.data_ptr<scalar_t>();
    const int64_t* lop = lo_c.data_ptr<int64_t>();
    scalar_t* op = out.data_ptr<scalar_t>();
    const int64_t length = reference.size(1);
    at::parallel_for(0, rows, 1, [&](int64_t begin, int64_t end) {
      for (int64_t b = begin; b < end; ++b) {
        const int64_t row = b * channels * width;
        if (last) {  // one run of C channels a position, at reference row lo + i
          for (int64_t i = 0; i < width; ++i) {
            change_run(op + row + i * channels, dp + row + i * channels,
                       rp + (lop[b] + i) * channels, channels);
          }
        } else {  // one run of W positions a channel, from reference column lo
          for (int64_t c = 0; c < channels; ++c) {
            change_run(op + row + c * width, dp + row + c * width, rp + c * length + lop[b], width);
          }
        }
      }
    });
  });
  return last ? out.transpose(1, 2) : out;
}

}  // namespace

TORCH_LIBRARY_IMPL(seqattr, CPU, m) {
  m.impl("relu_change", &relu_change_cpu);
}

}  // namespace seqattr::ops
