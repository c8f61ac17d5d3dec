#pragma once
#include <string>

namespace seqattr {

// An output file that appears at its path only when complete. Work is written to a
// temporary file in the same directory (so the final rename is atomic); commit() renames
// it into place. Until then the destructor, or SIGINT/SIGTERM/SIGHUP, removes it. A
// SIGKILL can leave the hidden temporary behind, but never a file at the final path.
// At most one AtomicOutput may be live at a time (it owns the signal handlers).
class AtomicOutput {
 public:
  // Throws InputError naming --output when the directory is missing or unwritable, or the
  // path is a directory.
  explicit AtomicOutput(std::string final_path);
  ~AtomicOutput();
  AtomicOutput(const AtomicOutput&) = delete;
  AtomicOutput& operator=(const AtomicOutput&) = delete;

  // The checks of the constructor, without keeping anything: run them before long work.
  static void check_writable(const std::string& final_path);

  const std::string& temp_path() const { return temp_path_; }
  const std::string& final_path() const { return final_path_; }
  void commit();

 private:
  std::string final_path_;
  std::string temp_path_;
  bool committed_ = false;
};

}  // namespace seqattr
