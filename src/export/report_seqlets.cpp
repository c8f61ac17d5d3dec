#include "export/report_seqlets.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <map>
#include <optional>
#include <set>
#include <unordered_map>

#include "common/errors.h"
#include "common/hdf5.h"
#include "formats/hts_lines.h"

namespace seqattr {
namespace {

// Members averaged into a group's logo: the strongest by |score|.
constexpr int64_t kLogoMembers = 200;
// Unnamed seqlets clustered (the strongest), and clusters opened at most.
constexpr size_t kClusteredSeqlets = 2000;
constexpr size_t kMaxClusters = 200;
// Two sequences join when, on one strand at one offset, they overlap by at least 3/4 of the
// shorter (and 8 bases) and agree at 85% of the overlap: two random 12-mers do so about once in
// 3,000 (checked on the null seqlets of a synthetic genome, which at 80% over 3/4 formed
// clusters of 30). A cluster is reported from kMinClusterSize members.
constexpr double kMinOverlap = 0.75;
constexpr int64_t kMinOverlapBases = 8;
constexpr double kMinIdentity = 0.85;
constexpr size_t kMinClusterSize = 3;

// Where each row's window lies, for placing genomic seqlets.
class WindowIndex {
 public:
  explicit WindowIndex(const LogoSource& source) : length_(source.length()) {
    const auto chroms = h5::open_dataset(source.file(), "regions/chrom");
    const auto starts = h5::open_dataset(source.file(), "regions/start");
    const auto n = static_cast<hsize_t>(source.sequences());
    const auto names = h5::read_strings(chroms.get(), 0, n);
    const auto start = h5::read_rows(starts.get(), 0, n, torch::kInt64).contiguous();
    for (hsize_t i = 0; i < n; ++i) {
      by_chrom_[names[i]].push_back({start.data_ptr<int64_t>()[i], static_cast<int64_t>(i)});
    }
    for (auto& [chrom, list] : by_chrom_) std::sort(list.begin(), list.end());
  }

  // The row whose window holds [start, end) of `chrom` with its centre nearest; -1 if none.
  int64_t place(const std::string& chrom, int64_t start, int64_t end, int64_t* offset) const {
    const auto found = by_chrom_.find(chrom);
    if (found == by_chrom_.end()) return -1;
    const auto& list = found->second;
    auto it = std::lower_bound(list.begin(), list.end(), std::pair<int64_t, int64_t>{end - length_, -1});
    int64_t best = -1, best_start = 0, best_distance = 0;
    for (; it != list.end() && it->first <= start; ++it) {
      const int64_t distance = std::abs(2 * it->first + length_ - (start + end));  // twice
      if (best < 0 || distance < best_distance) {
        best = it->second, best_start = it->first, best_distance = distance;
      }
    }
    if (best >= 0) *offset = start - best_start;
    return best;
  }

 private:
  int64_t length_;
  std::map<std::string, std::vector<std::pair<int64_t, int64_t>>> by_chrom_;  // (start, row)
};

// Each record name's row (the first, where names repeat), /names read once; "row I" where
// the file has none (as LogoSource::name).
std::unordered_map<std::string, int64_t> rows_by_name(const LogoSource& source) {
  const auto n = static_cast<hsize_t>(source.sequences());
  std::vector<std::string> names;
  if (h5::exists(source.file(), "names")) {
    const auto dataset = h5::open_dataset(source.file(), "names");
    if (h5::dataset_shape(dataset.get()).at(0) == n) names = h5::read_strings(dataset.get(), 0, n);
  }
  std::unordered_map<std::string, int64_t> rows;
  for (hsize_t i = 0; i < n; ++i) {
    rows.emplace(names.empty() ? "row " + std::to_string(i) : names[i], static_cast<int64_t>(i));
  }
  return rows;
}

char complement(char base) {
  switch (base) {
    case 'A': return 'T';
    case 'C': return 'G';
    case 'G': return 'C';
    case 'T': return 'A';
    default: return 'N';
  }
}

std::string reverse_complement(const std::string& s) {
  std::string out(s.rbegin(), s.rend());
  for (char& c : out) c = complement(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  return out;
}

// The best identity of `a` and `b` at any offset with enough overlap (N matches nothing).
double identity(const std::string& a, const std::string& b) {
  const auto shorter = static_cast<int64_t>(std::min(a.size(), b.size()));
  const auto need = std::max(kMinOverlapBases,
                             static_cast<int64_t>(std::ceil(kMinOverlap * static_cast<double>(shorter))));
  double best = 0;
  const auto na = static_cast<int64_t>(a.size()), nb = static_cast<int64_t>(b.size());
  for (int64_t shift = -(nb - need); shift <= na - need; ++shift) {  // b[j] against a[j + shift]
    const int64_t from = std::max<int64_t>(0, -shift), to = std::min(nb, na - shift);
    if (to - from < need) continue;
    int64_t same = 0;
    for (int64_t j = from; j < to; ++j) {
      same += a[static_cast<size_t>(j + shift)] == b[static_cast<size_t>(j)] && b[static_cast<size_t>(j)] != 'N';
    }
    best = std::max(best, static_cast<double>(same) / static_cast<double>(to - from));
  }
  return best;
}

// The average of `members`' attributions over a window as wide as the widest, centred on each
// (minus-strand members reverse-complemented), strongest kLogoMembers only.
Logo average_logo(std::vector<PlacedSeqlet> members, const LogoSource& source, const std::string& title,
                  int64_t* used) {
  std::sort(members.begin(), members.end(), [](const auto& a, const auto& b) {
    return std::abs(a.score) > std::abs(b.score);
  });
  if (static_cast<int64_t>(members.size()) > kLogoMembers) members.resize(kLogoMembers);
  int64_t width = 1;
  for (const auto& m : members) width = std::max(width, m.end - m.start);
  std::vector<double> sum(static_cast<size_t>(4 * width), 0.0);
  std::vector<int64_t> counts(static_cast<size_t>(width), 0);
  std::map<int64_t, std::vector<const PlacedSeqlet*>> by_row;
  for (const auto& m : members) by_row[m.row].push_back(&m);
  for (const auto& [row, list] : by_row) {
    const auto values = source.row(row, false);
    const float* v = values.data_ptr<float>();
    const int64_t length = source.length();
    for (const PlacedSeqlet* m : list) {
      const int64_t first = (m->start + m->end - width) >= 0 ? (m->start + m->end - width) / 2
                                                             : -((width - m->start - m->end + 1) / 2);
      for (int64_t p = 0; p < width; ++p) {
        const int64_t at = first + p;
        if (at < 0 || at >= length) continue;
        const int64_t column = m->reverse ? width - 1 - p : p;
        ++counts[static_cast<size_t>(column)];
        for (int b = 0; b < 4; ++b) {
          const int base = m->reverse ? 3 - b : b;
          const float x = v[b * length + at];
          if (std::isfinite(x)) sum[static_cast<size_t>(base * width + column)] += x;
        }
      }
    }
  }
  Logo logo;
  logo.title = title;
  logo.width = width;
  logo.values.resize(sum.size());
  for (int b = 0; b < 4; ++b) {
    for (int64_t p = 0; p < width; ++p) {
      const auto c = counts[static_cast<size_t>(p)];
      logo.values[static_cast<size_t>(b * width + p)] =
          c ? static_cast<float>(sum[static_cast<size_t>(b * width + p)] / static_cast<double>(c)) : 0.0f;
    }
  }
  // Centred, minus-strand ones reverse-complemented (the section's note says so).
  logo.subtitle = "mean of the " + std::to_string(members.size()) + " strongest";
  logo.x_caption = "position in the aligned seqlets (0-based)";
  logo.y_caption = "mean attribution";
  *used = static_cast<int64_t>(members.size());
  return logo;
}

SeqletGroup summarise(const std::string& name, const std::vector<PlacedSeqlet>& members,
                      const LogoSource& source) {
  SeqletGroup g;
  g.name = name;
  g.count = static_cast<int64_t>(members.size());
  std::set<int64_t> rows;
  const PlacedSeqlet* strongest = &members.front();
  for (const auto& m : members) {
    g.mean_score += m.score;
    rows.insert(m.row);
    if (std::abs(m.score) > std::abs(strongest->score)) strongest = &m;
  }
  g.mean_score /= static_cast<double>(members.size());
  g.region_share = static_cast<double>(rows.size()) / static_cast<double>(source.sequences());
  g.consensus = strongest->reverse ? reverse_complement(strongest->sequence) : strongest->sequence;
  g.logo = average_logo(members, source, name, &g.logo_members);
  return g;
}

}  // namespace

std::vector<PlacedSeqlet> read_placed_seqlets(const std::string& bed, const LogoSource& source) {
  TextLines lines("--seqlets", bed);
  std::optional<WindowIndex> windows;
  std::unordered_map<std::string, int64_t> names;
  if (source.has_regions()) windows.emplace(source); else names = rows_by_name(source);
  std::vector<PlacedSeqlet> seqlets;
  std::string_view text;
  while (lines.next(text)) {
    const auto fields = split_bed_columns(text);
    if (is_bed_header_or_blank(fields)) continue;
    const FileLine line("--seqlets", bed, lines.number());
    if (fields.size() < 10) {
      throw line.error("expected the 10 columns `seqattr seqlets` writes, found " +
                       std::to_string(fields.size()));
    }
    PlacedSeqlet s;
    int64_t start = 0, end = 0;
    const std::string score(fields[4]);
    char* score_end = nullptr;
    s.score = std::strtod(score.c_str(), &score_end);
    if (!parse_int64(fields[1], start) || !parse_int64(fields[2], end) || score.empty() ||
        *score_end != '\0') {
      throw line.error("start, end and score must be numbers");
    }
    const std::string_view strand = fields[5];
    if (end <= start || (strand != "+" && strand != "-" && strand != ".")) {
      throw line.error("needs start < end and a strand of +, - or .");
    }
    const std::string chrom(fields[0]);
    s.motif = std::string(fields[3]);
    s.reverse = strand == "-";
    s.sequence = std::string(fields[9]);
    int64_t offset = start;
    if (windows) {
      s.row = windows->place(chrom, start, end, &offset);
    } else {
      const auto found = names.find(chrom);
      s.row = found == names.end() || end > source.length() || start < 0 ? -1 : found->second;
    }
    if (s.row < 0) {
      throw line.error(chrom + ":" + std::to_string(start) + "-" + std::to_string(end) +
                       " lies in no window of '" + source.path() + "' (were the seqlets called from it?)");
    }
    s.start = offset;
    s.end = offset + (end - start);
    seqlets.push_back(std::move(s));
  }
  return seqlets;
}

std::vector<SeqletGroup> motif_groups(const std::vector<PlacedSeqlet>& seqlets, const LogoSource& source) {
  std::map<std::string, std::vector<PlacedSeqlet>> by_motif;
  for (const auto& s : seqlets) {
    if (s.motif != ".") by_motif[s.motif].push_back(s);
  }
  std::vector<SeqletGroup> groups;
  for (const auto& [motif, members] : by_motif) groups.push_back(summarise(motif, members, source));
  std::stable_sort(groups.begin(), groups.end(), [](const auto& a, const auto& b) { return a.count > b.count; });
  return groups;
}

std::vector<SeqletGroup> unnamed_clusters(const std::vector<PlacedSeqlet>& seqlets,
                                          const LogoSource& source, int64_t limit) {
  std::vector<PlacedSeqlet> unnamed;
  for (const auto& s : seqlets) {
    if (s.motif == ".") unnamed.push_back(s);
  }
  std::stable_sort(unnamed.begin(), unnamed.end(), [](const auto& a, const auto& b) {
    return std::abs(a.score) > std::abs(b.score);
  });
  if (unnamed.size() > kClusteredSeqlets) unnamed.resize(kClusteredSeqlets);
  // Greedy: each seqlet joins the first cluster (of its sign) whose seed it matches on either
  // strand, or seeds a new one; members are oriented to their seed.
  std::vector<std::vector<PlacedSeqlet>> clusters;
  for (auto s : unnamed) {
    s.reverse = false;
    const std::string forward = s.sequence, backward = reverse_complement(s.sequence);
    bool joined = false;
    for (auto& cluster : clusters) {
      const auto& seed = cluster.front();
      if ((seed.score > 0) != (s.score > 0)) continue;
      const double plus = identity(seed.sequence, forward), minus = identity(seed.sequence, backward);
      if (std::max(plus, minus) < kMinIdentity) continue;
      s.reverse = minus > plus;
      cluster.push_back(s);
      joined = true;
      break;
    }
    if (!joined && clusters.size() < kMaxClusters) clusters.push_back({s});
  }
  std::stable_sort(clusters.begin(), clusters.end(), [](const auto& a, const auto& b) { return a.size() > b.size(); });
  std::vector<SeqletGroup> groups;
  for (size_t i = 0; i < clusters.size() && static_cast<int64_t>(i) < limit; ++i) {
    if (clusters[i].size() < kMinClusterSize) break;
    groups.push_back(summarise("cluster " + std::to_string(i + 1), clusters[i], source));
  }
  return groups;
}

}  // namespace seqattr
