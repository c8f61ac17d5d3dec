#include "pipeline/merge_job.h"

#include <algorithm>
#include <set>

#include <nlohmann/json.hpp>

#include "common/atomic_output.h"
#include "common/errors.h"
#include "common/hdf5.h"
#include "formats/row_files.h"
#include "pipeline/run_parts.h"

namespace seqattr {
namespace {

// Root attributes that describe one shard, not the run.
const std::set<std::string> kShardAttributes = {"shard", "shard_first", "shard_end",
                                                "run_sequences", "command_line"};

struct ShardInfo {
  std::string path;
  std::string run_id;
  int64_t index = 0, count = 0;
  int64_t first = 0, end = 0, run_sequences = 0;
};

ShardInfo read_shard_info(const std::string& path) {
  ShardInfo info;
  info.path = path;
  h5::Handle file;
  try {
    file = h5::open_file_for_reading(path);
  } catch (const std::runtime_error&) {
    throw InputError("merge: '" + path + "': cannot open as HDF5");
  }
  const hid_t root = file.get();
  for (const char* name : {"run_id", "shard", "shard_first", "shard_end", "run_sequences"}) {
    if (!h5::has_attribute(root, name)) {
      throw InputError("merge: '" + path + "' is not a shard of a seqattr run (no '" + name +
                       "' attribute; shards are written by 'seqattr attribute --shard I/N')");
    }
  }
  info.run_id = h5::read_string_attribute(root, "run_id");
  const auto shard = h5::read_string_attribute(root, "shard");
  if (std::sscanf(shard.c_str(), "%ld/%ld", &info.index, &info.count) != 2) {
    throw InputError("merge: '" + path + "': malformed shard attribute '" + shard + "'");
  }
  info.first = h5::read_int_attribute(root, "shard_first");
  info.end = h5::read_int_attribute(root, "shard_end");
  info.run_sequences = h5::read_int_attribute(root, "run_sequences");
  return info;
}

// The recorded parameters in which two shards differ ("threads_used (1 then 2)"), or ""
// when they agree there (then the model or the inputs differ).
std::string parameter_differences(const std::string& a_path, const std::string& b_path) {
  try {
    const auto read = [](const std::string& path) {
      auto file = h5::open_file_for_reading(path);
      auto parameters = nlohmann::json::parse(h5::read_string_attribute(file.get(), "parameters"));
      for (const char* per_shard : {"output", "shard", "resume", "quiet", "verbose"}) {
        parameters.erase(per_shard);
      }
      return parameters;
    };
    return describe_differences(read(a_path), read(b_path));
  } catch (const std::exception&) {
    return "";
  }
}

// Same run, every shard once, rows contiguous and complete. Sorts `shards` by row.
void check_complete(std::vector<ShardInfo>& shards) {
  const auto& a = shards.front();
  for (const auto& s : shards) {
    if (s.run_id != a.run_id || s.count != a.count || s.run_sequences != a.run_sequences) {
      const std::string differs = parameter_differences(a.path, s.path);
      throw InputError("merge: '" + s.path + "' and '" + a.path + "' are shards of different " +
                       "runs (" + (differs.empty() ? "their model or inputs differ" : differs) +
                       ")");
    }
  }
  std::sort(shards.begin(), shards.end(),
            [](const ShardInfo& x, const ShardInfo& y) { return x.index < y.index; });
  for (size_t i = 1; i < shards.size(); ++i) {
    if (shards[i].index == shards[i - 1].index) {
      throw InputError("merge: shard " + std::to_string(shards[i].index) + "/" +
                       std::to_string(a.count) + " is given twice ('" + shards[i - 1].path +
                       "' and '" + shards[i].path + "')");
    }
  }
  std::set<int64_t> present;
  for (const auto& s : shards) present.insert(s.index);
  std::string missing;
  for (int64_t i = 0; i < a.count; ++i) {
    if (!present.count(i)) missing += (missing.empty() ? "" : ", ") + std::to_string(i);
  }
  if (!missing.empty()) {
    throw InputError("merge: the run has " + std::to_string(a.count) + " shards; missing shard(s) " +
                     missing + " (a gap in the rows)");
  }
  int64_t row = 0;
  for (const auto& s : shards) {
    if (s.first != row) {
      throw InputError("merge: '" + s.path + "' starts at sequence " + std::to_string(s.first) +
                       ", expected " + std::to_string(row));
    }
    row = s.end;
  }
  if (row != a.run_sequences) {
    throw InputError("merge: the shards end at sequence " + std::to_string(row) + " of " +
                     std::to_string(a.run_sequences));
  }
}

}  // namespace

MergeSummary merge_shards(const std::vector<std::string>& paths, const std::string& output,
                          const std::string& command_line) {
  if (paths.empty()) throw InputError("merge: no shard files given");
  std::vector<ShardInfo> shards;
  for (const auto& path : paths) shards.push_back(read_shard_info(path));
  check_complete(shards);
  std::vector<std::string> ordered;
  for (const auto& s : shards) {
    const int64_t rows = count_rows(s.path, "merge:");
    if (rows != s.end - s.first) {
      throw InputError("merge: '" + s.path + "' holds " + std::to_string(rows) +
                       " sequences, its attributes say " + std::to_string(s.end - s.first));
    }
    ordered.push_back(s.path);
  }

  std::vector<NamedPath> inputs;
  for (const auto& path : paths) inputs.emplace_back("shard", path);
  AtomicOutput out(output, inputs);
  {
    auto file = h5::create_file(out.temp_path());
    concatenate_rows(ordered, file.get(), "merge:");
    auto first = h5::open_file_for_reading(ordered.front());
    for (const auto& name : h5::attribute_names(first.get())) {
      if (!kShardAttributes.count(name)) h5::copy_attribute(first.get(), file.get(), name);
    }
    h5::write_attribute(file.get(), "command_line", command_line);
    file.close();
  }
  out.commit();
  return {static_cast<int64_t>(shards.size()), shards.front().run_sequences, output};
}

}  // namespace seqattr
