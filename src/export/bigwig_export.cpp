#include "export/bigwig_export.h"

#include <sys/stat.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <limits>
#include <sstream>
#include <tuple>
#include <unordered_map>


// Debian's libbigwig-dev does not pull in curl's headers. Without curl, bigWig.h declares
// CURL and CURLcode itself; the only curl type in the API is a callback pointer (passed as
// null) and a pointer inside URL_t, so the structs we use keep their layout.
#ifndef NOCURL
#define NOCURL
#endif
#include <bigWig.h>

#include "common/atomic_output.h"
#include "common/errors.h"
#include "formats/genome.h"
#include "formats/hdf5_tensor.h"

namespace seqattr {
namespace {

// HDF5 chunk cache per dataset, and the rows read at once: together they bound memory.
constexpr size_t kChunkCacheBytes = size_t{64} << 20;
constexpr size_t kBlockBytes = size_t{32} << 20;
// Metadata (chromosome names, starts, ends) is read this many rows at a time.
constexpr hsize_t kMetadataRows = 1 << 16;

bool file_exists(const std::string& path) {
  struct stat info {};
  return stat(path.c_str(), &info) == 0 && S_ISREG(info.st_mode);
}

// --- chromosome sizes ------------------------------------------------------------------

ChromSizes parse_sizes(std::istream& in, const std::string& what) {
  ChromSizes sizes;
  std::unordered_map<std::string, size_t> seen;
  std::string line;
  for (int64_t number = 1; std::getline(in, line); ++number) {
    std::istringstream fields(line);
    std::string name, length_text;
    if (!(fields >> name) || name[0] == '#') continue;
    const std::string where = what + " line " + std::to_string(number);
    if (!(fields >> length_text)) throw InputError(where + ": expected 'name length'");
    size_t used = 0;
    int64_t length = 0;
    try {
      length = std::stoll(length_text, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used != length_text.size() || length < 1) {
      throw InputError(where + ": length '" + length_text + "' is not a positive integer");
    }
    if (!seen.emplace(name, sizes.names.size()).second) {
      throw InputError(where + ": chromosome '" + name + "' is listed twice");
    }
    sizes.names.push_back(name);
    sizes.lengths.push_back(length);
  }
  if (sizes.names.empty()) throw InputError(what + ": no chromosomes");
  return sizes;
}

// --- the input file --------------------------------------------------------------------

struct Input {
  h5::Handle file;
  h5::Handle attributions;  // (N, 4, L), float16 or float32 in the file
  int64_t rows = 0;
  int64_t length = 0;
};

Input open_input(const std::string& path) {
  const std::string what = "input file '" + path + "'";
  if (!file_exists(path)) throw InputError(what + ": no such file");
  Input in;
  try {
    in.file = h5::open_file_for_reading(path);
  } catch (const std::runtime_error&) {
    throw InputError(what + ": not an HDF5 file");
  }
  if (!h5::exists(in.file.get(), "attributions")) {
    throw InputError(what + ": no /attributions dataset (not a seqattr output)");
  }
  in.attributions = h5::open_dataset_cached(in.file.get(), "attributions", kChunkCacheBytes);
  const auto shape = h5::dataset_shape(in.attributions.get());
  if (shape.size() != 3 || shape[1] != 4 || h5::type_class(in.attributions.get()) != H5T_FLOAT) {
    throw InputError(what + ": /attributions is not an (N, 4, L) float array");
  }
  in.rows = static_cast<int64_t>(shape[0]);
  in.length = static_cast<int64_t>(shape[2]);
  if (!h5::exists(in.file.get(), "regions")) {
    throw InputError(what + ": has no /regions, so it was not made from --bed or --tile "
                     "(genomic windows) and has no coordinates for a track");
  }
  return in;
}

// A window of the input: row `row` of the arrays covers [start, start + L) of `chrom`.
struct Window {
  int64_t start;
  int64_t row;
  int32_t chrom;  // index into ChromSizes
};

h5::Handle open_region_column(const Input& in, const std::string& path, const std::string& name) {
  const std::string what = "input file '" + path + "'";
  if (!h5::exists(in.file.get(), "regions/" + name)) {
    throw InputError(what + ": /regions has no '" + name + "' dataset");
  }
  auto column = h5::open_dataset(in.file.get(), "regions/" + name);
  const auto shape = h5::dataset_shape(column.get());
  if (shape.size() != 1 || static_cast<int64_t>(shape[0]) != in.rows) {
    throw InputError(what + ": /regions/" + name + " does not have one entry per row (" +
                     std::to_string(in.rows) + ")");
  }
  return column;
}

// Reads /regions/{chrom,start,end}, checking every window is L wide and on a known
// chromosome.
std::vector<Window> read_windows(const Input& in, const std::string& path,
                                 const ChromSizes& sizes, const std::string& sizes_source) {
  const auto chrom = open_region_column(in, path, "chrom");
  const auto start = open_region_column(in, path, "start");
  const auto end = open_region_column(in, path, "end");
  std::unordered_map<std::string, int32_t> index;
  for (size_t i = 0; i < sizes.names.size(); ++i) index.emplace(sizes.names[i], i);

  std::vector<Window> windows;
  windows.reserve(in.rows);
  for (hsize_t first = 0; first < static_cast<hsize_t>(in.rows); first += kMetadataRows) {
    const hsize_t count = std::min<hsize_t>(kMetadataRows, in.rows - first);
    const auto names = h5::read_strings(chrom.get(), first, count);
    const auto starts = h5::read_rows(start.get(), first, count, torch::kInt64);
    const auto ends = h5::read_rows(end.get(), first, count, torch::kInt64);
    const int64_t* s = starts.data_ptr<int64_t>();
    const int64_t* e = ends.data_ptr<int64_t>();
    for (hsize_t i = 0; i < count; ++i) {
      const int64_t row = static_cast<int64_t>(first + i);
      const auto found = index.find(names[i]);
      if (found == index.end()) {
        throw InputError("input file '" + path + "': region " + std::to_string(row) +
                         " is on chromosome '" + names[i] + "', which " + sizes_source +
                         " does not list");
      }
      if (e[i] - s[i] != in.length) {
        throw InputError("input file '" + path + "': region " + std::to_string(row) + " (" +
                         names[i] + ":" + std::to_string(s[i]) + "-" + std::to_string(e[i]) +
                         ") is not " + std::to_string(in.length) + " bp wide like the arrays");
      }
      windows.push_back({s[i], row, found->second});
    }
  }
  // Genomic order; among equal starts, file order (the tie rule relies on it).
  std::sort(windows.begin(), windows.end(), [](const Window& a, const Window& b) {
    return std::tie(a.chrom, a.start, a.row) < std::tie(b.chrom, b.start, b.row);
  });
  return windows;
}

// --- ownership: the midpoint rule -----------------------------------------------------

// The bases [lo, hi) of its chromosome that the window at `start` (row `row`) owns.
struct Piece {
  int64_t row, start, lo, hi;
};

int64_t floor_half(int64_t v) { return v >= 0 ? v / 2 : -((-v + 1) / 2); }

// For windows of width `length` starting at a < b: the first base strictly nearer b's
// centre than a's. Base x sits at x + 0.5 and a window's centre at start + length / 2, so
// x is nearer b iff 2x + 1 - length > a + b. Bases before it (ties included) go to a.
int64_t boundary(int64_t a, int64_t b, int64_t length) {
  return floor_half(a + b + length - 1) + 1;
}

// `windows` are one chromosome's, sorted by (start, row). With equal widths, the nearest
// centre to any base is that of one of the two windows whose starts bracket it, so each
// window owns the bases between its boundaries with its neighbours, clipped to itself and
// to the chromosome. Windows with the start of an earlier one own nothing (tie rule).
std::vector<Piece> owned_pieces(const Window* begin, const Window* end, int64_t length,
                                int64_t chrom_length) {
  std::vector<const Window*> distinct;
  for (const Window* w = begin; w != end; ++w) {
    if (distinct.empty() || distinct.back()->start != w->start) distinct.push_back(w);
  }
  std::vector<Piece> pieces;
  for (size_t i = 0; i < distinct.size(); ++i) {
    const int64_t start = distinct[i]->start;
    int64_t lo = std::max<int64_t>(start, 0);
    int64_t hi = std::min(start + length, chrom_length);
    if (i > 0) lo = std::max(lo, boundary(distinct[i - 1]->start, start, length));
    if (i + 1 < distinct.size()) hi = std::min(hi, boundary(start, distinct[i + 1]->start, length));
    if (lo < hi) pieces.push_back({distinct[i]->row, start, lo, hi});
  }
  return pieces;
}

// --- streaming the track ---------------------------------------------------------------

// Called with consecutive runs of written values, in (chromosome, position) order.
using RunVisitor =
    std::function<void(int32_t chrom, int64_t start, const float* values, int64_t count)>;

// Reads the rows of `pieces` (a run of one chromosome's pieces) and emits their owned
// bases, summed over the 4 channels.
void emit_pieces(const Input& in, int32_t chrom, const Piece* begin, const Piece* end,
                 const RunVisitor& visit) {
  std::vector<hsize_t> rows;
  for (const Piece* p = begin; p != end; ++p) rows.push_back(p->row);
  std::sort(rows.begin(), rows.end());
  const auto block =
      h5::read_row_set(in.attributions.get(), rows, h5::float_read_type(in.attributions.get()))
          .to(torch::kFloat32);
  const float* data = block.data_ptr<float>();
  const int64_t L = in.length;
  std::vector<float> values;
  for (const Piece* p = begin; p != end; ++p) {
    const auto at = std::lower_bound(rows.begin(), rows.end(), static_cast<hsize_t>(p->row));
    const float* row = data + (at - rows.begin()) * 4 * L;
    values.resize(p->hi - p->lo);
    for (int64_t x = p->lo; x < p->hi; ++x) {
      const int64_t j = x - p->start;
      values[x - p->lo] = row[j] + row[L + j] + row[2 * L + j] + row[3 * L + j];
    }
    visit(chrom, p->lo, values.data(), p->hi - p->lo);
  }
}

// Calls visit on the finite stretches of a run: a NaN or infinite attribution (a model
// that overflowed) has no entry in the track rather than a value no viewer can draw.
// Returns how many values were left out.
int64_t visit_finite(const RunVisitor& visit, int32_t chrom, int64_t start, const float* values,
                     int64_t count) {
  int64_t skipped = 0, begin = 0;
  for (int64_t i = 0; i <= count; ++i) {
    if (i < count && std::isfinite(values[i])) continue;
    if (i > begin) visit(chrom, start + begin, values + begin, i - begin);
    skipped += i < count;
    begin = i + 1;
  }
  return skipped;
}

// Calls visit(chrom, pieces) for each chromosome that has windows, in index order.
template <typename Visit>
void for_each_chromosome(const std::vector<Window>& windows, const ChromSizes& sizes,
                         int64_t length, Visit visit) {
  for (auto group = windows.begin(); group != windows.end();) {
    const int32_t chrom = group->chrom;
    const auto group_end = std::find_if(group, windows.end(),
                                        [chrom](const Window& w) { return w.chrom != chrom; });
    visit(chrom, owned_pieces(&*group, &*group + (group_end - group), length,
                              sizes.lengths[chrom]));
    group = group_end;
  }
}

// The number of bases the track will have (from the metadata alone).
int64_t owned_bases(const std::vector<Window>& windows, const ChromSizes& sizes, int64_t length) {
  int64_t bases = 0;
  for_each_chromosome(windows, sizes, length, [&](int32_t, const std::vector<Piece>& pieces) {
    for (const Piece& p : pieces) bases += p.hi - p.lo;
  });
  return bases;
}

void for_each_run(const Input& in, const std::vector<Window>& windows, const ChromSizes& sizes,
                  const RunVisitor& visit) {
  const size_t rows_per_block =
      std::max<size_t>(1, kBlockBytes / (4 * sizeof(float) * std::max<int64_t>(1, in.length)));
  for_each_chromosome(windows, sizes, in.length,
                      [&](int32_t chrom, const std::vector<Piece>& pieces) {
                        for (size_t first = 0; first < pieces.size(); first += rows_per_block) {
                          const size_t last = std::min(pieces.size(), first + rows_per_block);
                          emit_pieces(in, chrom, pieces.data() + first, pieces.data() + last,
                                      visit);
                        }
                      });
}

// --- the bigWig ------------------------------------------------------------------------

class BigWigWriter {
 public:
  BigWigWriter(const std::string& path, const std::string& final_path, const ChromSizes& sizes,
               int32_t zoom_levels)
      : sizes_(sizes) {
    // bwInit sets up curl for remote reads; it is required once before any bwOpen.
    static const bool initialised = bwInit(1 << 17) == 0;
    if (!initialised) throw std::runtime_error("libBigWig: cannot initialise");
    fp_ = bwOpen(path.c_str(), nullptr, "w");
    if (!fp_) throw InputError("--output '" + final_path + "': cannot write a bigWig there");
    if (bwCreateHdr(fp_, zoom_levels) != 0) {
      throw std::runtime_error("libBigWig: cannot make a header");
    }
    std::vector<const char*> names;
    std::vector<uint32_t> lengths;
    for (size_t i = 0; i < sizes.names.size(); ++i) {
      names.push_back(sizes.names[i].c_str());
      lengths.push_back(static_cast<uint32_t>(sizes.lengths[i]));
    }
    fp_->cl = bwCreateChromList(names.data(), lengths.data(), static_cast<int64_t>(names.size()));
    if (!fp_->cl || bwWriteHdr(fp_) != 0) {
      throw std::runtime_error("libBigWig: cannot write the header of '" + final_path + "'");
    }
  }
  ~BigWigWriter() { close(); }
  BigWigWriter(const BigWigWriter&) = delete;
  BigWigWriter& operator=(const BigWigWriter&) = delete;

  // Runs must come in (chromosome index, position) order, as the bigWig index requires.
  // A run that continues the previous one extends its fixed-step block.
  void add(int32_t chrom, int64_t start, const float* values, int64_t count) {
    const bool continues = chrom == last_chrom_ && start == last_end_;
    const int status =
        continues ? bwAppendIntervalSpanSteps(fp_, values, static_cast<uint32_t>(count))
                  : bwAddIntervalSpanSteps(fp_, sizes_.names[chrom].c_str(),
                                           static_cast<uint32_t>(start), 1, 1, values,
                                           static_cast<uint32_t>(count));
    if (status != 0) throw std::runtime_error("libBigWig: cannot add values");
    last_chrom_ = chrom;
    last_end_ = start + count;
  }

  // Writes the index and zoom levels. (libBigWig reports no error here.) libBigWig builds
  // the zoom levels here by reading back each chromosome's entries whole (12 bytes per
  // written base, more while its array grows) and keeps every zoom record (about 4 bytes
  // per written base over the levels) until done.
  void close() {
    if (fp_) bwClose(fp_);
    fp_ = nullptr;
  }

 private:
  const ChromSizes& sizes_;
  bigWigFile_t* fp_ = nullptr;
  int32_t last_chrom_ = -1;
  int64_t last_end_ = -1;
};

void check_bigwig_limits(const ChromSizes& sizes, const std::string& source) {
  for (size_t i = 0; i < sizes.names.size(); ++i) {
    if (sizes.lengths[i] > std::numeric_limits<uint32_t>::max()) {
      throw InputError(source + ": chromosome '" + sizes.names[i] +
                       "' is longer than a bigWig allows (2^32 - 1)");
    }
  }
}

// --- statistics ------------------------------------------------------------------------

const std::array<double, 7> kProbabilities = {0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99};

// An unsigned key with the order of the floats (NaN aside): flip all bits of negatives,
// set the sign bit of the rest.
uint32_t order_key(float value) {
  uint32_t bits;
  std::memcpy(&bits, &value, sizeof bits);
  return (bits & 0x80000000u) ? ~bits : (bits | 0x80000000u);
}

float from_order_key(uint32_t key) {
  const uint32_t bits = (key & 0x80000000u) ? (key & 0x7fffffffu) : ~key;
  float value;
  std::memcpy(&value, &bits, sizeof value);
  return value;
}

// Exact order statistics in two passes over the same values: the first counts the high 16
// bits of each key; the second, for the few high-bit bins holding a wanted rank, counts
// the low 16 bits. Memory: 65536 counters plus 65536 per wanted bin (at most 14).
class StatsCollector {
 public:
  StatsCollector() : high_(1 << 16, 0) {}

  void first_pass(const float* values, int64_t count) {
    for (int64_t i = 0; i < count; ++i) {
      const float v = values[i];
      if (count_ == 0 || v < min_) min_ = v;
      if (count_ == 0 || v > max_) max_ = v;
      sum_ += v;
      ++count_;
      ++high_[order_key(v) >> 16];
    }
  }

  // Between the passes: which ranks are wanted, and in which high-bit bins they lie.
  void plan_second_pass() {
    bin_slot_.assign(1 << 16, -1);
    if (count_ == 0) return;
    std::vector<uint64_t> wanted;
    for (double p : kProbabilities) {
      const double h = static_cast<double>(count_ - 1) * p;
      const auto k = static_cast<uint64_t>(std::floor(h));
      for (uint64_t rank : {k, std::min<uint64_t>(k + 1, count_ - 1)}) wanted.push_back(rank);
    }
    for (uint64_t rank : wanted) {
      const uint32_t bin = bin_of_rank(rank);
      if (bin_slot_[bin] < 0) {
        bin_slot_[bin] = static_cast<int32_t>(low_.size());
        low_.emplace_back(1 << 16, 0);
      }
    }
  }

  void second_pass(const float* values, int64_t count) {
    for (int64_t i = 0; i < count; ++i) {
      const uint32_t key = order_key(values[i]);
      const int32_t slot = bin_slot_[key >> 16];
      if (slot >= 0) ++low_[slot][key & 0xffffu];
    }
  }

  TrackStats result() const {
    TrackStats stats;
    stats.count = static_cast<int64_t>(count_);
    stats.probabilities.assign(kProbabilities.begin(), kProbabilities.end());
    const double nan = std::numeric_limits<double>::quiet_NaN();
    if (count_ == 0) {
      stats.min = stats.max = stats.mean = nan;
      stats.quantiles.assign(kProbabilities.size(), nan);
      return stats;
    }
    stats.min = min_;
    stats.max = max_;
    stats.mean = static_cast<double>(sum_ / count_);
    for (double p : kProbabilities) {
      const double h = static_cast<double>(count_ - 1) * p;
      const auto k = static_cast<uint64_t>(std::floor(h));
      const double a = value_of_rank(k);
      const double b = value_of_rank(std::min<uint64_t>(k + 1, count_ - 1));
      stats.quantiles.push_back(lerp(a, b, h - std::floor(h)));
    }
    return stats;
  }

 private:
  // numpy's _lerp: exact at both ends.
  static double lerp(double a, double b, double t) {
    return t < 0.5 ? a + (b - a) * t : b - (b - a) * (1 - t);
  }

  uint32_t bin_of_rank(uint64_t rank) const {
    uint64_t below = 0;
    for (uint32_t bin = 0;; ++bin) {
      if (rank < below + high_[bin]) return bin;
      below += high_[bin];
    }
  }

  double value_of_rank(uint64_t rank) const {
    const uint32_t bin = bin_of_rank(rank);
    uint64_t below = 0;
    for (uint32_t b = 0; b < bin; ++b) below += high_[b];
    const auto& low = low_[bin_slot_[bin]];
    for (uint32_t l = 0;; ++l) {
      if (rank < below + low[l]) return from_order_key((bin << 16) | l);
      below += low[l];
    }
  }

  std::vector<uint64_t> high_;
  std::vector<int32_t> bin_slot_;
  std::vector<std::vector<uint64_t>> low_;
  uint64_t count_ = 0;
  float min_ = 0, max_ = 0;
  long double sum_ = 0;
};

std::string format_value(double v) {
  char text[64];
  std::snprintf(text, sizeof text, "%.9g", v);
  return text;
}

}  // namespace

ChromSizes read_chrom_sizes(const std::string& path) {
  const std::string what = "--chrom-sizes '" + path + "'";
  if (!file_exists(path)) throw InputError(what + ": no such file");
  std::ifstream in(path);
  if (!in) throw InputError(what + ": cannot read");
  return parse_sizes(in, what);
}

ChromSizes genome_chrom_sizes(const std::string& fasta_path) {
  const Genome genome = Genome::open(fasta_path);
  return ChromSizes{genome.chroms(), genome.lengths()};
}

std::string format_stats(const TrackStats& stats) {
  std::string out = "bases\t" + std::to_string(stats.count) + "\n";
  out += "min\t" + format_value(stats.min) + "\n";
  out += "max\t" + format_value(stats.max) + "\n";
  out += "mean\t" + format_value(stats.mean) + "\n";
  for (size_t i = 0; i < stats.probabilities.size(); ++i) {
    const int percent = static_cast<int>(std::lround(stats.probabilities[i] * 100));
    out += "q" + std::to_string(percent) + "\t" + format_value(stats.quantiles[i]) + "\n";
  }
  return out;
}

BigWigExportSummary export_bigwig(const BigWigExportOptions& options) {
  check_bigwig_limits(options.chrom_sizes, options.chrom_sizes_source);
  const Input in = open_input(options.input);
  const auto windows =
      read_windows(in, options.input, options.chrom_sizes, options.chrom_sizes_source);

  // libBigWig cannot finish a file without entries (it stops before the index).
  if (owned_bases(windows, options.chrom_sizes, in.length) == 0) {
    throw InputError("input file '" + options.input + "': no region has a base within the "
                     "chromosomes of " + options.chrom_sizes_source + ": the track would be empty");
  }

  BigWigExportSummary summary;
  summary.regions = in.rows;
  const Window& first = windows.front();
  summary.first_locus = options.chrom_sizes.names[static_cast<size_t>(first.chrom)] + ":" +
                        std::to_string(first.start + 1) + "-" + std::to_string(first.start + in.length);
  StatsCollector stats;
  AtomicOutput output(options.output, {{"input", options.input}});
  {
    BigWigWriter writer(output.temp_path(), options.output, options.chrom_sizes,
                        options.zoom_levels);
    int32_t last_chrom = -1;
    const RunVisitor write = [&](int32_t chrom, int64_t start, const float* values, int64_t count) {
      writer.add(chrom, start, values, count);
      if (options.stats) stats.first_pass(values, count);
      summary.bases += count;
      if (chrom != last_chrom) ++summary.chromosomes;
      last_chrom = chrom;
    };
    for_each_run(in, windows, options.chrom_sizes,
                 [&](int32_t chrom, int64_t start, const float* values, int64_t count) {
                   summary.non_finite += visit_finite(write, chrom, start, values, count);
                 });
    if (summary.bases == 0) {
      throw InputError("input file '" + options.input + "': every base's attribution is NaN or "
                       "infinite; the track would be empty");
    }
    writer.close();
  }
  if (options.stats) {
    stats.plan_second_pass();
    const RunVisitor second = [&](int32_t, int64_t, const float* values, int64_t count) {
      stats.second_pass(values, count);
    };
    for_each_run(in, windows, options.chrom_sizes,
                 [&](int32_t chrom, int64_t start, const float* values, int64_t count) {
                   visit_finite(second, chrom, start, values, count);
                 });
    summary.stats = stats.result();
  }
  output.commit();
  return summary;
}

}  // namespace seqattr
