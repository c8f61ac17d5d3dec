#include "io/atomic_output.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <stdexcept>

#include <c10/util/Exception.h>

#include "common/errors.h"

namespace seqattr {
namespace {

// The live temporary paths, readable from a signal handler without allocation.
constexpr int kLiveTemporaries = 4;
char g_temp_paths[kLiveTemporaries][4096] = {};
constexpr int kCleanupSignals[] = {SIGINT, SIGTERM, SIGHUP};

extern "C" void remove_temp_and_reraise(int signal_number) {
  for (auto& path : g_temp_paths) {
    if (path[0] != '\0') unlink(path);
  }
  std::signal(signal_number, SIG_DFL);
  raise(signal_number);
}

int live_temporaries() {
  int live = 0;
  for (const auto& path : g_temp_paths) live += path[0] != '\0';
  return live;
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

// Temporaries of an output are `.NAME.XXXXXX.partial` beside it (XXXXXX: mkstemps' six).
constexpr char kTemporarySuffix[] = ".partial";
constexpr size_t kUniqueCharacters = 6;

std::string temporary_prefix(const std::string& final_path) {
  return "." + base_name_of(final_path) + ".";
}

}  // namespace

void refuse_overwriting_inputs(const std::string& option, const std::string& path,
                               const std::vector<NamedPath>& inputs) {
  struct stat out {};
  if (stat(path.c_str(), &out) != 0) return;  // a new file is no input
  for (const auto& [input_option, input] : inputs) {
    struct stat in {};
    if (input.empty() || stat(input.c_str(), &in) != 0) continue;
    if (in.st_dev == out.st_dev && in.st_ino == out.st_ino) {
      throw InputError(option + " '" + path + "': is the same file as " + input_option + " '" +
                       input + "'; writing it would destroy the input");
    }
  }
}

AtomicOutput::AtomicOutput(std::string final_path, const std::vector<NamedPath>& inputs)
    : final_path_(std::move(final_path)) {
  const std::string base = base_name_of(final_path_);
  if (base.empty()) throw InputError("--output '" + final_path_ + "': is a directory");
  struct stat info {};
  if (stat(final_path_.c_str(), &info) == 0 && S_ISDIR(info.st_mode)) {
    throw InputError("--output '" + final_path_ + "': is a directory");
  }
  if (lstat(final_path_.c_str(), &info) == 0 && !S_ISREG(info.st_mode)) {
    throw InputError("--output '" + final_path_ + "': exists and is not a regular file (" +
                     (S_ISLNK(info.st_mode) ? "a symbolic link" : "a device, FIFO or socket") +
                     "); seqattr replaces only regular files");
  }
  refuse_overwriting_inputs("--output", final_path_, inputs);
  const std::string directory = directory_of(final_path_);
  if (stat(directory.c_str(), &info) != 0 || !S_ISDIR(info.st_mode)) {
    throw InputError("--output '" + final_path_ + "': directory '" + directory +
                     "' does not exist");
  }
  std::string pattern = directory + "/" + temporary_prefix(final_path_) +
                        std::string(kUniqueCharacters, 'X') + kTemporarySuffix;
  if (pattern.size() >= sizeof g_temp_paths[0]) {
    throw InputError("--output '" + final_path_ + "': path is too long");
  }
  for (int i = 0; i < kLiveTemporaries && slot_ < 0; ++i) {
    if (g_temp_paths[i][0] == '\0') slot_ = i;
  }
  TORCH_INTERNAL_ASSERT(slot_ >= 0, "at most ", kLiveTemporaries, " AtomicOutputs may be live");
  const int fd = mkstemps(pattern.data(), static_cast<int>(std::strlen(kTemporarySuffix)));
  if (fd < 0) {
    slot_ = -1;
    throw InputError("--output '" + final_path_ + "': cannot write in directory '" + directory +
                     "' (" + std::strerror(errno) + ")");
  }
  // mkstemps makes the file 0600; give the output the permissions a plain create would.
  const mode_t mask = umask(0);
  umask(mask);
  fchmod(fd, 0666 & ~mask);
  close(fd);
  temp_path_ = pattern;
  if (live_temporaries() == 0) {
    for (int s : kCleanupSignals) std::signal(s, remove_temp_and_reraise);
  }
  std::strcpy(g_temp_paths[slot_], temp_path_.c_str());
}

void AtomicOutput::check_writable(const std::string& final_path, const std::vector<NamedPath>& inputs) {
  AtomicOutput probe(final_path, inputs);
}

AtomicOutput::~AtomicOutput() {
  if (slot_ < 0) return;
  g_temp_paths[slot_][0] = '\0';
  if (live_temporaries() == 0) {
    for (int s : kCleanupSignals) std::signal(s, SIG_DFL);
  }
  if (!committed_) unlink(temp_path_.c_str());
}

void AtomicOutput::commit() {
  struct stat info {};
  if (lstat(final_path_.c_str(), &info) == 0 && !S_ISREG(info.st_mode)) {
    throw InputError("--output '" + final_path_ + "': became something other than a regular "
                     "file while seqattr ran; not replaced");
  }
  if (std::rename(temp_path_.c_str(), final_path_.c_str()) != 0) {
    throw InputError("--output '" + final_path_ + "': cannot move the finished file into place (" +
                     std::strerror(errno) + ")");
  }
  committed_ = true;
}

int remove_stale_temporaries(const std::string& final_path) {
  const std::string prefix = temporary_prefix(final_path);
  const std::string suffix = kTemporarySuffix;
  const size_t length = prefix.size() + kUniqueCharacters + suffix.size();
  std::error_code error;
  int removed = 0;
  for (const auto& entry : std::filesystem::directory_iterator(directory_of(final_path), error)) {
    const std::string name = entry.path().filename().string();
    if (name.size() != length || name.compare(0, prefix.size(), prefix) != 0 ||
        name.compare(name.size() - suffix.size(), suffix.size(), suffix) != 0) {
      continue;
    }
    std::error_code ignored;
    if (entry.is_regular_file(ignored) && std::filesystem::remove(entry.path(), ignored)) ++removed;
  }
  return removed;
}

}  // namespace seqattr
