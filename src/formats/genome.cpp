#include "formats/genome.h"

#include <htslib/faidx.h>
#include <htslib/hts.h>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <unordered_map>

#include "common/errors.h"

namespace seqattr {
namespace {

// htslib's own log lines (e.g. "[E::fai_load3_core] ...") would precede, and repeat less
// clearly, the one-line error seqattr prints for the same failure.
const bool g_htslib_quiet = [] {
  hts_set_log_level(HTS_LOG_OFF);
  return true;
}();

std::string genome_error(const std::string& path, const std::string& what) {
  return "--genome '" + path + "': " + what;
}

void require_regular_file(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    throw InputError(genome_error(path, "no such file"));
  }
  if (std::filesystem::is_directory(path, ec)) {
    throw InputError(genome_error(path, "is a directory, not a FASTA file"));
  }
}

// faidx can index plain or bgzip-compressed FASTA but not plain gzip, which it rejects with
// a log line only; catch that case first so the user learns what to do about it.
void require_not_plain_gzip(const std::string& path) {
  htsFile* file = hts_open(path.c_str(), "r");
  if (!file) throw InputError(genome_error(path, "cannot open the file"));
  const htsCompression compression = hts_get_format(file)->compression;
  hts_close(file);
  if (compression == gzip) {
    throw InputError(genome_error(
        path, "is compressed with plain gzip, which cannot be indexed; recompress it with "
              "bgzip (`gunzip -c FILE | bgzip > FILE.bgz`, from htslib/tabix) or decompress it"));
  }
}

faidx_t* load_or_build_index(const std::string& path) {
  const std::string fai = path + ".fai";
  const bool had_index = std::filesystem::exists(fai);
  faidx_t* index = fai_load3(path.c_str(), nullptr, nullptr, FAI_CREATE);
  if (index) return index;
  if (had_index) {
    throw InputError(genome_error(
        path, "cannot load its index '" + fai + "' (and .gzi if bgzipped); delete a stale or "
              "damaged index to have it rebuilt"));
  }
  throw InputError(genome_error(
      path, "the index '" + fai + "' could not be created there; the directory must be "
            "writable (or index the file elsewhere with `samtools faidx`), and the file must be "
            "a FASTA whose records have lines of equal width"));
}

// htslib 1.16 reports chromosome lengths only as int (faidx_seq_len), too small for
// chromosomes of 2^31 bases or more; the .fai it has just loaded holds them exactly
// (name TAB length TAB ...). Assumes the .fai is `path`.fai, as fai_load3 with a null
// index name makes it.
std::vector<int64_t> read_fai_lengths(const std::string& path,
                                      const std::vector<std::string>& chroms) {
  const std::string fai = path + ".fai";
  std::ifstream in(fai);
  std::unordered_map<std::string, int64_t> lengths;
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string name;
    int64_t length = -1;
    if (std::getline(fields, name, '\t') && fields >> length) lengths.emplace(name, length);
  }
  std::vector<int64_t> result;
  for (const auto& chrom : chroms) {
    const auto it = lengths.find(chrom);
    if (it == lengths.end() || it->second < 0) {
      throw InputError(genome_error(path, "cannot read the length of '" + chrom + "' from '" +
                                              fai + "'"));
    }
    result.push_back(it->second);
  }
  return result;
}

// A, C, G, T in either case (soft-masked bases are lower case) map to upper case; every
// other byte (IUPAC codes, N, anything else) to N.
const std::array<char, 256>& acgtn_table() {
  static const std::array<char, 256> table = [] {
    std::array<char, 256> t;
    t.fill('N');
    for (const char base : {'A', 'C', 'G', 'T'}) {
      t[static_cast<unsigned char>(base)] = base;
      t[static_cast<unsigned char>(base - 'A' + 'a')] = base;
    }
    return t;
  }();
  return table;
}

}  // namespace

Genome Genome::open(const std::string& path) {
  require_regular_file(path);
  require_not_plain_gzip(path);
  Genome genome;
  genome.path_ = path;
  genome.index_.reset(load_or_build_index(path), fai_destroy);
  const int count = faidx_nseq(genome.index_.get());
  if (count <= 0) throw InputError(genome_error(path, "holds no sequences"));
  for (int i = 0; i < count; ++i) genome.chroms_.emplace_back(faidx_iseq(genome.index_.get(), i));
  genome.lengths_ = read_fai_lengths(path, genome.chroms_);
  return genome;
}

int64_t Genome::find(const std::string& chrom) const {
  const auto it = std::find(chroms_.begin(), chroms_.end(), chrom);
  return it == chroms_.end() ? -1 : static_cast<int64_t>(it - chroms_.begin());
}

// Not safe to call concurrently on Genomes that share an index: faidx reads through one
// file handle.
std::string Genome::fetch(int64_t chrom, int64_t start, int64_t end) const {
  std::string bases(static_cast<size_t>(end - start), 'N');
  const int64_t from = std::max<int64_t>(start, 0);
  const int64_t to = std::min(end, lengths_.at(static_cast<size_t>(chrom)));
  if (from >= to) return bases;

  const std::string& name = chroms_[static_cast<size_t>(chrom)];
  hts_pos_t got = 0;
  // faidx takes an inclusive end.
  std::unique_ptr<char, decltype(&free)> sequence(
      faidx_fetch_seq64(index_.get(), name.c_str(), from, to - 1, &got), &free);
  if (!sequence || got != to - from) {
    throw InputError(genome_error(path_, "cannot read " + name + ":" + std::to_string(from) +
                                             "-" + std::to_string(to) +
                                             "; is its .fai (or .gzi) index stale?"));
  }
  const auto& table = acgtn_table();
  for (int64_t i = 0; i < got; ++i) {
    bases[static_cast<size_t>(from - start + i)] =
        table[static_cast<unsigned char>(sequence.get()[i])];
  }
  return bases;
}

}  // namespace seqattr
