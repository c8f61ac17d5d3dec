#pragma once
#include <string>

namespace seqattr {

// Throws InputError naming `option` when `path` exists but is not a regular file (after
// following links): a pipe, FIFO or device. For inputs read more than once or by seeking
// (a TorchScript archive, an HDF5 file, an indexed genome), which would otherwise hang on
// a FIFO or read a pipe short. A missing file is left to the reader's own message.
void require_regular_file(const std::string& option, const std::string& path);

}  // namespace seqattr
