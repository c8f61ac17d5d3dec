#include "kernels/ops/relu_change.h"

#include <ATen/core/dispatch/Dispatcher.h>
#include <torch/library.h>

namespace seqattr::ops {

TORCH_LIBRARY_FRAGMENT(seqattr, m) {
  m.def("relu_change(Tensor delta, Tensor lo, Tensor reference) -> Tensor");
}

at::Tensor relu_change(const at::Tensor& delta, const at::Tensor& lo, const at::Tensor& reference) {
  static auto op = c10::Dispatcher::singleton()
                       .findSchemaOrThrow("seqattr::relu_change", "")
                       .typed<decltype(relu_change)>();
  return op.call(delta, lo, reference);
}

}  // namespace seqattr::ops
