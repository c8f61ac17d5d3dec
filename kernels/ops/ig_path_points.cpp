#include "kernels/ops/ig_path_points.h"

#include <ATen/core/dispatch/Dispatcher.h>
#include <torch/library.h>

namespace seqattr::ops {

TORCH_LIBRARY_FRAGMENT(seqattr, m) {
  m.def("ig_path_points(Tensor input, Tensor baseline, Tensor row_seq, Tensor row_alpha) -> Tensor");
}

at::Tensor ig_path_points(const at::Tensor& input, const at::Tensor& baseline,
                          const at::Tensor& row_seq, const at::Tensor& row_alpha) {
  static auto op = c10::Dispatcher::singleton()
                       .findSchemaOrThrow("seqattr::ig_path_points", "")
                       .typed<decltype(ig_path_points)>();
  return op.call(input, baseline, row_seq, row_alpha);
}

}  // namespace seqattr::ops
