#pragma once
// Reading text files line by line through htslib, which opens plain, gzipped and bgzipped
// files alike (BED, VCF).
#include <htslib/hts.h>
#include <htslib/kstring.h>

#include <memory>

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

}  // namespace seqattr
