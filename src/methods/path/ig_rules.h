#pragma once
#include <string>
#include <vector>

namespace seqattr {

// Integration rules of Captum's IntegratedGradients (captum.attr._utils.approximation_methods).
enum class IgRule { GaussLegendre, RiemannLeft, RiemannRight, RiemannMiddle, RiemannTrapezoid };

// Nodes (alphas, position on the baseline->input path in [0, 1]) and weights (step sizes).
struct Quadrature {
  std::vector<double> alphas;
  std::vector<double> weights;
};

// Captum's nodes and weights for `n_steps`. Gauss-Legendre is computed in double precision
// (numpy.polynomial.legendre.leggauss, mapped to [0, 1]); the Riemann rules reproduce
// Captum's float32 torch.linspace nodes and float32 step sizes exactly.
// Throws InputError for n_steps < 1, or < 2 with a Riemann rule (as Captum asserts).
constexpr int kMaxGaussLegendreSteps = 10000;

Quadrature ig_quadrature(IgRule rule, int n_steps);

IgRule parse_ig_rule(const std::string& name);  // throws InputError naming --ig-rule
std::string ig_rule_name(IgRule rule);
std::vector<std::string> ig_rule_names();

}  // namespace seqattr
