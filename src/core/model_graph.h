#pragma once
// The model's forward as one flat graph, for the methods that work on operations rather than
// on nn.Modules (DeepLIFT's rules, fast ISM's windows).
#include <torch/script.h>

#include <memory>
#include <optional>
#include <vector>

namespace seqattr {

struct ForwardGraph {
  torch::jit::Module module;  // a copy of the model; `graph` is its forward
  std::shared_ptr<torch::jit::Graph> graph;
};

enum class Freezing {
  // Parameters and attributes become constants. Freezing's clean-up also drops aten::detach,
  // so use it only where no gradients are taken.
  Freeze,
  // Parameters stay attributes; `self.training` reads as false (the model runs in eval mode).
  KeepAttributes,
};

// A copy of `module` (in eval mode) whose forward is inlined (submodule calls and functional
// calls become plain operations), constant-folded (eval-mode branches vanish) and free of
// in-place mutation (relu_ -> relu, list appends -> list construction).
ForwardGraph inlined_forward(const torch::jit::Module& module, Freezing freezing);

// Rewrites each untransposed 1-D aten::_convolution / aten::convolution (a traced model's
// spelling, every flag explicit) as the aten::conv1d a scripted model has, so that later passes
// (fast ISM's windows, the direct-convolution rewrite) know one spelling. 1-D is told by a
// constant one-element stride list, which holds whether the weights are attributes or frozen
// constants; the cuDNN flags the trace recorded give way to LibTorch's settings, as in a
// scripted model. Returns how many were rewritten.
int canonicalise_convolutions(torch::jit::Graph& graph);

// Removes each aten::slice that keeps its whole dimension (start 0 or None, end None or
// INT64_MAX, step 1: traced models slice every leading dimension this way): the result is its
// input (the same storage, sizes and strides). Their backward allocated a zero-filled
// gradient and copied into it. Returns how many were removed.
int drop_identity_slices(torch::jit::Graph& graph);

// The value of `value` in `graph` (the forward of `module`, whose first input is `self`) where
// it is a constant or a chain of attribute reads from `self`; else none.
std::optional<c10::IValue> known_value(const torch::jit::Module& module,
                                       const torch::jit::Graph& graph,
                                       const torch::jit::Value* value);

// Whether a graph value is a tensor, or a list/tuple/optional holding tensors. Sizes, flags
// and other scalars (even those read from an input tensor) are not.
bool value_carries_tensors(const torch::jit::Value* value);

// Runs one node of such a graph on `inputs` and returns its outputs, for the code that walks
// a graph node by node (fast ISM, FLOP counting). List and tuple construction and unpacking
// and attribute reads have no operator schema (the interpreter does them itself), so they are
// done here; any other node runs `operation` when given (looked up once by the caller; it
// must be `node`'s), else its own, looked up now. Control flow (If, Loop) is the caller's.
std::vector<c10::IValue> run_graph_node(torch::jit::Node* node, std::vector<c10::IValue> inputs,
                                        torch::jit::Operation* operation = nullptr);

}  // namespace seqattr
