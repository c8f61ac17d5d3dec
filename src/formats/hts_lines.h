#pragma once
// Reading text files line by line through htslib, which opens plain, gzipped and bgzipped
// files alike (BED, VCF).
#include <htslib/hts.h>
#include <htslib/kstring.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/errors.h"

namespace seqattr {

struct HtsCloser {
  void operator()(htsFile* file) const { hts_close(file); }
};
using HtsFile = std::unique_ptr<htsFile, HtsCloser>;

// A line buffer that hts_getline grows; freed at scope exit.
struct LineBuffer {
  kstring_t text = KS_INITIALIZE;
  LineBuffer() = default;
  LineBuffer(const LineBuffer&) = delete;
  LineBuffer& operator=(const LineBuffer&) = delete;
  ~LineBuffer() { ks_free(&text); }
};

// The lines of a text file named by `option` (plain, gzip or bgzip: hts_open detects them).
// Throws InputError naming the option and path for a missing or unopenable file, and for a
// read error (a truncated gzip) after the last good line.
class TextLines {
 public:
  TextLines(const char* option, const std::string& path);
  // The next line without its end ('\n', and a '\r' before it); false at the end.
  bool next(std::string_view& line);
  int64_t number() const { return number_; }  // of the line last returned, from 1

 private:
  const char* option_;
  std::string path_;
  HtsFile file_;
  LineBuffer buffer_;
  int64_t number_ = 0;
};

// A BED line's columns. BED separates columns with tabs, but hand-written files often use
// spaces: a line with a tab is split on tabs alone (spaces around a column dropped, inside one
// kept, trailing empty columns dropped), one without on runs of spaces. Views into `line`.
std::vector<std::string_view> split_bed_columns(std::string_view line);
// A header, comment (#), track or browser line, or a blank one.
bool is_bed_header_or_blank(const std::vector<std::string_view>& columns);
// `text` as a whole decimal integer.
bool parse_int64(std::string_view text, int64_t& value);

// Reports a problem of one line as "OPTION 'FILE' line N: what".
class FileLine {
 public:
  FileLine(const char* option, const std::string& path, int64_t number)
      : option_(option), path_(path), number_(number) {}
  InputError error(const std::string& what) const {
    return InputError(std::string(option_) + " '" + path_ + "' line " + std::to_string(number_) +
                      ": " + what);
  }

 private:
  const char* option_;
  const std::string& path_;
  int64_t number_;
};

}  // namespace seqattr
