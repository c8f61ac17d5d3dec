#include "pipeline/sharding.h"

#include <cstdio>
#include <cstdlib>

#include "common/errors.h"

namespace seqattr {
namespace {

bool parse_pair(const std::string& text, int64_t* index, int64_t* count) {
  char rest = 0;
  return std::sscanf(text.c_str(), "%ld/%ld%c", index, count, &rest) == 2;
}

int64_t environment_integer(const char* name) {
  const char* value = std::getenv(name);
  char* end = nullptr;
  const long long parsed = value ? std::strtoll(value, &end, 10) : 0;
  if (!value || end == value || *end != '\0') {
    throw InputError(std::string("Slurm array: environment variable ") + name + " is " +
                     (value ? "'" + std::string(value) + "', not an integer" : "not set") +
                     "; give --shard I/N");
  }
  return parsed;
}

}  // namespace

Shard resolve_shard(const std::string& option) {
  Shard shard;
  if (!option.empty()) {
    if (!parse_pair(option, &shard.index, &shard.count) || shard.count < 1 || shard.index < 0 ||
        shard.index >= shard.count) {
      throw InputError("--shard '" + option + "': expected I/N with 0 <= I < N, e.g. 0/4");
    }
    shard.source = "--shard";
    return shard;
  }
  if (std::getenv("SLURM_ARRAY_TASK_COUNT") == nullptr) return shard;
  shard.count = environment_integer("SLURM_ARRAY_TASK_COUNT");
  const int64_t minimum =
      std::getenv("SLURM_ARRAY_TASK_MIN") ? environment_integer("SLURM_ARRAY_TASK_MIN") : 0;
  shard.index = environment_integer("SLURM_ARRAY_TASK_ID") - minimum;
  if (shard.count < 1 || shard.index < 0 || shard.index >= shard.count) {
    throw InputError("Slurm array: task " + std::to_string(shard.index) + " of " +
                     std::to_string(shard.count) +
                     " (SLURM_ARRAY_TASK_ID - SLURM_ARRAY_TASK_MIN) is out of range; the array "
                     "must be contiguous, e.g. --array=0-3, or give --shard I/N");
  }
  shard.source = "Slurm array";
  return shard;
}

int64_t part_size(int64_t batch_size) {
  constexpr int64_t kMinimum = 64;
  return std::max<int64_t>(kMinimum, (batch_size + kMinimum - 1) / kMinimum * kMinimum);
}

PartRange shard_range(int64_t sequences, int64_t part_size, const Shard& shard) {
  const int64_t parts = (sequences + part_size - 1) / part_size;
  const int64_t base = parts / shard.count, extra = parts % shard.count;
  PartRange range;
  range.first_part = shard.index * base + std::min(shard.index, extra);
  range.end_part = range.first_part + base + (shard.index < extra ? 1 : 0);
  range.first = std::min(sequences, range.first_part * part_size);
  range.end = std::min(sequences, range.end_part * part_size);
  return range;
}

}  // namespace seqattr
