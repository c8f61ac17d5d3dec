#pragma once
// DeepLIFT references given as a file: /references (N, R, 4, L) of an HDF5 file.
#include <cstdint>
#include <string>

#include "methods/deeplift/deeplift.h"

namespace seqattr::deeplift {

// /references of an HDF5 file, read a block of sequences at a time. Checks the shape
// against (sequences, R, 4, length) up front and that every column is one-hot when read;
// throws InputError naming --references. Sets *references_per_sequence to R.
ReferenceSource file_references(const std::string& path, int64_t sequences, int64_t length,
                                int64_t* references_per_sequence);

}  // namespace seqattr::deeplift
