#include "core/row_chunks.h"

namespace seqattr {

torch::Tensor RowChunk::row_sequence(const torch::Device& device) const {
  const auto rows = torch::arange(row_begin, row_end, torch::TensorOptions(torch::kLong).device(device));
  return rows.div(items, "floor") - seq_begin;
}

torch::Tensor RowChunk::row_item(const torch::Device& device) const {
  return torch::arange(row_begin, row_end, torch::TensorOptions(torch::kLong).device(device))
      .remainder(items);
}

void for_each_row_chunk(int64_t sequences, int64_t items, int64_t chunk_rows,
                        const std::function<void(const RowChunk&)>& visit) {
  TORCH_INTERNAL_ASSERT(items > 0 && chunk_rows > 0);
  const int64_t total = sequences * items;
  for (int64_t begin = 0; begin < total; begin += chunk_rows) {
    RowChunk chunk;
    chunk.items = items;
    chunk.row_begin = begin;
    chunk.row_end = std::min(total, begin + chunk_rows);
    chunk.seq_begin = begin / items;
    chunk.seq_end = (chunk.row_end - 1) / items + 1;
    chunk.finished_end = chunk.row_end / items;
    visit(chunk);
  }
}

CarriedRows::CarriedRows(std::vector<int64_t> item_shape, torch::TensorOptions options,
                         double initial)
    : item_shape_(std::move(item_shape)), options_(options), initial_(initial) {
  std::vector<int64_t> shape{0};
  shape.insert(shape.end(), item_shape_.begin(), item_shape_.end());
  values_ = torch::full(shape, initial_, options_);
}

torch::Tensor& CarriedRows::cover(const RowChunk& chunk) {
  TORCH_INTERNAL_ASSERT(chunk.seq_begin == first_, "chunks must come in order");
  const int64_t grow = chunk.seq_end - first_ - values_.size(0);
  if (grow > 0) {
    std::vector<int64_t> shape{grow};
    shape.insert(shape.end(), item_shape_.begin(), item_shape_.end());
    values_ = torch::cat({values_, torch::full(shape, initial_, options_)});
  }
  return values_;
}

torch::Tensor CarriedRows::release_finished(const RowChunk& chunk) {
  const int64_t finished = std::max<int64_t>(0, chunk.finished_end - first_);
  auto out = values_.slice(0, 0, finished);
  values_ = values_.slice(0, finished).contiguous();
  first_ += finished;
  return out;
}

}  // namespace seqattr
