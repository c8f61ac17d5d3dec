#include "command.h"

namespace seqattr::cli {

CLI::App* add_command(CLI::App& app, const std::string& name, const std::string& description) {
  auto* cmd = app.add_subcommand(name, description);
  cmd->option_defaults()->always_capture_default();
  // --config belongs to the parent app (main.cpp): accepted after any command's name too.
  cmd->fallthrough();
  return cmd;
}

void add_input_and_output(CLI::App* cmd, std::string& input, std::string& output,
                          const std::string& output_help, const std::string& input_help) {
  cmd->add_option("input", input, input_help)->required();
  cmd->add_option("--output,-o", output, output_help)->required();
}

}  // namespace seqattr::cli
