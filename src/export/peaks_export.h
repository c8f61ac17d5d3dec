#pragma once
// `seqattr export-bed`: the windows of a genomic output (/regions) as a 10-column narrowPeak,
// the summit included, as chrombpnet's bigWig script and `modisco seqlet-bed` read them.
#include <cstdint>
#include <string>

namespace seqattr {

struct PeaksExportOptions {
  std::string input;   // a seqattr output made from --bed or --tile
  std::string output;  // narrowPeak; written whole or not at all
};

// One line per window, in file order: chrom, start, end, name, score 0, strand '.',
// signalValue (the window's attribution sum), pValue -1, qValue -1, summit (offset from start:
// the BED summit it was centred on, or the window's middle for tiles). Returns the windows
// written. Throws InputError naming the input when it has no /regions or /attributions.
int64_t export_peaks(const PeaksExportOptions& options);

}  // namespace seqattr
