#pragma once
// Runs are cut into parts of whole sequences; parts are the unit of checkpointing (resume)
// and of sharding. Part boundaries depend only on the options, never on the shard or on
// where a run stopped, so every way of splitting the work computes identical rows.
#include <cstdint>
#include <string>

namespace seqattr {

struct Shard {
  int64_t index = 0;  // I, 0-based
  int64_t count = 1;  // N
  std::string source; // "--shard", "Slurm array" or "" (the whole run)
  bool whole() const { return count == 1; }
  std::string text() const { return std::to_string(index) + "/" + std::to_string(count); }
};

// --shard "I/N" (0 <= I < N). When empty: from SLURM_ARRAY_TASK_ID - SLURM_ARRAY_TASK_MIN
// and SLURM_ARRAY_TASK_COUNT when those are set, else the whole run. Throws InputError.
Shard resolve_shard(const std::string& option);

// Sequences per part: 64, or the batch size rounded up to a multiple of 64 when larger,
// so that a part fills the passes of the one-row-per-sequence methods.
int64_t part_size(int64_t batch_size);

struct PartRange {
  int64_t first_part = 0, end_part = 0;  // parts [first_part, end_part)
  int64_t first = 0, end = 0;            // sequences [first, end)
};

// The shard's contiguous run of parts: parts are dealt out as evenly as possible, the
// earlier shards taking one more when they do not divide.
PartRange shard_range(int64_t sequences, int64_t part_size, const Shard& shard);

}  // namespace seqattr
