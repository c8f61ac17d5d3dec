#include "methods/ism/schema_args.h"

namespace seqattr::fast_ism {

bool has_argument(const torch::jit::Node* node, const char* name) {
  return node->schema().argumentIndexWithName(name).has_value();
}

size_t argument_index(const torch::jit::Node* node, const char* name) {
  const auto index = node->schema().argumentIndexWithName(name);
  TORCH_CHECK(index.has_value(), "fast ISM: ", node->kind().toQualString(),
              " has no argument named ", name);
  return static_cast<size_t>(*index);
}

const torch::jit::Value* input_named(const torch::jit::Node* node, const char* name) {
  return node->inputs().at(argument_index(node, name));
}

torch::jit::Value* input_named(torch::jit::Node* node, const char* name) {
  return node->inputs().at(argument_index(node, name));
}

const c10::IValue& arg(const torch::jit::Node* node, const std::vector<c10::IValue>& args,
                       const char* name, size_t first) {
  const size_t index = argument_index(node, name);
  TORCH_CHECK(index >= first && index - first < args.size(), "fast ISM: argument ", name, " of ",
              node->kind().toQualString(), " (input ", index, ") is not among inputs ", first,
              " to ", first + args.size());
  return args[index - first];
}

}  // namespace seqattr::fast_ism
