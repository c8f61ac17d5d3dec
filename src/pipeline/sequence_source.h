#pragma once
// Where a run's sequences come from: FASTA records, or windows of an indexed genome (BED
// regions or tiles). Sequences are read a part at a time, so a genome-wide run never holds
// more than one part's one-hot in memory.
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <memory>
#include <string>
#include <vector>

#include "pipeline/attribute_job.h"

namespace seqattr {

// Sequences [first, first + count) of a source.
struct SequenceRows {
  std::vector<std::string> names;
  torch::Tensor one_hot;  // (count, 4, L) uint8
  // Genomic sources only (empty otherwise): the windows, 0-based half-open.
  std::vector<std::string> chroms;
  torch::Tensor start, end, summit;  // (count,) int64
};

class SequenceSource {
 public:
  virtual ~SequenceSource() = default;
  virtual int64_t size() const = 0;
  virtual int64_t length() const = 0;
  virtual bool genomic() const = 0;
  virtual SequenceRows read(int64_t first, int64_t count) const = 0;
  // What the results depend on besides the options: file digests and shape. Two runs with
  // equal identities and options compute the same sequences.
  virtual nlohmann::json identity() const = 0;
};

// The source the options name (--fasta, --bed or --tile). Throws InputError for unreadable
// or inconsistent input.
std::unique_ptr<SequenceSource> open_sequence_source(const AttributeOptions& options);

}  // namespace seqattr
