// CPU reference for seqattr::conv1d_direct, conv1d_direct_relu (the same loops, storing
// relu of each sum), conv1d_direct_relu_residual (adding the input to each block of that just
// stored) and the input gradient (masked by a relu's output as it is read, an addend added to
// each block stored); the CUDA twin must match them.
//
// Both are sums of shifted products on each sequence's (C, L) rows:
//   out[n, :, j] = (sum_k A_k @ in[n, :, j + shift_k]) + bias   (in is zero outside [0, L_in))
// Forward: A_k = weight[:, :, k], shift_k = k * dilation - padding.
// Input gradient: A_k = weight[:, :, k]^T, shift_k = padding - k * dilation, no bias.
// float32 runs in conv1d_direct_rows.h's loops, vectorized over output channels so that equal
// inputs give equal outputs at every position; the bias is added last, as LibTorch adds it
// (added first, a large bias rounds away small differences between positions that max-pools
// compare). Work items are (sequence, block of positions) of fixed size, so results do not
// depend on batching or threads. Layers with fewer than 8 output channels (a profile head's
// single track, a first layer's input gradient: 16-channel blocks would be mostly padding)
// run NarrowRows, vectorized over positions, the same order of sums. float64 runs LibTorch's
// own convolution, which the op then is exactly.
#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <torch/library.h>
#include <xmmintrin.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <tuple>
#include <utility>
#include <vector>

#include "kernels/cpu/conv1d_direct_rows.h"
#include "kernels/ops/conv1d_direct_checks.h"

namespace seqattr::ops {
namespace {

namespace rows = conv1d_direct_rows;

// Output positions per work item.
constexpr int64_t kPositionBlock = 512;

// AVX2 and FMA where the CPU has them, unless ATEN_CPU_CAPABILITY=default asks LibTorch for
// its portable kernels (as the least-capable test runs do): then the portable loops too.
bool use_avx2() {
  static const bool avx2 = [] {
    const char* capability = std::getenv("ATEN_CPU_CAPABILITY");
    if (capability && std::strcmp(capability, "default") == 0) return false;
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  }();
  return avx2;
}

// float32 runs this file's loops; float64 LibTorch's convolution.
bool runs_direct(const at::Tensor& signal) { return signal.scalar_type() == at::kFloat; }

// in[c * in_length + i], or 0 where gate[...] <= 0 (threshold_backward's rule: NaN passes).
inline float gated(const float* in, const float* gate, int64_t at) {
  return gate && gate[at] <= 0.0f ? 0.0f : in[at];
}

// Four channels' values at four positions, in[(c + q) * in_length + i + k] for q, k < 4 (gated
// as above), stored transposed: out[k * channels + q]. SSE (any x86-64); the same values as
// gated(), lane by lane (cmple is false for NaN; andnot then keeps the value's bits).
inline void transpose4(const float* in, const float* gate, int64_t in_length, float* out,
                       int64_t channels) {
  __m128 rows[4];
  for (int q = 0; q < 4; ++q) {
    rows[q] = _mm_loadu_ps(in + q * in_length);
    if (gate) {
      const __m128 closed = _mm_cmple_ps(_mm_loadu_ps(gate + q * in_length), _mm_setzero_ps());
      rows[q] = _mm_andnot_ps(closed, rows[q]);
    }
  }
  _MM_TRANSPOSE4_PS(rows[0], rows[1], rows[2], rows[3]);
  for (int k = 0; k < 4; ++k) _mm_storeu_ps(out + k * channels, rows[k]);
}

// The part [lo, hi) of a window's positions [first, first + width) inside [0, in_length).
std::pair<int64_t, int64_t> inside(int64_t first, int64_t width, int64_t in_length) {
  const int64_t lo = std::clamp<int64_t>(-first, 0, width);
  return {lo, std::clamp<int64_t>(in_length - first, lo, width)};
}

// Sets `window` to one sequence's input positions [first, first + width), channel-last
// (width, C), zero outside [0, L_in); with `gate` (the input's shape), zero where gate <= 0.
// `in` and `gate` point at the sequence's (C, L_in) rows. 4 x 4 blocks go through SSE
// registers (a scalar copy, a strided load per value, took a fifth of the convolution's time
// at 64 channels); the edges one value at a time.
void fill_window(std::vector<float>& window, const float* in, const float* gate, int64_t channels,
                 int64_t in_length, int64_t first, int64_t width) {
  window.resize(channels * width);
  const auto [lo, hi] = inside(first, width, in_length);
  std::fill(window.begin(), window.begin() + lo * channels, 0.0f);
  std::fill(window.begin() + hi * channels, window.end(), 0.0f);
  const int64_t c4 = channels - channels % 4, p4 = lo + (hi - lo) - (hi - lo) % 4;
  for (int64_t c = 0; c < c4; c += 4) {
    for (int64_t p = lo; p < p4; p += 4) {
      const int64_t at = c * in_length + first + p;
      transpose4(in + at, gate ? gate + at : nullptr, in_length, window.data() + p * channels + c,
                 channels);
    }
  }
  for (int64_t p = lo; p < hi; ++p) {  // the channels past c4 at every position, ...
    for (int64_t c = c4; c < channels; ++c) {
      window[p * channels + c] = gated(in, gate, c * in_length + first + p);
    }
  }
  for (int64_t p = p4; p < hi; ++p) {  // ... and the positions past p4 in the others
    for (int64_t c = 0; c < c4; ++c) {
      window[p * channels + c] = gated(in, gate, c * in_length + first + p);
    }
  }
}

// Sets `window` to one sequence's input positions [first, first + width) as (C, stride) rows
// (NarrowRows' layout), stride = width + pad zeros past the end, zero outside [0, L_in); gated
// as fill_window.
void fill_row_window(std::vector<float>& window, const float* in, const float* gate,
                     int64_t channels, int64_t in_length, int64_t first, int64_t width,
                     int64_t stride) {
  window.resize(channels * stride);
  const auto [lo, hi] = inside(first, width, in_length);
  for (int64_t c = 0; c < channels; ++c) {
    float* row = window.data() + c * stride;
    std::fill(row, row + lo, 0.0f);
    for (int64_t p = lo; p < hi; ++p) row[p] = gated(in, gate, c * in_length + first + p);
    std::fill(row + hi, row + stride, 0.0f);
  }
}

// What shifted_products does around its sums (each optional): how it reads its input, and
// what it stores.
struct Around {
  at::Tensor gate;    // in's shape: in is read as zero where gate <= 0 (threshold_backward's rule)
  at::Tensor bias;    // (O',): added to each sum
  bool relu = false;  // value = max(sum + bias, 0)
  // (N, O', A): the output at j is addend[..., j + addend_shift] + value where that column
  // exists, the value alone elsewhere ...
  at::Tensor addend;
  int64_t addend_shift = 0;
  bool keep_value = false;  // ... and value is returned as well (then every j has a column)
};

// taps: (O', C', K) float32, A_k = taps[:, :, k]; in (N, C', L_in). Returns (N, O', L_out):
// the values, or addend + values with `around.addend`; and the values again where
// `around.keep_value` (else undefined).
std::pair<at::Tensor, at::Tensor> shifted_products(const at::Tensor& in, const at::Tensor& taps,
                                                   const std::vector<int64_t>& shifts,
                                                   int64_t out_length, const Around& around) {
  const auto x = in.detach().contiguous();  // values only: the op's derivative is its own
  const auto g = around.gate.defined() ? around.gate.detach().contiguous() : at::Tensor();
  const auto addend = around.addend.defined() ? around.addend.detach().contiguous() : at::Tensor();
  const bool both = addend.defined() && around.keep_value;
  const int64_t sequences = x.size(0), channels = x.size(1), in_length = x.size(2);
  const int64_t out_channels = taps.size(0), kernel = taps.size(2);
  auto out = at::empty({sequences, out_channels, out_length}, x.options());
  auto added = both ? at::empty_like(out) : at::Tensor();
  const int64_t shift = around.addend_shift;
  TORCH_INTERNAL_ASSERT(!addend.defined() ||
                        (addend.size(0) == sequences && addend.size(1) == out_channels));
  TORCH_INTERNAL_ASSERT(!both || (shift >= 0 && out_length + shift <= addend.size(2)));
  const auto result = [&] { return both ? std::make_pair(added, out) : std::make_pair(out, at::Tensor()); };
  if (out.numel() == 0) return result();
  // Few output channels run NarrowRows on (O', C', K) taps as they are; the others Rows on
  // (O' blocks of 16, K, C', 16), zero past O'. Packed on every call: O'·C'·K floats against
  // N·L_out times as many multiply-adds (1e-5 of the work at 1 sequence of 2,114 bp), so no
  // cache that would have to follow the weights.
  const bool narrow = out_channels < rows::kNarrowChannels;
  at::Tensor packed;
  if (narrow) {
    packed = taps.detach().contiguous();
  } else {
    const int64_t blocks = (out_channels + rows::kChannelBlock - 1) / rows::kChannelBlock;
    packed = at::zeros({blocks * rows::kChannelBlock, channels, kernel}, x.options());
    packed.narrow(0, 0, out_channels).copy_(taps.detach());
    packed = packed.view({blocks, rows::kChannelBlock, channels, kernel}).permute({0, 3, 2, 1}).contiguous();
  }
  const auto b = around.bias.defined() ? around.bias.detach().contiguous() : at::Tensor();
  // Rows skips taps that read only zero padding where that gives the same bits: finite
  // weights (an infinite or NaN weight times a padding zero is NaN, as at::conv1d has it).
  const bool skips_padding = !narrow && at::isfinite(taps).all().item<bool>();

  const auto [low, high] = std::minmax_element(shifts.begin(), shifts.end());
  const int64_t spread = *high - *low;
  std::vector<int64_t> window_shifts;
  for (const int64_t s : shifts) window_shifts.push_back(s - *low);
  const int64_t position_blocks = (out_length + kPositionBlock - 1) / kPositionBlock;
  const auto run_rows = use_avx2() ? &rows::rows_avx2 : &rows::rows_baseline;
  const auto run_narrow = use_avx2() ? &rows::narrow_rows_avx2 : &rows::narrow_rows_baseline;
  const float* xp = x.data_ptr<float>();
  const float* gp = g.defined() ? g.data_ptr<float>() : nullptr;
  at::parallel_for(0, sequences * position_blocks, 1, [&](int64_t begin, int64_t end) {
    std::vector<float> window;
    for (int64_t item = begin; item < end; ++item) {
      const int64_t n = item / position_blocks;
      const int64_t j0 = (item % position_blocks) * kPositionBlock;
      const int64_t j1 = std::min(out_length, j0 + kPositionBlock);
      // The input positions [j0 + low, j1 + high) these outputs read, zero outside [0, L_in):
      // channel-last (width, C) for Rows, rows for NarrowRows.
      const int64_t width = j1 - j0 + spread, first = j0 + *low;
      const int64_t sequence_at = n * channels * in_length;
      const float* gate_rows = gp ? gp + sequence_at : nullptr;
      const int64_t rows_at = n * out_channels * out_length;
      float* values = out.data_ptr<float>() + rows_at;
      const float* bias = b.defined() ? b.data_ptr<float>() : nullptr;
      if (narrow) {
        const int64_t span = rows::kNarrowSpan;
        const int64_t stride = (j1 - j0 + span - 1) / span * span + spread;
        fill_row_window(window, xp + sequence_at, gate_rows, channels, in_length, first, width,
                        stride);
        run_narrow({window.data(), stride, packed.data_ptr<float>(), kernel, channels,
                    window_shifts.data(), values, out_length, out_channels, bias, j0, j1,
                    around.relu});
      } else {
        fill_window(window, xp + sequence_at, gate_rows, channels, in_length, first, width);
        const auto [lo, hi] = skips_padding ? inside(first, width, in_length)
                                            : std::pair<int64_t, int64_t>{0, width};
        run_rows({window.data(), width, packed.data_ptr<float>(), kernel, channels,
                  window_shifts.data(), values, out_length, out_channels, bias, j0, j1,
                  around.relu, lo, hi});
      }
      // The addend while the block's values are still in cache: a contiguous run per channel
      // (the loops' own stores go down the channels, 16 rows at a time, and do not vectorize).
      if (addend.defined()) {
        const int64_t columns = addend.size(2);
        const float* summand = addend.data_ptr<float>() + n * out_channels * columns + shift;
        float* sums = both ? added.data_ptr<float>() + rows_at : values;
        const int64_t from = std::max(j0, -shift), to = std::min(j1, columns - shift);
        for (int64_t o = 0; o < out_channels; ++o) {
          const int64_t row = o * out_length;
          const float* column = summand + o * columns;
          for (int64_t j = from; j < to; ++j) sums[row + j] = column[j] + values[row + j];
        }
      }
    }
  });
  return result();
}

// The forward ops' one path: conv1d_direct, with `relu` (the ReLU at the store), and with
// `residual` x + relu(...) as well (x's centre where the output is shorter; returned first,
// the relu term second). float64 runs LibTorch's convolution, relu and add; so does a residual
// whose add broadcasts (the convolution changes x's channels), which the loops' per-block add
// cannot.
std::pair<at::Tensor, at::Tensor> forward_cpu(const at::Tensor& x, const at::Tensor& weight,
                                              const c10::optional<at::Tensor>& bias,
                                              int64_t padding, int64_t dilation, bool relu,
                                              bool residual) {
  check_conv1d_direct(x, weight, /*is_grad=*/false, padding, dilation);
  const int64_t kernel = weight.size(2);
  const int64_t out_length = conv1d_direct_output_length(x.size(2), kernel, padding, dilation);
  TORCH_CHECK(out_length >= 1, "conv1d_direct: input length ", x.size(2), " is too short for kernel ",
              kernel, " with dilation ", dilation, " and padding ", padding);
  const auto b = bias.has_value() && bias->defined() ? bias->detach() : at::Tensor();
  const auto with_residual = [&](const at::Tensor& term) {
    return residual ? std::make_pair(at::add(residual_term(x.detach(), out_length), term), term)
                    : std::make_pair(term, at::Tensor());
  };
  if (!runs_direct(x)) {
    const auto out = at::convolution(x.detach(), weight.detach(), b, {1}, {padding}, {dilation},
                                     false, {0}, 1);
    return with_residual(relu ? at::relu(out) : out);
  }
  std::vector<int64_t> shifts;
  for (int64_t k = 0; k < kernel; ++k) shifts.push_back(k * dilation - padding);
  Around around;
  around.bias = b;
  around.relu = relu;
  const bool keeps_channels = weight.size(0) == x.size(1);
  if (residual && keeps_channels) {
    around.addend = x;
    around.addend_shift = residual_crop(x.size(2), out_length);
    around.keep_value = true;
    return shifted_products(x, weight, shifts, out_length, around);
  }
  return with_residual(shifted_products(x, weight, shifts, out_length, around).first);
}

at::Tensor conv1d_direct_cpu(const at::Tensor& x, const at::Tensor& weight,
                             const c10::optional<at::Tensor>& bias, int64_t padding,
                             int64_t dilation) {
  return forward_cpu(x, weight, bias, padding, dilation, /*relu=*/false, /*residual=*/false).first;
}

at::Tensor conv1d_direct_relu_cpu(const at::Tensor& x, const at::Tensor& weight,
                                  const c10::optional<at::Tensor>& bias, int64_t padding,
                                  int64_t dilation) {
  return forward_cpu(x, weight, bias, padding, dilation, /*relu=*/true, /*residual=*/false).first;
}

std::tuple<at::Tensor, at::Tensor> conv1d_direct_relu_residual_cpu(
    const at::Tensor& x, const at::Tensor& weight, const c10::optional<at::Tensor>& bias,
    int64_t padding, int64_t dilation) {
  const auto [sum, relu] = forward_cpu(x, weight, bias, padding, dilation, true, true);
  return {sum, relu};
}

at::Tensor conv1d_direct_input_grad_cpu(const at::Tensor& grad, const at::Tensor& weight,
                                        int64_t length, int64_t padding, int64_t dilation,
                                        const c10::optional<at::Tensor>& gate,
                                        const c10::optional<at::Tensor>& addend) {
  check_conv1d_direct(grad, weight, /*is_grad=*/true, padding, dilation);
  const int64_t kernel = weight.size(2);
  TORCH_CHECK(grad.size(2) == conv1d_direct_output_length(length, kernel, padding, dilation),
              "conv1d_direct_input_grad: grad length ", grad.size(2), " does not match input length ",
              length);
  check_conv1d_direct_grad_extras(grad, weight, length, gate, addend);
  Around around;
  if (given(gate)) around.gate = gate->detach();
  if (given(addend)) {
    around.addend = addend->detach();
    around.addend_shift = -residual_crop(length, addend->size(2));  // on the centre
  }
  if (!runs_direct(grad)) {
    const auto input = at::empty({grad.size(0), weight.size(1), length}, grad.options());
    const auto passed = around.gate.defined() ? at::threshold_backward(grad.detach(), around.gate, 0)
                                              : grad.detach();
    const auto products = std::get<0>(at::convolution_backward(
        passed, input, weight.detach(), c10::nullopt, {1}, {padding}, {dilation}, false, {0}, 1,
        {true, false, false}));
    return around.addend.defined() ? add_centred(products, around.addend) : products;
  }
  std::vector<int64_t> shifts;
  for (int64_t k = 0; k < kernel; ++k) shifts.push_back(padding - k * dilation);
  return shifted_products(grad, weight.transpose(0, 1), shifts, length, around).first;
}

}  // namespace

TORCH_LIBRARY_IMPL(seqattr, CPU, m) {
  m.impl("conv1d_direct", &conv1d_direct_cpu);
  m.impl("conv1d_direct_relu", &conv1d_direct_relu_cpu);
  m.impl("conv1d_direct_relu_residual", &conv1d_direct_relu_residual_cpu);
  m.impl("conv1d_direct_input_grad", &conv1d_direct_input_grad_cpu);
}

}  // namespace seqattr::ops
