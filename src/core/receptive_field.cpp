#include "core/receptive_field.h"

#include <torch/csrc/jit/ir/ir.h>

#include <algorithm>
#include <set>
#include <unordered_map>

#include "core/model_graph.h"

namespace seqattr {
namespace {

using torch::jit::Node;
using torch::jit::Value;

struct Field {
  int64_t size = 1;     // input positions one position sees
  int64_t jump = 1;     // input positions between neighbouring positions
  bool global = false;  // every position mixed
  std::string mixing;   // the op that mixed them
};

// Operations that keep positions apart: elementwise, per channel, crops, concatenation,
// layout changes.
const std::set<std::string>& local_ops() {
  static const std::set<std::string> ops = {
      "aten::relu", "aten::relu6", "aten::leaky_relu", "aten::elu", "aten::selu", "aten::celu",
      "aten::gelu", "aten::silu", "aten::mish", "aten::sigmoid", "aten::tanh", "aten::softplus",
      "aten::log_sigmoid", "aten::hardtanh", "aten::prelu", "aten::exp", "aten::log",
      "aten::log1p", "aten::expm1", "aten::abs", "aten::neg", "aten::sqrt", "aten::square",
      "aten::pow", "aten::clamp", "aten::clamp_min", "aten::clamp_max", "aten::where",
      "aten::add", "aten::sub", "aten::rsub", "aten::mul", "aten::div", "aten::batch_norm",
      "aten::dropout", "aten::feature_dropout", "aten::alpha_dropout", "aten::detach",
      "aten::clone", "aten::contiguous", "aten::to", "aten::type_as", "aten::slice",
      "aten::narrow", "aten::select", "aten::cat", "aten::stack", "aten::permute",
      "aten::transpose", "aten::constant_pad_nd", "aten::pad", "aten::unsqueeze",
      "aten::squeeze", "aten::zeros_like", "aten::ones_like", "aten::full_like"};
  return ops;
}

const std::set<std::string>& reductions() {
  static const std::set<std::string> ops = {"aten::mean", "aten::sum", "aten::amax",
                                            "aten::amin", "aten::logsumexp", "aten::softmax",
                                            "aten::log_softmax", "aten::std", "aten::var"};
  return ops;
}

int64_t first_int(const c10::IValue& v, int64_t fallback) {
  if (v.isInt()) return v.toInt();
  if (v.isIntList() && !v.toIntVector().empty()) return v.toIntVector().front();
  return fallback;
}

// Whether a reduction's dims (argument 1) include the input's last axis.
bool reduces_length(const std::vector<c10::IValue>& inputs) {
  if (inputs.size() < 2 || !inputs[0].isTensor()) return true;
  const int64_t rank = inputs[0].toTensor().dim();
  const auto& dims = inputs[1];
  if (dims.isNone()) return true;
  std::vector<int64_t> list = dims.isInt() ? std::vector<int64_t>{dims.toInt()}
                              : dims.isIntList() ? dims.toIntVector()
                                                 : std::vector<int64_t>{};
  if (list.empty()) return true;  // sum(x, []) sums everything
  return std::any_of(list.begin(), list.end(), [rank](int64_t d) { return d == -1 || d == rank - 1; });
}

class Walker {
 public:
  explicit Walker(std::unordered_map<const Value*, c10::IValue>& env) : env_(env) {}

  // False when the graph cannot be followed (control flow).
  bool run(torch::jit::Graph& graph, std::string* why) {
    fields_[graph.inputs().at(1)] = Field{};
    for (Node* node : graph.nodes()) {
      if (!node->blocks().empty()) {
        *why = std::string("control flow (") + node->kind().toQualString() + ")";
        return false;
      }
      step(node);
    }
    return true;
  }

  const Field* field(const Value* v) const {
    const auto found = fields_.find(v);
    return found == fields_.end() ? nullptr : &found->second;
  }

 private:
  void step(Node* node) {
    if (node->kind() == c10::prim::Constant) {
      env_[node->output()] = *torch::jit::toIValue(node->output());
      return;
    }
    std::vector<c10::IValue> inputs;
    for (const Value* v : node->inputs()) inputs.push_back(env_.at(v));
    const auto outputs = run_graph_node(node, inputs);
    for (size_t i = 0; i < outputs.size(); ++i) env_[node->outputs()[i]] = outputs[i];

    // The field of the inputs that carry positions of the sequence (lists included).
    std::vector<const Field*> in;
    for (const Value* v : node->inputs()) {
      if (const Field* f = field(v)) in.push_back(f);
    }
    if (in.empty()) return;
    Field out = combined(in);
    const std::string kind = node->kind().toQualString();
    if (kind == "prim::ListConstruct" || kind == "prim::TupleConstruct" ||
        kind == "prim::ListUnpack" || kind == "prim::TupleUnpack" ||
        kind == "prim::TupleIndex" || kind == "aten::__getitem__") {
      // containers pass fields on
    } else if (kind == "aten::size" || kind == "aten::dim" || kind == "prim::dtype" ||
               kind == "prim::device" || kind == "prim::NumToTensor" || kind == "aten::Int") {
      return;  // shapes, not positions
    } else if (is_convolution(kind, inputs)) {
      widen(out, inputs.at(1).toTensor().size(-1), first_int(inputs.at(3), 1), first_int(inputs.at(5), 1));
    } else if (kind == "aten::max_pool1d" || kind == "aten::avg_pool1d") {
      const int64_t k = first_int(inputs.at(1), 1);
      const int64_t d = kind == "aten::max_pool1d" ? first_int(inputs.at(4), 1) : 1;
      widen(out, k, first_int(inputs.at(2), k), d);
    } else if (reductions().count(kind)) {
      if (reduces_length(inputs)) mix(out, kind);
    } else if (kind == "aten::view" || kind == "aten::reshape" || kind == "aten::flatten") {
      const auto& before = inputs.at(0).toTensor();
      const auto& after = outputs.at(0).toTensor();
      if (after.dim() < 2 || after.size(-1) != before.size(-1)) mix(out, kind);
    } else if (!local_ops().count(kind)) {
      mix(out, kind);  // linear layers, matmul, and what this does not know
    }
    for (const Value* v : node->outputs()) fields_[v] = out;
  }

  static bool is_convolution(const std::string& kind, const std::vector<c10::IValue>& inputs) {
    if (kind != "aten::conv1d" && kind != "aten::_convolution" && kind != "aten::convolution") {
      return false;
    }
    if (!inputs.at(1).isTensor() || inputs.at(1).toTensor().dim() != 3) return false;
    return kind == "aten::conv1d" || !inputs.at(6).toBool();
  }

  static Field combined(const std::vector<const Field*>& in) {
    Field out = *in.front();
    for (const Field* f : in) {
      out.size = std::max(out.size, f->size);
      out.jump = std::max(out.jump, f->jump);
      if (f->global && !out.global) {
        out.global = true;
        out.mixing = f->mixing;
      }
    }
    return out;
  }

  static void widen(Field& f, int64_t kernel, int64_t stride, int64_t dilation) {
    if (f.global) return;
    f.size += (kernel - 1) * dilation * f.jump;
    f.jump *= stride;
  }

  static void mix(Field& f, const std::string& kind) {
    if (f.global) return;
    f.global = true;
    f.mixing = kind;
  }

  std::unordered_map<const Value*, c10::IValue>& env_;
  std::unordered_map<const Value*, Field> fields_;
};

}  // namespace

ReceptiveField receptive_field(const torch::jit::Module& module, const torch::Device& device,
                               int64_t length) {
  torch::NoGradGuard no_grad;
  auto forward = inlined_forward(module, Freezing::Freeze);
  auto dtype = torch::kFloat32;
  for (const auto& parameter : module.parameters()) {
    dtype = parameter.scalar_type();
    break;
  }
  std::unordered_map<const Value*, c10::IValue> env;
  env[forward.graph->inputs().at(0)] = forward.module._ivalue();
  env[forward.graph->inputs().at(1)] =
      torch::zeros({2, 4, length}, torch::TensorOptions(dtype).device(device));
  Walker walker(env);
  ReceptiveField out;
  if (!walker.run(*forward.graph, &out.why_unknown)) return out;
  const Field* field = walker.field(forward.graph->outputs().at(0));
  if (!field) {
    out.why_unknown = "the output does not depend on the input";
    return out;
  }
  out.known = true;
  out.bases = field->size;
  out.whole_input = field->global;
  out.mixing_op = field->mixing;
  return out;
}

}  // namespace seqattr
