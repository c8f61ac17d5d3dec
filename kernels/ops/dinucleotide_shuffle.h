#pragma once
#include <ATen/ATen.h>

#include <cstdint>
#include <tuple>

namespace seqattr::ops {

// `count` dinucleotide shuffles of each of S sequences (Altschul-Erickson, drawn uniformly;
// the algorithm and its N handling are described in dinucleotide_shuffle_core.h).
// one_hot: (S, 4, L) uint8. Shuffle j of row s depends only on (seed, first_index + s, j).
// Returns shuffles (S, count, 4, L) uint8 and only_one (S,) bool: true where the sequence
// has no other shuffle than itself, whose shuffles are then copies of it.
std::tuple<at::Tensor, at::Tensor> dinucleotide_shuffles(const at::Tensor& one_hot, int64_t count,
                                                         uint64_t seed, int64_t first_index);

}  // namespace seqattr::ops
