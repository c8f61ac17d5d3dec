// conv1d_direct_rows.h for any x86-64 CPU (SSE2; products and sums rounded separately).
#define SEQATTR_CONV1D_ROWS_ENTRY rows_baseline
#define SEQATTR_CONV1D_NARROW_ENTRY narrow_rows_baseline
#include "kernels/cpu/conv1d_direct_rows_impl.h"
