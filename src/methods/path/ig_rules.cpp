#include "methods/path/ig_rules.h"

#include <cmath>

#include <torch/torch.h>

#include "common/enum_names.h"
#include "common/errors.h"

namespace seqattr {
namespace {

const EnumNames<IgRule>& rule_table() {
  static const EnumNames<IgRule> table("--ig-rule",
                                       {{IgRule::GaussLegendre, "gausslegendre"},
                                        {IgRule::RiemannLeft, "riemann_left"},
                                        {IgRule::RiemannRight, "riemann_right"},
                                        {IgRule::RiemannMiddle, "riemann_middle"},
                                        {IgRule::RiemannTrapezoid, "riemann_trapezoid"}});
  return table;
}

// Legendre polynomial P_n(x) and its derivative, by the three-term recurrence.
std::pair<double, double> legendre_with_derivative(int n, double x) {
  double p_prev = 1.0, p = x;
  for (int k = 2; k <= n; ++k) {
    const double p_next = ((2.0 * k - 1.0) * x * p - (k - 1.0) * p_prev) / k;
    p_prev = p;
    p = p_next;
  }
  if (n == 0) return {1.0, 0.0};
  const double derivative = n * (x * p - p_prev) / (x * x - 1.0);
  return {p, derivative};
}

// Gauss-Legendre on [-1, 1], nodes ascending as numpy's leggauss returns them.
void gauss_legendre(int n, std::vector<double>& nodes, std::vector<double>& weights) {
  nodes.assign(n, 0.0);
  weights.assign(n, 0.0);
  const double pi = std::acos(-1.0);
  for (int i = 0; i < (n + 1) / 2; ++i) {
    double x = std::cos(pi * (i + 0.75) / (n + 0.5));  // Tricomi's first guess
    for (int iter = 0; iter < 100; ++iter) {
      const auto [p, dp] = legendre_with_derivative(n, x);
      const double step = p / dp;
      x -= step;
      if (std::abs(step) < 1e-16) break;
    }
    const double d = legendre_with_derivative(n, x).second;
    const double w = 2.0 / ((1.0 - x * x) * d * d);
    nodes[i] = -x;  // the guess walks from +1 down; mirror so nodes ascend
    nodes[n - 1 - i] = x;
    weights[i] = weights[n - 1 - i] = w;
  }
  if (n % 2 == 1) nodes[n / 2] = 0.0;
  // Like numpy's leggauss, rescale so the weights integrate a constant exactly.
  double total = 0.0;
  for (double w : weights) total += w;
  for (double& w : weights) w *= 2.0 / total;
}

// torch.linspace(start, end, n) in float32, as Captum's Riemann rules call it.
std::vector<double> float_linspace(double start, double end, int n) {
  const auto t = torch::linspace(start, end, n, torch::kFloat32).to(torch::kFloat64);
  return std::vector<double>(t.data_ptr<double>(), t.data_ptr<double>() + n);
}

}  // namespace

Quadrature ig_quadrature(IgRule rule, int n) {
  if (n < 1) throw InputError("--n-steps " + std::to_string(n) + ": must be at least 1");
  Quadrature q;
  if (rule == IgRule::GaussLegendre) {
    // Each node costs Newton steps on an O(n) recurrence: O(n^2) in all, about a second
    // at the cap. Captum's default is 50 steps; thousands gain nothing.
    if (n > kMaxGaussLegendreSteps) {
      throw InputError("--n-steps " + std::to_string(n) + ": gausslegendre takes at most " +
                       std::to_string(kMaxGaussLegendreSteps) +
                       " steps; use a riemann rule for more");
    }
    gauss_legendre(n, q.alphas, q.weights);
    for (int i = 0; i < n; ++i) {
      q.alphas[i] = 0.5 * (1.0 + q.alphas[i]);
      q.weights[i] *= 0.5;
    }
    return q;
  }
  if (n < 2) {
    throw InputError("--n-steps " + std::to_string(n) + ": the " + ig_rule_name(rule) +
                     " rule needs at least 2 steps");
  }
  // Captum's step sizes are 1/n (halved at both ends for the trapezoid, so they sum to
  // (n-1)/n, a Captum quirk kept for fidelity), stored in a float32 tensor.
  const auto as_float = [](double v) { return static_cast<double>(static_cast<float>(v)); };
  q.weights.assign(n, as_float(1.0 / n));
  switch (rule) {
    case IgRule::RiemannLeft: q.alphas = float_linspace(0.0, 1.0 - 1.0 / n, n); break;
    case IgRule::RiemannRight: q.alphas = float_linspace(1.0 / n, 1.0, n); break;
    case IgRule::RiemannMiddle:
      q.alphas = float_linspace(1.0 / (2.0 * n), 1.0 - 1.0 / (2.0 * n), n);
      break;
    case IgRule::RiemannTrapezoid:
      q.alphas = float_linspace(0.0, 1.0, n);
      q.weights.front() = q.weights.back() = as_float(0.5 / n);
      break;
    case IgRule::GaussLegendre: break;
  }
  return q;
}

IgRule parse_ig_rule(const std::string& name) { return rule_table().parse(name); }
std::string ig_rule_name(IgRule rule) { return rule_table().name(rule); }
std::vector<std::string> ig_rule_names() { return rule_table().names(); }

}  // namespace seqattr
