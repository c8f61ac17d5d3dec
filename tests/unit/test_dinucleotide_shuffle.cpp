#include <gtest/gtest.h>

#include <map>
#include <random>
#include <set>

#include "formats/fasta.h"
#include "formats/one_hot.h"
#include "kernels/ops/dinucleotide_shuffle.h"

namespace seqattr {
namespace {

torch::Tensor encode(const std::string& sequence) {
  return one_hot_encode({{"s", sequence}}, static_cast<int64_t>(sequence.size()))[0];
}

std::string decode(const torch::Tensor& one_hot) {
  std::string out;
  for (int64_t l = 0; l < one_hot.size(1); ++l) {
    char base = 'N';
    for (int c = 0; c < 4; ++c) {
      if (one_hot[c][l].item<uint8_t>()) base = "ACGT"[c];
    }
    out += base;
  }
  return out;
}

// `count` shuffles (count, 4, L) of one sequence (4, L) by the seqattr::dinucleotide_shuffles
// op, with the sequence at index `index`; *only_one as the op's flag.
torch::Tensor dinucleotide_shuffles(const torch::Tensor& one_hot, int64_t count, uint64_t seed,
                                    uint64_t index, bool* only_one) {
  const auto [shuffles, single] =
      ops::dinucleotide_shuffles(one_hot.unsqueeze(0), count, seed, static_cast<int64_t>(index));
  *only_one = single[0].item<bool>();
  return shuffles[0];
}

std::map<std::string, int> dinucleotides(const std::string& s) {
  std::map<std::string, int> counts;
  for (size_t i = 0; i + 1 < s.size(); ++i) ++counts[s.substr(i, 2)];
  return counts;
}

std::vector<std::string> shuffles(const std::string& s, int count, bool* only_one,
                                  uint64_t seed = 0, uint64_t index = 0) {
  const auto out = dinucleotide_shuffles(encode(s), count, seed, index, only_one);
  std::vector<std::string> decoded;
  for (int j = 0; j < count; ++j) decoded.push_back(decode(out[j]));
  return decoded;
}

void expect_preserved(const std::string& original, const std::string& shuffled) {
  ASSERT_EQ(shuffled.size(), original.size());
  EXPECT_EQ(shuffled.front(), original.front());
  EXPECT_EQ(shuffled.back(), original.back());
  EXPECT_EQ(dinucleotides(shuffled), dinucleotides(original)) << original << " -> " << shuffled;
}

TEST(DinucleotideShuffle, PreservesCountsOnRandomSequences) {
  std::mt19937 rng(5);
  for (int trial = 0; trial < 50; ++trial) {
    std::string s;
    const int length = 3 + static_cast<int>(rng() % 300);
    for (int i = 0; i < length; ++i) s += "ACGTN"[rng() % (trial % 2 ? 5 : 4)];
    bool only_one = true;
    for (const auto& shuffled : shuffles(s, 5, &only_one, trial, trial)) {
      expect_preserved(s, shuffled);
    }
  }
}

TEST(DinucleotideShuffle, ShufflesActuallyDiffer) {
  const std::string s = "ACGTTGCAAGCTTCGAGATCCATGGCTAGCTAGGATCCGATCGTACGATGCA";
  bool only_one = true;
  const auto out = shuffles(s, 10, &only_one);
  EXPECT_FALSE(only_one);
  EXPECT_GT(std::set<std::string>(out.begin(), out.end()).size(), 5u);
}

TEST(DinucleotideShuffle, DependsOnlyOnSeedIndexAndShuffleNumber) {
  const std::string s = "ACGTTGCAAGCTTCGAGATCCATGGCTAGCTAGG";
  bool only_one = false;
  const auto ten = shuffles(s, 10, &only_one, 3, 7);
  const auto four = shuffles(s, 4, &only_one, 3, 7);
  for (int j = 0; j < 4; ++j) EXPECT_EQ(ten[j], four[j]);
  EXPECT_NE(shuffles(s, 4, &only_one, 3, 8), four);
  EXPECT_NE(shuffles(s, 4, &only_one, 4, 7), four);
}

TEST(DinucleotideShuffle, SequencesWithOneShuffleReturnCopies) {
  for (const std::string s : {"AAAAAAAAAA", "ACACACACAC", "ACGACGACGACG", "AC", "A", "AAAC",
                              "NNNNN", "ANANAN"}) {
    bool only_one = false;
    for (const auto& shuffled : shuffles(s, 3, &only_one)) EXPECT_EQ(shuffled, s);
    EXPECT_TRUE(only_one) << s;
  }
  bool only_one = true;
  shuffles("AACAAGA", 3, &only_one);
  EXPECT_FALSE(only_one);
}

TEST(DinucleotideShuffle, KeepsNAsZeroColumns) {
  const std::string s = "ACGNNTACGTNACGTAGN";
  bool only_one = false;
  const auto out = dinucleotide_shuffles(encode(s), 4, 0, 0, &only_one);
  for (int j = 0; j < 4; ++j) {
    const auto shuffled = decode(out[j]);
    expect_preserved(s, shuffled);
    EXPECT_EQ(out[j].sum().item<int64_t>(), static_cast<int64_t>(s.size()) - 4);  // 4 N
  }
}

}  // namespace
}  // namespace seqattr
