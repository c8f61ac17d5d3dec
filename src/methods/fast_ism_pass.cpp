#include "methods/fast_ism_pass.h"

#include <torch/csrc/jit/runtime/operator.h>

#include <algorithm>
#include <map>
#include <set>
#include <unordered_set>

#include "core/model_graph.h"
#include "kernels/ops/relu_max_pool_change.h"
#include "methods/ism/fast_ism_change.h"

namespace seqattr::fast_ism {
namespace {

using torch::jit::Node;
using torch::jit::Value;

// Elementwise, or per-channel: a window of positions is computed from the same window.
const std::set<std::string>& pointwise_ops() {
  static const std::set<std::string> ops = {
      "aten::relu",  "aten::relu6",    "aten::leaky_relu",  "aten::elu",        "aten::selu",
      "aten::celu",  "aten::gelu",     "aten::silu",        "aten::mish",       "aten::sigmoid",
      "aten::tanh",  "aten::softplus", "aten::log_sigmoid", "aten::hardtanh",   "aten::prelu",
      "aten::exp",   "aten::log",      "aten::batch_norm",  "aten::dropout",    "aten::neg",
      "aten::clone", "aten::contiguous", "aten::detach"};
  return ops;
}

// Pointwise operations that are linear: their change is the operation applied to the change
// (dropout only in eval mode, checked where used).
const std::set<std::string>& linear_pointwise_ops() {
  static const std::set<std::string> ops = {"aten::dropout", "aten::neg", "aten::clone",
                                            "aten::contiguous", "aten::detach"};
  return ops;
}

// Operations linear in their one tensor input (bias-free once the bias argument, listed
// here by index, is dropped) that keep the batch dimension first. On a Window they run on
// the change over all positions.
const std::unordered_map<std::string, int>& linear_map_ops() {
  static const std::unordered_map<std::string, int> ops = {
      {"aten::linear", 2},    {"aten::conv1d", 2},  {"aten::matmul", -1},
      {"aten::flatten", -1},  {"aten::view", -1},   {"aten::reshape", -1},
      {"aten::unsqueeze", -1}, {"aten::squeeze", -1}, {"aten::transpose", -1},
      {"aten::permute", -1},  {"aten::slice", -1},  {"aten::select", -1},
      {"aten::narrow", -1},   {"aten::mean", -1},   {"aten::sum", -1},
      {"aten::avg_pool1d", -1}, {"aten::cat", -1}};
  return ops;
}

thread_local Operations* t_operations = nullptr;

torch::Tensor run_tensor_node(Node* node, std::vector<c10::IValue> inputs) {
  return run_node(node, std::move(inputs)).at(0).toTensor();
}

// The single int of an int[] argument of a 1d op (or `fallback` when the list is empty).
int64_t single(const c10::IValue& v, int64_t fallback) {
  const auto list = v.toIntVector();
  return list.empty() ? fallback : list.at(0);
}

int64_t floor_div(int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }
int64_t ceil_div(int64_t a, int64_t b) { return -floor_div(-a, b); }

std::string kind_of(const Node* node) { return node->kind().toQualString(); }

// A dim argument, counted from 0 for a tensor of `rank` dimensions.
int64_t dim_of(const c10::IValue& dim, int64_t rank) {
  const int64_t d = dim.toInt();
  return d < 0 ? d + rank : d;
}

// Per row, one window holding `windows`' windows of that row. Where one of them holds the
// others in every row (a residual add of a convolution's output to its input, channels
// concatenated from the same layer) the width is the widest one's; otherwise it is the
// widest row's span, which depends on the batch.
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

// (1, C, L) with the channels of each position adjacent in memory (strides (C*L, 1, C)).
torch::Tensor channels_last(const torch::Tensor& t) {
  return t.transpose(1, 2).contiguous().transpose(1, 2);
}

// relu(r + d) - relu(r) = max(d + min(r, 0), -max(r, 0)), exactly when r > 0 and rounded
// once, at |r + d| <= |d|, otherwise: the terms min(r, 0) and -max(r, 0) of input r. For a
// (1, C, L) ReLU read only by a max-pool, also r itself stored channel-last, which
// relu_max_pool_change reads when the two are fused (fuses_into_max_pool).
std::vector<torch::Tensor> relu_terms(const Node* relu, const torch::Tensor& r) {
  std::vector<torch::Tensor> terms = {r.clamp_max(0), -r.clamp_min(0)};
  const auto& uses = relu->output()->uses();
  if (r.dim() == 3 && uses.size() == 1 && kind_of(uses.front().user) == "aten::max_pool1d") {
    terms.push_back(channels_last(r));
  }
  return terms;
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

// g(r + d) - g(r) for a pointwise g (`node`, with arguments `args`), in d's dtype. Computed in
// float64: the two terms round at |g|, far above the change when it is small.
torch::Tensor pointwise_change(Node* node, const std::vector<c10::IValue>& args,
                               const torch::Tensor& r, const torch::Tensor& d) {
  const auto with = [&](const torch::Tensor& x) {
    std::vector<c10::IValue> inputs = {x};
    for (const auto& a : args) inputs.push_back(cast_floating(a, torch::kDouble));
    return run_tensor_node(node, std::move(inputs));
  };
  const auto wide = r.to(torch::kDouble);
  return (with(wide + d.to(torch::kDouble)) - with(wide)).to(d.scalar_type());
}

class MutantPass {
 public:
  MutantPass(const Env& reference, const Env* exact, const PrecomputedTerms& terms, int64_t rows)
      : reference_(reference), exact_(exact), terms_(terms), rows_(rows) {}

  bool dependent(const Value* v) const { return slots_.count(v) > 0; }
  const Slot& slot(const Value* v) const { return slots_.at(v); }
  void set(const Value* v, Slot s) { slots_[v] = std::move(s); }
  bool is_change(const Value* v) const { return dependent(v) && slot(v).is_change(); }

  // The mutants' value of an input that carries no change: a constant, a reference-only value
  // or a size computed from the mutants. False for a mutant tensor whose change is unknown.
  bool argument(const Value* v, c10::IValue* out) const {
    if (!dependent(v)) {
      *out = reference_.at(v);
      return true;
    }
    if (slot(v).kind != Slot::Kind::Value || slot(v).value.isTensor()) return false;
    *out = slot(v).value;
    return true;
  }

  // Every input from `first` on, as arguments; false if one carries a change.
  bool arguments(const Node* node, size_t first, std::vector<c10::IValue>* out) const {
    for (size_t i = first; i < node->inputs().size(); ++i) {
      c10::IValue v;
      if (!argument(node->inputs()[i], &v)) return false;
      out->push_back(std::move(v));
    }
    return true;
  }

  torch::Tensor reference_output(const Node* node) const {
    return reference_.at(node->output()).toTensor().narrow(0, 0, 1);
  }

  // How many changes the pass holds, over all its values.
  int64_t tracked_changes() const {
    int64_t total = 0;
    for (const auto& [value, s] : slots_) total += s.is_change() ? s.delta.numel() : 0;
    return total;
  }

  void run(Node* node) {
    if (apply_rule(node)) return;
    for (const Value* v : node->inputs()) {
      // Such a slot holds another operation's input: only its fusing reader may take it.
      TORCH_INTERNAL_ASSERT(!left_to_reader_.count(v), "fast ISM: ", kind_of(node),
                            " read a value left to a fused reader");
    }
    run_generic(node);
  }

 private:
  bool apply_rule(Node* node);
  bool rule_shape(Node* node);
  bool rule_list(Node* node);
  bool rule_pointwise(Node* node);
  bool rule_binary(Node* node);
  bool rule_conv(Node* node);
  bool rule_crop(Node* node);
  bool rule_pool(Node* node);
  bool pool_kernel(Node* node, int64_t* kernel) const;
  bool fuses_into_max_pool(Node* relu) const;
  bool rule_flatten_into_linear(Node* flatten);
  bool rule_windowed_linear(Node* linear);
  bool rule_cat(Node* node);
  bool rule_length_reduction(Node* node);
  bool rule_softmax(Node* node);
  bool rule_reduction(Node* node);
  bool rule_power(Node* node);
  bool rule_channel_map(Node* node);
  bool rule_whole_slice(Node* node);
  bool rule_linear_map(Node* node);
  void run_generic(Node* node);
  bool run_constant_fill(Node* node);
  bool run_generic_wide(Node* node);

  // A slot like `in` (same rows and window) holding `delta` for `node`'s output.
  Slot like(const Slot& in, const Node* node, torch::Tensor delta) const {
    return in.kind == Slot::Kind::Window ? window_slot(reference_output(node), in.lo, std::move(delta))
                                         : dense_slot(reference_output(node), std::move(delta));
  }
  // The reference under `in`'s change: its window's positions, or all of it.
  static torch::Tensor reference_under(const Slot& in) {
    return in.kind == Slot::Kind::Window ? reference_rows(in.reference, in.lo, in.width())
                                         : in.reference;
  }

  // `v`'s reference value, one row, in float64: as computed before rounding where the
  // session kept it (exact_), else the stored value widened. Rules whose change multiplies
  // the reference (products, softmax, smooth activations) read it: a softmax-weighted
  // profile's change moves weight between positions whose logits are in the hundreds, and
  // the logits' float32 rounding alone put that change 5e-5 off.
  torch::Tensor exact_reference(const Value* v) const {
    const auto stored = reference_.at(v).toTensor().narrow(0, 0, 1);
    if (exact_) {
      const auto found = exact_->find(v);
      if (found != exact_->end() && found->second.isTensor() &&
          found->second.toTensor().sizes() == reference_.at(v).toTensor().sizes()) {
        return found->second.toTensor().narrow(0, 0, 1);
      }
    }
    return stored.to(torch::kDouble);
  }
  // The same under `in`'s change (`in` being v's slot).
  torch::Tensor exact_under(const Value* v, const Slot& in) const {
    const auto exact = exact_reference(v);
    if (exact.sizes() != in.reference.sizes()) return reference_under(in).to(torch::kDouble);
    return in.kind == Slot::Kind::Window ? reference_rows(exact, in.lo, in.width()) : exact;
  }

  const Env& reference_;
  const Env* exact_;  // may be null
  const PrecomputedTerms& terms_;
  int64_t rows_;
  std::unordered_map<const Value*, Slot> slots_;
  // Outputs left to their one reader, which fuses their operation into its own (a ReLU into
  // the max-pool after it, a flatten into the linear layer after it): their slot holds the
  // operation's input.
  std::unordered_set<const Value*> left_to_reader_;
};

bool MutantPass::apply_rule(Node* node) {
  const std::string kind = kind_of(node);
  // Values computed from the mutants' sizes (a traced model's aten::size, NumToTensor, Int
  // and arithmetic on them) carry no change: the generic path runs them as they are.
  if (std::none_of(node->inputs().begin(), node->inputs().end(), [&](const Value* v) {
        return is_change(v) || (dependent(v) && slot(v).kind == Slot::Kind::List);
      })) {
    return false;
  }
  if (kind == "prim::ListConstruct") return rule_list(node);
  if (kind == "aten::size" || kind == "aten::dim" || kind == "prim::dtype" ||
      kind == "prim::device") {
    return rule_shape(node);
  }
  if (node->outputs().size() != 1 ||
      node->output()->type()->kind() != c10::TypeKind::TensorType) {
    return false;
  }
  if (pointwise_ops().count(kind)) return rule_pointwise(node);
  if (kind == "aten::add" || kind == "aten::sub" || kind == "aten::rsub" || kind == "aten::mul" ||
      kind == "aten::div") {
    return rule_binary(node);
  }
  const Value* x = node->inputs().at(0);
  if (kind == "aten::slice" && rule_whole_slice(node)) return true;
  const bool window = is_change(x) && slot(x).kind == Slot::Kind::Window;
  if (window) {
    if (kind == "aten::conv1d" && rule_conv(node)) return true;
    if (kind == "aten::max_pool1d" || kind == "aten::avg_pool1d") {
      if (rule_pool(node)) return true;
    }
    if ((kind == "aten::slice" || kind == "aten::select") && rule_channel_map(node)) return true;
    if (kind == "aten::slice" && rule_crop(node)) return true;
    if ((kind == "aten::mean" || kind == "aten::sum") && rule_length_reduction(node)) return true;
    if (kind == "aten::flatten" && rule_flatten_into_linear(node)) return true;
  }
  if (kind == "aten::linear" && left_to_reader_.count(x)) return rule_windowed_linear(node);
  if (kind == "aten::cat" && rule_cat(node)) return true;
  if (kind == "aten::softmax" || kind == "aten::log_softmax") return rule_softmax(node);
  if (kind == "aten::logsumexp" || kind == "aten::amax") return rule_reduction(node);
  if (kind == "aten::pow" && rule_power(node)) return true;
  if (linear_map_ops().count(kind)) return rule_linear_map(node);
  return false;
}

// Sizes are the reference's, with B rows; dtype, device and rank are the reference's.
bool MutantPass::rule_shape(Node* node) {
  const Value* x = node->inputs().at(0);
  std::vector<c10::IValue> inputs;
  if (!is_change(x) || !arguments(node, 1, &inputs)) return false;
  if (kind_of(node) != "aten::size") {
    set(node->output(), value_slot(reference_.at(node->output())));
    return true;
  }
  const auto& reference = slot(x).reference;
  inputs.insert(inputs.begin(), reference);
  auto out = run_node(node, inputs).at(0);
  if (kind_of(node) == "aten::size" && out.isIntList()) {
    auto sizes = out.toIntVector();
    sizes.at(0) = rows_;
    out = sizes;
  } else if (kind_of(node) == "aten::size") {  // size(x, dim)
    if (dim_of(inputs.at(1), reference.dim()) == 0) out = rows_;
  }
  set(node->output(), value_slot(out));
  return true;
}

bool MutantPass::rule_list(Node* node) {
  Slot list;
  list.kind = Slot::Kind::List;
  for (const Value* v : node->inputs()) {
    if (!is_change(v)) return false;
    list.items.push_back(slot(v));
  }
  set(node->output(), std::move(list));
  return true;
}

// Which linear piece of a piecewise-linear activation x falls on, and that piece's slope.
struct Pieces {
  torch::Tensor piece, slope;
};

bool piecewise_linear(const std::string& kind, const std::vector<c10::IValue>& args,
                      const torch::Tensor& x, Pieces* out) {
  if (kind == "aten::relu" || kind == "aten::leaky_relu") {
    const double negative = kind == "aten::relu" ? 0.0 : args.at(0).toScalar().to<double>();
    const auto positive = x > 0;
    out->piece = positive;
    out->slope = torch::where(positive, torch::ones_like(x), torch::full_like(x, negative));
    return true;
  }
  if (kind == "aten::hardtanh" || kind == "aten::relu6") {
    const double low = kind == "aten::relu6" ? 0.0 : args.at(0).toScalar().to<double>();
    const double high = kind == "aten::relu6" ? 6.0 : args.at(1).toScalar().to<double>();
    out->piece = (x > low).to(torch::kInt) + (x > high).to(torch::kInt);
    out->slope = (out->piece == 1).to(x.scalar_type());
    return true;
  }
  return false;
}

bool MutantPass::rule_pointwise(Node* node) {
  const Value* x = node->inputs().at(0);
  std::vector<c10::IValue> args;
  if (!is_change(x) || !arguments(node, 1, &args)) return false;
  const Slot& in = slot(x);
  const std::string kind = kind_of(node);
  const auto with = [&](const torch::Tensor& t) {
    std::vector<c10::IValue> inputs = {t};
    inputs.insert(inputs.end(), args.begin(), args.end());
    return run_tensor_node(node, std::move(inputs));
  };
  if (linear_pointwise_ops().count(kind)) {
    if (kind == "aten::dropout" && args.at(1).toBool()) return false;
    set(node->output(), like(in, node, with(in.delta)));
    return true;
  }
  if (kind == "aten::batch_norm") {
    // batch_norm(x, weight, bias, running_mean, running_var, training, momentum, eps, cudnn)
    if (args.at(4).toBool() || !args.at(3).isTensor()) return false;
    auto scale = (args.at(3).toTensor() + args.at(6).toDouble()).rsqrt();
    if (args.at(0).isTensor()) scale = scale * args.at(0).toTensor();
    std::vector<int64_t> shape(in.delta.dim(), 1);
    shape.at(1) = scale.numel();
    set(node->output(), like(in, node, in.delta * scale.view(shape)));
    return true;
  }
  if (kind == "aten::relu" && fuses_into_max_pool(node)) {
    // Left to the max-pool, its only reader: the output slot holds the ReLU's input.
    set(node->output(), in);
    left_to_reader_.insert(node->output());
    return true;
  }
  if (kind == "aten::relu" && terms_.count(node)) {
    const auto& t = terms_.at(node);
    const auto at = [&](const torch::Tensor& term) {
      return in.kind == Slot::Kind::Window ? reference_rows(term, in.lo, in.width()) : term;
    };
    auto delta = in.delta + at(t[0]);
    at::maximum_out(delta, delta, at(t[1]));
    set(node->output(), like(in, node, delta));
    return true;
  }
  const auto reference = reference_under(in);
  const auto mutant = reference + in.delta;
  Pieces mutant_pieces, reference_pieces;
  if (piecewise_linear(kind, args, mutant, &mutant_pieces) &&
      piecewise_linear(kind, args, reference, &reference_pieces)) {
    // On one piece the change is exactly slope * change, whatever the reference's size.
    const auto delta = torch::where(mutant_pieces.piece == reference_pieces.piece,
                                    reference_pieces.slope * in.delta,
                                    with(mutant) - with(reference));
    set(node->output(), like(in, node, delta));
    return true;
  }
  set(node->output(), like(in, node, pointwise_change(node, args, exact_under(x, in), in.delta)));
  return true;
}

// pow with a scalar exponent is pointwise too: g(r + d) - g(r), as for activations.
bool MutantPass::rule_power(Node* node) {
  // pow(Tensor self, Scalar exponent)
  std::vector<c10::IValue> args;
  if (!is_change(node->inputs()[0]) || !arguments(node, 1, &args) || !args.at(0).isScalar()) {
    return false;
  }
  const Slot& in = slot(node->inputs()[0]);
  set(node->output(), like(in, node, pointwise_change(node, args, reference_under(in), in.delta)));
  return true;
}

// a (op) b for add, sub, mul, div: one side a constant or both changing. rsub(a, b) is
// sub(b, a).
bool MutantPass::rule_binary(Node* node) {
  const Value* a = node->inputs().at(0);
  const Value* b = node->inputs().at(1);
  std::string kind = kind_of(node);
  if (kind == "aten::rsub") {
    std::swap(a, b);
    kind = "aten::sub";
  }
  std::vector<c10::IValue> extra;  // alpha of add and sub
  if (!arguments(node, 2, &extra)) return false;
  const double alpha = extra.empty() ? 1.0 : extra.at(0).toScalar().to<double>();
  const auto out_reference = reference_output(node);
  const bool ca = is_change(a), cb = is_change(b);
  if (ca != cb) {
    const Slot& in = slot(ca ? a : b);
    c10::IValue constant;
    if (!argument(ca ? b : a, &constant)) return false;
    if (in.reference.sizes() != out_reference.sizes()) return false;  // broadcast widens it
    const bool varies_along_length = constant.isTensor() && constant.toTensor().dim() > 0 &&
                                     constant.toTensor().size(-1) != 1;
    torch::Tensor delta;
    if (kind == "aten::add" || kind == "aten::sub") {
      delta = ca ? in.delta : in.delta * (kind == "aten::add" ? alpha : -alpha);
    } else if (kind == "aten::mul" || (kind == "aten::div" && ca)) {
      if (in.kind == Slot::Kind::Window && varies_along_length) return false;
      delta = run_tensor_node(node, ca ? std::vector<c10::IValue>{in.delta, constant}
                                       : std::vector<c10::IValue>{constant, in.delta});
    } else {
      return false;
    }
    set(node->output(), like(in, node, delta));
    return true;
  }
  if (!ca) return false;
  Slot sa = slot(a), sb = slot(b);
  const bool windows = sa.kind == Slot::Kind::Window && sb.kind == Slot::Kind::Window &&
                       sa.reference.sizes() == sb.reference.sizes() &&
                       sa.reference.sizes() == out_reference.sizes();
  torch::Tensor da, db, ra, rb;
  std::vector<int64_t> lo;
  const bool product = kind == "aten::mul" || kind == "aten::div";
  if (windows) {
    const Placement union_ = union_of({&sa, &sb}, sa.length());
    lo = union_.lo;
    da = shift_rows(sa.delta, sa.lo, lo, union_.width);
    db = shift_rows(sb.delta, sb.lo, lo, union_.width);
    if (product) {
      Slot wide_a = sa, wide_b = sb;
      wide_a.lo = wide_b.lo = lo;
      wide_a.delta = da;
      wide_b.delta = db;
      ra = exact_under(a, wide_a);
      rb = exact_under(b, wide_b);
    }
  } else {
    sa = to_dense(sa);
    sb = to_dense(sb);
    da = sa.delta, db = sb.delta;
    if (product) ra = exact_under(a, sa), rb = exact_under(b, sb);
  }
  torch::Tensor delta;
  if (kind == "aten::add") {
    delta = da + db * alpha;
  } else if (kind == "aten::sub") {
    delta = da - db * alpha;
  } else {
    // In float64: the two terms can cancel (a softmax-weighted profile's weights and logits
    // both change), and what follows may sum such terms over every position.
    const auto wide = [](const torch::Tensor& t) { return t.to(torch::kDouble); };
    const auto d_a = wide(da), d_b = wide(db);  // ra, rb: float64 already
    delta = kind == "aten::mul" ? d_a * (rb + d_b) + ra * d_b  // (ra + da)(rb + db) - ra rb
                                : (d_a * rb - ra * d_b) / (rb * (rb + d_b));  // (ra + da)/(rb + db) - ra/rb
    delta = delta.to(da.scalar_type());
  }
  set(node->output(), windows ? window_slot(out_reference, lo, delta)
                              : dense_slot(out_reference, delta));
  return true;
}

Slot empty_window(const torch::Tensor& reference, int64_t rows) {
  auto shape = reference.sizes().vec();
  shape.front() = rows;
  shape.back() = 0;
  return window_slot(reference, std::vector<int64_t>(rows, 0),
                     torch::zeros(shape, reference.options()));
}

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

bool MutantPass::rule_conv(Node* node) {
  // conv1d(input, weight, bias, stride, padding, dilation, groups)
  std::vector<c10::IValue> args;
  if (node->inputs().size() != 7 || !arguments(node, 1, &args)) return false;
  if (!args.at(3).isIntList()) return false;  // padding="same" etc.
  const Slot& in = slot(node->inputs()[0]);
  const auto weight = args.at(0).toTensor();
  const int64_t k = weight.size(-1);
  const int64_t s = single(args.at(2), 1);
  const int64_t p = single(args.at(3), 0);
  const int64_t d = single(args.at(4), 1);
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
  const int64_t groups = args.at(5).toInt();
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

bool MutantPass::pool_kernel(Node* node, int64_t* kernel) const {
  // max_pool1d(x, kernel, stride, padding, dilation, ceil_mode)
  // avg_pool1d(x, kernel, stride, padding, ceil_mode, count_include_pad)
  const bool average = kind_of(node) == "aten::avg_pool1d";
  std::vector<c10::IValue> args;
  if (!arguments(node, 1, &args)) return false;
  const int64_t k = single(args.at(0), 1);
  const int64_t s = single(args.at(1), k);
  const int64_t p = single(args.at(2), 0);
  const int64_t d = average ? 1 : single(args.at(3), 1);
  const bool ceil_mode = args.at(average ? 3 : 4).toBool();
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
  return kind_of(pool) == "aten::max_pool1d" && uses.front().offset == 0 && kernel_dtype &&
         terms_.count(relu) && terms_.at(relu).size() == 3 && pool_kernel(pool, &k);
}

bool MutantPass::rule_pool(Node* node) {
  const bool average = kind_of(node) == "aten::avg_pool1d";
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
    const auto& relu_input = terms_.at(x->node()).at(2);  // channel-last, see relu_terms
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
  // slice(x, dim, start, end, step)
  const Value* x = node->inputs()[0];
  std::vector<c10::IValue> args;
  if (!is_change(x) || !arguments(node, 1, &args)) return false;
  const auto& reference = slot(x).reference;
  const int64_t dim = dim_of(args.at(0), reference.dim());
  const int64_t size = dim == 0 ? 2 : reference.size(dim);  // the reference pass has 2 rows
  const bool from_start = args.at(1).isNone() || args.at(1).toInt() == 0;
  const bool to_end = args.at(2).isNone() || args.at(2).toInt() >= size;
  if (!from_start || !to_end || args.at(3).toInt() != 1) return false;
  Slot out = slot(x);
  out.reference = reference_output(node);
  set(node->output(), std::move(out));
  return true;
}

// A slice or select along a channel dimension: applied to the window's change.
bool MutantPass::rule_channel_map(Node* node) {
  const Slot& in = slot(node->inputs()[0]);
  std::vector<c10::IValue> args;
  if (!arguments(node, 1, &args)) return false;
  const int64_t dim = dim_of(args.at(0), in.reference.dim());
  if (dim == 0 || dim == in.reference.dim() - 1) return false;
  args.insert(args.begin(), in.delta);
  set(node->output(), window_slot(reference_output(node), in.lo, run_tensor_node(node, args)));
  return true;
}

// A crop along length: slice(x, -1, start, end, 1).
bool MutantPass::rule_crop(Node* node) {
  const Slot& in = slot(node->inputs()[0]);
  std::vector<c10::IValue> args;
  if (!arguments(node, 1, &args)) return false;
  const int64_t dim = dim_of(args.at(0), in.reference.dim());
  if (dim != in.reference.dim() - 1 || args.at(3).toInt() != 1) return false;
  const int64_t length = in.length();
  int64_t first = args.at(1).isNone() ? 0 : args.at(1).toInt();
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
  const int64_t dim = dim_of(args.at(0), out_reference.dim());
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

// A mean or sum over length changes by the window's change alone: sum (/ L).
bool MutantPass::rule_length_reduction(Node* node) {
  // mean(x, int[] dim, bool keepdim, ScalarType? dtype), sum likewise
  const Slot& in = slot(node->inputs()[0]);
  std::vector<c10::IValue> args;
  if (node->inputs().size() != 4 || !arguments(node, 1, &args)) return false;
  if (!args.at(0).isIntList() || !args.at(2).isNone()) return false;
  const auto dims = args.at(0).toIntVector();
  const int64_t last = in.reference.dim() - 1;
  if (dims.size() != 1 || (dims[0] != -1 && dims[0] != last)) return false;
  // Summed in float64: the terms of a profile's weighted sum cancel, far below their size.
  auto delta = in.delta.to(torch::kDouble).sum(-1, args.at(1).toBool());
  if (kind_of(node) == "aten::mean") delta = delta / static_cast<double>(in.length());
  delta = delta.to(in.delta.scalar_type());
  set(node->output(), dense_slot(reference_output(node), delta));
  return true;
}

// softmax(r + d) = s e^d / sum(s e^d), s = softmax(r). With u = expm1(d) and w = sum(s u):
//   softmax(r + d) - s = s (u - w) / (1 + w),   log_softmax(r + d) - log s = d - log1p(w),
// both in terms of the change alone. Along length the change reaches every position (w does).
bool MutantPass::rule_softmax(Node* node) {
  // softmax(x, int dim, ScalarType? dtype), log_softmax likewise
  std::vector<c10::IValue> args;
  if (!is_change(node->inputs()[0]) || !arguments(node, 1, &args) || !args.at(1).isNone()) {
    return false;
  }
  const bool log = kind_of(node) == "aten::log_softmax";
  Slot in = slot(node->inputs()[0]);
  const int64_t dim = dim_of(args.at(0), in.reference.dim());
  if (dim == 0) return false;
  if (dim == in.reference.dim() - 1) in = to_dense(in);
  const auto exact = exact_reference(node->output());
  const auto probabilities = log ? exact.exp() : exact;
  const auto s = in.kind == Slot::Kind::Window
                     ? reference_rows(probabilities, in.lo, in.width())
                     : probabilities;
  // In float64: w sums terms of both signs, and its error reaches every position's change
  // (and, through a softmax-weighted sum, the whole profile value).
  const auto u = torch::expm1(in.delta.to(torch::kDouble));
  const auto w = (s * u).sum(dim, /*keepdim=*/true);
  const auto delta = log ? in.delta.to(torch::kDouble) - torch::log1p(w) : s * (u - w) / (1 + w);
  set(node->output(), like(in, node, delta.to(in.delta.scalar_type())));
  return true;
}

// `reduced` (a reduction over `dims`, 0-based) as if the reduction had kept its dims.
torch::Tensor with_reduced_dims(torch::Tensor reduced, std::vector<int64_t> dims, bool keepdim) {
  if (keepdim) return reduced;
  std::sort(dims.begin(), dims.end());
  for (const int64_t d : dims) reduced = reduced.unsqueeze(d);
  return reduced;
}

// Reductions with an exact form in the change, for R the reference's result (dims kept):
//   logsumexp(r + d) - R = log1p(sum(exp(r - R) expm1(d))),
//   amax(r + d) - R = amax((r - R) + d), exact at the reference's arg-max, where r - R = 0.
bool MutantPass::rule_reduction(Node* node) {
  // logsumexp(x, int[] dim, bool keepdim), amax likewise
  std::vector<c10::IValue> args;
  if (!is_change(node->inputs()[0]) || !arguments(node, 1, &args)) return false;
  const Slot in = to_dense(slot(node->inputs()[0]));
  auto dims = args.at(0).toIntVector();
  if (dims.empty()) return false;  // amax over every dimension
  for (auto& d : dims) d = d < 0 ? d + in.reference.dim() : d;
  if (std::count(dims.begin(), dims.end(), 0)) return false;
  const bool keepdim = args.at(1).toBool();
  const auto out_reference = reference_output(node);
  const auto gap = terms_.count(node) ? terms_.at(node).at(0)
                                      : in.reference - with_reduced_dims(out_reference, dims, keepdim);
  const auto delta = kind_of(node) == "aten::amax"
                         ? (gap + in.delta).amax(dims, keepdim)
                         : torch::log1p((gap.exp() * torch::expm1(in.delta)).sum(dims, keepdim));
  set(node->output(), dense_slot(out_reference, delta));
  return true;
}

// An operation linear in its one changing input, on that input's whole change.
bool MutantPass::rule_linear_map(Node* node) {
  const int bias = linear_map_ops().at(kind_of(node));
  std::vector<c10::IValue> inputs;
  int changing = -1;
  for (size_t i = 0; i < node->inputs().size(); ++i) {
    const Value* v = node->inputs()[i];
    if (is_change(v)) {
      if (changing >= 0) return false;
      changing = static_cast<int>(i);
      inputs.push_back(to_dense(slot(v)).delta);
      // Sums and means add their terms in float64 (as rule_length_reduction does).
      if (kind_of(node) == "aten::sum" || kind_of(node) == "aten::mean") {
        inputs.back() = inputs.back().toTensor().to(torch::kDouble);
      }
      continue;
    }
    c10::IValue arg;
    if (!argument(v, &arg)) return false;
    inputs.push_back(static_cast<int>(i) == bias ? c10::IValue() : arg);
  }
  if (changing < 0) return false;
  const auto out_reference = reference_.at(node->output()).toTensor();
  const auto delta = run_tensor_node(node, std::move(inputs)).to(out_reference.scalar_type());
  if (out_reference.dim() == 0 || out_reference.size(0) != 2 || delta.dim() != out_reference.dim() ||
      delta.size(0) != rows_) {
    return false;  // the batch dimension did not survive
  }
  set(node->output(), dense_slot(out_reference.narrow(0, 0, 1), delta));
  return true;
}

// flatten(x, 1, -1) of a (B, C, L) window read only by linear(., weight, bias): left to the
// linear layer (rule_windowed_linear), so that the change is never spread over all L.
bool MutantPass::rule_flatten_into_linear(Node* flatten) {
  // flatten(x, start_dim, end_dim)
  const Slot& in = slot(flatten->inputs().at(0));
  std::vector<c10::IValue> args;
  const auto& uses = flatten->output()->uses();
  if (in.delta.dim() != 3 || !arguments(flatten, 1, &args) || uses.size() != 1) return false;
  if (dim_of(args.at(0), 3) != 1 || dim_of(args.at(1), 3) != 2) return false;
  const Node* linear = uses.front().user;
  c10::IValue weight;
  if (kind_of(linear) != "aten::linear" || uses.front().offset != 0 ||
      !argument(linear->inputs().at(1), &weight) || !weight.isTensor()) {
    return false;
  }
  const auto& w = weight.toTensor();
  if (w.dim() != 2 || w.size(1) != in.reference.size(1) * in.length()) return false;
  set(flatten->output(), in);
  left_to_reader_.insert(flatten->output());
  return true;
}

// The linear layer's change from a windowed (B, C, W) change, by the weight's columns under
// each row's window: rows with the same window share one matrix product. The bias cancels.
bool MutantPass::rule_windowed_linear(Node* linear) {
  const Slot& in = slot(linear->inputs().at(0));  // the flatten's input
  c10::IValue weight;
  TORCH_INTERNAL_ASSERT(argument(linear->inputs().at(1), &weight));  // rule_flatten_into_linear
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

// Any other operation: in float64 where it can (run_generic_wide), else on the mutants' values
// in the model's dtype, a tensor output's change then being its difference from the
// reference (rounded at the size of the values, not of the change).
void MutantPass::run_generic(Node* node) {
  if (run_constant_fill(node) || run_generic_wide(node)) return;
  std::vector<c10::IValue> inputs;
  for (const Value* v : node->inputs()) {
    inputs.push_back(dependent(v) ? mutant_value(slot(v)) : reference_.at(v));
  }
  const auto outputs = run_node(node, std::move(inputs));
  for (size_t i = 0; i < outputs.size(); ++i) {
    const auto& reference = reference_.at(node->outputs()[i]);
    const bool batched = outputs[i].isTensor() && reference.isTensor() &&
                         reference.toTensor().dim() > 0 && reference.toTensor().size(0) == 2 &&
                         outputs[i].toTensor().dim() == reference.toTensor().dim() &&
                         outputs[i].toTensor().size(0) == rows_;
    if (batched) {
      const auto one = reference.toTensor().narrow(0, 0, 1);
      set(node->outputs()[i], dense_slot(one, outputs[i].toTensor() - one));
    } else {
      set(node->outputs()[i], value_slot(outputs[i]));
    }
  }
}

// zeros, ones or full of the mutants' sizes (an adapter's zeros for a model's control
// tracks): every row equals the reference's, so a (B, C, L) one is an empty window, which
// windowed readers (a concatenation along channels) keep windowed.
bool MutantPass::run_constant_fill(Node* node) {
  static const std::set<std::string> fills = {"aten::zeros", "aten::ones", "aten::full",
                                              "aten::zeros_like", "aten::ones_like",
                                              "aten::full_like", "aten::new_zeros"};
  if (!fills.count(kind_of(node))) return false;
  for (const Value* v : node->inputs()) {
    if (is_change(v) && kind_of(node).find("_like") == std::string::npos) return false;
  }
  const auto& reference = reference_.at(node->output());
  if (!reference.isTensor() || reference.toTensor().dim() != 3 || reference.toTensor().size(0) != 2) {
    return false;
  }
  set(node->output(), empty_window(reference_output(node), rows_));
  return true;
}

// run_generic in float64, on the mutants' values and on the reference's, so that a tensor
// output's change is their difference without float32's rounding of either. False (and no
// value set) where an input carries no change or an output is not a batched tensor, or the
// operation will not run in float64.
bool MutantPass::run_generic_wide(Node* node) {
  std::vector<c10::IValue> mutant, reference;
  for (const Value* v : node->inputs()) {
    if (dependent(v) && !slot(v).is_change()) return false;
    if (dependent(v)) {
      const auto exact = exact_reference(v);
      mutant.push_back(exact + to_dense(slot(v)).delta.to(torch::kDouble));
      reference.push_back(exact);
      continue;
    }
    mutant.push_back(cast_floating(reference_.at(v), torch::kDouble));
    reference.push_back(cast_floating(reference_.at(v), torch::kDouble));
  }
  std::vector<c10::IValue> mutant_out, reference_out;
  try {
    mutant_out = run_node(node, std::move(mutant));
    reference_out = run_node(node, std::move(reference));
  } catch (const c10::Error&) {
    return false;
  }
  std::vector<Slot> outputs;
  for (size_t i = 0; i < mutant_out.size(); ++i) {
    const auto& stored = reference_.at(node->outputs()[i]);
    if (!mutant_out[i].isTensor() || !stored.isTensor() || stored.toTensor().dim() == 0 ||
        stored.toTensor().size(0) != 2 || mutant_out[i].toTensor().size(0) != rows_) {
      return false;
    }
    const auto one = stored.toTensor().narrow(0, 0, 1);
    const auto change = mutant_out[i].toTensor() - reference_out[i].toTensor();
    outputs.push_back(dense_slot(one, change.to(one.scalar_type())));
  }
  for (size_t i = 0; i < outputs.size(); ++i) set(node->outputs()[i], std::move(outputs[i]));
  return true;
}

}  // namespace

c10::IValue cast_floating(const c10::IValue& v, torch::ScalarType dtype) {
  const auto cast = [dtype](const at::Tensor& t) {
    return t.is_floating_point() && t.scalar_type() != dtype ? t.to(dtype) : t;
  };
  if (v.isTensor()) return cast(v.toTensor());
  if (v.isTensorList()) {
    c10::List<at::Tensor> list;
    for (const at::Tensor& t : v.toTensorList()) list.push_back(cast(t));
    return list;
  }
  return v;
}

bool windows_from_input(const std::string& kind) {
  return kind == "aten::conv1d" || pointwise_ops().count(kind) > 0;
}

// The operators of every node of `graph` that has one (list and tuple construction do not).
std::shared_ptr<Operations> lookup_operations(torch::jit::Graph& graph) {
  auto operations = std::make_shared<Operations>();
  for (Node* node : graph.nodes()) {
    if (node->kind() == c10::prim::Constant || node->kind() == c10::prim::ListConstruct ||
        node->kind() == c10::prim::TupleConstruct || node->kind() == c10::prim::ListUnpack ||
        node->kind() == c10::prim::TupleUnpack) {
      continue;
    }
    operations->emplace(node, node->getOperation());
  }
  return operations;
}

void use_operations(Operations* operations) { t_operations = operations; }

// Runs one node, with its operator from t_operations when a pass has set them.
std::vector<c10::IValue> run_node(Node* node, std::vector<c10::IValue> inputs) {
  const bool looked_up = t_operations && t_operations->count(node);
  return run_graph_node(node, std::move(inputs), looked_up ? &t_operations->at(node) : nullptr);
}

PrecomputedTerms precompute_terms(torch::jit::Graph& graph, const Env& env) {
  PrecomputedTerms terms;
  for (Node* node : graph.nodes()) {
    const std::string kind = kind_of(node);
    if (kind != "aten::relu" && kind != "aten::max_pool1d" && kind != "aten::amax") continue;
    const auto input = env.at(node->inputs().at(0)).toTensor().narrow(0, 0, 1);
    if (kind == "aten::relu") {
      terms[node] = relu_terms(node, input);
      continue;
    }
    if (kind == "aten::amax") {  // amax(x, int[] dim, bool keepdim): its input's gap to it
      auto dims = env.at(node->inputs().at(1)).toIntVector();
      for (auto& d : dims) d = d < 0 ? d + input.dim() : d;
      const auto out = env.at(node->output()).toTensor().narrow(0, 0, 1);
      terms[node] = {input - with_reduced_dims(out, dims, env.at(node->inputs().at(2)).toBool())};
      continue;
    }
    // max_pool1d(x, kernel, stride, padding, dilation, ceil_mode): rule_pool checks the rest
    const int64_t k = single(env.at(node->inputs().at(1)), 1);
    if (k > 0 && input.size(-1) >= k) terms[node] = max_pool_terms(input, k);
  }
  return terms;
}

PassResult run_mutant_pass(torch::jit::Graph& graph, const Env& reference, const Env* exact,
                           const PrecomputedTerms& terms, const torch::Tensor& input,
                           const std::vector<int64_t>& position, const std::vector<int64_t>& base) {
  const int64_t rows = static_cast<int64_t>(position.size());
  TORCH_INTERNAL_ASSERT(rows >= 2 && base.size() == position.size());
  const auto device = input.device();
  const auto observed = input[0].index_select(1, long_tensor(position, device)).t();  // (rows, 4)
  const auto substituted =
      torch::zeros_like(observed).scatter_(1, long_tensor(base, device).unsqueeze(1), 1.0);
  MutantPass pass(reference, exact, terms, rows);
  pass.set(graph.inputs().at(1), window_slot(input, position, (substituted - observed).unsqueeze(-1)));
  for (Node* node : graph.nodes()) {
    bool any = false;
    for (const Value* v : node->inputs()) any = any || pass.dependent(v);
    if (any) pass.run(node);  // otherwise the reference's value serves
  }
  const Value* output = graph.outputs().at(0);
  const auto output_reference = reference.at(output).toTensor().narrow(0, 0, 1);
  PassResult result;
  result.tracked_changes = pass.tracked_changes();
  if (!pass.dependent(output)) {
    auto shape = output_reference.sizes().vec();
    shape.front() = rows;
    result.output_change = torch::zeros(shape, output_reference.options());
  } else if (pass.slot(output).is_change()) {
    result.output_change = to_dense(pass.slot(output)).delta;
  } else {
    result.output_change = pass.slot(output).value.toTensor() - output_reference;
  }
  return result;
}

}  // namespace seqattr::fast_ism
