// Rules that keep a change windowed along length: convolutions, pools, crops and whole slices,
// concatenations, and the linear layer read through a flatten of a window.
#include <algorithm>
#include <map>

#include "kernels/ops/relu_max_pool_change.h"
#include "methods/ism/mutant_pass.h"

namespace seqattr::fast_ism {

int64_t single(const c10::IValue& v, int64_t fallback) {
  const auto list = v.toIntVector();
  return list.empty() ? fallback : list.at(0);
}

int64_t floor_div(int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }
int64_t ceil_div(int64_t a, int64_t b) { return -floor_div(-a, b); }

// Where one of `windows` holds the others in every row (a residual add of a convolution's
// output to its input, channels concatenated from the same layer) the width is the widest
// one's; otherwise it is the widest row's span, which depends on the batch.
Placement union_of(const std::vector<const Slot*>& windows, int64_t length) {
  const size_t rows = windows.front()->lo.size();
  std::vector<int64_t> begin(rows, INT64_MAX);
  int64_t widest = 0, span = 0;
  for (size_t r = 0; r < rows; ++r) {
    int64_t end = INT64_MIN;
    for (const Slot* w : windows) {
      begin[r] = std::min(begin[r], w->lo[r]);
      end = std::max(end, w->lo[r] + w->width());
      widest = std::max(widest, w->width());
    }
    span = std::max(span, end - begin[r]);
  }
  return place(begin, std::max(widest, span), length);
}

torch::Tensor channels_last(const torch::Tensor& t) {
  return t.transpose(1, 2).contiguous().transpose(1, 2);
}

Slot empty_window(const torch::Tensor& reference, int64_t rows) {
  auto shape = reference.sizes().vec();
  shape.front() = rows;
  shape.back() = 0;
  return window_slot(reference, std::vector<int64_t>(rows, 0),
                     torch::zeros(shape, reference.options()));
}

// max over a pool of (r + d) minus the pool's reference maximum R is the max over the pool
// of ((r - R) + d): exact at the reference's arg-max, where r - R = 0. The term r - R of
// input r, pooled by kernel k (positions past the last whole pool are never read).
std::vector<torch::Tensor> max_pool_terms(const torch::Tensor& r, int64_t k) {
  const int64_t pools = r.size(-1) / k;
  auto sizes = r.sizes().vec();
  sizes.back() = pools;
  sizes.push_back(k);
  const auto grouped = r.narrow(-1, 0, pools * k).reshape(sizes);
  const auto gap = (grouped - std::get<0>(grouped.max(-1, /*keepdim=*/true))).flatten(-2);
  const auto padded = torch::constant_pad_nd(gap, {0, r.size(-1) - pools * k});
  return {padded.dim() == 3 ? channels_last(padded) : padded};
}

namespace {

// A stride-1 convolution of changes (B, C_in, W) with weight (C_out, C_in, k), as every
// output it reaches: (B, C_out, W + d(k-1)), output j reading input j - d(k-1) + t*d at tap
// t. Computed by scattering each input column through all k taps (one matrix product of
// B*W columns), not by sliding the kernel over the zero-padded window: the windows are
// narrow, so sliding would spend most of its multiply-adds on the padding (2.4x on Basset's
// second layer). Each output sums its taps in the order t = k-1 .. 0, whatever the batch.
torch::Tensor scatter_conv(const torch::Tensor& delta, const torch::Tensor& weight,
                           int64_t d) {
  const int64_t rows = delta.size(0), c_in = delta.size(1), width = delta.size(2);
  const int64_t c_out = weight.size(0), k = weight.size(2);
  const auto columns = delta.transpose(1, 2).reshape({rows * width, c_in});
  const auto taps = weight.permute({1, 2, 0}).reshape({c_in, k * c_out});
  const auto products = torch::mm(columns, taps).view({rows, width, k, c_out});
  auto out = torch::zeros({rows, width + d * (k - 1), c_out}, delta.options());
  for (int64_t t = k - 1; t >= 0; --t) {
    out.narrow(1, d * (k - 1 - t), width).add_(products.select(2, t));
  }
  return out.transpose(1, 2);
}

}  // namespace

bool MutantPass::rule_conv(Node* node) {
  std::vector<c10::IValue> args;
  if (node->inputs().size() != 7 || !arguments(node, 1, &args)) return false;
  if (!arg(node, args, "padding").isIntList()) return false;  // padding="same" etc.
  const Slot& in = slot(node->inputs()[0]);
  const auto weight = arg(node, args, "weight").toTensor();
  const int64_t k = weight.size(-1);
  const int64_t s = single(arg(node, args, "stride"), 1);
  const int64_t p = single(arg(node, args, "padding"), 0);
  const int64_t d = single(arg(node, args, "dilation"), 1);
  const auto out_reference = reference_output(node);
  if (in.width() == 0) {
    set(node->output(), empty_window(out_reference, in.rows()));
    return true;
  }
  // Output o reads inputs o*s - p + j*d, j < k: it changes if any falls in the window. How
  // many outputs that is depends on the window's phase against the stride: take the most.
  const auto first_output = [&](int64_t lo) { return ceil_div(lo + p - d * (k - 1), s); };
  const auto end_output = [&](int64_t lo) { return floor_div(lo + in.width() - 1 + p, s) + 1; };
  int64_t width = 0;
  for (int64_t phase = 0; phase < s; ++phase) {
    width = std::max(width, end_output(phase) - first_output(phase));
  }
  std::vector<int64_t> begin(in.lo.size());
  for (size_t r = 0; r < in.lo.size(); ++r) begin[r] = first_output(in.lo[r]);
  const Placement out = place(begin, width, out_reference.size(-1));
  if (out.width == 0) {
    set(node->output(), empty_window(out_reference, in.rows()));
    return true;
  }
  const int64_t groups = arg(node, args, "groups").toInt();
  if (s == 1 && groups == 1 && in.delta.dim() == 3) {
    // Changes reach outputs [lo + p - d(k-1), lo + W + p) before clipping to the output.
    std::vector<int64_t> reach(in.lo.size());
    for (size_t r = 0; r < reach.size(); ++r) reach[r] = in.lo[r] + p - d * (k - 1);
    const auto scattered = scatter_conv(in.delta, weight, d);
    set(node->output(), window_slot(out_reference, out.lo,
                                    shift_rows(scattered, reach, out.lo, out.width)));
    return true;
  }
  std::vector<int64_t> start(in.lo.size());
  for (size_t r = 0; r < start.size(); ++r) start[r] = out.lo[r] * s - p;
  const auto inputs = shift_rows(in.delta, in.lo, start, (out.width - 1) * s + d * (k - 1) + 1);
  const std::vector<int64_t> stride = {s}, no_padding = {0}, dilation = {d};
  auto delta = torch::conv1d(inputs, weight, {}, stride, no_padding, dilation, groups);
  set(node->output(), window_slot(out_reference, out.lo, delta));
  return true;
}

// Whether `node`, a max_pool1d or avg_pool1d, pools whole non-overlapping windows (stride =
// kernel, no padding, dilation or ceil mode), a max-pool's terms precomputed; and its kernel.
bool MutantPass::pool_kernel(Node* node, int64_t* kernel) const {
  const bool average = node->kind() == c10::aten::avg_pool1d;
  std::vector<c10::IValue> args;
  if (!arguments(node, 1, &args)) return false;
  const int64_t k = single(arg(node, args, "kernel_size"), 1);
  const int64_t s = single(arg(node, args, "stride"), k);
  const int64_t p = single(arg(node, args, "padding"), 0);
  const int64_t d = average ? 1 : single(arg(node, args, "dilation"), 1);
  const bool ceil_mode = arg(node, args, "ceil_mode").toBool();
  *kernel = k;
  return s == k && p == 0 && d == 1 && !ceil_mode && (average || terms_.count(node));
}

bool MutantPass::fuses_into_max_pool(Node* relu) const {
  const Value* x = relu->inputs().at(0);
  const auto& uses = relu->output()->uses();
  if (!is_change(x) || slot(x).kind != Slot::Kind::Window || uses.size() != 1) return false;
  Node* pool = uses.front().user;
  int64_t k = 0;
  const auto dtype = slot(x).delta.scalar_type();
  const bool kernel_dtype = dtype == torch::kFloat || dtype == torch::kDouble;
  // The fused kernel reads one reference row (ops/relu_max_pool_change.h).
  return layout_.used == 1 && pool->kind() == c10::aten::max_pool1d && uses.front().offset == 0 &&
         kernel_dtype &&
         terms_.count(relu) && terms_.at(relu).size() == 1 && pool_kernel(pool, &k);
}

bool MutantPass::rule_pool(Node* node) {
  const bool average = node->kind() == c10::aten::avg_pool1d;
  int64_t k = 0;
  if (!pool_kernel(node, &k)) return false;
  const Value* x = node->inputs()[0];
  const Slot& in = slot(x);
  const auto out_reference = reference_output(node);
  // A window of W positions meets at most ceil((W + k - 1) / k) pools, whatever its phase.
  std::vector<int64_t> begin(in.lo.size()), start(in.lo.size());
  for (size_t r = 0; r < in.lo.size(); ++r) begin[r] = in.lo[r] / k;
  const int64_t width = in.width() == 0 ? 0 : ceil_div(in.width() + k - 1, k);
  const Placement out = place(begin, width, out_reference.size(-1));
  if (out.width == 0) {
    set(node->output(), empty_window(out_reference, in.rows()));
    return true;
  }
  const auto& gap = average ? torch::Tensor() : terms_.at(node).at(0);  // see max_pool_terms
  if (left_to_reader_.count(x)) {  // `in` is the ReLU's input (fuses_into_max_pool)
    const auto device = in.delta.device();
    const auto& relu_input = terms_.at(x->node()).front();  // channel-last, see relu_terms
    const auto pooled = ops::relu_max_pool_change(in.delta, long_tensor(in.lo, device),
                                                  relu_input.squeeze(0), gap.squeeze(0), k,
                                                  long_tensor(out.lo, device), out.width);
    set(node->output(), window_slot(out_reference, out.lo, pooled));
    return true;
  }
  for (size_t r = 0; r < start.size(); ++r) start[r] = out.lo[r] * k;
  const auto delta = shift_rows(in.delta, in.lo, start, out.width * k);
  if (average) {
    std::vector<c10::IValue> pool_args = {delta};
    if (!arguments(node, 1, &pool_args)) return false;
    set(node->output(), window_slot(out_reference, out.lo, run_tensor_node(node, pool_args)));
    return true;
  }
  const std::vector<int64_t> kernel = {k};
  const auto pooled = torch::max_pool1d(reference_rows(gap, start, out.width * k) + delta, kernel, kernel);
  set(node->output(), window_slot(out_reference, out.lo, pooled));
  return true;
}

// x[:] along any dimension, batch included (TorchScript writes them for x[:, :, a:b]).
bool MutantPass::rule_whole_slice(Node* node) {
  const Value* x = node->inputs()[0];
  std::vector<c10::IValue> args;
  if (!is_change(x) || !arguments(node, 1, &args)) return false;
  const auto& reference = slot(x).reference;
  const int64_t dim = dim_of(arg(node, args, "dim"), reference.dim());
  const int64_t size = dim == 0 ? layout_.stored : reference.size(dim);
  const auto& start = arg(node, args, "start");
  const auto& end = arg(node, args, "end");
  const bool from_start = start.isNone() || start.toInt() == 0;
  const bool to_end = end.isNone() || end.toInt() >= size;
  if (!from_start || !to_end || arg(node, args, "step").toInt() != 1) return false;
  Slot out = slot(x);
  out.reference = reference_output(node);
  set(node->output(), std::move(out));
  return true;
}

// A crop along length: slice(x, -1, start, end, 1).
bool MutantPass::rule_crop(Node* node) {
  const Slot& in = slot(node->inputs()[0]);
  std::vector<c10::IValue> args;
  if (!arguments(node, 1, &args)) return false;
  const int64_t dim = dim_of(arg(node, args, "dim"), in.reference.dim());
  if (dim != in.reference.dim() - 1 || arg(node, args, "step").toInt() != 1) return false;
  const int64_t length = in.length();
  const auto& start = arg(node, args, "start");
  int64_t first = start.isNone() ? 0 : start.toInt();
  if (first < 0) first += length;
  first = std::clamp<int64_t>(first, 0, length);
  const auto out_reference = reference_output(node);
  std::vector<int64_t> lo(in.lo.size());
  for (size_t r = 0; r < in.lo.size(); ++r) lo[r] = in.lo[r] - first;
  const Placement out = place(lo, in.width(), out_reference.size(-1));
  set(node->output(), window_slot(out_reference, out.lo,
                                  shift_rows(in.delta, lo, out.lo, out.width)));
  return true;
}

bool MutantPass::rule_cat(Node* node) {
  const Value* list = node->inputs().at(0);
  std::vector<c10::IValue> args;
  if (!dependent(list) || slot(list).kind != Slot::Kind::List || !arguments(node, 1, &args)) {
    return false;
  }
  const auto out_reference = reference_output(node);
  const int64_t dim = dim_of(arg(node, args, "dim"), out_reference.dim());
  if (dim == 0) return false;
  const auto& items = slot(list).items;
  bool windows = dim != out_reference.dim() - 1;
  for (const auto& item : items) {
    windows = windows && item.kind == Slot::Kind::Window && item.length() == out_reference.size(-1);
  }
  std::vector<torch::Tensor> parts;
  if (!windows) {
    for (const auto& item : items) parts.push_back(to_dense(item).delta);
    set(node->output(), dense_slot(out_reference, torch::cat(parts, dim)));
    return true;
  }
  std::vector<const Slot*> parts_windows;
  for (const auto& item : items) parts_windows.push_back(&item);
  const Placement out = union_of(parts_windows, out_reference.size(-1));
  for (const auto& item : items) parts.push_back(shift_rows(item.delta, item.lo, out.lo, out.width));
  set(node->output(), window_slot(out_reference, out.lo, torch::cat(parts, dim)));
  return true;
}

// The linear layer's change from a windowed (B, C, W) change, by the weight's columns under
// each row's window: rows with the same window share one matrix product. The bias cancels.
bool MutantPass::rule_windowed_linear(Node* linear) {
  const Slot& in = slot(linear->inputs().at(0));  // the flatten's input
  c10::IValue weight;
  // rule_flatten_into_linear left the flatten to this layer only with such a weight.
  TORCH_INTERNAL_ASSERT(argument(input_named(linear, "weight"), &weight));
  const auto& w = weight.toTensor();
  const int64_t outputs = w.size(0), channels = in.reference.size(1), width = in.width();
  const auto per_position = w.view({outputs, channels, in.length()});
  const auto device = in.delta.device();
  auto delta = torch::zeros({in.rows(), outputs}, in.delta.options());
  std::map<int64_t, std::vector<int64_t>> rows_at;
  for (size_t r = 0; r < in.lo.size() && width > 0; ++r) {
    rows_at[in.lo[r]].push_back(static_cast<int64_t>(r));
  }
  for (const auto& [lo, rows] : rows_at) {
    // At least two rows a product, as in run_mutant_pass: a row's digits must not depend
    // on whether it shares its window with others (one row may take a matrix-vector path).
    auto operands = rows;
    if (operands.size() == 1) operands.push_back(rows.front());
    const auto changes = in.delta.index_select(0, long_tensor(operands, device))
                             .reshape({-1, channels * width});
    const auto columns = per_position.narrow(2, lo, width).reshape({outputs, channels * width});
    const auto product = torch::mm(changes, columns.t()).narrow(0, 0, rows.size());
    delta.index_copy_(0, long_tensor(rows, device), product);
  }
  set(linear->output(), dense_slot(reference_output(linear), delta));
  return true;
}

}  // namespace seqattr::fast_ism
