#pragma once
// The network in a Keras model_config, checked and flattened into the few operations
// chrombpnet's models are built from. Torch-free: core/keras/keras_model.h turns it into
// TorchScript.
//
// Tensors of rank 3 are Keras's (N, L, C); here their shape is kept as channels and length,
// because the built module computes in seqattr's (N, C, L) layout. Nested models (chrombpnet.h5
// holds the bias and the no-bias models as layers) are inlined: their layers are named
// "<model>/<layer>".
#include <string>
#include <vector>

namespace seqattr::keras {

enum class Op {
  Input,        // the sequence, (N, 4, L)
  Conv1D,       // valid or symmetric same padding, stride 1, optional ReLU
  Cropping1D,   // along length
  Add,          // elementwise, two or more inputs of one shape
  Flatten,      // (N, C, L) -> (N, L * C) in Keras's (length-major) order
  GlobalAveragePooling1D,  // mean over length
  Dense,        // on (N, F), optional ReLU
  Concatenate,  // along channels (rank 3) or features (rank 2)
  Activation,   // relu or linear
  LogSumExp,    // chrombpnet's Lambda: reduce_logsumexp over features, keepdims
};

struct Shape {
  int rank = 3;            // with the batch axis: 3 (N, C, L) or 2 (N, F)
  int64_t channels = 0;    // rank 3: C; rank 2: F
  int64_t length = -1;     // rank 3: L, -1 when the input length is not fixed
};

struct Layer {
  std::string name;        // unique; nested layers "<model>/<layer>"
  std::string class_name;  // the Keras class, for messages
  Op op = Op::Input;
  std::vector<size_t> inputs;  // indices of earlier layers
  Shape shape;                 // of the output
  // Conv1D and Dense: weights under "<weights>kernel:0" and "<weights>bias:0" of keras::File.
  std::string weights;
  int64_t width = 1, dilation = 1, padding = 0;
  bool use_bias = true, relu = false;
  int64_t crop_left = 0, crop_right = 0;  // Cropping1D
};

struct Graph {
  std::vector<Layer> layers;       // in evaluation order; layers[0] is the input
  std::vector<size_t> outputs;     // the model's outputs, in order
  std::vector<std::string> heads;  // their names: "profile", "counts", else the layer's name
  int64_t input_length = 0;        // 0 when the file does not fix it
};

// Parses and checks `model_config`. Throws InputError naming --model and `path` for anything
// the built module would not compute exactly as Keras does: an unsupported layer class (named),
// activation, padding, stride, data format, shared layer, Lambda other than chrombpnet's, or a
// model with other than one (N, L, 4) input.
Graph parse_graph(const std::string& model_config, const std::string& path);

}  // namespace seqattr::keras
