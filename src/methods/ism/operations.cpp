// Running a graph's nodes one at a time, for the reference's values and the mutant pass: their
// operators looked up once per plan, and casts of their values.
#include "core/model_graph.h"
#include "methods/ism/mutant_pass.h"

namespace seqattr::fast_ism {
namespace {

// The innermost live ScopedOperations' set on this thread, or none: each thread's passes read
// only what their own guards set.
thread_local Operations* t_operations = nullptr;

}  // namespace

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

ScopedOperations::ScopedOperations(Operations* operations) : previous_(t_operations) {
  t_operations = operations;
}

ScopedOperations::~ScopedOperations() { t_operations = previous_; }

std::vector<c10::IValue> run_node(Node* node, std::vector<c10::IValue> inputs) {
  const bool looked_up = t_operations && t_operations->count(node);
  return run_graph_node(node, std::move(inputs), looked_up ? &t_operations->at(node) : nullptr);
}

torch::Tensor run_tensor_node(Node* node, std::vector<c10::IValue> inputs) {
  return run_node(node, std::move(inputs)).at(0).toTensor();
}

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

}  // namespace seqattr::fast_ism
