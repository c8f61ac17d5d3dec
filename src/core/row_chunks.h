#pragma once
// Work laid out as rows (sequence s, item k), sequence-major with K items per sequence
// (IG steps, references), run in chunks of at most `chunk_rows` rows. A chunk may hold many
// sequences or part of one; per-sequence results are carried across chunks.
#include <torch/torch.h>

#include <functional>
#include <vector>

namespace seqattr {

struct RowChunk {
  int64_t row_begin = 0, row_end = 0;  // rows [row_begin, row_end) of N x K
  int64_t seq_begin = 0, seq_end = 0;  // the sequences these rows belong to
  int64_t finished_end = 0;            // every sequence before it is complete after this chunk
  int64_t items = 1;                   // K

  int64_t rows() const { return row_end - row_begin; }
  // (rows,) int64: each row's sequence, counted from seq_begin.
  torch::Tensor row_sequence(const torch::Device& device) const;
  // (rows,) int64: each row's item k.
  torch::Tensor row_item(const torch::Device& device) const;
};

void for_each_row_chunk(int64_t sequences, int64_t items, int64_t chunk_rows,
                        const std::function<void(const RowChunk&)>& visit);

// Per-sequence running values (sums, maxima) of the sequences started but not finished.
class CarriedRows {
 public:
  // Each sequence's value has shape `item_shape`, starting at `initial`.
  CarriedRows(std::vector<int64_t> item_shape, torch::TensorOptions options, double initial = 0.0);

  // Values of sequences [chunk.seq_begin, chunk.seq_end), growing as needed. Invariant:
  // chunk.seq_begin is the first sequence not yet released.
  torch::Tensor& cover(const RowChunk& chunk);
  // Removes and returns the values of the sequences finished by `chunk` (may be empty).
  torch::Tensor release_finished(const RowChunk& chunk);

 private:
  std::vector<int64_t> item_shape_;
  torch::TensorOptions options_;
  double initial_;
  int64_t first_ = 0;
  torch::Tensor values_;
};

}  // namespace seqattr
