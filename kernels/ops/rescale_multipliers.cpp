#include "kernels/ops/rescale_multipliers.h"

#include <ATen/core/dispatch/Dispatcher.h>
#include <torch/library.h>

namespace seqattr::ops {

TORCH_LIBRARY_FRAGMENT(seqattr, m) {
  m.def("rescale_multipliers(Tensor x, Tensor x_ref, Tensor y, Tensor y_ref, Tensor grad, "
        "float epsilon) -> (Tensor, Tensor)");
}

std::tuple<at::Tensor, at::Tensor> rescale_multipliers(const at::Tensor& x, const at::Tensor& x_ref,
                                                       const at::Tensor& y, const at::Tensor& y_ref,
                                                       const at::Tensor& grad, double epsilon) {
  static auto op = c10::Dispatcher::singleton()
                       .findSchemaOrThrow("seqattr::rescale_multipliers", "")
                       .typed<decltype(rescale_multipliers)>();
  return op.call(x, x_ref, y, y_ref, grad, epsilon);
}

}  // namespace seqattr::ops
