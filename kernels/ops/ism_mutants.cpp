#include "kernels/ops/ism_mutants.h"

#include <ATen/core/dispatch/Dispatcher.h>
#include <torch/library.h>

namespace seqattr::ops {

TORCH_LIBRARY_FRAGMENT(seqattr, m) {
  m.def("ism_mutants(Tensor one_hot, Tensor row_seq, Tensor position, Tensor base) -> Tensor");
}

at::Tensor ism_mutants(const at::Tensor& one_hot, const at::Tensor& row_seq,
                       const at::Tensor& position, const at::Tensor& base) {
  static auto op = c10::Dispatcher::singleton()
                       .findSchemaOrThrow("seqattr::ism_mutants", "")
                       .typed<decltype(ism_mutants)>();
  return op.call(one_hot, row_seq, position, base);
}

}  // namespace seqattr::ops
