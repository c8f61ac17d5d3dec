#include "formats/dna_letters.h"

namespace seqattr {

std::string one_hot_letters(const uint8_t* one_hot, int64_t length) {
  std::string out(static_cast<size_t>(length), 'N');
  for (int64_t b = 0; b < 4; ++b) {
    for (int64_t j = 0; j < length; ++j) {
      if (one_hot[b * length + j]) out[static_cast<size_t>(j)] = "ACGT"[b];
    }
  }
  return out;
}

}  // namespace seqattr
