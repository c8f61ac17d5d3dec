// CUDA twin of kernels/cpu/dinucleotide_shuffle_kernel.cpp. Both run the same functions of
// kernels/ops/dinucleotide_shuffle_core.h with the same generator streams, so the shuffles
// are identical bit for bit (tests/unit/test_kernel_ops.cpp).
#include <ATen/ATen.h>
#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDAException.h>
#include <c10/cuda/CUDAGuard.h>
#include <torch/library.h>

#include "kernels/ops/dinucleotide_shuffle_core.h"

namespace seqattr::ops {
namespace {

constexpr int kThreads = 128;

// One thread per sequence: whether it has only one shuffle.
static __global__ void only_one_kernel(const uint8_t* __restrict__ one_hot, int64_t sequences,
                                       int64_t length, bool* __restrict__ only_one) {
  const int64_t s = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (s < sequences) only_one[s] = shuffle::has_only_one_shuffle(one_hot + s * 4 * length, length);
}

// One thread per (sequence s, shuffle j), task = s * count + j, each with its own L - 1
// bytes of scratch. out is zero-filled (S, count, 4, L).
static __global__ void shuffle_kernel(const uint8_t* __restrict__ one_hot,
                                      const bool* __restrict__ only_one, int64_t sequences,
                                      int64_t count, int64_t length, uint64_t seed,
                                      int64_t first_index, uint8_t* __restrict__ scratch,
                                      int64_t scratch_stride, uint8_t* __restrict__ out) {
  const int64_t task = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (task >= sequences * count) return;
  const int64_t s = task / count, j = task % count;
  const auto rng = shuffle::shuffle_stream(seed, static_cast<uint64_t>(first_index + s),
                                           static_cast<uint64_t>(j));
  shuffle::shuffle_into(one_hot + s * 4 * length, length, only_one[s], rng,
                        scratch + task * scratch_stride, out + task * 4 * length);
}

void launch_dinucleotide_shuffles(const at::Tensor& one_hot, int64_t count, uint64_t seed,
                                  int64_t first_index, at::Tensor& only_one, at::Tensor& scratch,
                                  at::Tensor& out, cudaStream_t stream) {
  const int64_t sequences = one_hot.size(0), length = one_hot.size(2);
  if (sequences == 0) return;
  only_one_kernel<<<static_cast<int>((sequences + kThreads - 1) / kThreads), kThreads, 0, stream>>>(
      one_hot.data_ptr<uint8_t>(), sequences, length, only_one.data_ptr<bool>());
  C10_CUDA_KERNEL_LAUNCH_CHECK();
  const int64_t tasks = sequences * count;
  if (tasks == 0) return;
  shuffle_kernel<<<static_cast<int>((tasks + kThreads - 1) / kThreads), kThreads, 0, stream>>>(
      one_hot.data_ptr<uint8_t>(), only_one.data_ptr<bool>(), sequences, count, length, seed,
      first_index, scratch.data_ptr<uint8_t>(), scratch.size(1), out.data_ptr<uint8_t>());
}

std::tuple<at::Tensor, at::Tensor> dinucleotide_shuffles_cuda(const at::Tensor& one_hot,
                                                              int64_t count, int64_t seed,
                                                              int64_t first_index) {
  TORCH_CHECK(one_hot.is_cuda(), "one_hot must be a CUDA tensor");
  TORCH_CHECK(one_hot.dim() == 3 && one_hot.size(1) == 4 && one_hot.scalar_type() == at::kByte,
              "one_hot must be (S, 4, L) uint8, got ", one_hot.sizes(), " ", one_hot.scalar_type());
  TORCH_CHECK(count >= 0, "count must be >= 0, got ", count);
  c10::cuda::CUDAGuard guard(one_hot.device());
  const auto x = one_hot.contiguous();
  const int64_t sequences = x.size(0), length = x.size(2);
  auto out = at::zeros({sequences, count, 4, length}, x.options());
  auto only_one = at::empty({sequences}, x.options().dtype(at::kBool));
  auto scratch = at::empty({sequences * count, std::max<int64_t>(length - 1, 1)}, x.options());
  launch_dinucleotide_shuffles(x, count, static_cast<uint64_t>(seed), first_index, only_one,
                               scratch, out, at::cuda::getCurrentCUDAStream());
  C10_CUDA_KERNEL_LAUNCH_CHECK();
  return {out, only_one};
}

}  // namespace

TORCH_LIBRARY_IMPL(seqattr, CUDA, m) {
  m.impl("dinucleotide_shuffles", &dinucleotide_shuffles_cuda);
}

}  // namespace seqattr::ops
