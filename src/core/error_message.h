#pragma once
// The one line a command prints for an error, whatever threw it. Torch-free, so that the
// command line can report LibTorch's errors without including LibTorch.
#include <exception>
#include <string>

namespace seqattr {

// InputError: its message as is. LibTorch's c10::Error: the first line of its message,
// without the C++ backtrace. Anything else: what().
std::string error_message(const std::exception& error);

}  // namespace seqattr
