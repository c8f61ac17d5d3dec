#pragma once
#include <torch/torch.h>

#include <string>

#include "common/cores.h"  // available_cores, effective_threads (LibTorch's intra-op threads)
#include "core/device_choice.h"

namespace seqattr {

// The device of a parsed --device. Throws InputError naming --device when it is not
// available (no CUDA, or no such device).
torch::Device resolve_device(const DeviceChoice& choice);
// parse_device, then resolve_device.
torch::Device resolve_device(const std::string& name);

// LibTorch's intra-op thread count, process-wide state, set for a scope: a job sets it and
// puts back what the caller had when it ends, so that library calls leave no trace.
class ScopedThreadCount {
 public:
  explicit ScopedThreadCount(int threads) : previous_(torch::get_num_threads()) {
    torch::set_num_threads(threads);
  }
  ~ScopedThreadCount() { torch::set_num_threads(previous_); }
  ScopedThreadCount(const ScopedThreadCount&) = delete;
  ScopedThreadCount& operator=(const ScopedThreadCount&) = delete;

 private:
  int previous_;
};

}  // namespace seqattr
