#pragma once
#include <string>
#include <vector>

namespace seqattr {

// Attribution methods of `seqattr attribute --method`.
enum class Method { Gradient, InputXGradient, IntegratedGradients, DeepLift, DeepLiftShap, Ism };

Method parse_method(const std::string& name);  // throws InputError naming --method
std::string method_name(Method method);
std::vector<std::string> method_names();

}  // namespace seqattr
