#pragma once
// The report's findings from seqlets (a BED written by `seqattr seqlets`): the seqlets placed on
// the rows of the output they were called from, grouped by the motif that names them, and the
// unnamed ones clustered by sequence.
#include <cstdint>
#include <string>
#include <vector>

#include "export/logo_source.h"

namespace seqattr {

struct PlacedSeqlet {
  int64_t row = 0;             // of the output
  int64_t start = 0, end = 0;  // in the row's window, 0-based, half-open
  std::string motif;           // "." when none was named
  double score = 0;            // summed attribution
  bool reverse = false;        // matched on the minus strand
  std::string sequence;
};

// Reads `bed` (the 10 columns `seqattr seqlets` writes) and places each seqlet on a row of
// `source`: by genomic coordinates where the output has /regions (the window whose centre is
// nearest the seqlet's; a tie to the one starting first), else by record name and offsets.
// Throws InputError naming --seqlets, the file and line for a malformed line or a seqlet that
// lies in no window.
std::vector<PlacedSeqlet> read_placed_seqlets(const std::string& bed, const LogoSource& source);

struct SeqletGroup {
  std::string name;        // the motif, or "cluster N"
  int64_t count = 0;
  double mean_score = 0;
  double region_share = 0;  // of the output's rows holding at least one
  std::string consensus;    // the strongest member's sequence (on the group's strand)
  Logo logo;                // the average attributions of the members, aligned (see .cpp)
  int64_t logo_members = 0; // members averaged (the strongest, up to a limit)
};

// Named seqlets by motif, most frequent first.
std::vector<SeqletGroup> motif_groups(const std::vector<PlacedSeqlet>& seqlets, const LogoSource& source);
// Unnamed seqlets clustered by sequence (both strands, ungapped), largest first; at most
// `limit` clusters.
std::vector<SeqletGroup> unnamed_clusters(const std::vector<PlacedSeqlet>& seqlets,
                                          const LogoSource& source, int64_t limit);

}  // namespace seqattr
