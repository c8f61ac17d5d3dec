#pragma once
// A node's arguments by their names in its operator's schema ("eps" of aten::batch_norm), not
// by position. A graph node's inputs are its schema's arguments in order, keyword-only ones
// and defaults included, so the name's index is the input's.
#include <torch/script.h>

#include <cstddef>
#include <vector>

namespace seqattr::fast_ism {

// Whether `node`'s schema has an argument `name`.
bool has_argument(const torch::jit::Node* node, const char* name);

// The index of `node`'s input named `name`; throws (c10::Error, naming the operation and the
// argument) where the schema has none.
size_t argument_index(const torch::jit::Node* node, const char* name);

// `node`'s input named `name`.
const torch::jit::Value* input_named(const torch::jit::Node* node, const char* name);
torch::jit::Value* input_named(torch::jit::Node* node, const char* name);

// The argument `name` among `args`, which hold `node`'s inputs from input `first` on (the rules
// collect those after the changing input 0, hence 1); throws where `args` does not hold it.
const c10::IValue& arg(const torch::jit::Node* node, const std::vector<c10::IValue>& args,
                       const char* name, size_t first = 1);

}  // namespace seqattr::fast_ism
