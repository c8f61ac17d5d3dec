#include "kernels/ops/ig_accumulate.h"

#include <ATen/core/dispatch/Dispatcher.h>
#include <torch/library.h>

namespace seqattr::ops {

TORCH_LIBRARY_FRAGMENT(seqattr, m) {
  m.def("ig_accumulate_(Tensor(a!) accum, Tensor grads, Tensor row_seq, Tensor row_weight) -> Tensor(a!)");
}

at::Tensor& ig_accumulate_(at::Tensor& accum, const at::Tensor& grads, const at::Tensor& row_seq,
                           const at::Tensor& row_weight) {
  static auto op = c10::Dispatcher::singleton()
                       .findSchemaOrThrow("seqattr::ig_accumulate_", "")
                       .typed<at::Tensor&(at::Tensor&, const at::Tensor&, const at::Tensor&,
                                          const at::Tensor&)>();
  return op.call(accum, grads, row_seq, row_weight);
}

}  // namespace seqattr::ops
