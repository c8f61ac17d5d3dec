#pragma once
// The inner loops of seqattr::conv1d_direct's CPU kernel (conv1d_direct_kernel.cpp), built
// twice: for any x86-64 (conv1d_direct_rows_baseline.cpp) and with AVX2 and FMA
// (conv1d_direct_rows_avx2.cpp), chosen at run time. No ATen and no header with inline
// functions here: the linker merges an inline function's copies across the two builds, and
// could hand AVX2 code to a CPU without it.
//
// Vectorized over output channels, 16 at a time, never over positions: every output position
// is the same sequence of operations on its own inputs, so positions whose inputs are equal
// get equal outputs, bit for bit (as LibTorch's oneDNN convolution gives them). Max-pools and
// argmaxes downstream then break exact ties as in exact arithmetic; a BLAS GEMM over positions
// rounds a column by where it falls in the GEMM's tiles, and does not.
#include <cstdint>

namespace seqattr::ops::conv1d_direct_rows {

constexpr int64_t kChannelBlock = 16;  // output channels per vector block
constexpr int64_t kNarrowChannels = 8;  // fewer output channels than this: NarrowRows
constexpr int64_t kNarrowSpan = 32;     // NarrowRows' positions per step

// One sequence's output positions [begin, end), float32:
//   out[o * out_stride + j] = (sum_k sum_c w[o, c, k] * x[((j - begin) + shifts[k]) * C + c])
//                             + bias[o]   (then relu, if asked),
// each tap's sum over c (in order) added to the total in order of k, for every j.
// Loops run a block of 16 output channels over every position before the next block, so a
// block's weights (K·C·16 floats, 96 KB at 512 channels) stay in L2 while the window streams
// past them; the window is channel-last, so a tap of 6 positions reads 6 runs of C floats
// (a (C, width) window read C rows a tap, 4 KB apart at width 1,024: one cache set).
struct Rows {
  const float* x;        // (width, C): the input window the positions read, zero outside the input
  int64_t width;
  const float* weight;   // (ceil(O / 16), K, C, 16): w[o, c, k], zero for o >= O
  int64_t kernel;        // K
  int64_t channels;      // C
  const int64_t* shifts; // (K,), each in [0, width - (end - begin)]
  float* out;            // the sequence's (O, L_out) output
  int64_t out_stride;    // L_out
  int64_t out_channels;  // O
  const float* bias;     // (O,) or null
  int64_t begin, end;
  bool relu;             // store max(sum, 0) (NaN stays NaN, as at::relu keeps it)
  // x's positions [inside_begin, inside_end) hold the input; the others are its zero padding
  // (give [0, width) where weights may not be finite). A tap whose positions in a tile all
  // lie in the padding is skipped: its sums would be +0 (finite w: w * 0 is +-0, and +0 + +-0
  // is +0), and a total, which starts at +0, is never -0, so adding +0 leaves it as it is.
  // The same bits, fewer multiply-adds: the input gradient of a dilated layer whose output
  // is its input's centre (core/demanded_positions.h) reads one or two of its three taps at
  // the first and last 2d positions, a third of the work at d = 256 on 1,074 positions.
  int64_t inside_begin, inside_end;
};

void rows_baseline(const Rows& rows);
void rows_avx2(const Rows& rows);  // only where the CPU has AVX2 and FMA

// The same sums for layers of few output channels (a profile head's one track; the input
// gradient of a first layer, 4 bases), where 16-channel vectors would be mostly padding:
// vectorized over positions instead, 8 at a time, reading the input's rows as they lie.
// Every position is the same sequence of operations on its own inputs, in Rows' order (each
// tap's sum over c in order, the taps added in order, then the bias, then the relu).
struct NarrowRows {
  const float* x;        // (C, x_stride): input rows, zero outside the input; out position
  int64_t x_stride;      //   j reads position (j - begin) + shifts[k] for tap k. Rows hold at
                         //   least round_up(end - begin, kNarrowSpan) + max(shifts) positions
  const float* weight;   // (O, C, K): w[o, c, k]
  int64_t kernel;        // K
  int64_t channels;      // C
  const int64_t* shifts; // (K,), each >= 0
  float* out;            // the sequence's (O, L_out) output
  int64_t out_stride;    // L_out
  int64_t out_channels;  // O
  const float* bias;     // (O,) or null
  int64_t begin, end;
  bool relu;
};

void narrow_rows_baseline(const NarrowRows& rows);
void narrow_rows_avx2(const NarrowRows& rows);  // only where the CPU has AVX2 and FMA

}  // namespace seqattr::ops::conv1d_direct_rows
