#include "formats/regions.h"

#include <filesystem>
#include <memory>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

#include "common/errors.h"
#include "formats/hts_lines.h"

namespace seqattr {
namespace {

constexpr size_t kSummitColumn = 9;  // narrowPeak column 10: summit offset from start, or -1

// One BED region as read, before it is resized to a window.
struct Peak {
  int32_t chrom = 0;
  int64_t centre = 0;
  std::string name;  // empty when the line has none (no 4th column, or ".")
};

int64_t parse_coordinate(std::string_view text, const char* column, const FileLine& line) {
  int64_t value;
  if (!parse_int64(text, value) || value < 0) {
    throw line.error(std::string(column) + " '" + std::string(text) +
                     "' is not a non-negative integer");
  }
  return value;
}

// Chromosome naming differs between sources (UCSC "chr1", Ensembl "1"); say so when that
// is the likely mistake.
std::string unknown_chromosome(const std::string& chrom,
                               const std::unordered_map<std::string, int32_t>& index) {
  std::string message = "chromosome '" + chrom + "' is not in the genome";
  const std::string other = chrom.rfind("chr", 0) == 0 ? chrom.substr(3) : "chr" + chrom;
  if (index.count(other)) {
    message += " (the genome calls it '" + other + "'; the BED and genome name chromosomes "
               "differently)";
  }
  return message;
}

std::unordered_map<std::string, int32_t> chromosome_index(const Genome& genome) {
  std::unordered_map<std::string, int32_t> index;
  for (size_t i = 0; i < genome.chroms().size(); ++i) {
    index.emplace(genome.chroms()[i], static_cast<int32_t>(i));
  }
  return index;
}

// The centre is the summit when column 10 holds one (>= 0; narrowPeak writes -1 for none),
// else the midpoint floor((start + end) / 2). A summit must lie inside the peak.
int64_t peak_centre(const std::vector<std::string_view>& columns, int64_t start, int64_t end,
                    const FileLine& line) {
  if (columns.size() > kSummitColumn) {
    int64_t summit;
    if (!parse_int64(columns[kSummitColumn], summit)) {
      throw line.error("summit (column 10) '" + std::string(columns[kSummitColumn]) +
                       "' is not an integer");
    }
    if (summit >= 0) {
      if (summit >= end - start) {
        throw line.error("summit (column 10) " + std::to_string(summit) +
                         " is outside the peak, which has length " +
                         std::to_string(end - start));
      }
      return start + summit;
    }
  }
  return start + (end - start) / 2;  // start, end >= 0, so this is the floor of the mean
}

Peak parse_peak(const std::vector<std::string_view>& columns, const Genome& genome,
                const std::unordered_map<std::string, int32_t>& index, const FileLine& line) {
  if (columns.size() < 3) {
    throw line.error("expected at least 3 columns (chrom, start, end), found " +
                     std::to_string(columns.size()));
  }
  const std::string chrom(columns[0]);
  const auto found = index.find(chrom);
  if (found == index.end()) throw line.error(unknown_chromosome(chrom, index));
  const int64_t start = parse_coordinate(columns[1], "start", line);
  const int64_t end = parse_coordinate(columns[2], "end", line);
  if (start > end) {
    throw line.error("start " + std::to_string(start) + " is greater than end " +
                     std::to_string(end));
  }
  // A peak may run past the chromosome end (MACS2 does that), but one that starts there
  // comes from another assembly. This also keeps every coordinate far from overflow.
  const int64_t length = genome.lengths()[static_cast<size_t>(found->second)];
  if (start >= length) {
    throw line.error("start " + std::to_string(start) + " is past the end of " + chrom +
                     " (length " + std::to_string(length) +
                     "); is the BED for another genome assembly?");
  }
  Peak peak;
  peak.chrom = found->second;
  peak.centre = peak_centre(columns, start, end, line);
  if (columns.size() > 3 && columns[3] != ".") peak.name = std::string(columns[3]);
  return peak;
}

std::string window_name(const std::string& chrom, const Region& region) {
  return chrom + ":" + std::to_string(region.start) + "-" + std::to_string(region.end);
}

bool runs_past_chromosome(const Region& region, const Genome& genome) {
  return region.start < 0 || region.end > genome.lengths()[static_cast<size_t>(region.chrom)];
}

// Names are all-or-nothing: when any region has one, the others get their window's.
void fill_missing_names(RegionList& list) {
  bool any_named = false;
  for (const auto& name : list.names) any_named = any_named || !name.empty();
  if (!any_named) {
    list.names.clear();
    return;
  }
  for (size_t i = 0; i < list.names.size(); ++i) {
    if (list.names[i].empty()) {
      list.names[i] = window_name(list.chroms[static_cast<size_t>(list.regions[i].chrom)],
                                  list.regions[i]);
    }
  }
}

// Tiles of one chromosome, in order; see tile_regions.
void tile_chromosome(int32_t chrom, int64_t chrom_length, int64_t width, int64_t step,
                     std::vector<Region>& out) {
  if (chrom_length <= width) {
    out.push_back({chrom, 0, width, -1});
    return;
  }
  int64_t start = 0;
  for (; start + width <= chrom_length; start += step) {
    out.push_back({chrom, start, start + width, -1});
  }
  if (out.back().end < chrom_length) {
    out.push_back({chrom, chrom_length - width, chrom_length, -1});
  }
}

std::vector<int32_t> chromosomes_to_tile(const Genome& genome,
                                         const std::vector<std::string>& chroms) {
  std::vector<int32_t> result;
  if (chroms.empty()) {
    for (size_t i = 0; i < genome.chroms().size(); ++i) result.push_back(static_cast<int32_t>(i));
    return result;
  }
  std::unordered_set<std::string> seen;
  for (const auto& chrom : chroms) {
    const int64_t index = genome.find(chrom);
    if (index < 0) {
      throw InputError("--chroms: chromosome '" + chrom + "' is not in --genome '" +
                       genome.path() + "'");
    }
    if (!seen.insert(chrom).second) {
      throw InputError("--chroms: chromosome '" + chrom + "' is listed twice");
    }
    result.push_back(static_cast<int32_t>(index));
  }
  return result;
}

}  // namespace

std::string RegionList::name(int64_t i) const {
  const auto index = static_cast<size_t>(i);
  if (!names.empty()) return names[index];
  return window_name(chroms[static_cast<size_t>(regions[index].chrom)], regions[index]);
}

RegionList read_bed_regions(const std::string& path, const Genome& genome, int64_t length) {
  if (length < 1) {
    throw InputError("window length must be at least 1, got " + std::to_string(length));
  }
  TextLines lines("--bed", path);
  const auto index = chromosome_index(genome);
  RegionList list;
  list.chroms = genome.chroms();
  std::string_view text;
  while (lines.next(text)) {
    const int64_t line_number = lines.number();
    const auto columns = split_bed_columns(text);
    if (is_bed_header_or_blank(columns)) continue;
    const Peak peak = parse_peak(columns, genome, index, FileLine("--bed", path, line_number));
    Region region{peak.chrom, peak.centre - length / 2, peak.centre - length / 2 + length,
                  length / 2};
    list.padded += runs_past_chromosome(region, genome) ? 1 : 0;
    list.regions.push_back(region);
    list.names.push_back(peak.name);
  }
  if (list.regions.empty()) {
    throw InputError("--bed '" + path + "': no regions (only blank, comment, track or browser "
                     "lines)");
  }
  fill_missing_names(list);
  return list;
}

RegionList tile_regions(const Genome& genome, int64_t width, int64_t step,
                        const std::vector<std::string>& chroms) {
  if (width < 1 || step < 1) {
    throw InputError("--tile: width and step must be at least 1, got width " +
                     std::to_string(width) + " and step " + std::to_string(step));
  }
  RegionList list;
  list.chroms = genome.chroms();
  for (const int32_t chrom : chromosomes_to_tile(genome, chroms)) {
    const size_t first = list.regions.size();
    tile_chromosome(chrom, genome.lengths()[static_cast<size_t>(chrom)], width, step,
                    list.regions);
    for (size_t i = first; i < list.regions.size(); ++i) {
      list.padded += runs_past_chromosome(list.regions[i], genome) ? 1 : 0;
    }
  }
  return list;
}

}  // namespace seqattr
