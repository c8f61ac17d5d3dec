#pragma once
// Three levels of failure (see DEVELOPERS.md):
//  - InputError: the user gave something we cannot use. The message names the argument,
//    file, record or value; the CLI prints it as `error: ...` and exits non-zero.
//  - assert / TORCH_INTERNAL_ASSERT: a broken invariant of our own code.
//  - std::runtime_error from a library call (HDF5, CUDA): an environment failure.
#include <stdexcept>
#include <string>

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
class InputError : public std::runtime_error {
 public:
  explicit InputError(const std::string& message)
      : std::runtime_error(escape_control_bytes(message)) {}
};

// First line of a (possibly multi-line, backtrace-laden) library message.
inline std::string first_line(const std::string& message) {
  const auto end = message.find('\n');
  return end == std::string::npos ? message : message.substr(0, end);
}

}  // namespace seqattr
