#pragma once
// Files whose every dataset is indexed by row (sequence) along dimension 0: run parts,
// shards and whole outputs. Concatenating them in row order gives the file one process
// would have written.
#include <hdf5.h>

#include <string>
#include <vector>

namespace seqattr {

// Rows in `path` (dimension 0 of its datasets: sequences, or variants). Throws InputError naming `what` when the file
// cannot be read as seqattr output.
int64_t count_rows(const std::string& path, const std::string& what);

// Writes into `output` (an open, empty file) every dataset of `inputs`, rows concatenated in
// the given order, bit for bit. Every input must hold the same datasets with the same types
// and row shapes (else InputError naming `what` and the file). Memory: a block of rows.
void concatenate_rows(const std::vector<std::string>& inputs, hid_t output, const std::string& what);

}  // namespace seqattr
