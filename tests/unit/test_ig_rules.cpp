// Integration rules must be exactly Captum's (values from numpy's leggauss and
// torch.linspace(...).tolist(), as captum/attr/_utils/approximation_methods.py calls them).
#include <gtest/gtest.h>

#include <numeric>

#include "common/errors.h"
#include "methods/path/ig_rules.h"

namespace seqattr {
namespace {

TEST(IgRules, GaussLegendreMatchesNumpyLeggauss50) {
  const auto q = ig_quadrature(IgRule::GaussLegendre, 50);
  ASSERT_EQ(q.alphas.size(), 50u);
  const std::vector<std::tuple<int, double, double>> expected = {
      {0, 0.0005667977899644905, 0.0014543112765789342},
      {1, 0.002984015283954644, 0.0033798995978727526},
      {24, 0.48445083083640555, 0.0310883083276735},
      {25, 0.5155491691635944, 0.0310883083276735},
      {48, 0.9970159847160454, 0.0033798995978727526},
      {49, 0.9994332022100355, 0.0014543112765789342},
  };
  // numpy finds nodes as companion-matrix eigenvalues plus one Newton step; near the ends
  // its weights carry ~1e-12 relative error, ours (Newton to convergence) less.
  for (const auto& [i, alpha, weight] : expected) {
    EXPECT_NEAR(q.alphas[i], alpha, 1e-15) << "node " << i;
    EXPECT_NEAR(q.weights[i], weight, 1e-12 * weight) << "weight " << i;
  }
  EXPECT_NEAR(std::accumulate(q.weights.begin(), q.weights.end(), 0.0), 1.0, 1e-14);
}

TEST(IgRules, GaussLegendreOddOrderHasMidpoint) {
  const auto q = ig_quadrature(IgRule::GaussLegendre, 3);
  const std::vector<double> alphas = {0.1127016653792583, 0.5, 0.8872983346207417};
  const std::vector<double> weights = {0.27777777777777785, 0.4444444444444444,
                                       0.27777777777777785};
  for (int i = 0; i < 3; ++i) {
    EXPECT_NEAR(q.alphas[i], alphas[i], 1e-15);
    EXPECT_NEAR(q.weights[i], weights[i], 1e-15);
  }
  const auto one = ig_quadrature(IgRule::GaussLegendre, 1);
  EXPECT_DOUBLE_EQ(one.alphas[0], 0.5);
  EXPECT_DOUBLE_EQ(one.weights[0], 1.0);
}

TEST(IgRules, RiemannNodesAreCaptumsFloat32Linspace) {
  const auto left = ig_quadrature(IgRule::RiemannLeft, 50);
  EXPECT_EQ(left.alphas[0], 0.0);
  EXPECT_EQ(left.alphas[1], 0.019999999552965164);
  EXPECT_EQ(left.alphas[2], 0.03999999910593033);
  const auto middle = ig_quadrature(IgRule::RiemannMiddle, 7);
  const std::vector<double> expected = {0.0714285746216774, 0.2142857015132904,
                                        0.357142835855484,  0.5,
                                        0.6428571343421936, 0.7857142686843872,
                                        0.9285714030265808};
  for (int i = 0; i < 7; ++i) EXPECT_EQ(middle.alphas[i], expected[i]) << i;
  const auto right = ig_quadrature(IgRule::RiemannRight, 4);
  EXPECT_EQ(right.alphas.front(), 0.25);
  EXPECT_EQ(right.alphas.back(), 1.0);
}

TEST(IgRules, RiemannStepSizesAreCaptums) {
  const auto left = ig_quadrature(IgRule::RiemannLeft, 4);
  for (double w : left.weights) EXPECT_EQ(w, 0.25);
  // Captum halves 1/n at both ends of the trapezoid, so the weights sum to (n-1)/n.
  const auto trapezoid = ig_quadrature(IgRule::RiemannTrapezoid, 50);
  EXPECT_EQ(trapezoid.alphas.front(), 0.0);
  EXPECT_EQ(trapezoid.alphas.back(), 1.0);
  EXPECT_EQ(trapezoid.weights.front(), static_cast<double>(0.01f));
  EXPECT_EQ(trapezoid.weights[1], static_cast<double>(0.02f));
  EXPECT_EQ(trapezoid.weights.back(), static_cast<double>(0.01f));
}

TEST(IgRules, RejectsTooFewSteps) {
  EXPECT_THROW(ig_quadrature(IgRule::GaussLegendre, 0), InputError);
  EXPECT_THROW(ig_quadrature(IgRule::RiemannTrapezoid, 1), InputError);
  EXPECT_THROW(ig_quadrature(IgRule::RiemannLeft, 1), InputError);
}

TEST(IgRules, NamesRoundTrip) {
  for (const auto& name : ig_rule_names()) EXPECT_EQ(ig_rule_name(parse_ig_rule(name)), name);
  EXPECT_THROW(parse_ig_rule("simpson"), InputError);
}

}  // namespace
}  // namespace seqattr
