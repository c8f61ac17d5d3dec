// The body of conv1d_direct_rows.h's functions; included once by each of its two builds, which
// define SEQATTR_CONV1D_ROWS_ENTRY to the function's name. Everything else has internal
// linkage (see conv1d_direct_rows.h for why).
#include "kernels/cpu/conv1d_direct_rows.h"

namespace seqattr::ops::conv1d_direct_rows {
namespace {

typedef float Lanes8 __attribute__((vector_size(32)));

// Positions per tile: 6 positions x 2 vectors of 8 channels = 12 accumulators, with the two
// weight vectors and a broadcast input, 15 of AVX2's 16 vector registers.
constexpr int kTilePositions = 6;

template <int Positions>
inline __attribute__((always_inline)) void tile(const Rows& r, int64_t j, int64_t block) {
  // Each tap's sum over channels on its own, then the taps' sums added in order: rounding
  // grows with a chain's length, and K x C products in one chain (Basset's 11 x 128) lose
  // digits that max-pools and ReLU kinks downstream turn into different choices.
  Lanes8 total[Positions][2];
  for (int p = 0; p < Positions; ++p) total[p][0] = total[p][1] = Lanes8{};
  const float* weights = r.weight + block * r.kernel * r.channels * kChannelBlock;
  for (int64_t k = 0; k < r.kernel; ++k) {
    const int64_t at = (j - r.begin) + r.shifts[k];
    if (at + Positions <= r.inside_begin || at >= r.inside_end) continue;  // padding alone
    Lanes8 acc[Positions][2];
    for (int p = 0; p < Positions; ++p) acc[p][0] = acc[p][1] = Lanes8{};
    const float* xk = r.x + at * r.channels;
    const float* wk = weights + k * r.channels * kChannelBlock;
    for (int64_t c = 0; c < r.channels; ++c) {
      Lanes8 w0, w1;
      __builtin_memcpy(&w0, wk + c * kChannelBlock, sizeof w0);
      __builtin_memcpy(&w1, wk + c * kChannelBlock + 8, sizeof w1);
      for (int p = 0; p < Positions; ++p) {
        const float v = xk[p * r.channels + c];
        acc[p][0] += w0 * v;
        acc[p][1] += w1 * v;
      }
    }
    for (int p = 0; p < Positions; ++p) {
      total[p][0] += acc[p][0];
      total[p][1] += acc[p][1];
    }
  }
  // The sums go out channel by channel, a row's positions side by side: through a small
  // array, as the vectors hold 8 channels of one position (lane extracts per store, and an
  // address computed per element, took more time than the multiply-adds at 64 channels).
  // Bias and ReLU on the vectors (the same IEEE operations per lane as on scalars).
  const int64_t first = block * kChannelBlock;
  const int64_t count = r.out_channels - first < kChannelBlock ? r.out_channels - first : kChannelBlock;
  float sums[Positions][kChannelBlock];
  Lanes8 bias[2] = {};
  for (int64_t v = 0; r.bias && v < count; ++v) bias[v / 8][v % 8] = r.bias[first + v];
  const Lanes8 zero = {};
  for (int p = 0; p < Positions; ++p) {
    for (int h = 0; h < 2; ++h) {
      Lanes8 sum = r.bias ? total[p][h] + bias[h] : total[p][h];
      if (r.relu) sum = sum < zero ? zero : sum;  // NaN stays NaN
      __builtin_memcpy(&sums[p][h * 8], &sum, sizeof sum);
    }
  }
  float* row = r.out + first * r.out_stride + j;
  for (int64_t v = 0; v < count; ++v, row += r.out_stride) {
    for (int p = 0; p < Positions; ++p) row[p] = sums[p][v];
  }
}

// NarrowRows: 4 vectors of 8 positions at a time (4 tap sums, 4 totals, the weight: 9 of 16
// registers), each vector its own chain.
constexpr int kNarrowVectors = 4;
static_assert(8 * kNarrowVectors == kNarrowSpan, "NarrowRows' step");

// Output channel o at the 8 * kNarrowVectors positions from j, into `sums` (relu and bias
// applied).
inline void narrow_tile(const NarrowRows& r, int64_t o, int64_t j, float* sums) {
  Lanes8 total[kNarrowVectors] = {};
  for (int64_t k = 0; k < r.kernel; ++k) {
    Lanes8 acc[kNarrowVectors] = {};
    const float* xk = r.x + (j - r.begin) + r.shifts[k];
    const float* wk = r.weight + o * r.channels * r.kernel + k;
    for (int64_t c = 0; c < r.channels; ++c) {
      const float w = wk[c * r.kernel];
      const float* xc = xk + c * r.x_stride;
      for (int t = 0; t < kNarrowVectors; ++t) {
        Lanes8 v;
        __builtin_memcpy(&v, xc + 8 * t, sizeof v);
        acc[t] += w * v;
      }
    }
    for (int t = 0; t < kNarrowVectors; ++t) total[t] += acc[t];
  }
  const Lanes8 zero = {};
  for (int t = 0; t < kNarrowVectors; ++t) {
    Lanes8 sum = r.bias ? total[t] + r.bias[o] : total[t];
    if (r.relu) sum = sum < zero ? zero : sum;
    __builtin_memcpy(sums + 8 * t, &sum, sizeof sum);
  }
}

}  // namespace

void SEQATTR_CONV1D_NARROW_ENTRY(const NarrowRows& r) {
  constexpr int64_t span = kNarrowSpan;
  float sums[span];
  for (int64_t o = 0; o < r.out_channels; ++o) {
    float* row = r.out + o * r.out_stride;
    for (int64_t j = r.begin; j < r.end; j += span) {
      narrow_tile(r, o, j, sums);
      const int64_t count = r.end - j < span ? r.end - j : span;
      for (int64_t p = 0; p < count; ++p) row[j + p] = sums[p];
    }
  }
}

void SEQATTR_CONV1D_ROWS_ENTRY(const Rows& r) {
  const int64_t blocks = (r.out_channels + kChannelBlock - 1) / kChannelBlock;
  for (int64_t block = 0; block < blocks; ++block) {
    int64_t j = r.begin;
    for (; j + kTilePositions <= r.end; j += kTilePositions) tile<kTilePositions>(r, j, block);
    for (; j < r.end; ++j) tile<1>(r, j, block);  // the same operations, one position at a time
  }
}

}  // namespace seqattr::ops::conv1d_direct_rows
