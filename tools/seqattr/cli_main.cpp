#include "cli_main.h"

#include <CLI/CLI.hpp>

#include <cstdio>
#include <string>
#include <vector>

#include "command.h"
#include "common/atomic_output.h"
#include "common/errors.h"
#include "common/heap.h"
#include "preset_file.h"

namespace {

std::string g_command_line;

std::string shell_quote(const std::string& word) {
  if (!word.empty() && word.find_first_of(" \t\n'\"\\$`*?;&|<>()") == std::string::npos) {
    return word;
  }
  std::string quoted = "'";
  for (char c : word) quoted += (c == '\'') ? std::string("'\\''") : std::string(1, c);
  return quoted + "'";
}

std::string join_command_line(int argc, char** argv) {
  std::string line;
  for (int i = 0; i < argc; ++i) line += (i ? " " : "") + shell_quote(argv[i]);
  return line;
}

int fail(const std::string& message) {
  std::fprintf(stderr, "error: %s\n", seqattr::escape_control_bytes(message).c_str());
  return 1;
}

// The preset file named on the command line (for messages), or "".
std::string config_path(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--config" && i + 1 < argc) return argv[i + 1];
    if (arg.rfind("--config=", 0) == 0) return arg.substr(9);
  }
  return "";
}

// The subcommand given, whose table of a preset applies.
std::string command_name(const CLI::App& app, int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    for (const auto* sub : app.get_subcommands([](const CLI::App*) { return true; })) {
      if (sub->get_name() == argv[i]) return argv[i];
    }
  }
  return "";
}

}  // namespace

const std::string& seqattr::cli::command_line() { return g_command_line; }

int seqattr::cli::run_command_line(int argc, char** argv, const std::vector<CommandFactory>& factories,
                                   const ErrorMessage& error_message) {
  // Process-wide settings are the program's to make, not the library's.
  seqattr::heap::keep_freed_memory_for_reuse();
  seqattr::remove_temporaries_on_signals();
  g_command_line = join_command_line(argc, argv);
  CLI::App app{"seqattr: attributions for convolutional DNA sequence models"};
  app.set_version_flag("--version", SEQATTR_VERSION);
  app.require_subcommand(1);
  // Presets: a TOML file whose [attribute] table holds option values. They are applied
  // first; flags on the command line override them. Accepted before or after the command.
  app.set_config("--config", "", "Preset file (TOML, see configs/); command-line flags override it");
  std::vector<Command> commands;
  for (const auto& factory : factories) commands.push_back(factory(app));
  app.config_formatter(std::make_shared<PresetFormat>(&app, config_path(argc, argv),
                                                      command_name(app, argc, argv)));

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    const bool unknown_command = app.get_subcommands().empty() && argc > 1 && argv[1][0] != '-';
    const std::string message = unknown_command ? "unknown command '" + std::string(argv[1]) + "'"
                                                : seqattr::first_line(e.what());
    std::fprintf(stderr, "error: %s (see '%s --help')\n", seqattr::escape_control_bytes(message).c_str(), argv[0]);
    return 2;
  }

  try {
    for (const auto& command : commands) {
      if (command.app->parsed()) command.run();
    }
  } catch (const std::exception& e) {
    return fail(error_message(e));
  }
  return 0;
}
