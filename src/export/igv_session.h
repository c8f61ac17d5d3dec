#pragma once
// An IGV session (XML) that opens a genome, a seqattr bigWig track and, optionally, a BED of
// seqlets, at one locus. IGV's default data range for a bigWig is autoscaled to the largest
// value in view, which a few extreme bases dominate; the session fixes the range instead (the
// track's 1st and 99th percentiles, from export-bigwig's exact quantiles).
#include <string>

namespace seqattr {

struct IgvSession {
  std::string path;        // the session file; written to a temporary file, then renamed
  std::string genome;      // FASTA (IGV reads its .fai)
  std::string track;       // bigWig
  std::string track_name;  // as IGV shows it
  double range_min = 0, range_max = 0;
  std::string seqlets;     // BED of seqlets; none when empty
  std::string locus;       // chrom:start-end, 1-based inclusive as IGV reads it
};

// File paths are written relative to the session's directory (IGV resolves them from there),
// so that the session moves with its files. Throws InputError naming --igv-session when it
// cannot be written.
void write_igv_session(const IgvSession& session);

}  // namespace seqattr
