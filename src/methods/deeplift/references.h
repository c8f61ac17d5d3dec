#pragma once
// Where DeepLIFT's references come from: a constant baseline, dinucleotide shuffles of each
// sequence (an HDF5 file's /references: formats/references_file.h).
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

}  // namespace seqattr::deeplift
