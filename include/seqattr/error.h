#pragma once
// seqattr::Error, thrown for bad input. Torch-free.
#include <stdexcept>

namespace seqattr {

// Bad input: a missing or malformed file, an unknown option value, a target out of range.
// what() is one line naming the option or file at fault; the command line prints it as
// `error: ...`.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace seqattr
