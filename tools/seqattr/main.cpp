// seqattr-engine: every command (cli_main.h). `seqattr` (launcher.cpp) runs the
// commands that need no LibTorch itself and hands the rest to this program.
#include "cli_main.h"
#include "core/error_message.h"

int main(int argc, char** argv) {
  using namespace seqattr::cli;
  return run_command_line(argc, argv,
                          {attribute_command, merge_command, export_bigwig_command,
                           export_modisco_command, logo_command, report_command, bench_command,
                           inspect_command, convert_command, variants_command, seqlets_command,
                           export_bed_command},
                          [](const std::exception& e) { return seqattr::error_message(e); });
}
