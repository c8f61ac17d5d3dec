#include "common/cores.h"

#include <sched.h>

#include <algorithm>
#include <string>
#include <thread>

#include "common/log.h"

namespace seqattr {

int available_cores() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0) return CPU_COUNT(&set);
  return static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

int effective_threads(int requested) {
  const int cores = available_cores();
  if (requested <= 0) return cores;
  if (requested > cores) {
    log::warn("--threads " + std::to_string(requested) + ": only " + std::to_string(cores) +
              " core(s) are available to this process; using " + std::to_string(cores));
    return cores;
  }
  return requested;
}

}  // namespace seqattr
