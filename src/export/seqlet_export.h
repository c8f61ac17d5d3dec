#pragma once
// `seqattr seqlets`: the seqlets of a seqattr output (export/seqlet_caller.h) as BED, read and
// called a block of rows at a time (memory flat in the number of windows).
#include <cstdint>
#include <string>

#include "export/seqlet_caller.h"

namespace seqattr {

struct SeqletExportOptions {
  std::string input;   // a seqattr output (HDF5)
  std::string output;  // BED6+; written whole or not at all
  std::string attributions = "attributions";  // the (N, 4, L) dataset whose channel sums are called
  SeqletOptions seqlets;
  std::string motifs;            // MEME file; empty: seqlets are not named
  double motif_threshold = 0.05;  // a seqlet is named when its best motif's q-value is at most this
  int threads = 0;                // rows called at once (0: as attribute's --threads 0)
};

struct SeqletSummary {
  int64_t rows = 0;
  int64_t positive = 0, negative = 0;  // seqlets written, by sign
  int64_t duplicates = 0;              // found again in an overlapping window, written once
  int64_t named = 0;                   // seqlets named after a motif
};

// Positive seqlets are called on the per-position attributions (the sum over the 4 channels:
// hypothetical x one-hot, the observed base's), negative ones on their negation, each with the
// null of its own sign; a negative seqlet's score is its (negative) sum. Columns: chrom, start,
// end, name (with --motifs, the best motif's when its Benjamini-Hochberg q-value over the
// seqlets is at most motif_threshold, else '.'), score (the attribution sum), strand (of the
// motif match; '.' when unnamed), p_value, motif_p_value and motif_q_value (export/
// motif_scanner.h; '.' without --motifs), sequence. Coordinates are genomic when the input
// has /regions, else the row's name (/names) and 0-based offsets in it. Where windows overlap
// (tiles), a seqlet with the same chrom, start, end and sign as one written from one of the 16
// windows before is not written again. Throws InputError naming the input for a file without an
// (N, 4, L) float attributions dataset, and for options out of range.
SeqletSummary export_seqlets(const SeqletExportOptions& options);

}  // namespace seqattr
