#pragma once
// Where DeepLIFT's references come from: a constant baseline, dinucleotide shuffles of each
// sequence, or an HDF5 file's /references (N, R, 4, L).
#include <torch/torch.h>

#include <memory>
#include <string>

#include "methods/deeplift/deeplift.h"

namespace seqattr::deeplift {

// One reference per sequence with every entry `value` (0: zeros, 0.25: uniform).
ReferenceSource constant_references(double value, int64_t length);

// `count` dinucleotide shuffles of each sequence; shuffle j of sequence i depends only on
// (seed, index_offset + i, j), so a sequence gets the same references whichever part of a
// run it is computed in. Marks (*only_one)[i] for sequences with a single possible shuffle.
ReferenceSource shuffled_references(torch::Tensor one_hot, int64_t count, uint64_t seed,
                                    int64_t index_offset,
                                    std::shared_ptr<std::vector<bool>> only_one);

// /references of an HDF5 file, read a block of sequences at a time. Checks the shape
// against (sequences, R, 4, length) up front and that every column is one-hot when read;
// throws InputError naming --references. Sets *references_per_sequence to R.
ReferenceSource file_references(const std::string& path, int64_t sequences, int64_t length,
                                int64_t* references_per_sequence);

}  // namespace seqattr::deeplift
