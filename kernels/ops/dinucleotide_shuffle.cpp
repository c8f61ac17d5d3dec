#include "kernels/ops/dinucleotide_shuffle.h"

#include <ATen/core/dispatch/Dispatcher.h>
#include <torch/library.h>

#include <cstring>

namespace seqattr::ops {

TORCH_LIBRARY_FRAGMENT(seqattr, m) {
  // seed is a uint64 carried in the schema's int64 by its bit pattern.
  m.def("dinucleotide_shuffles(Tensor one_hot, int count, int seed, int first_index) "
        "-> (Tensor, Tensor)");
}

std::tuple<at::Tensor, at::Tensor> dinucleotide_shuffles(const at::Tensor& one_hot, int64_t count,
                                                         uint64_t seed, int64_t first_index) {
  static auto op = c10::Dispatcher::singleton()
                       .findSchemaOrThrow("seqattr::dinucleotide_shuffles", "")
                       .typed<std::tuple<at::Tensor, at::Tensor>(const at::Tensor&, int64_t,
                                                                 int64_t, int64_t)>();
  int64_t seed_bits;
  std::memcpy(&seed_bits, &seed, sizeof seed);
  return op.call(one_hot, count, seed_bits, first_index);
}

}  // namespace seqattr::ops
