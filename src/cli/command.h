#pragma once
// A subcommand of `seqattr`: its CLI11 declaration and what runs when it was given.
// Each command's file declares its option table; main.cpp lists the commands.
#include <CLI/CLI.hpp>

#include <functional>

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

// The command line as one shell-quoted string, stored in outputs.
const std::string& command_line();

}  // namespace seqattr::cli
