// CPU reference for seqattr::relu_max_pool_change; the CUDA twin must match it.
//
// Works channel-last: (B, W, C) changes, (L, C) reference and gap, (B, out_width, C) output,
// so that the inner loop runs over channels, contiguous in every array, and vectorizes. Fast
// ISM's convolutions hand over their changes in that layout (a transposed view, taken here
// without a copy); other layouts are copied once.
#include <ATen/ATen.h>
#include <ATen/Dispatch.h>
#include <ATen/Parallel.h>
#include <torch/library.h>

#include <limits>
#include <vector>

#include "kernels/ops/relu_max_pool_change_core.h"

namespace seqattr::ops {
namespace {

// Pool `pool` of row b, all channels: out[c] over positions [pool*k, pool*k + k).
// changes: the row's (W, C) changes over [lo, lo + W); reference, gap: (L, C); zeros: (C,).
template <typename T>
void pool_channels(T* __restrict__ out, const T* changes, int64_t lo, int64_t width,
                   const T* reference, const T* gap, const T* zeros, int64_t channels,
                   int64_t kernel, int64_t pool) {
  for (int64_t c = 0; c < channels; ++c) out[c] = -std::numeric_limits<T>::infinity();
  for (int64_t i = pool * kernel; i < (pool + 1) * kernel; ++i) {
    const T* __restrict__ r = reference + i * channels;
    const T* __restrict__ g = gap + i * channels;
    const int64_t at = i - lo;
    const T* __restrict__ d = (at >= 0 && at < width) ? changes + at * channels : zeros;
    for (int64_t c = 0; c < channels; ++c) out[c] = relu_pool::pool_step(out[c], d[c], r[c], g[c]);
  }
}

at::Tensor relu_max_pool_change_cpu(const at::Tensor& delta, const at::Tensor& lo,
                                    const at::Tensor& reference, const at::Tensor& gap,
                                    int64_t kernel, const at::Tensor& out_lo, int64_t out_width) {
  check_relu_max_pool_change(delta, lo, reference, gap, kernel, out_lo, out_width);
  const int64_t rows = delta.size(0), channels = delta.size(1), width = delta.size(2);
  const auto changes = delta.transpose(1, 2).contiguous();  // (B, W, C)
  const auto ref = reference.t().contiguous();               // (L, C)
  const auto g = gap.t().contiguous();
  const auto lo_c = lo.contiguous();
  const auto out_lo_c = out_lo.contiguous();
  auto out = at::empty({rows, out_width, channels}, delta.options());
  AT_DISPATCH_FLOATING_TYPES(delta.scalar_type(), "relu_max_pool_change_cpu", [&] {
    const scalar_t* dp = changes.data_ptr<scalar_t>();
    const scalar_t* rp = ref.data_ptr<scalar_t>();
    const scalar_t* gp = g.data_ptr<scalar_t>();
    const int64_t* lop = lo_c.data_ptr<int64_t>();
    const int64_t* olp = out_lo_c.data_ptr<int64_t>();
    scalar_t* op = out.data_ptr<scalar_t>();
    const std::vector<scalar_t> zeros(channels, scalar_t(0));  // the change outside the window
    at::parallel_for(0, rows * out_width, 4, [&](int64_t begin, int64_t end) {
      for (int64_t bj = begin; bj < end; ++bj) {
        const int64_t b = bj / out_width, j = bj % out_width;
        pool_channels(op + bj * channels, dp + b * width * channels, lop[b], width, rp, gp,
                      zeros.data(), channels, kernel, olp[b] + j);
      }
    });
  });
  return out.transpose(1, 2);
}

}  // namespace

TORCH_LIBRARY_IMPL(seqattr, CPU, m) {
  m.impl("relu_max_pool_change", &relu_max_pool_change_cpu);
}

}  // namespace seqattr::ops
