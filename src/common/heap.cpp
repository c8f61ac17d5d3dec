#include "common/heap.h"

#include <cstdlib>  // defines __GLIBC__ with glibc

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace seqattr::heap {

void keep_freed_memory_for_reuse() {
#if defined(__GLIBC__)
  // A user who tunes malloc through its environment keeps their settings.
  if (std::getenv("MALLOC_MMAP_MAX_") || std::getenv("GLIBC_TUNABLES")) return;
  mallopt(M_MMAP_MAX, 0);
  // The largest value mallopt takes (an int): the heap's free top is kept up to 2 GiB.
  mallopt(M_TRIM_THRESHOLD, 0x7fffffff);
#endif
}

void release_free_memory() {
#if defined(__GLIBC__)
  malloc_trim(0);
#endif
}

}  // namespace seqattr::heap
