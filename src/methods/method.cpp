#include "methods/method.h"

#include "common/enum_names.h"

namespace seqattr {
namespace {

const EnumNames<Method>& method_table() {
  static const EnumNames<Method> table("--method",
                                       {{Method::Gradient, "gradient"},
                                        {Method::InputXGradient, "input_x_gradient"},
                                        {Method::IntegratedGradients, "integrated_gradients"},
                                        {Method::DeepLift, "deeplift"},
                                        {Method::DeepLiftShap, "deeplift_shap"},
                                        {Method::Ism, "ism"}});
  return table;
}

}  // namespace

Method parse_method(const std::string& name) { return method_table().parse(name); }
std::string method_name(Method method) { return method_table().name(method); }
std::vector<std::string> method_names() { return method_table().names(); }

}  // namespace seqattr
