#include "export/seqlet_export.h"

#include <algorithm>
#include <cstdio>
#include <deque>
#include <exception>
#include <fstream>
#include <mutex>
#include <optional>
#include <set>
#include <tuple>

#include "common/atomic_output.h"
#include "common/cores.h"
#include "common/errors.h"
#include "common/hdf5.h"
#include "export/motif_scanner.h"
#include "formats/dna_letters.h"
#include "formats/meme.h"

namespace seqattr {
namespace {

constexpr hsize_t kSeqletBlockRows = 256;
constexpr size_t kOverlapWindows = 16;

struct SeqletInput {
  h5::Handle file;
  h5::Handle attributions;
  int64_t rows = 0, length = 0;
  bool genomic = false;
};

SeqletInput open_seqlet_input(const SeqletExportOptions& o) {
  const std::string what = "input file '" + o.input + "'";
  SeqletInput in;
  try {
    in.file = h5::open_file_for_reading(o.input);
  } catch (const std::runtime_error&) {
    throw InputError(what + ": cannot open as HDF5");
  }
  if (!h5::exists(in.file.get(), o.attributions)) {
    throw InputError(what + ": no '" + o.attributions + "' dataset (--attributions; a seqattr "
                     "output of attribute holds /attributions)");
  }
  in.attributions = h5::open_dataset_cached(in.file.get(), o.attributions, 64 << 20);
  const auto shape = h5::dataset_shape(in.attributions.get());
  if (shape.size() != 3 || shape[1] != 4 || h5::type_class(in.attributions.get()) != H5T_FLOAT) {
    throw InputError(what + ": '" + o.attributions + "' is not an (N, 4, L) float array");
  }
  in.rows = static_cast<int64_t>(shape[0]);
  in.length = static_cast<int64_t>(shape[2]);
  in.genomic = h5::exists(in.file.get(), "regions");
  if (!in.genomic && !h5::exists(in.file.get(), "names")) {
    throw InputError(what + ": neither /regions nor /names: no coordinates for the seqlets");
  }
  if (!h5::exists(in.file.get(), "one_hot")) throw InputError(what + ": no /one_hot");
  return in;
}

void check_seqlet_options(const SeqletOptions& s) {
  if (!(s.threshold > 0 && s.threshold <= 1)) throw InputError("--threshold: must be in (0, 1]");
  if (s.min_length < 1) throw InputError("--min-length: must be >= 1");
  if (s.max_length < s.min_length) throw InputError("--max-length: must be >= --min-length");
  if (s.max_length > 200) throw InputError("--max-length: at most 200");
  if (s.flank < 0) throw InputError("--flank: must be >= 0");
}

// Per-position attributions of a block of rows, (rows, L) row-major, and their negation.
// The sum over the four channels is taken in float32 in channel order, as torch's sum(1).
struct SumBlock {
  int64_t first = 0, rows = 0, length = 0;
  std::vector<float> sums, negated;
  const float* row(int64_t r) const { return sums.data() + r * length; }
  const float* negated_row(int64_t r) const { return negated.data() + r * length; }
};

void read_sum_block(const SeqletInput& in, hsize_t first, hsize_t count, SumBlock& block) {
  const auto length = static_cast<size_t>(in.length);
  std::vector<float> channels(count * 4 * length);
  h5::read_rows_into(in.attributions.get(), first, count, H5T_NATIVE_FLOAT, channels.data());
  block.first = static_cast<int64_t>(first);
  block.rows = static_cast<int64_t>(count);
  block.length = in.length;
  block.sums.assign(count * length, 0.0f);
  block.negated.resize(count * length);
  for (size_t r = 0; r < count; ++r) {
    float* out = block.sums.data() + r * length;
    for (size_t c = 0; c < 4; ++c) {
      const float* x = channels.data() + (r * 4 + c) * length;
      for (size_t j = 0; j < length; ++j) out[j] += x[j];
    }
  }
  for (size_t i = 0; i < block.sums.size(); ++i) block.negated[i] = -block.sums[i];
}

// The blocks of the three passes (range, histogram, calls). The first pass reads and sums the
// file; its blocks are kept for the other two while they take at most kKeptSumBytes (most
// files: 256 MB holds 32 million positions), else the later passes read them again. Memory
// stays bounded whatever the number of windows; decompressing the file once instead of three
// times was a fifth of the time on a tiled genome.
constexpr size_t kKeptSumBytes = size_t{256} << 20;

class SumBlocks {
 public:
  explicit SumBlocks(const SeqletInput& in)
      : in_(in),
        keep_(sizeof(float) * 2 * static_cast<size_t>(in.rows) * static_cast<size_t>(in.length) <=
              kKeptSumBytes) {}

  template <typename Visit>
  void for_each(Visit visit) {
    if (read_once_ && keep_) {
      for (const auto& block : kept_) visit(block);
      return;
    }
    SumBlock block;
    for (hsize_t first = 0; first < static_cast<hsize_t>(in_.rows); first += kSeqletBlockRows) {
      read_sum_block(in_, first, std::min<hsize_t>(kSeqletBlockRows, static_cast<hsize_t>(in_.rows) - first),
                     block);
      visit(static_cast<const SumBlock&>(block));
      if (keep_) kept_.push_back(block);
    }
    read_once_ = true;
  }

 private:
  const SeqletInput& in_;
  const bool keep_;  // the whole file's sums fit kKeptSumBytes
  std::vector<SumBlock> kept_;
  bool read_once_ = false;
};

// The first exception thrown by any of the calls run through it, for loops (OpenMP's) that an
// exception may not leave.
class FirstError {
 public:
  template <typename F>
  void run(F f) {
    try {
      f();
    } catch (...) {
      const std::lock_guard<std::mutex> lock(mutex_);
      if (!error_) error_ = std::current_exception();
    }
  }
  void rethrow() const {
    if (error_) std::rethrow_exception(error_);
  }

 private:
  std::mutex mutex_;
  std::exception_ptr error_;
};

std::string seqlet_number(double value) {
  char text[32];
  std::snprintf(text, sizeof(text), "%.6g", value);
  return text;
}

// A seqlet as pass 3 finds it, before the q-values of its motif matches are known.
struct Found {
  std::string label;
  int64_t start = 0, end = 0;
  double score = 0, p_value = 1;
  MotifMatch match;
  std::string sequence;
};

void write_found(std::ostream& out, const Found& f) {
  out << f.label << '\t' << f.start << '\t' << f.end << '\t' << seqlet_number(f.score) << '\t'
      << seqlet_number(f.p_value) << '\t' << f.match.motif << '\t' << f.match.strand << '\t'
      << f.match.p_value << '\t' << f.sequence << '\n';
}

bool read_found(std::istream& in, Found& f) {
  std::string score, p, match_p;
  if (!(in >> f.label >> f.start >> f.end >> score >> p >> f.match.motif >> f.match.strand >>
        match_p >> f.sequence)) {
    return false;
  }
  f.score = std::stod(score);
  f.p_value = std::stod(p);
  f.match.p_value = std::stod(match_p);
  return true;
}


}  // namespace

SeqletSummary export_seqlets(const SeqletExportOptions& o) {
  check_seqlet_options(o.seqlets);
  const int threads = effective_threads(o.threads);
  SeqletInput in = open_seqlet_input(o);
  AtomicOutput output(o.output, {{"input", o.input}});
  SeqletNull positive(o.seqlets), negative(o.seqlets);
  SumBlocks blocks(in);
  blocks.for_each([&](const SumBlock& x) {
    positive.range(x.sums.data(), static_cast<int64_t>(x.sums.size()));
    negative.range(x.negated.data(), static_cast<int64_t>(x.negated.size()));
  });
  blocks.for_each([&](const SumBlock& x) {
    positive.add(x.sums.data(), static_cast<int64_t>(x.sums.size()));
    negative.add(x.negated.data(), static_cast<int64_t>(x.negated.size()));
  });
  SeqletSummary summary;
  summary.rows = in.rows;
  if (positive.empty()) throw InputError("input file '" + o.input + "': no finite attributions");
  // The two nulls' convolutions (the costliest step on a small file) side by side.
  FirstError finish_error;
#pragma omp parallel for num_threads(std::min(threads, 2))
  for (int sign = 0; sign < 2; ++sign) finish_error.run([&] { (sign == 0 ? positive : negative).finish(); });
  finish_error.rethrow();

  std::optional<MotifDatabase> database;
  std::optional<MotifScanner> scanner;
  if (!o.motifs.empty()) {
    database = read_meme(o.motifs);
    scanner.emplace(*database);
  }
  // Pass 3 writes the seqlets with their best motif to a scratch file (never committed, so
  // removed whatever happens); the q-values need every seqlet's motif p-value first.
  AtomicOutput scratch(o.output + ".unnamed", {{"input", o.input}});
  std::vector<double> motif_p;
  {
    std::ofstream found_out(scratch.temp_path());
    found_out.precision(17);
    auto one_hot = h5::open_dataset(in.file.get(), "one_hot");
    h5::Handle chroms, starts, names;
    if (in.genomic) {
      chroms = h5::open_dataset(in.file.get(), "regions/chrom");
      starts = h5::open_dataset(in.file.get(), "regions/start");
    } else {
      names = h5::open_dataset(in.file.get(), "names");
    }
    using Key = std::tuple<std::string, int64_t, int64_t, bool>;
    std::deque<std::set<Key>> recent;  // seqlets of the last windows, for overlapping tiles
    blocks.for_each([&](const SumBlock& x) {
      const auto count = static_cast<hsize_t>(x.rows);
      const auto at = static_cast<hsize_t>(x.first);
      std::vector<uint8_t> letters(count * 4 * static_cast<size_t>(in.length));
      h5::read_rows_into(one_hot.get(), at, count, H5T_NATIVE_UINT8, letters.data());
      const auto labels = h5::read_strings(in.genomic ? chroms.get() : names.get(), at, count);
      std::vector<int64_t> offsets(count, 0);
      if (in.genomic) h5::read_rows_into(starts.get(), at, count, H5T_NATIVE_INT64, offsets.data());
      // Rows are called and their seqlets compared with the motifs in parallel (each row's
      // alone: the null and the scanner are read-only); duplicates are dropped and seqlets
      // written in row order after.
      struct RowSeqlets {
        std::vector<std::pair<Seqlet, bool>> found;  // (seqlet, negative)
        std::vector<MotifMatch> matches;             // with --motifs, one per seqlet
        std::string window;
      };
      const auto call_row = [&](int64_t r, RowSeqlets& row) {
        for (const auto& s : call_seqlets(x.row(r), in.length, x.first + r, positive, o.seqlets)) {
          row.found.push_back({s, false});
        }
        for (auto s : call_seqlets(x.negated_row(r), in.length, x.first + r, negative, o.seqlets)) {
          s.attribution = -s.attribution;
          row.found.push_back({s, true});
        }
        std::sort(row.found.begin(), row.found.end(), [](const auto& a, const auto& b) {
          return std::tie(a.first.start, a.first.end, a.second) < std::tie(b.first.start, b.first.end, b.second);
        });
        const auto window_size = 4 * static_cast<size_t>(in.length);
        row.window = one_hot_letters(letters.data() + static_cast<size_t>(r) * window_size, in.length);
        if (!scanner) return;
        for (const auto& found : row.found) {
          row.matches.push_back(scanner->best(row.window, found.first.start, found.first.end));
        }
      };
      std::vector<RowSeqlets> called(static_cast<size_t>(x.rows));
      FirstError error;  // an exception may not leave an OpenMP loop: kept, thrown after it
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads)
      for (int64_t r = 0; r < x.rows; ++r) {
        error.run([&] { call_row(r, called[static_cast<size_t>(r)]); });
      }
      error.rethrow();
      for (int64_t r = 0; r < x.rows; ++r) {
        const auto& row = called[static_cast<size_t>(r)];
        std::set<Key> here;
        const int64_t offset = offsets[static_cast<size_t>(r)];

        const auto& label = labels[static_cast<size_t>(r)];
        for (size_t i = 0; i < row.found.size(); ++i) {
          const auto& [s, is_negative] = row.found[i];
          const Key key{label, offset + s.start, offset + s.end, is_negative};
          bool seen = false;
          for (const auto& w : recent) seen = seen || w.count(key);
          here.insert(key);
          if (seen && in.genomic) {
            ++summary.duplicates;
            continue;
          }
          ++(is_negative ? summary.negative : summary.positive);
          Found f{label, offset + s.start, offset + s.end, s.attribution, s.p_value, {},
                  row.window.substr(static_cast<size_t>(s.start), static_cast<size_t>(s.end - s.start))};
          if (scanner) {
            f.match = row.matches[i];
            motif_p.push_back(f.match.p_value);
          }
          write_found(found_out, f);
        }
        recent.push_back(std::move(here));
        if (recent.size() > kOverlapWindows) recent.pop_front();
      }
    });
    if (!found_out.flush()) throw InputError("--output '" + o.output + "': cannot write (disk full?)");
  }
  const auto motif_q = bh_q_values(motif_p);
  std::ifstream found_in(scratch.temp_path());
  std::ofstream bed(output.temp_path());
  bed << "#chrom\tstart\tend\tname\tscore\tstrand\tp_value\tmotif_p_value\tmotif_q_value\tsequence\n";
  Found f;
  for (size_t i = 0; read_found(found_in, f); ++i) {
    const bool named = scanner && f.match.motif >= 0 && motif_q[i] <= o.motif_threshold;
    if (named) ++summary.named;
    bed << f.label << '\t' << f.start << '\t' << f.end << '\t'
        << (named ? scanner->name(f.match.motif) : std::string(".")) << '\t' << seqlet_number(f.score)
        << '\t' << (named ? f.match.strand : '.') << '\t' << seqlet_number(f.p_value) << '\t'
        << (scanner && f.match.motif >= 0 ? seqlet_number(f.match.p_value) : ".") << '\t'
        << (scanner && f.match.motif >= 0 ? seqlet_number(motif_q[i]) : ".") << '\t' << f.sequence << '\n';
  }
  if (!bed.flush()) throw InputError("--output '" + o.output + "': cannot write (disk full?)");
  bed.close();
  output.commit();
  return summary;
}

}  // namespace seqattr
