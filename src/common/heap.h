#pragma once
// How the process's heap treats freed memory (glibc malloc; no-ops elsewhere).
//
// Why: a batch's activations are single blocks of tens of MB (bpnet_2114 at 64 rows: 64
// filters x 2,114 x 64 x 4 B = 35 MB). glibc serves blocks above its mmap threshold (at most
// 32 MB) with fresh mmaps and unmaps them on free, so every layer of every pass faults its
// pages in again and the kernel zeroes them: on 2 cores naive ISM spent 6.4 s of 8.3 s in the
// kernel, and a forward ran at half speed at 64 rows against 16. Served from the heap and
// kept there, the blocks are reused: naive ISM's compute went from 6.6 s to 2.8 s.
namespace seqattr::heap {

// Serve every block from the heap (no mmap) and keep freed memory (up to 2 GiB) for reuse:
// the peak resident set of one pass stays resident for the next (which costs memory: IG on
// bpnet_2114 at --batch-size 128 peaked at 2.8-3.1 GB instead of 1.65 GB; at 32, 0.92 GB
// instead of 0.81 GB). Not applied when MALLOC_MMAP_MAX_ or GLIBC_TUNABLES is set. Call
// once, first thing in main, before threads start.
void keep_freed_memory_for_reuse();

// Gives the heap's free memory back to the OS now (malloc_trim), e.g. before measuring a
// peak resident set afresh.
void release_free_memory();

}  // namespace seqattr::heap
