#include "cli/command.h"

#include "common/errors.h"

namespace seqattr::cli {

Command logo_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("logo", "Draw an attribution logo (SVG) of one sequence");
  return {cmd, [] { throw InputError("logo: not implemented yet"); }};
}

Command report_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("report", "Write a self-contained HTML report of an output");
  return {cmd, [] { throw InputError("report: not implemented yet"); }};
}

}  // namespace seqattr::cli
