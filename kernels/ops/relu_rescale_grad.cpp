#include "kernels/ops/relu_rescale_grad.h"

#include <ATen/core/dispatch/Dispatcher.h>
#include <torch/library.h>

namespace seqattr::ops {

TORCH_LIBRARY_FRAGMENT(seqattr, m) {
  m.def("relu_rescale_grad(Tensor x, Tensor grad, Tensor owner, int inputs, float epsilon) -> Tensor");
}

at::Tensor relu_rescale_grad(const at::Tensor& x, const at::Tensor& grad, const at::Tensor& owner,
                             int64_t inputs, double epsilon) {
  static auto op = c10::Dispatcher::singleton()
                       .findSchemaOrThrow("seqattr::relu_rescale_grad", "")
                       .typed<decltype(relu_rescale_grad)>();
  return op.call(x, grad, owner, inputs, epsilon);
}

}  // namespace seqattr::ops
