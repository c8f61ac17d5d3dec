#include "io/atomic_output.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <stdexcept>

#include <c10/util/Exception.h>

#include "common/errors.h"

namespace seqattr {
namespace {

// The live temporary path, readable from a signal handler without allocation.
char g_temp_path[4096] = {0};
constexpr int kCleanupSignals[] = {SIGINT, SIGTERM, SIGHUP};

extern "C" void remove_temp_and_reraise(int signal_number) {
  if (g_temp_path[0] != '\0') unlink(g_temp_path);
  std::signal(signal_number, SIG_DFL);
  raise(signal_number);
}

std::string directory_of(const std::string& path) {
  const auto slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

std::string base_name_of(const std::string& path) {
  const auto slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

}  // namespace

AtomicOutput::AtomicOutput(std::string final_path) : final_path_(std::move(final_path)) {
  TORCH_INTERNAL_ASSERT(g_temp_path[0] == '\0', "only one AtomicOutput may be live");
  const std::string base = base_name_of(final_path_);
  if (base.empty()) throw InputError("--output '" + final_path_ + "': is a directory");
  struct stat info {};
  if (stat(final_path_.c_str(), &info) == 0 && S_ISDIR(info.st_mode)) {
    throw InputError("--output '" + final_path_ + "': is a directory");
  }
  const std::string directory = directory_of(final_path_);
  if (stat(directory.c_str(), &info) != 0 || !S_ISDIR(info.st_mode)) {
    throw InputError("--output '" + final_path_ + "': directory '" + directory +
                     "' does not exist");
  }
  std::string pattern = directory + "/." + base + ".XXXXXX.partial";
  if (pattern.size() >= sizeof g_temp_path) {
    throw InputError("--output '" + final_path_ + "': path is too long");
  }
  const int fd = mkstemps(pattern.data(), static_cast<int>(std::strlen(".partial")));
  if (fd < 0) {
    throw InputError("--output '" + final_path_ + "': cannot write in directory '" + directory +
                     "' (" + std::strerror(errno) + ")");
  }
  // mkstemps makes the file 0600; give the output the permissions a plain create would.
  const mode_t mask = umask(0);
  umask(mask);
  fchmod(fd, 0666 & ~mask);
  close(fd);
  temp_path_ = pattern;
  std::strcpy(g_temp_path, temp_path_.c_str());
  for (int s : kCleanupSignals) std::signal(s, remove_temp_and_reraise);
}

void AtomicOutput::check_writable(const std::string& final_path) {
  AtomicOutput probe(final_path);
}

AtomicOutput::~AtomicOutput() {
  for (int s : kCleanupSignals) std::signal(s, SIG_DFL);
  g_temp_path[0] = '\0';
  if (!committed_) unlink(temp_path_.c_str());
}

void AtomicOutput::commit() {
  if (std::rename(temp_path_.c_str(), final_path_.c_str()) != 0) {
    throw InputError("--output '" + final_path_ + "': cannot move the finished file into place (" +
                     std::strerror(errno) + ")");
  }
  committed_ = true;
}

}  // namespace seqattr
