#pragma once
// A subcommand of `seqattr`: its CLI11 declaration and what runs when it was given.
// Each command's file declares its option table; main.cpp lists the commands.
#include <CLI/CLI.hpp>

#include <functional>
#include <string>

namespace seqattr::cli {

struct Command {
  CLI::App* app = nullptr;       // the subcommand, owned by the parent app
  std::function<void()> run;     // called after parsing when app->parsed()
};

// Each adds one subcommand to `app`. Options are bound to storage the Command owns.
Command attribute_command(CLI::App& app);
Command merge_command(CLI::App& app);
Command export_bigwig_command(CLI::App& app);
Command export_modisco_command(CLI::App& app);
Command logo_command(CLI::App& app);
Command report_command(CLI::App& app);
Command bench_command(CLI::App& app);
Command inspect_command(CLI::App& app);
Command convert_command(CLI::App& app);
Command variants_command(CLI::App& app);
Command seqlets_command(CLI::App& app);
Command export_bed_command(CLI::App& app);

// A subcommand of `app` whose help shows every option's default, and after whose name
// --config (the parent's option) may still be given.
CLI::App* add_command(CLI::App& app, const std::string& name, const std::string& description);

// The positional input (a seqattr output file) and the required --output/-o of the commands
// that read one output and write one file from it (logo, report, export-bigwig).
void add_input_and_output(CLI::App* cmd, std::string& input, std::string& output,
                          const std::string& output_help,
                          const std::string& input_help = "seqattr output file (HDF5)");

// How the model is read (core/model_adapter.h): --target, --head, --reduce,
// --input-layout, --extra-inputs. Shared by attribute, bench and inspect.
void add_model_interface_options(CLI::App* cmd, std::string& target, std::string& head,
                                 std::string& reduce, std::string& input_layout,
                                 std::string& extra_inputs);

// The command line as one shell-quoted string, stored in outputs.
const std::string& command_line();

}  // namespace seqattr::cli
