#pragma once
// The graph rewrite that puts seqattr::conv1d_direct (kernels/ops/conv1d_direct.h) in place of
// LibTorch's 1-D convolutions; Model (core/model.h) applies it as convolution_kernels() says.
#include <torch/script.h>

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "core/convolution_kernels.h"

namespace seqattr {

// Replaces the stride-1, ungrouped, untransposed 1-D convolutions of `graph` whose arguments
// are constants (aten::conv1d with integer padding, and the aten::_convolution /
// aten::convolution of traced models) by seqattr::conv1d_direct, the same function. Returns how
// many were replaced.
int use_direct_convolutions(torch::jit::Graph& graph);

// Whether `user` is the only node that reads `value`'s elements: any other use only reads its
// shape (aten::dim, aten::size: nn.BatchNorm1d's scripted input check).
bool only_read_by(torch::jit::Value* value, torch::jit::Node* user);

// Replaces each seqattr::conv1d_direct whose only use is aten::relu (or relu_) by one
// seqattr::conv1d_direct_relu (shape reads of the convolution read it instead): the same
// values and gradients (up to the sign of zeros), and one pass over the activations fewer each
// way. Run after the graph's own rewrites that look for relus (DeepLIFT's rules): it hides
// them. Returns how many were fused.
int fuse_convolution_relus(torch::jit::Graph& graph);

// Replaces each aten::add(x, y) (alpha 1, either order) where y = seqattr::conv1d_direct_relu(x,
// ...) is used only there, a residual layer, by seqattr::conv1d_direct_relu_residual: the same
// values and gradients, bit for bit, with the add done on each block the convolution has just
// stored, and the gradients' sum on each block the input gradient has. Run after fuse_convolution_relus. Returns how
// many were fused.
int fuse_residual_relus(torch::jit::Graph& graph);

// Whether an op kind ("seqattr::conv1d_direct") is one of the convolutions the graph Model runs
// may hold: an op with conv1d_direct's arguments (x, weight, bias, padding, dilation) and its
// convolution (seqattr::conv1d_direct, _relu, _relu_residual, and DeepLIFT's fused
// seqattr::deeplift_relu_residual, methods/deeplift/rules.h); and whether it then adds its
// input as a residual (x, or x's centre where the output is shorter).
bool is_direct_convolution(const std::string& kind);
bool adds_residual(const std::string& kind);

// The residual layers of `graph`, for the fusions that replace them: each aten::add(x, t) (alpha
// a constant 1; either order) for which `layer(t, x)` names the node that computes t from x
// (null: not one of the fusion's), with that node.
using ResidualMatch = std::function<torch::jit::Node*(torch::jit::Value* term, torch::jit::Value* x)>;
std::vector<std::pair<torch::jit::Node*, torch::jit::Node*>> residual_adds(
    torch::jit::Graph& graph, const ResidualMatch& layer);

}  // namespace seqattr
