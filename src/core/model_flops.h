#pragma once
// Floating-point operations of a model's forward pass, counted on its graph.
//
// Convention (as fvcore, ptflops and most papers do it): FLOPs = 2 x multiply-accumulates
// of the matrix-product operations (conv1d/2d/3d and their transposes, linear, matmul, mm,
// bmm, addmm, addmv, mv, baddbmm, addbmm). Bias additions, activations, normalisation,
// pooling and other elementwise work are not counted: in convolutional sequence models
// they are a few percent of the total. Operations with matrix products this does not
// model (einsum, recurrent layers, fused attention) are listed in `uncounted`.
//
// The model's frozen, inlined forward graph (core/model_graph.h) is executed node by node
// on the given input, so every operation's shapes are the real ones (control flow included:
// prim::If and prim::Loop run the branch and iterations the input takes).
#include <torch/script.h>

#include <cstdint>
#include <map>
#include <set>
#include <string>

namespace seqattr {

struct ModelFlops {
  int64_t total = 0;                     // FLOPs of one forward pass over the whole input
  std::map<std::string, int64_t> by_op;  // the same, by operation kind ("aten::conv1d")
  std::set<std::string> uncounted;       // matrix-product ops present but not counted
};

// FLOPs of `module`'s forward on `input` (B, 4, L), on the input's device; B rows cost B
// times one row. Runs without autograd and leaves `module` unchanged.
ModelFlops count_forward_flops(const torch::jit::Module& module, const torch::Tensor& input);

// FLOPs of one sequence of `length` bases: the forward on one all-zero (1, 4, L) input in
// the dtype of the module's parameters, on `device`.
ModelFlops forward_flops_per_sequence(const torch::jit::Module& module, const torch::Device& device,
                                      int64_t length);

}  // namespace seqattr
