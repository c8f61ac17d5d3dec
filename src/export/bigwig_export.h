#pragma once
// `seqattr export-bigwig`: the per-base projected attribution of a genomic run (an output
// file with /regions, made from --bed or --tile) as a bigWig track.
//
// The value of a base is the sum over the 4 channels of /attributions (the projected
// attribution: hypothetical x one-hot, so the attribution of the base actually there).
// Where windows overlap, a base takes its value from the window whose centre is nearest
// (chrombpnet's midpoint rule); a tie goes to the window that starts first (the left one),
// and among windows with the same start, to the first in file order. Bases no window covers
// have no entry, nor have bases outside [0, chromosome size).
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace seqattr {

// Chromosome names and lengths, in the order the track lists them.
struct ChromSizes {
  std::vector<std::string> names;
  std::vector<int64_t> lengths;
};

// A chrom-sizes file: `name<whitespace>length` per line (further columns, as in a .fai,
// are ignored; blank and `#` lines skipped). Throws InputError naming --chrom-sizes, the
// file and line for a malformed line, a length < 1 or a repeated name, and for a file
// without chromosomes.
ChromSizes read_chrom_sizes(const std::string& path);

// The chromosome sizes of a FASTA file (plain or bgzipped), in the order of its .fai, which
// is built when missing (see Genome::open). Throws InputError naming --genome when the file
// is missing or cannot be indexed.
ChromSizes genome_chrom_sizes(const std::string& fasta_path);

// Summary statistics of the written values. Quantiles are exact: they are the order
// statistics of all written values, linearly interpolated like numpy.quantile's default
// ("linear") method, found with a two-level radix histogram over the float32 bit patterns
// (a second pass over the input; memory is a few MiB whatever the number of values).
struct TrackStats {
  int64_t count = 0;
  double min = 0, max = 0, mean = 0;
  std::vector<double> probabilities;  // 0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99
  std::vector<double> quantiles;      // one per probability
};

// `name<TAB>value` lines: bases, min, max, mean, q1, q5, q25, q50, q75, q95, q99
// (values as %.9g; nan when no base was written).
std::string format_stats(const TrackStats& stats);

struct BigWigExportOptions {
  std::string input;   // seqattr output file (HDF5)
  std::string output;  // the bigWig; written to a temporary file and renamed when complete
  ChromSizes chrom_sizes;
  std::string chrom_sizes_source;  // how to name the sizes in messages, e.g. "--genome 'x.fa'"
  bool stats = false;
  // Zoom levels (reduced summaries browsers show when zoomed out), 0 to 10. libBigWig
  // builds them when closing the file, with memory that grows with the track: about 4
  // bytes per written base plus 12-24 bytes per written base of the largest chromosome.
  // With 0, memory does not grow with the track (viewers then summarise raw data).
  int32_t zoom_levels = 10;
};

struct BigWigExportSummary {
  int64_t regions = 0;      // windows in the input
  int64_t bases = 0;        // bases written
  int64_t chromosomes = 0;  // chromosomes with at least one base written
  int64_t non_finite = 0;   // bases left out: their attribution is NaN or infinite
  std::optional<TrackStats> stats;
  std::string first_locus;  // the first window in genomic order, chrom:start-end (1-based, as IGV)
};

// Throws InputError naming the file for an input that is missing, is not a seqattr output,
// has no /regions (not made from --bed or --tile), or has a region on a chromosome that
// `chrom_sizes` lacks; and naming --output when the output cannot be written.
// Memory: about 24 bytes of metadata per region, a 64 MiB HDF5 chunk cache and blocks of
// about 32 MiB of rows; the (N,4,L) arrays are never read whole. libBigWig's zoom levels
// add to that (see zoom_levels).
BigWigExportSummary export_bigwig(const BigWigExportOptions& options);

}  // namespace seqattr
