#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace seqattr {

struct SequenceRecord {
  std::string name;      // header up to the first white space
  std::string sequence;  // as in the file (either case), line breaks removed
};

// Reads every record of a FASTA file (plain or gzip-compressed), in file order.
// Throws InputError naming the file (and record) when the file is missing, empty, not
// FASTA, has a record without sequence, or holds characters other than ACGTN (any case).
std::vector<SequenceRecord> read_fasta(const std::string& path);

// The length all records share. Throws InputError naming the first record that differs.
int64_t common_length(const std::vector<SequenceRecord>& records, const std::string& path);

}  // namespace seqattr
