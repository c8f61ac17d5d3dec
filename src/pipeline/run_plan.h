#pragma once
// What every job that writes its output in parts shares (attribute, variants): where a run's
// parts and shard lie, how a finished or foreign output is recognised on --resume, and how
// the output is assembled from the parts, whole or not at all.
#include <nlohmann/json.hpp>

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "common/atomic_output.h"
#include "formats/attribution_file.h"
#include "pipeline/sharding.h"

namespace seqattr {

// Options that do not change what is computed: where it is written and how it is shown.
extern const std::vector<std::string> kPresentationOptions;

struct RunPlan {
  std::string run_id;
  Shard shard;
  int64_t part_size = 0;
  PartRange range;
  nlohmann::json manifest;
};

// The plan for `rows` rows: run_id from `identity` (what the run computes), the shard from
// --shard (or Slurm), parts sized from the batch size.
RunPlan make_plan(const std::string& shard, int64_t batch_size, nlohmann::json identity, int64_t rows);

// A finished output of this very run and shard, found when resuming after completion.
bool already_complete(const std::string& output, const RunPlan& plan);

// --resume with no interrupted run to continue, onto an output that exists: it is a finished
// output of another run (or not seqattr's at all), which --resume must not replace. `now`:
// the options as given now (presentation options left out), compared with those stored.
// Throws InputError; returns when there is no such output.
void refuse_other_finished_output(const std::string& output, const nlohmann::json& now);

// Writes `output` from the part files in order (or, for an empty shard, by write_empty(temp
// path)), then the root attributes and, for a shard, its range. On a failed write the parts
// are kept and the InputError says how to resume.
void assemble_output(const std::string& output, const std::vector<NamedPath>& inputs,
                     const RunPlan& plan, const std::vector<std::string>& part_paths,
                     const std::function<void(const std::string&)>& write_empty,
                     const RunDescription& description, int64_t rows);

class Stopwatch {
 public:
  double lap() {
    const auto now = std::chrono::steady_clock::now();
    const double seconds = std::chrono::duration<double>(now - last_).count();
    last_ = now;
    return seconds;
  }

 private:
  std::chrono::steady_clock::time_point last_ = std::chrono::steady_clock::now();
};

}  // namespace seqattr
