#pragma once
// Where a run's time goes, by LibTorch operator (aten's, and seqattr's own rule and kernel
// ops): LibTorch's profiler records every dispatched operator, and each one's self time (its
// time less that of the operators it called) is summed by name.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace seqattr {

struct OpTime {
  std::string name;
  int64_t calls = 0;
  double self_ms = 0;   // less the operators it called
  double total_ms = 0;  // including them (an operator calling itself counts once per level)
};

// Runs `work` once under LibTorch's CPU profiler; the operators by self time, largest first.
// Empty where this LibTorch has no legacy profiler. Only the calling thread's operators
// count (work inside intra-op threads is in its caller's time).
std::vector<OpTime> profile_ops(const std::function<void()>& work);

}  // namespace seqattr
