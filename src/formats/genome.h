#pragma once
// An indexed reference genome (plain or bgzipped FASTA), read with htslib's faidx.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

struct faidx_t;

namespace seqattr {

class Genome {
 public:
  // Opens `path`, creating its .fai (and .gzi for bgzip) with htslib when missing.
  // Throws InputError naming --genome when the file is missing, is plain gzip (not bgzip),
  // or the index cannot be built (e.g. the directory is not writable).
  static Genome open(const std::string& path);

  const std::string& path() const { return path_; }
  // Chromosome names in the order of the index, and their lengths.
  const std::vector<std::string>& chroms() const { return chroms_; }
  const std::vector<int64_t>& lengths() const { return lengths_; }
  // Index of `chrom` in chroms(), or -1.
  int64_t find(const std::string& chrom) const;

  // Bases [start, end) of chromosome `chrom` (an index into chroms()), upper-case, with
  // every letter other than A, C, G, T (IUPAC codes, N) as N. Positions outside the
  // chromosome are N, so any window can be fetched. Assumes start <= end.
  std::string fetch(int64_t chrom, int64_t start, int64_t end) const;

 private:
  std::string path_;
  std::shared_ptr<faidx_t> index_;
  std::vector<std::string> chroms_;
  std::vector<int64_t> lengths_;
};

}  // namespace seqattr
