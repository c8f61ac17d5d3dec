#pragma once
// Three levels of failure (see DEVELOPERS.md):
//  - InputError: the user gave something we cannot use. The message names the argument,
//    file, record or value; the CLI prints it as `error: ...` and exits non-zero.
//  - assert / TORCH_INTERNAL_ASSERT: a broken invariant of our own code.
//  - std::runtime_error from a library call (HDF5, CUDA): an environment failure.
#include <stdexcept>
#include <string>

namespace seqattr {

class InputError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// First line of a (possibly multi-line, backtrace-laden) library message.
inline std::string first_line(const std::string& message) {
  const auto end = message.find('\n');
  return end == std::string::npos ? message : message.substr(0, end);
}

}  // namespace seqattr
