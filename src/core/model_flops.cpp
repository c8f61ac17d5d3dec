#include "core/model_flops.h"

#include <torch/csrc/jit/ir/ir.h>
#include <torch/csrc/jit/runtime/operator.h>

#include <set>
#include <unordered_map>
#include <vector>

#include "core/direct_convolutions.h"
#include "core/model_graph.h"

namespace seqattr {
namespace {

using torch::jit::Block;
using torch::jit::Node;
using torch::jit::Value;
using Env = std::unordered_map<const Value*, c10::IValue>;

// Weight-shaped convolutions: weight (C_out, C_in / groups, k...) for a plain convolution,
// (C_in, C_out / groups, k...) for a transposed one.
bool is_transposed_convolution(const std::string& kind, const std::vector<c10::IValue>& inputs) {
  if (kind.rfind("aten::conv_transpose", 0) == 0) return true;
  if (kind == "aten::_convolution" || kind == "aten::convolution") return inputs.at(6).toBool();
  return false;
}

bool is_convolution(const std::string& kind) {
  return kind == "aten::conv1d" || kind == "aten::conv2d" || kind == "aten::conv3d" ||
         kind == "aten::_convolution" || kind == "aten::convolution" ||
         kind.rfind("aten::conv_transpose", 0) == 0 || is_direct_convolution(kind);
}

// Ops that multiply matrices in ways not modelled here; named so that a reader of the
// count knows it is a lower bound.
bool is_uncounted_product(const std::string& kind) {
  static const std::set<std::string> ops = {
      "aten::einsum",     "aten::tensordot",  "aten::bilinear",  "aten::lstm",
      "aten::gru",        "aten::rnn_tanh",   "aten::rnn_relu",  "aten::lstm_cell",
      "aten::gru_cell",   "aten::_native_multi_head_attention",
      "aten::scaled_dot_product_attention", "aten::chain_matmul", "aten::linalg_multi_dot"};
  return ops.count(kind) > 0;
}

// Multiply-accumulates of one op, from its inputs and first output; -1 when it has none
// that this counts.
int64_t multiply_accumulates(const std::string& kind, const std::vector<c10::IValue>& inputs,
                             const c10::IValue& output) {
  if (!output.isTensor()) return -1;
  const auto out = output.toTensor();
  if (is_convolution(kind)) {
    const auto weight = inputs.at(1).toTensor();
    const int64_t per_element = weight.numel() / weight.size(0);
    const auto& driver = is_transposed_convolution(kind, inputs) ? inputs.at(0).toTensor() : out;
    return driver.numel() * per_element;
  }
  if (kind == "aten::linear") return out.numel() * inputs.at(1).toTensor().size(-1);
  if (kind == "aten::matmul" || kind == "aten::mm" || kind == "aten::bmm" || kind == "aten::mv") {
    return out.numel() * inputs.at(0).toTensor().size(-1);
  }
  if (kind == "aten::addmm" || kind == "aten::addmv" || kind == "aten::baddbmm") {
    return out.numel() * inputs.at(1).toTensor().size(-1);
  }
  if (kind == "aten::addbmm") {
    const auto batch1 = inputs.at(1).toTensor();
    return out.numel() * batch1.size(0) * batch1.size(2);
  }
  return -1;
}

class FlopCounter {
 public:
  explicit FlopCounter(ModelFlops* flops) : flops_(flops) {}

  // Runs the nodes of `block` with `env` holding its inputs' values.
  void run_block(Block* block, Env& env) {
    for (Node* node : block->nodes()) run(node, env);
  }

 private:
  void run(Node* node, Env& env) {
    if (node->kind() == c10::prim::Constant) {
      env[node->output()] = *torch::jit::toIValue(node->output());
      return;
    }
    std::vector<c10::IValue> inputs;
    for (const Value* v : node->inputs()) inputs.push_back(env.at(v));
    if (node->kind() == c10::prim::If) return run_if(node, inputs, env);
    if (node->kind() == c10::prim::Loop) return run_loop(node, inputs, env);
    const std::string kind = node->kind().toQualString();
    auto outputs = run_graph_node(node, inputs);
    if (is_uncounted_product(kind)) flops_->uncounted.insert(kind);
    if (!outputs.empty()) {
      const int64_t macs = multiply_accumulates(kind, inputs, outputs.front());
      if (macs >= 0) {
        flops_->total += 2 * macs;
        flops_->by_op[kind] += 2 * macs;
      }
    }
    for (size_t i = 0; i < outputs.size(); ++i) env[node->outputs()[i]] = std::move(outputs[i]);
  }

  void run_if(Node* node, const std::vector<c10::IValue>& inputs, Env& env) {
    Block* taken = node->blocks().at(inputs.at(0).toBool() ? 0 : 1);
    run_block(taken, env);
    for (size_t i = 0; i < node->outputs().size(); ++i) {
      env[node->outputs()[i]] = env.at(taken->outputs()[i]);
    }
  }

  // prim::Loop(max_trips, condition, carried...); its block takes (iteration, carried...)
  // and returns (condition, carried...).
  void run_loop(Node* node, const std::vector<c10::IValue>& inputs, Env& env) {
    Block* body = node->blocks().at(0);
    const int64_t trips = inputs.at(0).toInt();
    bool go_on = inputs.at(1).toBool();
    std::vector<c10::IValue> carried(inputs.begin() + 2, inputs.end());
    for (int64_t i = 0; i < trips && go_on; ++i) {
      env[body->inputs()[0]] = i;
      for (size_t c = 0; c < carried.size(); ++c) env[body->inputs()[c + 1]] = carried[c];
      run_block(body, env);
      go_on = env.at(body->outputs()[0]).toBool();
      for (size_t c = 0; c < carried.size(); ++c) carried[c] = env.at(body->outputs()[c + 1]);
    }
    for (size_t c = 0; c < carried.size(); ++c) env[node->outputs()[c]] = carried[c];
  }

  ModelFlops* flops_;
};

}  // namespace

ModelFlops count_forward_flops(const torch::jit::Module& module, const torch::Tensor& input) {
  TORCH_INTERNAL_ASSERT(input.dim() == 3 && input.size(1) == 4);
  torch::NoGradGuard no_grad;
  auto forward = inlined_forward(module, Freezing::Freeze);
  ModelFlops flops;
  Env env;
  env[forward.graph->inputs().at(0)] = forward.module._ivalue();
  env[forward.graph->inputs().at(1)] = input;
  FlopCounter(&flops).run_block(forward.graph->block(), env);
  return flops;
}

ModelFlops forward_flops_per_sequence(const torch::jit::Module& module, const torch::Device& device,
                                      int64_t length) {
  auto dtype = torch::kFloat32;
  for (const auto& parameter : module.parameters()) {
    dtype = parameter.scalar_type();
    break;
  }
  return count_forward_flops(module, torch::zeros({1, 4, length}, torch::TensorOptions(dtype).device(device)));
}

}  // namespace seqattr
