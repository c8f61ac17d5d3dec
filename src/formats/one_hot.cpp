#include "formats/one_hot.h"

#include "formats/dna_letters.h"

namespace seqattr {
namespace {

// Channel of a base in A, C, G, T order; -1 for N.
int channel_of(char base) {
  switch (base) {
    case 'A': case 'a': return 0;
    case 'C': case 'c': return 1;
    case 'G': case 'g': return 2;
    case 'T': case 't': return 3;
    default: return -1;
  }
}

}  // namespace

torch::Tensor one_hot_encode(const std::vector<SequenceRecord>& records, int64_t length) {
  const auto n = static_cast<int64_t>(records.size());
  auto out = torch::zeros({n, 4, length}, torch::kUInt8);
  auto acc = out.accessor<uint8_t, 3>();
  for (int64_t i = 0; i < n; ++i) {
    TORCH_INTERNAL_ASSERT(static_cast<int64_t>(records[i].sequence.size()) == length);
    for (int64_t l = 0; l < length; ++l) {
      const int c = channel_of(records[i].sequence[l]);
      if (c >= 0) acc[i][c][l] = 1;
    }
  }
  return out;
}

std::string one_hot_bases(const torch::Tensor& one_hot) {
  const auto x = one_hot.to(torch::kUInt8).contiguous();
  TORCH_CHECK(x.dim() == 2 && x.size(0) == 4, "one_hot_bases: expected (4, L)");
  return one_hot_letters(x.data_ptr<uint8_t>(), x.size(1));
}

}  // namespace seqattr
