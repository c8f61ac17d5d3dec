#pragma once
#include <chrono>
#include <cstdint>
#include <string>

namespace seqattr {

// A progress bar with rate and ETA on stderr. It draws only when enabled (stderr is a
// terminal and the user did not ask for --quiet) and only once the run has lasted
// `delay`, so short runs print nothing.
class ProgressBar {
 public:
  ProgressBar(std::string label, int64_t total, bool enabled,
              std::chrono::milliseconds delay = std::chrono::milliseconds(2000));
  ~ProgressBar();
  void update(int64_t done);
  void finish();

  // Whether a bar may be drawn: stderr is a terminal and output is not quiet.
  static bool wanted(bool quiet);

 private:
  std::string label_;
  int64_t total_;
  bool enabled_;
  bool drawn_ = false;
  std::chrono::milliseconds delay_;
  std::chrono::steady_clock::time_point start_, last_draw_;
};

}  // namespace seqattr
