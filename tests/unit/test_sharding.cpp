// Parts and shards: every split of a run covers its sequences exactly once, at part
// boundaries, whatever the shard count.
#include <gtest/gtest.h>

#include <cstdlib>

#include "common/errors.h"
#include "pipeline/sharding.h"

namespace seqattr {
namespace {

TEST(Sharding, PartSizeIsAMultipleOf64CoveringTheBatch) {
  EXPECT_EQ(part_size(1), 64);
  EXPECT_EQ(part_size(64), 64);
  EXPECT_EQ(part_size(65), 128);
  EXPECT_EQ(part_size(128), 128);
}

TEST(Sharding, ShardsTileTheRunAtPartBoundaries) {
  for (int64_t sequences : {1, 63, 64, 65, 1000, 4096}) {
    for (int64_t count : {1, 2, 3, 7, 100}) {
      int64_t next = 0, next_part = 0;
      for (int64_t i = 0; i < count; ++i) {
        Shard shard;
        shard.index = i;
        shard.count = count;
        const auto r = shard_range(sequences, 64, shard);
        EXPECT_EQ(r.first, next) << sequences << " " << i << "/" << count;
        EXPECT_EQ(r.first_part, next_part);
        EXPECT_TRUE(r.first % 64 == 0 || r.first == sequences);
        EXPECT_LE(r.end_part - r.first_part, (sequences + 63) / 64 / count + 1);
        next = r.end;
        next_part = r.end_part;
      }
      EXPECT_EQ(next, sequences);
      EXPECT_EQ(next_part, (sequences + 63) / 64);
    }
  }
}

TEST(Sharding, ParsesTheOptionAndRejectsBadValues) {
  const auto shard = resolve_shard("2/5");
  EXPECT_EQ(shard.index, 2);
  EXPECT_EQ(shard.count, 5);
  for (const char* bad : {"5/5", "-1/3", "1", "1/0", "a/b", "1/3x"}) {
    EXPECT_THROW(resolve_shard(bad), InputError) << bad;
  }
}

TEST(Sharding, ReadsASlurmArrayFromTheEnvironment) {
  setenv("SLURM_ARRAY_TASK_ID", "7", 1);
  setenv("SLURM_ARRAY_TASK_MIN", "5", 1);
  setenv("SLURM_ARRAY_TASK_COUNT", "4", 1);
  const auto shard = resolve_shard("");
  EXPECT_EQ(shard.text(), "2/4");
  EXPECT_EQ(shard.source, "Slurm array");
  EXPECT_EQ(resolve_shard("0/1").count, 1);  // an explicit --shard wins
  setenv("SLURM_ARRAY_TASK_ID", "9", 1);  // beyond MIN + COUNT: not a contiguous array
  EXPECT_THROW(resolve_shard(""), InputError);
  unsetenv("SLURM_ARRAY_TASK_ID");
  unsetenv("SLURM_ARRAY_TASK_MIN");
  unsetenv("SLURM_ARRAY_TASK_COUNT");
  EXPECT_TRUE(resolve_shard("").whole());
}

}  // namespace
}  // namespace seqattr
