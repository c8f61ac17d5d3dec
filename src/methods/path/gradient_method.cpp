// gradient and input_x_gradient: one backward pass per sequence (path_attribution.h with
// the single node alpha = 1). Both store the gradient as hypothetical attributions and
// gradient x input as attributions; they differ only in name, as in Captum.
#include "methods/path/path_method.h"

namespace seqattr {
namespace {

MethodSpec single_gradient_method(const std::string& name) {
  MethodSpec spec;
  spec.name = name;
  spec.validate = validate_path_method;
  spec.prepare = [](const MethodOptions& o, const MethodContext& c) {
    return prepare_path_method(gradient_plan(), o, c);
  };
  spec.cost = [](const MethodOptions&, int64_t, const PreparedMethod&) {
    return MethodCost{2, 1, "none"};
  };
  return spec;
}

}  // namespace

MethodSpec gradient_method() { return single_gradient_method("gradient"); }
MethodSpec input_x_gradient_method() { return single_gradient_method("input_x_gradient"); }

}  // namespace seqattr
