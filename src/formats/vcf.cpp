#include "formats/vcf.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <string_view>

#include "common/errors.h"
#include "formats/hts_lines.h"

namespace seqattr {
namespace {


std::vector<std::string_view> split(std::string_view text, char separator) {
  std::vector<std::string_view> parts;
  size_t begin = 0;
  while (true) {
    const size_t end = text.find(separator, begin);
    parts.push_back(text.substr(begin, end == std::string_view::npos ? end : end - begin));
    if (end == std::string_view::npos) return parts;
    begin = end + 1;
  }
}

std::string upper(std::string_view text) {
  std::string out(text);
  for (auto& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

bool is_dna(const std::string& allele) {
  return !allele.empty() && allele.find_first_not_of("ACGTN") == std::string::npos;
}

// Symbolic alleles (<DEL>, <*>), breakends (A[chr2:5[), the spanning deletion '*' and the
// missing '.' name no sequence: they are skipped, not scored.
bool is_symbolic(const std::string& allele) {
  return allele == "*" || allele == "." ||
         allele.find_first_of("<>[]") != std::string::npos;
}

// What the genome says is at REF's bases, compared as Genome::fetch writes bases.
void check_ref(const Genome& genome, const Variant& v, const std::string& chrom,
               const FileLine& line) {
  const int64_t p = v.pos - 1;
  const std::string at = genome.fetch(v.chrom, p, p + static_cast<int64_t>(v.ref.size()));
  std::string ref = v.ref;
  for (auto& c : ref) {
    if (c != 'A' && c != 'C' && c != 'G' && c != 'T') c = 'N';
  }
  if (ref != at) {
    throw line.error("REF '" + v.ref + "' disagrees with the genome, which has '" + at + "' at " +
                     chrom + ":" + std::to_string(v.pos) + " (is this VCF of another assembly?)");
  }
}

}  // namespace

VariantList read_vcf(const std::string& path, const Genome& genome) {
  TextLines lines("--vcf", path);
  VariantList list;
  list.chroms = genome.chroms();
  std::string_view text;
  while (lines.next(text)) {
    if (text.empty() || text.front() == '#') continue;
    const FileLine line("--vcf", path, lines.number());
    const auto columns = split(text, '\t');
    if (columns.size() < 5) {
      throw line.error("expected at least 5 tab-separated columns (CHROM POS ID REF ALT), got " +
                       std::to_string(columns.size()));
    }
    Variant v;
    const std::string chrom(columns[0]);
    const int64_t index = genome.find(chrom);
    if (index < 0) throw line.error("unknown chromosome '" + chrom + "' (not in --genome)");
    v.chrom = static_cast<int32_t>(index);
    const auto pos = columns[1];
    const auto parsed = std::from_chars(pos.data(), pos.data() + pos.size(), v.pos);
    if (parsed.ec != std::errc() || parsed.ptr != pos.data() + pos.size() || v.pos < 1) {
      throw line.error("POS '" + std::string(pos) + "' is not a positive integer");
    }
    v.id = columns[2].empty() ? "." : std::string(columns[2]);
    v.ref = upper(columns[3]);
    if (!is_dna(v.ref)) throw line.error("REF '" + std::string(columns[3]) + "' is not DNA (A, C, G, T, N)");
    check_ref(genome, v, chrom, line);
    for (const auto allele : split(columns[4], ',')) {
      Variant alt = v;
      alt.alt = upper(allele);
      if (is_symbolic(alt.alt)) {
        ++list.skipped[std::string(allele)];
        continue;
      }
      if (!is_dna(alt.alt)) {
        throw line.error("ALT '" + std::string(allele) + "' is not DNA (A, C, G, T, N), nor a "
                         "symbolic allele");
      }
      list.variants.push_back(std::move(alt));
    }
  }
  if (list.variants.empty()) {
    throw InputError("--vcf '" + path + "': no variants with sequence alleles" +
                     std::string(list.skipped.empty() ? "" : " (only symbolic or missing ones)"));
  }
  return list;
}

VariantWindows variant_windows(const Genome& genome, const Variant& v, int64_t length) {
  const int64_t p = v.pos - 1;
  VariantWindows w;
  w.start = p - length / 2;
  w.ref = genome.fetch(v.chrom, w.start, w.start + length);
  std::string alt = w.ref.substr(0, static_cast<size_t>(length / 2));  // genome[s, p)
  alt += v.alt;
  const int64_t after = p + static_cast<int64_t>(v.ref.size());
  const int64_t missing = length - static_cast<int64_t>(alt.size());
  if (missing > 0) alt += genome.fetch(v.chrom, after, after + missing);
  alt.resize(static_cast<size_t>(length));
  // ALT's N stays N, as the genome's other letters do in fetch.
  w.alt = std::move(alt);
  return w;
}

}  // namespace seqattr
