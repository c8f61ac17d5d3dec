#pragma once
// Argument checks shared by the CPU and CUDA kernels of seqattr::ism_mutants.
#include <ATen/ATen.h>

namespace seqattr::ops {

// A (R,) int64 index on `device` with values in [0, bound).
inline void check_index(const at::Tensor& index, int64_t rows, const at::Device& device,
                        int64_t bound, const char* name) {
  TORCH_CHECK(index.dim() == 1 && index.size(0) == rows && index.scalar_type() == at::kLong,
              name, " must be (R,) int64 with R = ", rows, ", got ", index.sizes(), " ",
              index.scalar_type());
  TORCH_CHECK(index.device() == device, name, " must be on ", device, ", got ", index.device());
  // Kernels index with these values without further checks.
  if (rows > 0) {
    TORCH_CHECK(index.min().item<int64_t>() >= 0 && index.max().item<int64_t>() < bound, name,
                " out of range [0, ", bound, ")");
  }
}

inline void check_ism_mutants(const at::Tensor& one_hot, const at::Tensor& row_seq,
                              const at::Tensor& position, const at::Tensor& base) {
  TORCH_CHECK(one_hot.dim() == 3 && one_hot.scalar_type() == at::kByte,
              "one_hot must be (S, C, L) uint8, got ", one_hot.sizes(), " ", one_hot.scalar_type());
  const int64_t rows = row_seq.dim() == 1 ? row_seq.size(0) : -1;
  check_index(row_seq, rows, one_hot.device(), one_hot.size(0), "row_seq");
  check_index(position, rows, one_hot.device(), one_hot.size(2), "position");
  check_index(base, rows, one_hot.device(), one_hot.size(1), "base");
}

}  // namespace seqattr::ops
