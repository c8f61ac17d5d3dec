#pragma once
// Naming seqlets after motifs (formats/meme.h): each motif's log-odds matrix scored on the
// seqlet's bases, both strands, at every placement that covers the seqlet's middle base, with
// the exact p-value of the score under the database's background (FIMO's method: the score's
// distribution is computed column by column on integer-scaled log-odds) and a Sidak correction
// for the placements tried. Torch-free.
#include <array>
#include <string>
#include <vector>

#include "formats/meme.h"

namespace seqattr {

struct MotifMatch {
  int64_t motif = -1;  // index into the database; -1: none scored (no placement fits)
  char strand = '.';
  double p_value = 1;  // corrected for the placements and strands tried
};

class MotifScanner {
 public:
  explicit MotifScanner(const MotifDatabase& database);
  // The best-scoring motif for [start, end) of `window` (A, C, G, T, N); placements may reach
  // into the window around the seqlet, never past the window.
  MotifMatch best(const std::string& window, int64_t start, int64_t end) const;
  const std::string& name(int64_t motif) const { return names_[static_cast<size_t>(motif)]; }

 private:
  struct Scoring {
    std::vector<std::array<int, 4>> forward, reverse;  // integer log-odds, per position
    int minimum = 0;                                   // the lowest total score
    std::vector<double> tail;                          // P(score >= minimum + k)
  };
  double placement_p(const Scoring& s, const std::vector<std::array<int, 4>>& matrix,
                     const std::string& window, int64_t at) const;

  std::vector<Scoring> scorings_;
  std::vector<std::string> names_;
};

// Benjamini-Hochberg q-values of `p`, in its order.
std::vector<double> bh_q_values(const std::vector<double>& p);

}  // namespace seqattr
