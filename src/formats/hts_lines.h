#pragma once
// Reading text files line by line through htslib, which opens plain, gzipped and bgzipped
// files alike (BED, VCF).
#include <htslib/hts.h>
#include <htslib/kstring.h>

#include <memory>
#include <string>

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
