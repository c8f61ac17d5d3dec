#pragma once
// Motif databases in MEME's text format, as JASPAR and HOCOMOCO ship them: "MEME version",
// optional ALPHABET (must be ACGT), strands and "Background letter frequencies", then per motif
// "MOTIF id [alt]" and a "letter-probability matrix: ... w= W ..." followed by W rows of four
// probabilities (A C G T). Torch-free.
#include <array>
#include <string>
#include <vector>

namespace seqattr {

struct Motif {
  std::string id, alt;
  std::vector<std::array<double, 4>> probabilities;  // one row per position, A C G T
  std::string name() const { return alt.empty() ? id : id + " " + alt; }
};

struct MotifDatabase {
  std::array<double, 4> background = {0.25, 0.25, 0.25, 0.25};
  std::vector<Motif> motifs;
};

// Throws InputError naming --motifs, the file and the line for a malformed file: no
// "MEME version" line, another alphabet, a matrix row without four numbers or with a negative
// one, or whose sum is not 1 (within 0.02), fewer rows than w=, a motif without a matrix, and
// a file without motifs.
MotifDatabase read_meme(const std::string& path);

}  // namespace seqattr
