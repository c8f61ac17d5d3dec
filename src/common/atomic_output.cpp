#include "common/atomic_output.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <atomic>
#include <cstring>
#include <filesystem>
#include <stdexcept>

#include "common/errors.h"

namespace seqattr {
namespace {

// The live temporaries of every AtomicOutput in the process, readable from a signal
// handler without allocation or locks. A slot is claimed (owner) before its path is
// written and published (ready); the handler reads only ready slots.
constexpr int kLiveTemporaries = 64;
struct TemporarySlot {
  std::atomic<bool> owned{false};
  std::atomic<bool> ready{false};
  char path[4096] = {};
};
TemporarySlot g_temporaries[kLiveTemporaries];
static_assert(std::atomic<bool>::is_always_lock_free, "the signal handler reads these");
constexpr int kCleanupSignals[] = {SIGINT, SIGTERM, SIGHUP};

extern "C" void remove_temporaries_and_reraise(int signal_number) {
  for (auto& slot : g_temporaries) {
    if (slot.ready.load()) unlink(slot.path);
  }
  std::signal(signal_number, SIG_DFL);
  raise(signal_number);
}

int claim_slot() {
  for (int i = 0; i < kLiveTemporaries; ++i) {
    bool expected = false;
    if (g_temporaries[i].owned.compare_exchange_strong(expected, true)) return i;
  }
  throw std::runtime_error("more than " + std::to_string(kLiveTemporaries) +
                           " output files are being written at once");
}

void release_slot(int slot) {
  g_temporaries[slot].ready.store(false);
  g_temporaries[slot].owned.store(false);
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
  if (pattern.size() >= sizeof g_temporaries[0].path) {
    throw InputError("--output '" + final_path_ + "': path is too long");
  }
  slot_ = claim_slot();
  const int fd = mkstemps(pattern.data(), static_cast<int>(std::strlen(kTemporarySuffix)));
  if (fd < 0) {
    release_slot(slot_);
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
  std::strcpy(g_temporaries[slot_].path, temp_path_.c_str());
  g_temporaries[slot_].ready.store(true);
}

void AtomicOutput::check_writable(const std::string& final_path, const std::vector<NamedPath>& inputs) {
  AtomicOutput probe(final_path, inputs);
}

AtomicOutput::~AtomicOutput() {
  if (slot_ < 0) return;
  release_slot(slot_);
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

void remove_temporaries_on_signals() {
  for (int s : kCleanupSignals) std::signal(s, remove_temporaries_and_reraise);
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
