#include "formats/fasta.h"

#include <zlib.h>

#include <cctype>
#include <memory>

#include <htslib/kseq.h>

#include "common/errors.h"

KSEQ_INIT(gzFile, gzread)

namespace seqattr {
namespace {

struct GzCloser {
  void operator()(gzFile_s* f) const { gzclose(f); }
};
struct KseqDestroyer {
  void operator()(kseq_t* s) const { kseq_destroy(s); }
};

// kseq silently skips text before the first header, so check the first visible byte. It is
// pushed back, not rewound to: the file may be a pipe (--fasta /dev/stdin, <(zcat ...)).
void require_fasta_header(gzFile file, const std::string& path) {
  int c;
  while ((c = gzgetc(file)) != -1 && std::isspace(c)) {
  }
  if (c == -1) {
    int status = Z_OK;
    const char* message = gzerror(file, &status);
    if (status != Z_OK && status != Z_STREAM_END) {
      throw InputError("--fasta '" + path + "': cannot read the file (" + message + ")");
    }
    throw InputError("--fasta '" + path + "': the file is empty");
  }
  if (c != '>') {
    throw InputError("--fasta '" + path +
                     "': not a FASTA file (expected '>' at the start of the first record)");
  }
  if (gzungetc(c, file) < 0) throw InputError("--fasta '" + path + "': cannot read the file");
}

// The end of the data must be the end of the stream: a gzip file cut short (a copy that
// stopped, a full disk) decompresses up to the cut, which may fall between records.
void require_complete_stream(gzFile file, const std::string& path) {
  int status = Z_OK;
  const char* message = gzerror(file, &status);
  if (status != Z_OK && status != Z_STREAM_END) {
    throw InputError("--fasta '" + path + "': truncated or corrupt gzip (" + message + ")");
  }
}

void require_acgtn(const SequenceRecord& record, const std::string& path) {
  for (size_t i = 0; i < record.sequence.size(); ++i) {
    switch (record.sequence[i]) {
      case 'A': case 'C': case 'G': case 'T': case 'N':
      case 'a': case 'c': case 'g': case 't': case 'n':
        continue;
      default:
        throw InputError("--fasta '" + path + "': record '" + record.name + "' has character '" +
                         std::string(1, record.sequence[i]) + "' at position " +
                         std::to_string(i + 1) + "; only A, C, G, T and N are allowed");
    }
  }
}

}  // namespace

std::vector<SequenceRecord> read_fasta(const std::string& path) {
  std::unique_ptr<gzFile_s, GzCloser> file(gzopen(path.c_str(), "r"));
  if (!file) throw InputError("--fasta '" + path + "': cannot open file");
  require_fasta_header(file.get(), path);

  std::unique_ptr<kseq_t, KseqDestroyer> reader(kseq_init(file.get()));
  std::vector<SequenceRecord> records;
  int status;
  while ((status = kseq_read(reader.get())) >= 0) {
    SequenceRecord record{reader->name.s ? reader->name.s : "",
                          std::string(reader->seq.s ? reader->seq.s : "", reader->seq.l)};
    if (record.name.empty()) {
      throw InputError("--fasta '" + path + "': record " + std::to_string(records.size() + 1) +
                       " has an empty name");
    }
    if (record.sequence.empty()) {
      throw InputError("--fasta '" + path + "': record '" + record.name + "' has no sequence");
    }
    require_acgtn(record, path);
    records.push_back(std::move(record));
  }
  require_complete_stream(file.get(), path);
  if (status < -1) {
    throw InputError("--fasta '" + path + "': malformed or truncated file after record " +
                     std::to_string(records.size()));
  }
  if (records.empty()) throw InputError("--fasta '" + path + "': no records");
  return records;
}

int64_t common_length(const std::vector<SequenceRecord>& records, const std::string& path) {
  const size_t length = records.front().sequence.size();
  for (const auto& record : records) {
    if (record.sequence.size() != length) {
      throw InputError("--fasta '" + path + "': record '" + record.name + "' has length " +
                       std::to_string(record.sequence.size()) + " but '" + records.front().name +
                       "' has " + std::to_string(length) + "; all records must be equally long");
    }
  }
  return static_cast<int64_t>(length);
}

}  // namespace seqattr
