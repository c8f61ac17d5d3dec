#pragma once
// DeepLIFT's rules as LibTorch ops that the graph rewrite (graph_rewrite.h) inserts after
// each ruled operation y = op(x):
//   seqattr::deeplift_rescale(x, y)             elementwise nonlinearities, exp, log
//   seqattr::deeplift_max_pool1d(x, y, ...)     max-pool 1d
//   seqattr::deeplift_softmax(x, y, dim)        softmax
//   seqattr::deeplift_detached_product(w, c, z) z = w * c, w input-dependent only via detach
// and, fused where Model's graph has them (fuse_relu_rule_residuals):
//   seqattr::deeplift_relu(x)                    relu(x) with its rescale rule
//   seqattr::deeplift_relu_residual(x, w, b, p, d)  x + deeplift_relu(conv1d_direct(x, w, b, p, d))
// Forward returns y unchanged. Backward, for each reference row k paired with input row
// i = owner[k], replaces the gradient by the pair's multiplier; input rows get no gradient
// (only reference rows are seeded), and outside a DeepLIFT pass the op is the identity on y.
namespace seqattr::deeplift {

// Below this |x - r| an elementwise rule uses the gradient at the reference instead.
constexpr double kRescaleEpsilon = 1e-6;
// Max-pool inputs with |x - r| below this get the plain max-pool gradient.
constexpr double kMaxPoolEpsilon = 1e-7;

}  // namespace seqattr::deeplift
