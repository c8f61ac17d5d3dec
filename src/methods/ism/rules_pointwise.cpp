// Rules for pointwise operations (activations, batchnorm in eval mode, pow by a scalar) and
// binary arithmetic (add, sub, rsub, mul, div).
#include "kernels/ops/relu_change.h"
#include "methods/ism/mutant_pass.h"

namespace seqattr::fast_ism {
namespace {

namespace aten = c10::aten;

// `node` run on `x` and `args`, its inputs from 1 on.
torch::Tensor run_with(Node* node, const torch::Tensor& x, const std::vector<c10::IValue>& args) {
  std::vector<c10::IValue> inputs = {x};
  inputs.insert(inputs.end(), args.begin(), args.end());
  return run_tensor_node(node, std::move(inputs));
}

// Which linear piece of a piecewise-linear activation x falls on, and that piece's slope.
struct Pieces {
  torch::Tensor piece, slope;
};

bool piecewise_linear(const Node* node, const std::vector<c10::IValue>& args,
                      const torch::Tensor& x, Pieces* out) {
  const c10::Symbol kind = node->kind();
  if (kind == aten::relu || kind == aten::leaky_relu) {
    const double negative =
        kind == aten::relu ? 0.0 : arg(node, args, "negative_slope").toScalar().to<double>();
    const auto positive = x > 0;
    out->piece = positive;
    out->slope = torch::where(positive, torch::ones_like(x), torch::full_like(x, negative));
    return true;
  }
  if (kind == aten::hardtanh || kind == aten::relu6) {
    const bool relu6 = kind == aten::relu6;
    const double low = relu6 ? 0.0 : arg(node, args, "min_val").toScalar().to<double>();
    const double high = relu6 ? 6.0 : arg(node, args, "max_val").toScalar().to<double>();
    out->piece = (x > low).to(torch::kInt) + (x > high).to(torch::kInt);
    out->slope = (out->piece == 1).to(x.scalar_type());
    return true;
  }
  return false;
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

// The alpha of add, sub and rsub among `extra` (their inputs from 2 on); 1 for mul and div. A
// div with a rounding_mode has no alpha but its mode there, which toScalar refuses (throws): a
// rounded quotient has no rule.
double alpha_of(const Node* node, const std::vector<c10::IValue>& extra) {
  if (extra.empty()) return 1.0;
  const auto& alpha = has_argument(node, "alpha") ? arg(node, extra, "alpha", 2) : extra.front();
  return alpha.toScalar().to<double>();
}

// a + coefficient * b for windows a and b where one holds the other in every row at one
// offset (a residual add of a layer's input to its convolution's output) and the coefficient
// is 1 or -1: the wide change, negated where it is b's and the coefficient -1 (exact), with
// the narrow one added over its part, in the wide one's memory layout (channel-last from a
// scattered convolution stays so, for the next one to read without a copy). The same sums as
// padding the narrow change with zeros and adding (addition commutes; outside the narrow part
// the wide change alone, which x + 0 is but for the sign of a zero). Undefined where it does
// not apply.
torch::Tensor nested_sum(const Slot& a, const Slot& b, const Placement& out, double coefficient) {
  if (coefficient != 1.0 && coefficient != -1.0) return {};
  const bool a_wide = a.width() == out.width && a.lo == out.lo;
  const Slot& wide = a_wide ? a : b;
  const Slot& inner = a_wide ? b : a;
  if (wide.width() != out.width || wide.lo != out.lo || inner.width() > out.width) return {};
  const int64_t offset = inner.lo.empty() ? 0 : inner.lo.front() - out.lo.front();
  for (size_t r = 0; r < out.lo.size(); ++r) {
    if (inner.lo[r] - out.lo[r] != offset) return {};
  }
  if (offset < 0 || offset + inner.width() > out.width) return {};
  const bool negate_wide = !a_wide && coefficient == -1.0;
  auto sum = negate_wide ? wide.delta.neg() : wide.delta.clone(at::MemoryFormat::Preserve);
  const double inner_coefficient = a_wide ? coefficient : 1.0;
  sum.narrow(-1, offset, inner.width()).add_(inner.delta, inner_coefficient);
  return sum;
}

}  // namespace

// relu(r + d) - relu(r) = max(d + min(r, 0), -max(r, 0)), exactly when r > 0 and rounded
// once, at |r + d| <= |d|, otherwise. Precomputed for a sequence's many substitutions: for a
// (1, C, L) input, r itself stored channel-last, which relu_change (and relu_max_pool_change,
// where the ReLU is fused into its max-pool: fuses_into_max_pool) read in place; for inputs
// of other ranks (after a dense layer) the terms min(r, 0) and -max(r, 0).
std::vector<torch::Tensor> relu_terms(const torch::Tensor& r) {
  if (r.dim() == 3 && r.size(0) == 1) return {channels_last(r)};
  return {r.clamp_max(0), -r.clamp_min(0)};
}

bool MutantPass::pointwise_arguments(const Node* node, std::vector<c10::IValue>* args) const {
  return is_change(node->inputs().at(0)) && arguments(node, 1, args);
}

// dropout (in eval mode), neg, clone, contiguous, detach: the operation on the change.
bool MutantPass::rule_linear_pointwise(Node* node) {
  std::vector<c10::IValue> args;
  if (!pointwise_arguments(node, &args)) return false;
  const Slot& in = slot(node->inputs().at(0));
  if (node->kind() == aten::dropout && arg(node, args, "train").toBool()) return false;
  set(node->output(), like(in, node, run_with(node, in.delta, args)));
  return true;
}

// batch_norm in eval mode scales each channel's change by weight / sqrt(running_var + eps).
bool MutantPass::rule_batch_norm(Node* node) {
  std::vector<c10::IValue> args;
  if (!pointwise_arguments(node, &args)) return false;
  const Slot& in = slot(node->inputs().at(0));
  const auto& running_var = arg(node, args, "running_var");
  if (arg(node, args, "training").toBool() || !running_var.isTensor()) return false;
  auto scale = (running_var.toTensor() + arg(node, args, "eps").toDouble()).rsqrt();
  const auto& weight = arg(node, args, "weight");
  if (weight.isTensor()) scale = scale * weight.toTensor();
  std::vector<int64_t> shape(in.delta.dim(), 1);
  shape.at(1) = scale.numel();
  set(node->output(), like(in, node, in.delta * scale.view(shape)));
  return true;
}

bool MutantPass::rule_relu(Node* node) {
  std::vector<c10::IValue> args;
  if (!pointwise_arguments(node, &args)) return false;
  const Slot& in = slot(node->inputs().at(0));
  if (fuses_into_max_pool(node)) {
    // Left to the max-pool, its only reader: the output slot holds the ReLU's input.
    set(node->output(), in);
    left_to_reader_.insert(node->output());
    return true;
  }
  // See relu_terms: precomputed for a sequence's many substitutions, else (a batch of
  // sequences, one substitution each) computed under the change alone.
  const auto terms = terms_.find(node);
  const auto dtype = in.delta.scalar_type();
  if (terms != terms_.end() && terms->second.size() == 1 &&
      (dtype == torch::kFloat || dtype == torch::kDouble)) {
    const auto lo = in.kind == Slot::Kind::Window ? in.lo : std::vector<int64_t>(in.rows(), 0);
    const auto delta = ops::relu_change(in.delta, long_tensor(lo, in.delta.device()),
                                        terms->second.front().squeeze(0));
    set(node->output(), like(in, node, delta));
    return true;
  }
  torch::Tensor low, high;
  if (terms != terms_.end() && terms->second.size() == 2) {
    const auto at = [&](const torch::Tensor& term) {
      return in.kind == Slot::Kind::Window ? reference_rows(term, in.lo, in.width()) : term;
    };
    low = at(terms->second[0]), high = at(terms->second[1]);
  } else {
    const auto r = reference_under(in);
    low = r.clamp_max(0), high = -r.clamp_min(0);
  }
  auto delta = in.delta + low;
  at::maximum_out(delta, delta, high);
  set(node->output(), like(in, node, delta));
  return true;
}

bool MutantPass::rule_pointwise(Node* node) {
  std::vector<c10::IValue> args;
  if (!pointwise_arguments(node, &args)) return false;
  set_nonlinear_change(node, args);
  return true;
}

void MutantPass::set_nonlinear_change(Node* node, const std::vector<c10::IValue>& args) {
  const Value* x = node->inputs().at(0);
  const Slot& in = slot(x);
  const auto reference = reference_under(in);
  const auto mutant = reference + in.delta;
  Pieces mutant_pieces, reference_pieces;
  if (piecewise_linear(node, args, mutant, &mutant_pieces) &&
      piecewise_linear(node, args, reference, &reference_pieces)) {
    // On one piece the change is exactly slope * change, whatever the reference's size.
    const auto delta = torch::where(mutant_pieces.piece == reference_pieces.piece,
                                    reference_pieces.slope * in.delta,
                                    run_with(node, mutant, args) - run_with(node, reference, args));
    set(node->output(), like(in, node, delta));
    return;
  }
  set(node->output(), like(in, node, pointwise_change(node, args, exact_under(x, in), in.delta)));
}

// pow with a scalar exponent is pointwise too: g(r + d) - g(r), as for activations.
bool MutantPass::rule_power(Node* node) {
  std::vector<c10::IValue> args;
  if (!pointwise_arguments(node, &args) || !arg(node, args, "exponent").isScalar()) return false;
  const Slot& in = slot(node->inputs()[0]);
  set(node->output(), like(in, node, pointwise_change(node, args, reference_under(in), in.delta)));
  return true;
}

// a (op) b for add, sub, mul, div: one side a constant or both changing. rsub(a, b) is
// sub(b, a).
bool MutantPass::rule_binary(Node* node) {
  const Value* a = node->inputs().at(0);
  const Value* b = node->inputs().at(1);
  c10::Symbol kind = node->kind();
  if (kind == aten::rsub) {
    std::swap(a, b);
    kind = aten::sub;
  }
  std::vector<c10::IValue> extra;
  if (!arguments(node, 2, &extra)) return false;
  const double alpha = alpha_of(node, extra);
  const bool ca = is_change(a), cb = is_change(b);
  if (ca != cb) return rule_binary_constant(node, kind, a, b, alpha);
  if (!ca) return false;
  return rule_binary_changes(node, kind, a, b, alpha);
}

// a (op) b with one of them changing, the other a constant of its shape or broadcast to it.
bool MutantPass::rule_binary_constant(Node* node, c10::Symbol kind, const Value* a,
                                      const Value* b, double alpha) {
  const bool ca = is_change(a);
  const auto out_reference = reference_output(node);
  const Slot& in = slot(ca ? a : b);
  c10::IValue constant;
  if (!argument(ca ? b : a, &constant)) return false;
  if (in.reference.sizes() != out_reference.sizes()) return false;  // broadcast widens it
  const bool varies_along_length = constant.isTensor() && constant.toTensor().dim() > 0 &&
                                   constant.toTensor().size(-1) != 1;
  torch::Tensor delta;
  if (kind == aten::add || kind == aten::sub) {
    delta = ca ? in.delta : in.delta * (kind == aten::add ? alpha : -alpha);
  } else if (kind == aten::mul || (kind == aten::div && ca)) {
    if (in.kind == Slot::Kind::Window && varies_along_length) return false;
    delta = run_tensor_node(node, ca ? std::vector<c10::IValue>{in.delta, constant}
                                     : std::vector<c10::IValue>{constant, in.delta});
  } else {
    return false;
  }
  set(node->output(), like(in, node, delta));
  return true;
}

// a (op) b with both changing: on the union of their windows where both are windows of the
// output's shape, else on their whole changes.
bool MutantPass::rule_binary_changes(Node* node, c10::Symbol kind, const Value* a,
                                     const Value* b, double alpha) {
  const auto out_reference = reference_output(node);
  Slot sa = slot(a), sb = slot(b);
  const bool windows = sa.kind == Slot::Kind::Window && sb.kind == Slot::Kind::Window &&
                       sa.reference.sizes() == sb.reference.sizes() &&
                       sa.reference.sizes() == out_reference.sizes();
  torch::Tensor da, db, ra, rb;
  std::vector<int64_t> lo;
  const bool product = kind == aten::mul || kind == aten::div;
  const double coefficient = kind == aten::sub ? -alpha : alpha;  // of b, in a sum
  if (windows) {
    const Placement union_ = union_of({&sa, &sb}, sa.length());
    lo = union_.lo;
    if (!product) {
      const auto delta = nested_sum(sa, sb, union_, coefficient);
      if (delta.defined()) {
        set(node->output(), window_slot(out_reference, lo, delta));
        return true;
      }
    }
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
  if (!product) {
    delta = coefficient == 1.0    ? da + db
            : coefficient == -1.0 ? da - db
                                  : da + db * coefficient;
  } else {
    // In float64: the two terms can cancel (a softmax-weighted profile's weights and logits
    // both change), and what follows may sum such terms over every position.
    const auto wide = [](const torch::Tensor& t) { return t.to(torch::kDouble); };
    const auto d_a = wide(da), d_b = wide(db);  // ra, rb: float64 already
    delta = kind == aten::mul ? d_a * (rb + d_b) + ra * d_b  // (ra + da)(rb + db) - ra rb
                              : (d_a * rb - ra * d_b) / (rb * (rb + d_b));  // (ra + da)/(rb + db) - ra/rb
    delta = delta.to(da.scalar_type());
  }
  set(node->output(), windows ? window_slot(out_reference, lo, delta)
                              : dense_slot(out_reference, delta));
  return true;
}

}  // namespace seqattr::fast_ism
