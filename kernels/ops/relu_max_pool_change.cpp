#include "kernels/ops/relu_max_pool_change.h"

#include <ATen/core/dispatch/Dispatcher.h>
#include <torch/library.h>

namespace seqattr::ops {

TORCH_LIBRARY_FRAGMENT(seqattr, m) {
  m.def(
      "relu_max_pool_change(Tensor delta, Tensor lo, Tensor reference, Tensor gap, int kernel, "
      "Tensor out_lo, int out_width) -> Tensor");
}

at::Tensor relu_max_pool_change(const at::Tensor& delta, const at::Tensor& lo,
                                const at::Tensor& reference, const at::Tensor& gap, int64_t kernel,
                                const at::Tensor& out_lo, int64_t out_width) {
  static auto op = c10::Dispatcher::singleton()
                       .findSchemaOrThrow("seqattr::relu_max_pool_change", "")
                       .typed<decltype(relu_max_pool_change)>();
  return op.call(delta, lo, reference, gap, kernel, out_lo, out_width);
}

}  // namespace seqattr::ops
