#pragma once
// A self-contained HTML report of a seqattr output: with seqlets, the motifs they found first;
// then run description and parameters, a histogram of the target's predictions and of the total attribution per sequence, the
// sequences of highest total attribution with their logos, and the convergence deltas.
// One file: CSS inline, figures inline SVG, no scripts, nothing fetched from anywhere.
#include <cstdint>
#include <string>

namespace seqattr {

struct ReportOptions {
  std::string input;
  std::string output;
  int64_t top = 5;       // sequences shown with logos, by total attribution
  int64_t window = 100;  // bp of each logo, around the largest |attribution|; 0: all
  int64_t bins = 40;     // of each histogram
  std::string seqlets;   // a BED from `seqattr seqlets` on this input: the report opens with them
};

struct ReportSummary {
  int64_t sequences = 0;
  int64_t length = 0;
  int64_t logos = 0;
};

// Reads /attributions a block of rows at a time: memory does not grow with N x L.
ReportSummary write_report(const ReportOptions& options);

}  // namespace seqattr
