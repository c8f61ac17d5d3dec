#pragma once
// A Keras model file (keras_file.h) built as a TorchScript module in memory, so that every
// method, DeepLIFT rule, fast ISM pass, head and reduction works on it as on a TorchScript file.
//
// The module's forward is TorchScript source generated from the flattened graph
// (keras_graph.h) and compiled with Module::define; the weights are its parameters, converted
// once to PyTorch's layout (Conv1D kernels (width, in, out) -> (out, in, width), Dense
// (in, out) -> (out, in)). It takes seqattr's (N, 4, L) and returns one tensor, or a tuple of
// the model's outputs in Keras's order.
#include <torch/script.h>

#include <string>
#include <vector>

namespace seqattr::keras {

struct ImportedModel {
  torch::jit::Module module;
  std::string source;              // the forward's TorchScript source
  std::vector<std::string> heads;  // output names ("profile", "counts", ...)
  int64_t input_length = 0;        // 0 when the file does not fix it
};

// Reads and builds `path`. Throws InputError naming --model for a file it cannot read or a
// network it would not compute exactly (keras_graph.h), and for weights missing or of the
// wrong shape.
ImportedModel import_model(const std::string& path);

}  // namespace seqattr::keras
