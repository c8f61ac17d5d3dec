#pragma once
#include <string>
#include <utility>
#include <vector>

namespace seqattr {

// An input of a command, by the option that named it ("--fasta") and its path.
using NamedPath = std::pair<std::string, std::string>;

// An output file that appears at its path only when complete. Work is written to a
// temporary file in the same directory (so the final rename is atomic); commit() renames
// it into place. Until then the destructor removes it, and so does SIGINT/SIGTERM/SIGHUP
// once the program has called remove_temporaries_on_signals(). A SIGKILL can leave the
// hidden temporary behind, but never a file at the final path. Up to 64 may be live at
// once, in any threads (an export that writes two files commits both, or neither).
class AtomicOutput {
 public:
  // Throws InputError naming --output when the directory is missing or unwritable, the
  // path is a directory or another non-regular file (a device, a FIFO: never renamed
  // over), or the path is the same file as one of `inputs` (device and inode compared,
  // links followed), which the output would destroy.
  explicit AtomicOutput(std::string final_path, const std::vector<NamedPath>& inputs = {});
  ~AtomicOutput();
  AtomicOutput(const AtomicOutput&) = delete;
  AtomicOutput& operator=(const AtomicOutput&) = delete;

  // The checks of the constructor, without keeping anything: run them before long work.
  static void check_writable(const std::string& final_path, const std::vector<NamedPath>& inputs = {});

  const std::string& temp_path() const { return temp_path_; }
  const std::string& final_path() const { return final_path_; }
  void commit();

 private:
  std::string final_path_;
  std::string temp_path_;
  int slot_ = -1;  // in the signal handler's table of live temporaries
  bool committed_ = false;
};

// Throws InputError naming `option` when `path` is the same file as one of `inputs`.
void refuse_overwriting_inputs(const std::string& option, const std::string& path,
                               const std::vector<NamedPath>& inputs);

// Installs handlers of SIGINT, SIGTERM and SIGHUP that remove every live AtomicOutput's
// temporary, then die of the signal as they would have. Process-wide: the program (the
// command line) calls it once; the library never installs handlers itself.
void remove_temporaries_on_signals();

// Removes temporaries of `final_path` left by a killed (SIGKILL) earlier run:
// `.NAME.XXXXXX.partial` beside it. Call only while holding what makes this process the one
// writer of `final_path` (the lock on OUTPUT.parts). Returns how many were removed.
int remove_stale_temporaries(const std::string& final_path);

}  // namespace seqattr
