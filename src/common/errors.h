#pragma once
// Three levels of failure (see DEVELOPERS.md):
//  - InputError: the user gave something we cannot use. The message names the argument,
//    file, record or value; the CLI prints it as `error: ...` and exits non-zero.
//  - SEQATTR_ASSERT (torch-free code) / TORCH_INTERNAL_ASSERT: a broken invariant of our
//    own code; checked in release builds too.
//  - std::runtime_error from a library call (HDF5, CUDA): an environment failure.
#include <stdexcept>
#include <string>

#include "seqattr/error.h"

namespace seqattr {

// Control bytes (a NUL from a binary input, an escape sequence) shown as \xNN, so that a
// message is one whole printable line.
inline std::string escape_control_bytes(const std::string& message) {
  static const char hex[] = "0123456789abcdef";
  std::string shown;
  for (const unsigned char c : message) {
    if (c < 0x20 || c == 0x7f) {
      shown += {'\\', 'x', hex[c >> 4], hex[c & 15]};
    } else {
      shown += static_cast<char>(c);
    }
  }
  return shown;
}

// Bad user input. what() is one line: control bytes in the message are escaped here, before
// what()'s C string could cut it at a NUL.
class InputError : public Error {
 public:
  explicit InputError(const std::string& message) : Error(escape_control_bytes(message)) {}
};

// First line of a (possibly multi-line, backtrace-laden) library message.
inline std::string first_line(const std::string& message) {
  const auto end = message.find('\n');
  return end == std::string::npos ? message : message.substr(0, end);
}

}  // namespace seqattr

// A broken invariant of seqattr's own code (not bad input): throws std::logic_error naming
// the condition and where, in every build type.
#define SEQATTR_ASSERT(condition)                                                     \
  do {                                                                                \
    if (!(condition)) {                                                               \
      throw std::logic_error(std::string("internal error: ") + __FILE__ + ":" +       \
                             std::to_string(__LINE__) + ": " #condition " failed");  \
    }                                                                                 \
  } while (false)
