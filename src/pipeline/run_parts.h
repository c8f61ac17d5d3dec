#pragma once
// A run's finished parts, one small HDF5 file each, kept in a directory beside the output
// until the output is assembled from them. A part file appears under its final name only
// when complete (written to a temporary name, then renamed), so after any interruption,
// kill -9 included, every part file present is whole: --resume recomputes nothing that
// was finished and loses nothing.
#include <nlohmann/json.hpp>

#include <functional>
#include <string>

namespace seqattr {

// The settings whose values differ, e.g. "n_steps (50 then 20), seed (no longer given)";
// nested objects (the parameters, the input digests) are compared key by key, and a
// run_id derived from them is left out. "" when they agree.
std::string describe_differences(const nlohmann::json& before, const nlohmann::json& now);

// Where a run keeps its finished parts until the output is assembled: OUTPUT.parts.
std::string parts_directory(const std::string& output);

class PartStore {
 public:
  // `manifest` describes the run (options that change results, input digests, shape).
  // A directory left by an earlier run that holds finished parts is continued when
  // `resume`, after checking that its manifest equals this one (else InputError naming the
  // parameters that differ); without `resume` it is an InputError that says how to go on.
  // A directory without finished parts is simply reused. The directory is locked (flock)
  // for the store's life: a second run on the same output is an InputError that says so,
  // before it touches anything.
  PartStore(std::string directory, nlohmann::json manifest, bool resume);
  // Removes the directory if no part was finished (nothing worth keeping).
  ~PartStore();
  PartStore(const PartStore&) = delete;
  PartStore& operator=(const PartStore&) = delete;

  const std::string& directory() const { return directory_; }
  std::string path_of(int64_t part) const;
  bool has(int64_t part) const;
  int64_t finished() const;  // part files present
  // Writes part `part` by calling write(temporary path), then renames it into place.
  void add(int64_t part, const std::function<void(const std::string&)>& write);
  // Deletes the directory and its files (after the output was assembled).
  void remove();

 private:
  void open_store(nlohmann::json manifest, bool resume);

  std::string directory_;
  int lock_ = -1;  // the directory, opened and flock'ed
  bool removed_ = false;
};

}  // namespace seqattr
