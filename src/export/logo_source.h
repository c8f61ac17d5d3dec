#pragma once
// A seqattr output read row by row for logos and reports.
#include <torch/torch.h>

#include <cstdint>
#include <string>

#include "export/logo_svg.h"
#include "formats/hdf5_tensor.h"

namespace seqattr {

// An open seqattr output (README "Output") to draw logos from.
class LogoSource {
 public:
  // Throws InputError naming the file when it is missing, not HDF5 or not a seqattr output.
  explicit LogoSource(const std::string& path);

  const std::string& path() const { return path_; }
  hid_t file() const { return file_.get(); }
  int64_t sequences() const { return sequences_; }
  int64_t length() const { return length_; }
  bool has_regions() const { return has_regions_; }

  // Row `index` of /attributions or /hypothetical_attributions as (4, L) float32.
  torch::Tensor row(int64_t index, bool hypothetical) const;
  // The record's name (/names), or "row I" when there are none.
  std::string name(int64_t index) const;
  // "chrom:start-end" of the record's window (0-based, half-open), or "" without /regions.
  std::string region(int64_t index) const;

  // The logo of positions [start, end) of row `index` (end -1: the sequence's end). Throws
  // InputError naming --index, --start or --end when they are outside the file or sequence.
  Logo logo(int64_t index, int64_t start, int64_t end, bool hypothetical) const;
  // The same from a row already read (as by row()).
  Logo logo(int64_t index, const torch::Tensor& row, int64_t start, int64_t end,
            bool hypothetical) const;

 private:
  void check_index(int64_t index) const;

  std::string path_;
  h5::Handle file_;
  int64_t sequences_ = 0;
  int64_t length_ = 0;
  bool has_regions_ = false;
  std::string method_;
};

}  // namespace seqattr
