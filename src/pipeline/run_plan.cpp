#include "pipeline/run_plan.h"

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "common/errors.h"
#include "common/file_hash.h"
#include "common/hdf5.h"
#include "formats/row_files.h"
#include "pipeline/run_parts.h"

namespace seqattr {

const std::vector<std::string> kPresentationOptions = {"output", "shard",   "resume",
                                                       "quiet",  "verbose", "threads"};

RunPlan make_plan(const std::string& shard, int64_t batch_size, nlohmann::json identity, int64_t rows) {
  RunPlan plan;
  plan.run_id = sha256_of_text(identity.dump());
  plan.shard = resolve_shard(shard);
  plan.part_size = part_size(batch_size);
  plan.range = shard_range(rows, plan.part_size, plan.shard);
  plan.manifest = std::move(identity);
  plan.manifest["run_id"] = plan.run_id;
  plan.manifest["shard"] = plan.shard.text();
  plan.manifest["part_size"] = plan.part_size;
  return plan;
}


bool already_complete(const std::string& output, const RunPlan& plan) {
  std::error_code error;
  if (!std::filesystem::exists(output, error) ||
      std::filesystem::exists(parts_directory(output), error)) {
    return false;
  }
  try {
    auto file = h5::open_file_for_reading(output);
    const std::string shard = h5::has_attribute(file.get(), "shard")
                                  ? h5::read_string_attribute(file.get(), "shard")
                                  : "0/1";
    return h5::has_attribute(file.get(), "run_id") &&
           h5::read_string_attribute(file.get(), "run_id") == plan.run_id &&
           shard == plan.shard.text();
  } catch (const std::runtime_error&) {
    return false;
  }
}

void refuse_other_finished_output(const std::string& output, const nlohmann::json& now) {
  std::error_code error;
  if (!std::filesystem::exists(output, error) ||
      std::filesystem::exists(parts_directory(output), error)) {
    return;
  }
  std::string differs;
  try {
    auto file = h5::open_file_for_reading(output);
    const auto stored = nlohmann::json::parse(h5::read_string_attribute(file.get(), "parameters"));
    // The options as given now, against their stored values (the notes stored beside them,
    // such as threads_used, are not options).
    nlohmann::json before = nlohmann::json::object();
    for (const auto& [key, value] : now.items()) {
      if (stored.contains(key)) before[key] = stored[key];
    }
    differs = describe_differences(before, now);
  } catch (const std::exception&) {
    throw InputError("--resume: '" + output + "' exists and is not a seqattr output; it was "
                     "left as it is (remove it, or choose another --output)");
  }
  throw InputError("--resume: '" + output + "' is a finished output of a different run" +
                   (differs.empty() ? std::string(" (model, inputs or threads)")
                                    : " (" + differs + ")") +
                   "; it was left as it is: remove it to recompute, or choose another --output");
}


void assemble_output(const std::string& output_path, const std::vector<NamedPath>& inputs,
                     const RunPlan& plan, const std::vector<std::string>& part_paths,
                     const std::function<void(const std::string&)>& write_empty,
                     const RunDescription& description, int64_t rows) {
  AtomicOutput output(output_path, inputs);
  errno = 0;
  try {
    if (part_paths.empty()) {
      write_empty(output.temp_path());
    } else {
      auto file = h5::create_file(output.temp_path());
      concatenate_rows(part_paths, file.get(), "part");
      file.close();
    }
    auto file = h5::open_file_for_writing(output.temp_path());
    write_description(file.get(), description);
    if (!plan.shard.whole()) {
      h5::write_attribute(file.get(), "shard", plan.shard.text());
      h5::write_attribute(file.get(), "shard_first", plan.range.first);
      h5::write_attribute(file.get(), "shard_end", plan.range.end);
      h5::write_attribute(file.get(), "run_sequences", rows);
    }
    file.close();
  } catch (const std::runtime_error& e) {
    if (dynamic_cast<const InputError*>(&e)) throw;
    // HDF5 reports only that a write or close failed; errno says why (ENOSPC, EDQUOT, EIO).
    const std::string reason = errno ? std::strerror(errno) : first_line(e.what());
    throw InputError("cannot write --output '" + output_path + "' (" + reason +
                     "); the finished parts in '" + parts_directory(output_path) +
                     "' are kept: make room, then run again with --resume");
  }
  output.commit();
}

}  // namespace seqattr
