#pragma once
// The receptive field of a model's output, read from its graph: how many input positions
// one position of a per-position layer sees, and whether the output then mixes all of them.
//
// Each value carries (size, jump): its positions see `size` consecutive input positions, and
// neighbouring positions are `jump` input positions apart. A convolution or pool with kernel
// k, dilation d and stride s adds (k - 1) d jump and multiplies jump by s; elementwise ops,
// crops, concatenations and layout changes keep the largest of their inputs'. Anything that
// mixes positions (a mean or sum over length, a softmax over length, a linear layer over a
// flattened window) makes the output read the whole input; the size reached before it is
// still reported (BPNet's count head: the whole input, after a 195-bp trunk).
#include <torch/script.h>

#include <cstdint>
#include <string>

namespace seqattr {

struct ReceptiveField {
  bool known = false;       // false: the graph has control flow or an op this cannot follow
  std::string why_unknown;  // then: which
  int64_t bases = 0;        // of the last per-position layer before the output
  bool whole_input = false; // the output mixes every position
  std::string mixing_op;    // the first op that did, when whole_input
};

// Reads `module`'s inlined, frozen forward, run once on zeros (1, 4, length) so that every
// value's shape is known.
ReceptiveField receptive_field(const torch::jit::Module& module, const torch::Device& device,
                               int64_t length);

}  // namespace seqattr
