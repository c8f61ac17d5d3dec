#pragma once
// Argument checks shared by the CPU and CUDA kernels of the row-indexed IG ops.
// per_sequence: (S, C, L); per_row: (R, C, L); row_seq: (R,) int64 in [0, S);
// row_scalar: (R,) float64.
#include <ATen/ATen.h>

namespace seqattr::ops {

inline void check_rows(const at::Tensor& per_sequence, const at::Tensor& per_row,
                       const at::Tensor& row_seq, const at::Tensor& row_scalar,
                       const char* scalar_name) {
  TORCH_CHECK(per_sequence.dim() == 3, "expected (S, C, L), got ", per_sequence.sizes());
  TORCH_CHECK(per_row.dim() == 3 && per_row.size(1) == per_sequence.size(1) &&
                  per_row.size(2) == per_sequence.size(2),
              "rows must be (R, C, L) matching ", per_sequence.sizes(), ", got ", per_row.sizes());
  TORCH_CHECK(per_row.scalar_type() == per_sequence.scalar_type(), "dtype mismatch");
  TORCH_CHECK(per_row.device() == per_sequence.device(), "device mismatch");
  TORCH_CHECK(row_seq.dim() == 1 && row_seq.size(0) == per_row.size(0) &&
                  row_seq.scalar_type() == at::kLong,
              "row_seq must be (R,) int64");
  TORCH_CHECK(row_scalar.dim() == 1 && row_scalar.size(0) == per_row.size(0) &&
                  row_scalar.scalar_type() == at::kDouble,
              scalar_name, " must be (R,) float64");
  TORCH_CHECK(row_seq.device() == per_sequence.device() &&
                  row_scalar.device() == per_sequence.device(),
              "row tensors must be on the data's device");
  // Kernels index sequences by row_seq without further checks.
  if (row_seq.numel() > 0) {
    TORCH_CHECK(row_seq.min().item<int64_t>() >= 0 &&
                    row_seq.max().item<int64_t>() < per_sequence.size(0),
                "row_seq out of range [0, ", per_sequence.size(0), ")");
  }
}

}  // namespace seqattr::ops
