#include "methods/fast_ism.h"

#include <torch/csrc/jit/runtime/operator.h>

#include <set>

#include "engine/model_graph.h"

namespace seqattr {
namespace {

using torch::jit::Node;
using torch::jit::Value;
using Env = std::unordered_map<const Value*, c10::IValue>;

// Elementwise, or per-channel: computing them on a window of positions is exact.
const std::set<std::string>& pointwise_ops() {
  static const std::set<std::string> ops = {
      "aten::relu",  "aten::relu6",    "aten::leaky_relu",  "aten::elu",        "aten::selu",
      "aten::celu",  "aten::gelu",     "aten::silu",        "aten::mish",       "aten::sigmoid",
      "aten::tanh",  "aten::softplus", "aten::log_sigmoid", "aten::hardtanh",   "aten::prelu",
      "aten::exp",   "aten::log",      "aten::batch_norm",  "aten::dropout",    "aten::neg",
      "aten::clone", "aten::contiguous", "aten::detach"};
  return ops;
}

// A dependent value during a mutant pass.
struct Slot {
  enum class Kind { Window, Full, List } kind = Kind::Full;
  // Window: the mutants equal `reference` (1, ..., L) except positions [lo, hi), held in
  // `data` (B, ..., hi - lo).
  torch::Tensor reference, data;
  int64_t lo = 0, hi = 0;
  c10::IValue full;         // Full: the mutants' value
  std::vector<Slot> items;  // List: a list built from dependent values
};

int64_t length_of(const torch::Tensor& t) { return t.size(-1); }

// Mutant rows of `slot` over positions [a, b), zero outside [0, L) (convolution padding).
torch::Tensor patched_range(const Slot& slot, int64_t rows, int64_t a, int64_t b) {
  const int64_t length = length_of(slot.reference);
  auto shape = slot.reference.sizes().vec();
  shape[0] = rows;
  shape.back() = b - a;
  auto out = torch::zeros(shape, slot.reference.options());
  const int64_t from = std::max<int64_t>(a, 0), to = std::min(b, length);
  if (from < to) out.narrow(-1, from - a, to - from).copy_(slot.reference.narrow(-1, from, to - from).expand_as(out.narrow(-1, from - a, to - from)));
  const int64_t wfrom = std::max(a, slot.lo), wto = std::min(b, slot.hi);
  if (wfrom < wto) out.narrow(-1, wfrom - a, wto - wfrom).copy_(slot.data.narrow(-1, wfrom - slot.lo, wto - wfrom));
  return out;
}

torch::Tensor materialize_tensor(const Slot& slot, int64_t rows) {
  return patched_range(slot, rows, 0, length_of(slot.reference));
}

c10::IValue materialize(const Slot& slot, int64_t rows) {
  switch (slot.kind) {
    case Slot::Kind::Full: return slot.full;
    case Slot::Kind::Window: return materialize_tensor(slot, rows);
    case Slot::Kind::List: {
      c10::List<at::Tensor> list;
      for (const auto& item : slot.items) list.push_back(materialize(item, rows).toTensor());
      return list;
    }
  }
  return {};
}

Slot window(torch::Tensor reference, int64_t lo, int64_t hi, torch::Tensor data) {
  Slot s;
  s.kind = Slot::Kind::Window;
  s.reference = std::move(reference);
  s.lo = lo;
  s.hi = hi;
  s.data = std::move(data);
  return s;
}

using Operations = std::unordered_map<const Node*, torch::jit::Operation>;

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

thread_local Operations* t_operations = nullptr;

// Runs one node, with its operator from t_operations when a pass has set them.
std::vector<c10::IValue> run_node(Node* node, std::vector<c10::IValue> inputs) {
  const bool looked_up = t_operations && t_operations->count(node);
  return run_graph_node(node, std::move(inputs), looked_up ? &t_operations->at(node) : nullptr);
}

// The single int of an int[] argument of a 1d op (or `fallback` when the list is empty).
int64_t single(const c10::IValue& v, int64_t fallback) {
  const auto list = v.toIntVector();
  return list.empty() ? fallback : list.at(0);
}

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }
int64_t floor_div(int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }

class MutantPass {
 public:
  MutantPass(const Env& reference, int64_t rows) : reference_(reference), rows_(rows) {}

  // The value of `v` for the mutants: a constant or reference-only value, or a slot.
  bool dependent(const Value* v) const { return slots_.count(v) > 0; }
  const Slot& slot(const Value* v) const { return slots_.at(v); }
  c10::IValue plain(const Value* v) const { return reference_.at(v); }
  void set(const Value* v, Slot s) { slots_[v] = std::move(s); }
  torch::Tensor reference_tensor(const Value* v) const {
    return reference_.at(v).toTensor().narrow(0, 0, 1);
  }
  c10::IValue input_value(const Value* v) const {
    return dependent(v) ? materialize(slot(v), rows_) : plain(v);
  }
  int64_t rows() const { return rows_; }

  // Whether every input after the first is independent of the input sequence.
  bool rest_constant(const Node* node) const {
    for (size_t i = 1; i < node->inputs().size(); ++i) {
      if (dependent(node->inputs()[i])) return false;
    }
    return true;
  }

  // Runs `node` windowed if it can; returns false otherwise.
  bool try_windowed(Node* node);
  // Runs `node` on materialized inputs.
  void run_full(Node* node) {
    std::vector<c10::IValue> inputs;
    for (const Value* v : node->inputs()) inputs.push_back(input_value(v));
    const auto outputs = run_node(node, std::move(inputs));
    for (size_t i = 0; i < outputs.size(); ++i) {
      Slot s;
      s.full = outputs[i];
      set(node->outputs()[i], std::move(s));
    }
  }

 private:
  bool windowed_pointwise(Node* node);
  bool windowed_binary(Node* node);
  bool windowed_conv(Node* node);
  bool windowed_slice(Node* node);
  bool windowed_pool(Node* node, bool average);
  bool windowed_cat(Node* node);
  bool incremental_reduction(Node* node, bool mean);

  const Env& reference_;
  int64_t rows_;
  std::unordered_map<const Value*, Slot> slots_;
};

bool is_window(const MutantPass& pass, const Value* v) {
  return pass.dependent(v) && pass.slot(v).kind == Slot::Kind::Window;
}

bool MutantPass::try_windowed(Node* node) {
  const std::string kind = node->kind().toQualString();
  if (kind == "prim::ListConstruct") {
    Slot list;
    list.kind = Slot::Kind::List;
    for (const Value* v : node->inputs()) {
      if (!is_window(*this, v)) return false;
      list.items.push_back(slot(v));
    }
    set(node->output(), std::move(list));
    return true;
  }
  if (kind == "aten::size" || kind == "aten::dim") {  // shapes: the reference's, B rows
    auto out = run_node(node, [&] {
      std::vector<c10::IValue> in;
      for (const Value* v : node->inputs()) in.push_back(dependent(v) ? c10::IValue(slot(v).kind == Slot::Kind::Window ? slot(v).reference : materialize(slot(v), rows_).toTensor()) : plain(v));
      return in;
    }());
    if (kind == "aten::size" && node->inputs().size() == 1) {
      auto sizes = out[0].toIntVector();
      sizes[0] = rows_;
      out[0] = sizes;
    } else if (kind == "aten::size" && out[0].toInt() == 1 && is_window(*this, node->inputs()[0])) {
      const int64_t dim = plain(node->inputs()[1]).toInt();
      if (dim == 0 || dim == -slot(node->inputs()[0]).reference.dim()) out[0] = rows_;
    }
    Slot s;
    s.full = out[0];
    set(node->output(), std::move(s));
    return true;
  }
  // Every windowed op below makes one tensor whose last dimension is length.
  if (node->outputs().size() != 1 ||
      node->output()->type()->kind() != c10::TypeKind::TensorType) {
    return false;
  }
  if (pointwise_ops().count(kind)) return windowed_pointwise(node);
  if (kind == "aten::add" || kind == "aten::sub" || kind == "aten::mul" || kind == "aten::div") {
    return windowed_binary(node);
  }
  if (kind == "aten::conv1d") return windowed_conv(node);
  if (kind == "aten::slice" || kind == "aten::select") return windowed_slice(node);
  if (kind == "aten::max_pool1d") return windowed_pool(node, false);
  if (kind == "aten::avg_pool1d") return windowed_pool(node, true);
  if (kind == "aten::cat") return windowed_cat(node);
  if (kind == "aten::mean" || kind == "aten::sum") {
    return incremental_reduction(node, kind == "aten::mean");
  }
  return false;
}

// A mean or sum over length changes only by the window's contribution:
//   f(mutant) = f(input) + sum over the window of (mutant - input) [/ L].
// The result mixes all positions, so it is a full value (B rows).
bool MutantPass::incremental_reduction(Node* node, bool mean) {
  // mean(x, int[] dim, bool keepdim, ScalarType? dtype), sum likewise
  const Value* x = node->inputs()[0];
  if (!is_window(*this, x) || node->inputs().size() != 4 || !rest_constant(node)) return false;
  const auto& in = slot(x);
  const auto dims = plain(node->inputs()[1]);
  if (!dims.isIntList() || !plain(node->inputs()[3]).isNone()) return false;
  const auto dim = dims.toIntVector();
  const int64_t last = in.reference.dim() - 1;
  if (dim.size() != 1 || (dim[0] != -1 && dim[0] != last)) return false;
  const bool keepdim = plain(node->inputs()[2]).toBool();
  auto change = (in.data - in.reference.narrow(-1, in.lo, in.hi - in.lo)).sum(-1, keepdim);
  if (mean) change = change / static_cast<double>(length_of(in.reference));
  Slot s;
  s.full = reference_tensor(node->output()) + change;
  set(node->output(), std::move(s));
  return true;
}

bool MutantPass::windowed_pointwise(Node* node) {
  const Value* x = node->inputs()[0];
  if (!is_window(*this, x) || !rest_constant(node)) return false;
  std::vector<c10::IValue> inputs = {slot(x).data};
  for (size_t i = 1; i < node->inputs().size(); ++i) inputs.push_back(plain(node->inputs()[i]));
  const auto out = run_node(node, std::move(inputs));
  set(node->output(), window(reference_tensor(node->output()), slot(x).lo, slot(x).hi, out[0].toTensor()));
  return true;
}

// a (op) b: both windowed (residual), or one windowed and the other a constant that does
// not vary along length.
bool MutantPass::windowed_binary(Node* node) {
  const Value* a = node->inputs()[0];
  const Value* b = node->inputs()[1];
  std::vector<c10::IValue> rest;
  for (size_t i = 2; i < node->inputs().size(); ++i) {
    if (dependent(node->inputs()[i])) return false;
    rest.push_back(plain(node->inputs()[i]));
  }
  auto along_length_constant = [&](const Value* v) {
    if (dependent(v)) return false;
    const auto value = plain(v);
    return !value.isTensor() || value.toTensor().dim() == 0 || value.toTensor().size(-1) == 1;
  };
  const auto out_reference = reference_tensor(node->output());
  std::vector<c10::IValue> inputs;
  int64_t lo, hi;
  if (is_window(*this, a) && is_window(*this, b)) {
    if (slot(a).reference.sizes() != slot(b).reference.sizes()) return false;
    lo = std::min(slot(a).lo, slot(b).lo);
    hi = std::max(slot(a).hi, slot(b).hi);
    inputs = {patched_range(slot(a), rows_, lo, hi), patched_range(slot(b), rows_, lo, hi)};
  } else if (is_window(*this, a) && along_length_constant(b)) {
    lo = slot(a).lo, hi = slot(a).hi;
    inputs = {slot(a).data, plain(b)};
  } else if (is_window(*this, b) && along_length_constant(a) && node->kind().toQualString() != std::string("aten::div")) {
    lo = slot(b).lo, hi = slot(b).hi;
    inputs = {plain(a), slot(b).data};
  } else {
    return false;
  }
  if (out_reference.size(-1) != length_of(is_window(*this, a) ? slot(a).reference : slot(b).reference)) return false;
  inputs.insert(inputs.end(), rest.begin(), rest.end());
  const auto out = run_node(node, std::move(inputs));
  set(node->output(), window(out_reference, lo, hi, out[0].toTensor()));
  return true;
}

bool MutantPass::windowed_conv(Node* node) {
  // conv1d(input, weight, bias, stride, padding, dilation, groups)
  const Value* x = node->inputs()[0];
  if (!is_window(*this, x) || node->inputs().size() != 7 || !rest_constant(node)) return false;
  if (!plain(node->inputs()[4]).isIntList()) return false;  // padding="same" etc.
  const auto& in = slot(x);
  const auto weight = plain(node->inputs()[1]).toTensor();
  const int64_t k = weight.size(-1);
  const int64_t s = single(plain(node->inputs()[3]), 1);
  const int64_t p = single(plain(node->inputs()[4]), 0);
  const int64_t d = single(plain(node->inputs()[5]), 1);
  const auto out_reference = reference_tensor(node->output());
  const int64_t out_length = length_of(out_reference);
  // Output o reads inputs o*s - p + j*d, j < k: it changes if any falls in [in.lo, in.hi).
  const int64_t lo = std::max<int64_t>(0, -floor_div(-(in.lo + p - d * (k - 1)), s));
  const int64_t hi = std::min(out_length, floor_div(in.hi - 1 + p, s) + 1);
  if (lo >= hi) {
    set(node->output(), window(out_reference, 0, 0, out_reference.narrow(-1, 0, 0).expand({rows_, -1, 0})));
    return true;
  }
  const int64_t a = lo * s - p, b = (hi - 1) * s - p + d * (k - 1) + 1;
  const auto slice = patched_range(in, rows_, a, b);
  const std::vector<int64_t> stride = {s}, no_padding = {0}, dilation = {d};
  const c10::optional<at::Tensor> bias = plain(node->inputs()[2]).toOptional<at::Tensor>();
  auto out = torch::conv1d(slice, weight, bias, at::IntArrayRef(stride), at::IntArrayRef(no_padding),
                           at::IntArrayRef(dilation), plain(node->inputs()[6]).toInt());
  set(node->output(), window(out_reference, lo, hi, out));
  return true;
}

bool MutantPass::windowed_slice(Node* node) {
  const Value* x = node->inputs()[0];
  if (!is_window(*this, x) || !rest_constant(node)) return false;
  const auto& in = slot(x);
  const int64_t rank = in.reference.dim();
  int64_t dim = plain(node->inputs()[1]).toInt();
  if (dim < 0) dim += rank;
  const auto out_reference = reference_tensor(node->output());
  const bool select = node->kind().toQualString() == std::string("aten::select");
  if (dim == 0) {
    if (select) return false;
    return false;  // batch slices: leave to the full path
  }
  if (dim != rank - 1) {  // channels: apply to the window's data
    std::vector<c10::IValue> inputs = {in.data};
    for (size_t i = 1; i < node->inputs().size(); ++i) inputs.push_back(plain(node->inputs()[i]));
    const auto out = run_node(node, std::move(inputs));
    set(node->output(), window(out_reference, in.lo, in.hi, out[0].toTensor()));
    return true;
  }
  if (select) return false;
  // Crop along length: slice(x, dim, start, end, step).
  const int64_t length = length_of(in.reference);
  const auto start_v = plain(node->inputs()[2]);
  const auto end_v = plain(node->inputs()[3]);
  const int64_t step = plain(node->inputs()[4]).toInt();
  if (step != 1) return false;
  int64_t start = start_v.isNone() ? 0 : start_v.toInt();
  int64_t end = end_v.isNone() ? length : end_v.toInt();
  if (start < 0) start += length;
  if (end < 0) end += length;
  start = std::clamp<int64_t>(start, 0, length);
  end = std::clamp<int64_t>(end, start, length);
  const int64_t lo = std::clamp<int64_t>(in.lo - start, 0, end - start);
  const int64_t hi = std::clamp<int64_t>(in.hi - start, lo, end - start);
  set(node->output(), window(out_reference, lo, hi, in.data.narrow(-1, lo + start - in.lo, hi - lo)));
  return true;
}

bool MutantPass::windowed_pool(Node* node, bool average) {
  // max_pool1d(x, kernel, stride, padding, dilation, ceil_mode)
  // avg_pool1d(x, kernel, stride, padding, ceil_mode, count_include_pad)
  const Value* x = node->inputs()[0];
  if (!is_window(*this, x)) return false;
  const int64_t k = single(plain(node->inputs()[1]), 1);
  const int64_t s = single(plain(node->inputs()[2]), k);
  const int64_t p = single(plain(node->inputs()[3]), 0);
  const int64_t d = average ? 1 : single(plain(node->inputs()[4]), 1);
  const bool ceil_mode = plain(node->inputs()[average ? 4 : 5]).toBool();
  if (s != k || p != 0 || d != 1 || ceil_mode) return false;
  const auto& in = slot(x);
  const auto out_reference = reference_tensor(node->output());
  const int64_t lo = in.lo / k;
  const int64_t hi = std::min(length_of(out_reference), ceil_div(in.hi, k));
  if (lo >= hi) {
    set(node->output(), window(out_reference, 0, 0, out_reference.narrow(-1, 0, 0).expand({rows_, -1, 0})));
    return true;
  }
  std::vector<c10::IValue> inputs = {patched_range(in, rows_, lo * k, hi * k)};
  for (size_t i = 1; i < node->inputs().size(); ++i) inputs.push_back(plain(node->inputs()[i]));
  const auto out = run_node(node, std::move(inputs));
  set(node->output(), window(out_reference, lo, hi, out[0].toTensor()));
  return true;
}

bool MutantPass::windowed_cat(Node* node) {
  const Value* list = node->inputs()[0];
  if (!dependent(list) || slot(list).kind != Slot::Kind::List) return false;
  const auto out_reference = reference_tensor(node->output());
  int64_t dim = plain(node->inputs()[1]).toInt();
  if (dim < 0) dim += out_reference.dim();
  if (dim == 0 || dim == out_reference.dim() - 1) return false;
  int64_t lo = INT64_MAX, hi = INT64_MIN;
  for (const auto& item : slot(list).items) {
    lo = std::min(lo, item.lo);
    hi = std::max(hi, item.hi);
  }
  std::vector<torch::Tensor> parts;
  for (const auto& item : slot(list).items) parts.push_back(patched_range(item, rows_, lo, hi));
  set(node->output(), window(out_reference, lo, hi, torch::cat(parts, dim)));
  return true;
}

}  // namespace

FastIsmPlan FastIsmPlan::analyse(const Model& model) {
  return analyse(model.module(), model.device());
}

FastIsmPlan FastIsmPlan::analyse(const torch::jit::Module& module, const torch::Device& device) {
  FastIsmPlan plan;
  plan.device_ = device;
  for (const auto& parameter : module.parameters()) {
    plan.dtype_ = parameter.scalar_type();
    break;
  }
  auto forward = inlined_forward(module, Freezing::Freeze);  // no gradients: detach is moot
  plan.frozen_ = forward.module;
  plan.graph_ = forward.graph;
  for (const Node* node : plan.graph_->nodes()) {
    if (!node->blocks().empty()) {
      plan.reason_ = std::string("control flow (") + node->kind().toQualString() + ")";
      return plan;
    }
  }
  // The first operation on the input decides whether windowing helps at all.
  const Value* input = plan.graph_->inputs().at(1);
  for (const auto& use : input->uses()) {
    const std::string kind = use.user->kind().toQualString();
    if (kind != "aten::conv1d" && !pointwise_ops().count(kind)) {
      plan.reason_ = "the input's first operation " + kind + " is not windowed";
      return plan;
    }
  }
  plan.operations_ = lookup_operations(*plan.graph_);
  plan.qualifies_ = true;
  return plan;
}

FastIsmPlan::Session FastIsmPlan::start(const torch::Tensor& one_hot) const {
  Session session;
  session.plan_ = this;
  torch::NoGradGuard no_grad;
  t_operations = operations_.get();
  session.input_ = one_hot.unsqueeze(0).to(device_, dtype_);
  auto& env = session.reference_;
  env[graph_->inputs().at(0)] = frozen_._ivalue();
  // Two copies: LibTorch's CPU convolution rounds a batch of one differently (model.cpp).
  env[graph_->inputs().at(1)] = torch::cat({session.input_, session.input_});
  for (Node* node : graph_->nodes()) {
    if (node->kind() == c10::prim::Constant) {
      env[node->output()] = *torch::jit::toIValue(node->output());
      continue;
    }
    std::vector<c10::IValue> inputs;
    for (const Value* v : node->inputs()) inputs.push_back(env.at(v));
    const auto outputs = run_node(node, std::move(inputs));
    for (size_t i = 0; i < outputs.size(); ++i) env[node->outputs()[i]] = outputs[i];
  }
  return session;
}

torch::Tensor FastIsmPlan::Session::score(const std::vector<int64_t>& positions,
                                          const std::vector<int64_t>& bases, int64_t target) const {
  torch::NoGradGuard no_grad;
  const auto& graph = plan_->graph_;
  const int64_t rows = std::max<int64_t>(2, static_cast<int64_t>(positions.size()));
  const auto [lo_it, hi_it] = std::minmax_element(positions.begin(), positions.end());
  const int64_t lo = *lo_it, hi = *hi_it + 1;
  Slot input = window(input_, lo, hi, input_.narrow(-1, lo, hi - lo).expand({rows, -1, -1}).clone());
  for (size_t r = 0; r < positions.size(); ++r) {
    auto column = input.data[r].select(-1, positions[r] - lo);
    column.zero_();
    column[bases[r]] = 1.0f;
  }
  t_operations = plan_->operations_.get();
  MutantPass pass(reference_, rows);
  pass.set(graph->inputs().at(1), std::move(input));
  for (Node* node : graph->nodes()) {
    bool any = false;
    for (const Value* v : node->inputs()) any = any || pass.dependent(v);
    if (!any) continue;  // the reference's value serves
    if (!pass.try_windowed(node)) pass.run_full(node);
  }
  const Value* output = graph->outputs().at(0);
  const auto result = pass.dependent(output) ? pass.input_value(output).toTensor()
                                             : reference_.at(output).toTensor().narrow(0, 0, 1).expand({rows, -1});
  return result.select(1, target).narrow(0, 0, static_cast<int64_t>(positions.size())).to(torch::kCPU);
}

}  // namespace seqattr
