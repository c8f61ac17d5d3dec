#include "methods/ism/fast_ism_change.h"

#include <algorithm>

namespace seqattr::fast_ism {

torch::Tensor long_tensor(const std::vector<int64_t>& values, const torch::Device& device) {
  return torch::tensor(values, torch::kLong).to(device);
}

namespace {

// (B, width) positions offset[r] + i, viewed as (B, 1, ..., 1, width) for a rank-`rank` tensor.
torch::Tensor row_index(const std::vector<int64_t>& offset, int64_t width, int64_t rank,
                        const torch::Device& device) {
  const auto options = torch::TensorOptions().dtype(torch::kLong).device(device);
  auto index = long_tensor(offset, device).unsqueeze(1) + torch::arange(width, options);
  std::vector<int64_t> shape(rank, 1);
  shape.front() = static_cast<int64_t>(offset.size());
  shape.back() = width;
  return index.view(shape);
}

std::vector<int64_t> batch_shape(const torch::Tensor& like, int64_t rows, int64_t width) {
  auto shape = like.sizes().vec();
  shape.front() = rows;
  shape.back() = width;
  return shape;
}

}  // namespace

Slot window_slot(torch::Tensor reference, std::vector<int64_t> lo, torch::Tensor delta) {
  TORCH_INTERNAL_ASSERT(static_cast<int64_t>(lo.size()) == delta.size(0));
  Slot s;
  s.kind = Slot::Kind::Window;
  s.reference = std::move(reference);
  s.lo = std::move(lo);
  s.delta = std::move(delta);
  return s;
}

Slot dense_slot(torch::Tensor reference, torch::Tensor delta) {
  Slot s;
  s.kind = Slot::Kind::Dense;
  s.reference = std::move(reference);
  s.delta = std::move(delta);
  return s;
}

Slot value_slot(c10::IValue value) {
  Slot s;
  s.value = std::move(value);
  return s;
}

Placement place(const std::vector<int64_t>& begin, int64_t width, int64_t length) {
  Placement p;
  p.width = std::min(width, length);
  for (const int64_t b : begin) p.lo.push_back(std::clamp<int64_t>(b, 0, length - p.width));
  return p;
}

torch::Tensor shift_rows(const torch::Tensor& rows, const std::vector<int64_t>& lo,
                         const std::vector<int64_t>& start, int64_t width) {
  const int64_t have = rows.size(-1);
  std::vector<int64_t> offset(lo.size());
  for (size_t r = 0; r < lo.size(); ++r) offset[r] = start[r] - lo[r];
  const auto [low, high] = std::minmax_element(offset.begin(), offset.end());
  const int64_t left = std::max<int64_t>(0, -*low);
  const int64_t right = std::max<int64_t>(0, *high + width - have);
  const auto padded = left || right ? torch::constant_pad_nd(rows, {left, right}) : rows;
  if (*low == *high) return padded.narrow(-1, *low + left, width);
  for (auto& o : offset) o += left;
  const auto index = row_index(offset, width, rows.dim(), rows.device());
  return padded.gather(-1, index.expand(batch_shape(rows, rows.size(0), width)));
}

torch::Tensor reference_rows(const torch::Tensor& reference, const std::vector<int64_t>& start,
                             int64_t width) {
  const int64_t rows = static_cast<int64_t>(start.size());
  if (width == 0) return torch::zeros(batch_shape(reference, rows, 0), reference.options());
  const int64_t length = reference.size(-1);
  const auto [low, high] = std::minmax_element(start.begin(), start.end());
  const int64_t left = std::max<int64_t>(0, -*low);
  const int64_t right = std::max<int64_t>(0, *high + width - length);
  const auto padded =
      left || right ? torch::constant_pad_nd(reference, {left, right}) : reference;
  if (*low == *high) {
    return padded.narrow(-1, *low + left, width).expand(batch_shape(reference, rows, width));
  }
  std::vector<int64_t> picks(start);
  for (auto& p : picks) p += left;
  const auto at = long_tensor(picks, reference.device());
  if (reference.size(0) == 1) {
    // Every run of `width` positions, (n, ..., width) (a view); pick one run per row.
    const auto runs = padded.squeeze(0).unfold(-1, width, 1).movedim(-2, 0);
    return runs.index_select(0, at);
  }
  // One reference row per row (fast_ism_pass.h, ReferenceRows): row r's own run.
  TORCH_INTERNAL_ASSERT(reference.size(0) == rows);
  const auto runs = padded.unfold(-1, width, 1).movedim(-2, 1);  // (rows, n, ..., width)
  return runs.index({torch::arange(rows, at.options()), at});
}

Slot to_dense(const Slot& slot) {
  if (slot.kind != Slot::Kind::Window) return slot;
  const std::vector<int64_t> zero(slot.lo.size(), 0);
  return dense_slot(slot.reference, shift_rows(slot.delta, slot.lo, zero, slot.length()));
}

c10::IValue mutant_value(const Slot& slot) {
  switch (slot.kind) {
    case Slot::Kind::Value: return slot.value;
    case Slot::Kind::Window:
    case Slot::Kind::Dense: return slot.reference + to_dense(slot).delta;
    case Slot::Kind::List: {
      c10::List<at::Tensor> list;
      for (const auto& item : slot.items) list.push_back(mutant_value(item).toTensor());
      return list;
    }
  }
  return {};
}

}  // namespace seqattr::fast_ism
