#pragma once
// Dinucleotide shuffles by the Altschul-Erickson Euler-path method: each shuffle keeps the
// first and last base and the exact count of every dinucleotide, and is drawn uniformly
// from all sequences that do (random last-exit arborescence by Wilson's algorithm, then
// uniformly ordered remaining exits).
//
// The shuffles are computed by the seqattr::dinucleotide_shuffles op
// (kernels/ops/dinucleotide_shuffle.h, many sequences at once); this is its one-sequence form.
//
// N: an all-zero column is a fifth letter. Dinucleotides with N ("AN", "NN", ...) are kept
// like any other, so a shuffle has as many N as its input and N stay where dinucleotide
// counts allow; their columns stay all-zero.
#include <torch/torch.h>

#include <cstdint>

namespace seqattr {

// `count` shuffles of one sequence, (count, 4, L) uint8, from one-hot (4, L) uint8.
// Shuffle j depends only on (seed, sequence_index, j). When the input has only one
// possible shuffle (itself: a periodic repeat, all one base, length <= 2 ...), returns
// copies of it and sets *only_one to true.
torch::Tensor dinucleotide_shuffles(const torch::Tensor& one_hot, int64_t count, uint64_t seed,
                                    uint64_t sequence_index, bool* only_one);

}  // namespace seqattr
