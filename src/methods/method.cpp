#include "methods/method.h"

#include <torch/torch.h>

#include "common/errors.h"

namespace seqattr {
namespace {

const std::vector<std::pair<Method, std::string>>& method_table() {
  static const std::vector<std::pair<Method, std::string>> table = {
      {Method::Gradient, "gradient"},
      {Method::InputXGradient, "input_x_gradient"},
      {Method::IntegratedGradients, "integrated_gradients"},
  };
  return table;
}

}  // namespace

Method parse_method(const std::string& name) {
  for (const auto& [method, method_name] : method_table()) {
    if (method_name == name) return method;
  }
  std::string known;
  for (const auto& name_of : method_names()) known += (known.empty() ? "" : ", ") + name_of;
  throw InputError("--method '" + name + "': unknown method (known: " + known + ")");
}

std::string method_name(Method method) {
  for (const auto& [m, name] : method_table()) {
    if (m == method) return name;
  }
  TORCH_INTERNAL_ASSERT(false, "unhandled Method");
}

std::vector<std::string> method_names() {
  std::vector<std::string> names;
  for (const auto& entry : method_table()) names.push_back(entry.second);
  return names;
}

}  // namespace seqattr
