// conv1d_direct_rows.h built with -mavx2 -mfma (CMakeLists.txt): each product and sum is one
// fused multiply-add. Called only where the CPU has both (conv1d_direct_kernel.cpp).
#define SEQATTR_CONV1D_ROWS_ENTRY rows_avx2
#define SEQATTR_CONV1D_NARROW_ENTRY narrow_rows_avx2
#include "kernels/cpu/conv1d_direct_rows_impl.h"
