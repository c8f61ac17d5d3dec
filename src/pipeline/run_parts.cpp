#include "pipeline/run_parts.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/atomic_output.h"
#include "common/errors.h"
#include "common/log.h"

namespace seqattr {

std::string parts_directory(const std::string& output) { return output + ".parts"; }
namespace fs = std::filesystem;
namespace {

constexpr const char* kManifest = "run.json";
constexpr const char* kPartPrefix = "part-";
constexpr const char* kPartSuffix = ".h5";

bool is_part_file(const fs::path& path) {
  const auto name = path.filename().string();
  return name.rfind(kPartPrefix, 0) == 0 && path.extension() == kPartSuffix;
}

int64_t count_parts(const std::string& directory) {
  int64_t parts = 0;
  for (const auto& entry : fs::directory_iterator(directory)) parts += is_part_file(entry.path());
  return parts;
}

nlohmann::json read_manifest(const std::string& directory) {
  std::ifstream in(directory + "/" + kManifest);
  if (!in) return nullptr;
  try {
    return nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception&) {
    return nullptr;
  }
}

void write_manifest(const std::string& directory, const nlohmann::json& manifest) {
  const std::string path = directory + "/" + kManifest;
  {
    std::ofstream out(path + ".tmp");
    out << manifest.dump(2) << "\n";
    if (!out.flush()) throw InputError("cannot write '" + path + "' (disk full?)");
  }
  fs::rename(path + ".tmp", path);
}

// Temporary files of parts that were being written when a run was killed (AtomicOutput
// removes its own on errors and SIGINT, SIGTERM and SIGHUP).
void remove_temporaries(const std::string& directory) {
  for (const auto& entry : fs::directory_iterator(directory)) {
    const auto extension = entry.path().extension();
    if (extension == ".partial" || extension == ".tmp") fs::remove(entry.path());
  }
}


// Opens `directory` (creating it when missing) and takes its lock; -1 and no lock when another
// process holds it. Throws InputError when it cannot be created or opened.
int lock_directory(const std::string& directory, bool* created) {
  std::error_code error;
  *created = !fs::exists(directory, error);
  fs::create_directories(directory, error);
  if (error) {
    throw InputError("--output: cannot create '" + directory + "' (" + error.message() + ")");
  }
  const int fd = open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    throw InputError("--output: cannot open '" + directory + "' (" + std::strerror(errno) + ")");
  }
  if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

// Adds the differences of `now` from `before` to *text (see describe_differences).
void collect_differences(const nlohmann::json& before, const nlohmann::json& now,
                         std::string* text) {
  const auto add = [text](const std::string& item) { *text += (text->empty() ? "" : ", ") + item; };
  for (const auto& [key, value] : now.items()) {
    if (key == "run_id") continue;
    const auto old = before.contains(key) ? before[key] : nlohmann::json();
    if (old.is_object() && value.is_object()) {
      collect_differences(old, value, text);
    } else if (old != value) {
      add(key + " (" + old.dump() + " then " + value.dump() + ")");
    }
  }
  for (const auto& [key, value] : before.items()) {
    if (!now.contains(key)) add(key + " (no longer given)");
  }
}

}  // namespace

std::string describe_differences(const nlohmann::json& before, const nlohmann::json& now) {
  std::string text;
  collect_differences(before, now, &text);
  return text;
}

PartStore::PartStore(std::string directory, nlohmann::json manifest, bool resume)
    : directory_(std::move(directory)) {
  bool created = false;
  lock_ = lock_directory(directory_, &created);
  if (lock_ < 0) {
    throw InputError("--output: another seqattr run is writing this output ('" + directory_ +
                     "' is locked); wait for it to finish, or choose another --output");
  }
  try {
    open_store(std::move(manifest), resume);
  } catch (...) {
    std::error_code error;
    if (created) fs::remove_all(directory_, error);
    close(lock_);
    throw;
  }
}

void PartStore::open_store(nlohmann::json manifest, bool resume) {
  std::error_code error;
  if (fs::is_directory(directory_, error) && count_parts(directory_) > 0) {
    if (!resume) {
      throw InputError("--output: '" + directory_ + "' holds " +
                       std::to_string(count_parts(directory_)) +
                       " finished part(s) of an interrupted run; add --resume to continue it, or "
                       "remove that directory to start over");
    }
    const auto before = read_manifest(directory_);
    if (before.is_null()) {
      throw InputError("--resume: '" + directory_ + "/" + kManifest +
                       "' is missing or unreadable; remove '" + directory_ + "' to start over");
    }
    if (before != manifest) {
      throw InputError("--resume: the interrupted run in '" + directory_ +
                       "' had different parameters: " + describe_differences(before, manifest) +
                       "; resume with the original parameters, or remove that directory");
    }
    remove_temporaries(directory_);
    log::info("resuming: " + std::to_string(count_parts(directory_)) + " finished part(s) in " +
              directory_);
    return;
  }
  fs::create_directories(directory_, error);
  if (error) {
    throw InputError("--output: cannot create '" + directory_ + "' (" + error.message() + ")");
  }
  remove_temporaries(directory_);
  write_manifest(directory_, manifest);
}

PartStore::~PartStore() {
  if (!removed_) {
    std::error_code error;
    if (fs::is_directory(directory_, error) && count_parts(directory_) == 0) {
      fs::remove_all(directory_, error);
    }
  }
  if (lock_ >= 0) close(lock_);
}

std::string PartStore::path_of(int64_t part) const {
  char name[64];
  std::snprintf(name, sizeof name, "%s%08ld%s", kPartPrefix, static_cast<long>(part), kPartSuffix);
  return directory_ + "/" + name;
}

bool PartStore::has(int64_t part) const { return fs::exists(path_of(part)); }

int64_t PartStore::finished() const { return count_parts(directory_); }

void PartStore::add(int64_t part, const std::function<void(const std::string&)>& write) {
  AtomicOutput output(path_of(part));
  errno = 0;
  try {
    write(output.temp_path());
  } catch (const std::runtime_error& e) {
    if (dynamic_cast<const InputError*>(&e)) throw;
    // HDF5 reports only that a write failed; errno says why (ENOSPC, EDQUOT, EIO).
    const std::string reason = errno ? std::strerror(errno) : first_line(e.what());
    throw InputError("cannot write part " + std::to_string(part) + " in '" + directory_ + "' (" +
                     reason + "); the " + std::to_string(count_parts(directory_)) +
                     " finished part(s) there are kept for --resume");
  }
  output.commit();
}

void PartStore::remove() {
  fs::remove_all(directory_);
  removed_ = true;
}

}  // namespace seqattr
