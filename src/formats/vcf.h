#pragma once
// Variants from a VCF (plain or bgzipped), and the windows a model reads around them.
// Torch-free.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "formats/genome.h"

namespace seqattr {

// One ALT allele of a record: a multi-allelic record gives one Variant per ALT, in order.
struct Variant {
  int32_t chrom = 0;  // index into Genome::chroms()
  int64_t pos = 0;    // VCF POS, 1-based: the first base of REF is at 0-based pos - 1
  std::string id;     // VCF ID ("." when none)
  std::string ref, alt;  // upper-case
};

struct VariantList {
  std::vector<std::string> chroms;  // the genome's (Variant::chrom indexes it)
  std::vector<Variant> variants;
  // ALT alleles skipped, by their text: symbolic (<DEL>, breakends), '*' and '.'.
  std::map<std::string, int64_t> skipped;
};

// Reads every record of `path`. Throws InputError naming --vcf, the file and the line for a
// malformed line (fewer than 5 columns, a POS that is not a positive integer, a REF or ALT
// that is not DNA), an unknown chromosome, and a REF that disagrees with the genome
// (case-insensitive; genome letters other than ACGT compare as N); and for a file without
// variants.
VariantList read_vcf(const std::string& path, const Genome& genome);

// The windows of `length` bases a model reads for `v`. With p = pos - 1 and
// s = p - floor(length / 2): ref = genome[s, s + length); alt = genome[s, p) + ALT +
// genome[p + len(REF), ...), cut or extended from the genome to `length` (the left flank is
// fixed: a deletion pulls bases in from the right, an insertion pushes them out). Bases past
// a chromosome end are N.
struct VariantWindows {
  int64_t start = 0;  // s
  std::string ref, alt;
};
VariantWindows variant_windows(const Genome& genome, const Variant& v, int64_t length);

}  // namespace seqattr
