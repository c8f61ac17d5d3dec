#include "cli/command.h"

#include "common/errors.h"

namespace seqattr::cli {

Command merge_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("merge", "Merge the shards of one sharded run into one file");
  return {cmd, [] { throw InputError("merge: not implemented yet"); }};
}

}  // namespace seqattr::cli
