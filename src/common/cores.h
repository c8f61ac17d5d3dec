#pragma once
// How many cores this process may use, and the thread count a --threads option means.

namespace seqattr {

// The cores this process may run on (its CPU affinity: a Slurm task's allocation, not the
// whole node), at least 1.
int available_cores();

// Threads for --threads `requested`: 0 means every available core; more than there are is
// capped, with a warning (a thousand threads on two cores ran 100x slower).
int effective_threads(int requested);

}  // namespace seqattr
