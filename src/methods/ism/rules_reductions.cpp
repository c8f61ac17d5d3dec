// Rules for reductions: means and sums over length, softmax and log-softmax, logsumexp and
// amax. Each is in terms of the change alone, summed in float64.
#include <algorithm>

#include "methods/ism/mutant_pass.h"

namespace seqattr::fast_ism {

torch::Tensor with_reduced_dims(torch::Tensor reduced, std::vector<int64_t> dims, bool keepdim) {
  if (keepdim) return reduced;
  std::sort(dims.begin(), dims.end());
  for (const int64_t d : dims) reduced = reduced.unsqueeze(d);
  return reduced;
}

// A mean or sum over length changes by the window's change alone: sum (/ L).
bool MutantPass::rule_length_reduction(Node* node) {
  // mean(x, int[] dim, bool keepdim, ScalarType? dtype), sum likewise
  const Slot& in = slot(node->inputs()[0]);
  std::vector<c10::IValue> args;
  if (node->inputs().size() != 4 || !arguments(node, 1, &args)) return false;
  const auto& dim = arg(node, args, "dim");
  if (!dim.isIntList() || !arg(node, args, "dtype").isNone()) return false;
  const auto dims = dim.toIntVector();
  const int64_t last = in.reference.dim() - 1;
  if (dims.size() != 1 || (dims[0] != -1 && dims[0] != last)) return false;
  // Summed in float64: the terms of a profile's weighted sum cancel, far below their size.
  auto delta = in.delta.to(torch::kDouble).sum(-1, arg(node, args, "keepdim").toBool());
  if (node->kind() == c10::aten::mean) delta = delta / static_cast<double>(in.length());
  delta = delta.to(in.delta.scalar_type());
  set(node->output(), dense_slot(reference_output(node), delta));
  return true;
}

// softmax(r + d) = s e^d / sum(s e^d), s = softmax(r). With u = expm1(d) and w = sum(s u):
//   softmax(r + d) - s = s (u - w) / (1 + w),   log_softmax(r + d) - log s = d - log1p(w),
// both in terms of the change alone. Along length the change reaches every position (w does).
bool MutantPass::rule_softmax(Node* node) {
  std::vector<c10::IValue> args;
  if (!is_change(node->inputs()[0]) || !arguments(node, 1, &args) ||
      !arg(node, args, "dtype").isNone()) {
    return false;
  }
  const bool log = node->kind() == c10::aten::log_softmax;
  Slot in = slot(node->inputs()[0]);
  const int64_t dim = dim_of(arg(node, args, "dim"), in.reference.dim());
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

// Reductions with an exact form in the change, for R the reference's result (dims kept):
//   logsumexp(r + d) - R = log1p(sum(exp(r - R) expm1(d))),
//   amax(r + d) - R = amax((r - R) + d), exact at the reference's arg-max, where r - R = 0.
bool MutantPass::rule_reduction(Node* node) {
  std::vector<c10::IValue> args;
  if (!is_change(node->inputs()[0]) || !arguments(node, 1, &args)) return false;
  const Slot in = to_dense(slot(node->inputs()[0]));
  auto dims = arg(node, args, "dim").toIntVector();
  if (dims.empty()) return false;  // amax over every dimension
  for (auto& d : dims) d = d < 0 ? d + in.reference.dim() : d;
  if (std::count(dims.begin(), dims.end(), 0)) return false;
  const bool keepdim = arg(node, args, "keepdim").toBool();
  const auto out_reference = reference_output(node);
  const auto gap = terms_.count(node) ? terms_.at(node).at(0)
                                      : in.reference - with_reduced_dims(out_reference, dims, keepdim);
  const auto delta = node->kind() == c10::aten::amax
                         ? (gap + in.delta).amax(dims, keepdim)
                         : torch::log1p((gap.exp() * torch::expm1(in.delta)).sum(dims, keepdim));
  set(node->output(), dense_slot(out_reference, delta));
  return true;
}

}  // namespace seqattr::fast_ism
