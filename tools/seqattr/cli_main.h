#pragma once
// The command line's one driver: parse, apply presets, validate once, run, report. The
// engine (main.cpp) runs it with every command; the launcher (launcher.cpp) with the
// commands that need no LibTorch.
#include <exception>
#include <functional>
#include <string>
#include <vector>

#include "command.h"

namespace seqattr::cli {

using CommandFactory = Command (*)(CLI::App&);
// The one line printed after "error: " for an exception a command threw.
using ErrorMessage = std::function<std::string(const std::exception&)>;

int run_command_line(int argc, char** argv, const std::vector<CommandFactory>& commands,
                     const ErrorMessage& error_message);

}  // namespace seqattr::cli
