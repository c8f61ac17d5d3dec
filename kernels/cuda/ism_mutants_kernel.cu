// CUDA twin of kernels/cpu/ism_mutants_kernel.cpp; must match it (tests/unit/test_kernel_ops.cpp).
#include <ATen/ATen.h>
#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDAException.h>
#include <c10/cuda/CUDAGuard.h>
#include <torch/library.h>

#include "kernels/ops/ism_mutants_checks.h"

namespace seqattr::ops {
namespace {

constexpr int kThreads = 256;

// One thread per output element, grid-stride. Assumes a contiguous (S, C, L) one_hot and
// (R, C, L) out; the indices were range-checked on the host side of the op.
static __global__ void ism_mutants_kernel(const uint8_t* __restrict__ one_hot,
                                          const int64_t* __restrict__ row_seq,
                                          const int64_t* __restrict__ position,
                                          const int64_t* __restrict__ base,
                                          float* __restrict__ out, int64_t rows,
                                          int64_t channels, int64_t length) {
  const int64_t row_size = channels * length, total = rows * row_size;
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < total;
       i += static_cast<int64_t>(blockDim.x) * gridDim.x) {
    const int64_t r = i / row_size, c = (i % row_size) / length, l = i % length;
    out[i] = l == position[r] ? (c == base[r] ? 1.0f : 0.0f)
                              : static_cast<float>(one_hot[row_seq[r] * row_size + c * length + l]);
  }
}

void launch_ism_mutants(const at::Tensor& one_hot, const at::Tensor& row_seq,
                        const at::Tensor& position, const at::Tensor& base, at::Tensor& out,
                        cudaStream_t stream) {
  const int64_t total = out.numel();
  if (total == 0) return;
  const int blocks = static_cast<int>(std::min<int64_t>((total + kThreads - 1) / kThreads, 65535));
  ism_mutants_kernel<<<blocks, kThreads, 0, stream>>>(
      one_hot.data_ptr<uint8_t>(), row_seq.data_ptr<int64_t>(), position.data_ptr<int64_t>(),
      base.data_ptr<int64_t>(), out.data_ptr<float>(), out.size(0), out.size(1), out.size(2));
}

at::Tensor ism_mutants_cuda(const at::Tensor& one_hot, const at::Tensor& row_seq,
                            const at::Tensor& position, const at::Tensor& base) {
  TORCH_CHECK(one_hot.is_cuda(), "one_hot must be a CUDA tensor");
  check_ism_mutants(one_hot, row_seq, position, base);
  c10::cuda::CUDAGuard guard(one_hot.device());
  const auto x = one_hot.contiguous();
  const auto seq = row_seq.contiguous();
  const auto pos = position.contiguous();
  const auto to = base.contiguous();
  auto out = at::empty({seq.size(0), x.size(1), x.size(2)}, x.options().dtype(at::kFloat));
  launch_ism_mutants(x, seq, pos, to, out, at::cuda::getCurrentCUDAStream());
  C10_CUDA_KERNEL_LAUNCH_CHECK();
  return out;
}

}  // namespace

TORCH_LIBRARY_IMPL(seqattr, CUDA, m) {
  m.impl("ism_mutants", &ism_mutants_cuda);
}

}  // namespace seqattr::ops
