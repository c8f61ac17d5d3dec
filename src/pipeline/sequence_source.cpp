#include "pipeline/sequence_source.h"

#include <charconv>
#include <sstream>

#include "common/errors.h"
#include "common/file_hash.h"
#include "common/log.h"
#include "formats/fasta.h"
#include "formats/genome.h"
#include "formats/one_hot.h"
#include "formats/regions.h"

namespace seqattr {
namespace {

// FASTA records are few enough to hold in memory (one string per record).
class FastaSource final : public SequenceSource {
 public:
  explicit FastaSource(const AttributeOptions& o)
      : path_(o.fasta), records_(read_fasta(o.fasta)), length_(common_length(records_, o.fasta)) {
    if (o.length > 0 && o.length != length_) {
      throw InputError("--length " + std::to_string(o.length) + ": the records of --fasta '" +
                       o.fasta + "' are " + std::to_string(length_) + " bp long");
    }
  }
  int64_t size() const override { return static_cast<int64_t>(records_.size()); }
  int64_t length() const override { return length_; }
  bool genomic() const override { return false; }

  SequenceRows read(int64_t first, int64_t count) const override {
    const std::vector<SequenceRecord> part(records_.begin() + first,
                                           records_.begin() + first + count);
    SequenceRows rows;
    for (const auto& r : part) rows.names.push_back(r.name);
    rows.one_hot = one_hot_encode(part, length_);
    return rows;
  }

  // A digest of the records as parsed, not of the file: the file is read once (it may be a
  // pipe), and its line width and compression do not change what is computed.
  nlohmann::json identity() const override {
    Sha256 hash;
    for (const auto& r : records_) {
      hash.update(r.name + "\n");
      hash.update(r.sequence + "\n");
    }
    return {{"fasta_records_sha256", hash.hex()}, {"sequences", size()}, {"length", length_}};
  }

 private:
  std::string path_;
  std::vector<SequenceRecord> records_;
  int64_t length_;
};

// Windows of an indexed genome, fetched when their part is read.
class GenomeSource final : public SequenceSource {
 public:
  GenomeSource(Genome genome, RegionList regions, nlohmann::json identity)
      : genome_(std::move(genome)), regions_(std::move(regions)), identity_(std::move(identity)) {
    const auto& first = regions_.regions.front();
    length_ = first.end - first.start;
  }
  int64_t size() const override { return regions_.size(); }
  int64_t length() const override { return length_; }
  bool genomic() const override { return true; }

  SequenceRows read(int64_t first, int64_t count) const override {
    SequenceRows rows;
    rows.start = torch::empty({count}, torch::kInt64);
    rows.end = torch::empty({count}, torch::kInt64);
    rows.summit = torch::empty({count}, torch::kInt64);
    std::vector<SequenceRecord> records;
    for (int64_t i = 0; i < count; ++i) {
      const Region& r = regions_.regions[first + i];
      TORCH_INTERNAL_ASSERT(r.end - r.start == length_);
      records.push_back({regions_.name(first + i), genome_.fetch(r.chrom, r.start, r.end)});
      rows.names.push_back(records.back().name);
      rows.chroms.push_back(regions_.chroms[r.chrom]);
      rows.start[i] = r.start;
      rows.end[i] = r.end;
      rows.summit[i] = r.summit;
    }
    rows.one_hot = one_hot_encode(records, length_);
    return rows;
  }

  nlohmann::json identity() const override { return identity_; }

 private:
  Genome genome_;
  RegionList regions_;
  nlohmann::json identity_;
  int64_t length_ = 0;
};

// Windows wider than any sequence model's input (the largest take ~0.5 Mb) are refused
// here, before anything is allocated for them.
constexpr int64_t kMaxTileBases = 100'000'000;

std::pair<int64_t, int64_t> parse_tile(const std::string& text) {
  const auto fail = [&](const std::string& why) {
    return InputError("--tile '" + text + "': " + why);
  };
  const auto colon = text.find(':');
  if (colon == std::string::npos) {
    throw fail("expected W:S, the window width and step in bases, e.g. 2114:1000");
  }
  const auto parse_part = [&](const std::string& part, const char* what) {
    int64_t value = 0;
    const auto [end, error] = std::from_chars(part.data(), part.data() + part.size(), value);
    if (part.empty() || error == std::errc::invalid_argument || end != part.data() + part.size()) {
      throw fail(std::string("the ") + what + " must be a whole number of bases, e.g. 2114:1000");
    }
    if (error == std::errc::result_out_of_range || value < 1 || value > kMaxTileBases) {
      throw fail(std::string("the ") + what + " must be between 1 and " +
                 std::to_string(kMaxTileBases) + " bases");
    }
    return value;
  };
  return {parse_part(text.substr(0, colon), "width"), parse_part(text.substr(colon + 1), "step")};
}

std::vector<std::string> split_commas(const std::string& text) {
  std::vector<std::string> parts;
  std::stringstream stream(text);
  std::string part;
  while (std::getline(stream, part, ',')) {
    if (!part.empty()) parts.push_back(part);
  }
  return parts;
}

// A digest of the windows as parsed (the BED is read once: it may be a pipe).
std::string regions_digest(const RegionList& regions) {
  Sha256 hash;
  for (int64_t i = 0; i < regions.size(); ++i) {
    const auto& r = regions.regions[i];
    hash.update(regions.chroms[r.chrom] + "\t" + std::to_string(r.start) + "\t" +
                std::to_string(r.end) + "\t" + std::to_string(r.summit) + "\t" +
                (regions.names.empty() ? std::string() : regions.names[i]) + "\n");
  }
  return hash.hex();
}

std::unique_ptr<SequenceSource> genome_source(const AttributeOptions& o) {
  auto genome = Genome::open(o.genome);
  nlohmann::json identity = {{"genome_index_sha256", sha256_of_file(o.genome + ".fai", "--genome")}};
  RegionList regions;
  if (!o.bed.empty()) {
    regions = read_bed_regions(o.bed, genome, o.length);
    identity["bed_regions_sha256"] = regions_digest(regions);
  } else {
    const auto [width, step] = parse_tile(o.tile);
    if (o.length > 0 && o.length != width) {
      throw InputError("--length " + std::to_string(o.length) + ": --tile " + o.tile +
                       " makes windows of " + std::to_string(width) + " bp");
    }
    regions = tile_regions(genome, width, step, split_commas(o.chroms));
  }
  if (regions.padded > 0) {
    log::warn(std::to_string(regions.padded) + " of " + std::to_string(regions.size()) +
              " windows run past a chromosome end; the missing bases are N");
  }
  identity["sequences"] = regions.size();
  return std::make_unique<GenomeSource>(std::move(genome), std::move(regions), identity);
}

}  // namespace

std::unique_ptr<SequenceSource> open_sequence_source(const AttributeOptions& o) {
  if (!o.fasta.empty()) return std::make_unique<FastaSource>(o);
  return genome_source(o);
}

}  // namespace seqattr
