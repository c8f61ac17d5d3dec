#pragma once
// One-hot DNA back to letters, without LibTorch (the seqlets command runs without it).
#include <cstdint>
#include <string>

namespace seqattr {

// The bases of a (4, length) row-major one-hot: A, C, G, T, or N for an all-zero column.
std::string one_hot_letters(const uint8_t* one_hot, int64_t length);

}  // namespace seqattr
