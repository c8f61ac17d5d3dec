#include "command.h"

#include <memory>

#include "common/log.h"
#include "pipeline/merge_job.h"

namespace seqattr::cli {
namespace {

struct MergeOptions {
  std::vector<std::string> shards;
  std::string output;
  bool quiet = false;
};

}  // namespace

Command merge_command(CLI::App& app) {
  auto o = std::make_shared<MergeOptions>();
  auto* cmd = add_command(
      app, "merge", "Join the shards of one sharded run (attribute --shard I/N) into one file, "
                     "identical to a single process's output");
  cmd->add_option("shards", o->shards, "Shard files, in any order (every shard of the run)")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("--output", o->output, "Merged HDF5 file")->required();
  cmd->add_flag("--quiet,-q", o->quiet, "Only warnings and errors");
  return {cmd, [o] {
            log::configure(o->quiet ? log::Level::Warn : log::Level::Info);
            const auto summary = merge_shards(o->shards, o->output, command_line());
            log::info("merged " + std::to_string(summary.shards) + " shards, " +
                      std::to_string(summary.sequences) + " sequences, into " + summary.output);
          }};
}

}  // namespace seqattr::cli
