#include "cli/command.h"

namespace seqattr::cli {

void add_input_and_output(CLI::App* cmd, std::string& input, std::string& output,
                          const std::string& output_help, const std::string& input_help) {
  cmd->add_option("input", input, input_help)->required();
  cmd->add_option("--output,-o", output, output_help)->required();
}

}  // namespace seqattr::cli
