#include "core/op_profile.h"

#include <algorithm>
#include <map>

#if __has_include(<torch/csrc/autograd/profiler_legacy.h>)
#include <torch/csrc/autograd/profiler_legacy.h>
#define SEQATTR_HAS_LEGACY_PROFILER 1
#else
#define SEQATTR_HAS_LEGACY_PROFILER 0
#endif

namespace seqattr {

#if SEQATTR_HAS_LEGACY_PROFILER
std::vector<OpTime> profile_ops(const std::function<void()>& work) {
  namespace profiler = torch::autograd::profiler;
  profiler::enableProfilerLegacy(
      torch::profiler::impl::ProfilerConfig(torch::profiler::impl::ProfilerState::CPU));
  try {
    work();
  } catch (...) {
    profiler::disableProfilerLegacy();
    throw;
  }
  const auto threads = profiler::disableProfilerLegacy();
  std::map<std::string, OpTime> by_name;
  struct Open {
    const profiler::LegacyEvent* push;
    double children_us = 0;
  };
  for (const auto& events : threads) {
    // Pushes and pops nest per thread: a stack pairs them.
    std::vector<Open> stack;
    for (const auto& event : events) {
      if (event.kind() == profiler::EventKind::PushRange) {
        stack.push_back({&event});
      } else if (event.kind() == profiler::EventKind::PopRange && !stack.empty()) {
        const Open open = stack.back();
        stack.pop_back();
        const double us = open.push->cpuElapsedUs(event);
        auto& entry = by_name[open.push->name()];
        entry.name = open.push->name();
        entry.calls += 1;
        entry.total_ms += us / 1000;
        entry.self_ms += (us - open.children_us) / 1000;
        if (!stack.empty()) stack.back().children_us += us;
      }
    }
  }
  std::vector<OpTime> out;
  for (auto& [name, entry] : by_name) out.push_back(std::move(entry));
  std::sort(out.begin(), out.end(), [](const OpTime& a, const OpTime& b) { return a.self_ms > b.self_ms; });
  return out;
}
#else
std::vector<OpTime> profile_ops(const std::function<void()>& work) {
  work();
  return {};
}
#endif

}  // namespace seqattr
