// `seqattr`: runs the commands that need no LibTorch (seqlets) in this process, which does
// not load LibTorch: its static initialisation alone (operator registration, and the
// libraries Debian's build pulls in) takes 0.5 s, more than calling the seqlets of a
// 120-peak file. Every other command, and help for all of them, is seqattr-engine's, run in
// this process's place (execv, same arguments), so a user sees one program.
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "cli_main.h"
#include "common/errors.h"

namespace {

// The command named on the command line: the first argument that is not an option or the
// value of --config (the one option taken before the command).
std::string command_given(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--config") {
      ++i;
      continue;
    }
    if (!arg.empty() && arg[0] != '-') return arg;
  }
  return "";
}

// This program's directory, from /proc/self/exe (symlinks to it resolved).
std::string own_directory() {
  std::vector<char> path(4096);
  const ssize_t n = readlink("/proc/self/exe", path.data(), path.size() - 1);
  if (n <= 0) return ".";
  const std::string exe(path.data(), static_cast<size_t>(n));
  return exe.substr(0, exe.find_last_of('/'));
}

// seqattr-engine beside this program (the build tree) or in ../libexec/seqattr (installed).
std::string engine_path() {
  const std::string dir = own_directory();
  for (const std::string& candidate : {dir + "/seqattr-engine", dir + "/../libexec/seqattr/seqattr-engine"}) {
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return "";
}

}  // namespace

int main(int argc, char** argv) {
  if (command_given(argc, argv) == "seqlets") {
    return seqattr::cli::run_command_line(argc, argv, {seqattr::cli::seqlets_command},
                                          [](const std::exception& e) {
                                            return seqattr::first_line(e.what());
                                          });
  }
  const std::string engine = engine_path();
  if (engine.empty()) {
    std::fprintf(stderr, "error: seqattr-engine not found beside %s or in ../libexec/seqattr\n",
                 own_directory().c_str());
    return 1;
  }
  execv(engine.c_str(), argv);
  std::fprintf(stderr, "error: cannot run %s: %s\n", engine.c_str(), std::strerror(errno));
  return 1;
}
