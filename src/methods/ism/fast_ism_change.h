#pragma once
// How fast ISM holds a batch of mutants' activations: as their change from the reference
// sequence's activations (mutant - reference), each row's change confined to its own window
// of positions.
//
// Why changes rather than values: f(mutant) - f(input), both rounded to float32 near |f|,
// loses the digits that a small change lives in (on a BPNet counts head, |f| is ~500 times the
// largest change). Carried as changes, linear operations (convolution, batchnorm, pooling by
// averaging, means, sums, linear layers) never see the reference's magnitude, and
// piecewise-linear ones (ReLU, max-pooling) are exact where the mutant stays on the
// reference's piece.
#include <torch/script.h>

#include <cstdint>
#include <vector>

namespace seqattr::fast_ism {

// A value of the mutant pass that depends on the mutated input.
struct Slot {
  enum class Kind {
    Window,  // a tensor whose last dimension is length; the change is zero outside the window
    Dense,   // a tensor, its change held in full
    Value,   // no change is tracked: `value` is the mutants' own (sizes, lists of them)
    List,    // a list of Window or Dense tensors
  };
  Kind kind = Kind::Value;
  // Window and Dense: the reference's value, one row (1, ...) or one per mutant row
  // (fast_ism_pass.h, ReferenceRows).
  torch::Tensor reference;
  // Window: (B, ..., width); row r holds the change over positions [lo[r], lo[r] + width),
  // which lies inside [0, length). Dense: (B, ...), the whole change.
  torch::Tensor delta;
  std::vector<int64_t> lo;
  c10::IValue value;
  std::vector<Slot> items;

  bool is_change() const { return kind == Kind::Window || kind == Kind::Dense; }
  int64_t rows() const { return delta.size(0); }
  int64_t length() const { return reference.size(-1); }
  int64_t width() const { return delta.size(-1); }
};

Slot window_slot(torch::Tensor reference, std::vector<int64_t> lo, torch::Tensor delta);
Slot dense_slot(torch::Tensor reference, torch::Tensor delta);
Slot value_slot(c10::IValue value);

// Windows of `width` (at most `length`), one per row, each covering [begin[r], end[r])
// clipped to [0, length) and lying inside [0, length). Callers derive `width` from the layer
// and the input's width, never from the rows' positions, so that a row's arithmetic does not
// depend on which other rows share its batch.
struct Placement {
  std::vector<int64_t> lo;
  int64_t width = 0;
};
Placement place(const std::vector<int64_t>& begin, int64_t width, int64_t length);

// Row r of `rows` (B, ..., W) holds positions [lo[r], lo[r] + W) of something that is zero
// elsewhere; returns positions [start[r], start[r] + width) of each row: (B, ..., width).
torch::Tensor shift_rows(const torch::Tensor& rows, const std::vector<int64_t>& lo,
                         const std::vector<int64_t>& start, int64_t width);

// The reference (1, ..., L), or one row per row (B, ..., L), over positions [start[r],
// start[r] + width) for each row r, zero outside [0, L): (B, ..., width). It may be a
// broadcast view.
torch::Tensor reference_rows(const torch::Tensor& reference, const std::vector<int64_t>& start,
                             int64_t width);

// Per-row positions (lo, say) as a (B,) int64 tensor on `device`, for the kernel ops.
torch::Tensor long_tensor(const std::vector<int64_t>& values, const torch::Device& device);

// A Window as a Dense slot (its change over all positions); a Dense slot as it is.
Slot to_dense(const Slot& slot);

// The mutants' own value: reference plus change, or the Value, or the list of them.
c10::IValue mutant_value(const Slot& slot);

}  // namespace seqattr::fast_ism
