#pragma once
// `seqattr merge`: the shards of one sharded run, joined into the file a single process
// would have written.
#include <string>
#include <vector>

namespace seqattr {

struct MergeSummary {
  int64_t shards = 0;
  int64_t sequences = 0;
  std::string output;
};

// Checks that `shards` are every shard of one run (same run_id and shard count, each index
// once, rows contiguous from 0 to the run's end) and writes them, in row order, to `output`.
// Throws InputError naming the offending file otherwise; nothing is left at `output`.
MergeSummary merge_shards(const std::vector<std::string>& shards, const std::string& output,
                          const std::string& command_line);

}  // namespace seqattr
