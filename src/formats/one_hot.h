#pragma once
#include <torch/torch.h>

#include <string>
#include <vector>

#include "formats/fasta.h"

namespace seqattr {

// (N, 4, L) uint8 in A, C, G, T order; N (or n) is an all-zero column.
// Assumes records were validated by read_fasta and share `length`.
torch::Tensor one_hot_encode(const std::vector<SequenceRecord>& records, int64_t length);

// One sequence's bases from its one-hot (4, L) uint8: A, C, G, T, or N for an all-zero column.
std::string one_hot_bases(const torch::Tensor& one_hot);

}  // namespace seqattr
