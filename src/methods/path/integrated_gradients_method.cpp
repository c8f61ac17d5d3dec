// integrated_gradients: Captum's rules and nodes (ig_rules.h) along the path from a
// constant baseline (path_attribution.h), with a convergence delta.
#include "methods/path/path_method.h"

namespace seqattr {

MethodSpec integrated_gradients_method() {
  MethodSpec spec;
  spec.name = "integrated_gradients";
  spec.validate = validate_path_method;
  spec.prepare = [](const MethodOptions& o, const MethodContext& c) {
    return prepare_path_method(integrated_gradients_plan(o.ig_rule, o.n_steps, o.baseline), o, c);
  };
  spec.cost = [](const MethodOptions& o, int64_t, const PreparedMethod&) {
    return MethodCost{o.n_steps + 2, o.n_steps,
                      "n_steps=" + std::to_string(o.n_steps) + " " + ig_rule_name(o.ig_rule) +
                          " baseline=" + baseline_name(o.baseline)};
  };
  return spec;
}

}  // namespace seqattr
