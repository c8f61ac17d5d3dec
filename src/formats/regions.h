#pragma once
// Genomic windows to explain: BED/narrowPeak regions resized to a fixed length, or tiles
// over whole chromosomes. Coordinates are 0-based and half-open throughout.
#include <cstdint>
#include <string>
#include <vector>

#include "formats/genome.h"

namespace seqattr {

struct Region {
  int32_t chrom = 0;    // index into Genome::chroms()
  int64_t start = 0;    // the window; may begin before 0 or end past the chromosome
  int64_t end = 0;      //   (those bases are N)
  int64_t summit = -1;  // offset from start of the point the window is centred on; -1: tiles
};

// Windows plus what is needed to name and describe them.
struct RegionList {
  std::vector<std::string> chroms;  // the genome's chromosome names (Region::chrom indexes it)
  std::vector<Region> regions;
  // Names from the BED's 4th column; empty when no region has one. A region without a name
  // (no 4th column, or ".") is named chrom:start-end of its window.
  std::vector<std::string> names;
  int64_t padded = 0;  // windows that run past a chromosome end (filled with N)

  int64_t size() const { return static_cast<int64_t>(regions.size()); }
  std::string name(int64_t i) const;
};

// Reads a BED or narrowPeak file (plain or gzipped; `track`, `browser` and `#` lines are
// skipped). Each region is centred on its narrowPeak summit (column 10, when present and
// >= 0), else on its midpoint floor((start + end) / 2), and resized to `length`:
// window start = centre - length / 2. Throws InputError naming the file and line number
// for a malformed line, an unknown chromosome, or start > end; and for a file without
// regions.
RegionList read_bed_regions(const std::string& path, const Genome& genome, int64_t length);

// Every window of `width` with step `step` along each chromosome of `chroms` (all of the
// genome's, in its order, when empty): starts 0, step, 2*step, ... while the window fits,
// plus a last window aligned to the chromosome end when the steps do not land on it. A
// chromosome shorter than `width` gets one window [0, width), padded with N. Throws
// InputError naming --chroms for an unknown chromosome, and --tile for width or step < 1.
RegionList tile_regions(const Genome& genome, int64_t width, int64_t step,
                        const std::vector<std::string>& chroms);

}  // namespace seqattr
