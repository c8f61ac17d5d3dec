#include "kernels/ops/hypothetical_projection.h"

#include <ATen/core/dispatch/Dispatcher.h>
#include <torch/library.h>

namespace seqattr::ops {

TORCH_LIBRARY_FRAGMENT(seqattr, m) {
  m.def("hypothetical_projection(Tensor multipliers, Tensor references) -> Tensor");
}

at::Tensor hypothetical_projection(const at::Tensor& multipliers, const at::Tensor& references) {
  static auto op = c10::Dispatcher::singleton()
                       .findSchemaOrThrow("seqattr::hypothetical_projection", "")
                       .typed<decltype(hypothetical_projection)>();
  return op.call(multipliers, references);
}

}  // namespace seqattr::ops
