#pragma once
// --device as parsed once, when options are validated; resolved against the machine's
// devices (core/device.h) only when a job starts. Torch-free.
#include <string>

namespace seqattr {

struct DeviceChoice {
  enum class Kind { Auto, Cpu, Cuda };
  Kind kind = Kind::Auto;
  int index = -1;  // cuda:N; -1 (plain "cuda"): device 0
  std::string text;  // as given, for messages
};

// "auto" (CUDA when available, else CPU), "cpu", "cuda" or "cuda:N" (N at most 4 digits).
// Throws InputError naming --device when malformed.
DeviceChoice parse_device(const std::string& name);

}  // namespace seqattr
