"""seqattr computes what Captum computes (tests/data/GOLDEN_README.md says how each array
was made). Each comparison is within 1e-4 of the expected array's largest magnitude, on
every golden model, with the golden target (never 0)."""
import unittest

import h5py
import numpy as np

from seqattr_cli import GOLDEN, TempDirTest, attribute, data, golden_target, max_relative_error, read

TOLERANCE = 1e-4


class GoldenCaptum(TempDirTest):
    def run_case(self, case, method, *extra):
        out = self.path(f"{case}.{method}.h5")
        attribute(data(case + ".pt"), data(case + ".fa"), method, out,
                  "--target", golden_target(case), *extra)
        arrays, attrs = read(out)
        self.assertEqual(attrs["target"], golden_target(case))
        return arrays

    def expected(self, case, name):
        with h5py.File(data(case + ".h5"), "r") as f:
            return f[name][()]

    def assertClose(self, actual, expected, what):
        error = max_relative_error(actual, expected)
        self.assertLess(error, TOLERANCE, f"{what}: relative error {error:.3g}")

    def test_gradient_is_saliency(self):
        for case in GOLDEN:
            with self.subTest(case=case):
                out = self.run_case(case, "gradient")
                self.assertClose(out["hypothetical_attributions"],
                                 self.expected(case, "expected/gradient/hypothetical_attributions"),
                                 case)
                self.assertClose(out["predictions"], self.expected(case, "predictions"), case)
                np.testing.assert_array_equal(out["one_hot"], self.expected(case, "one_hot"))

    def test_input_x_gradient(self):
        for case in GOLDEN:
            with self.subTest(case=case):
                out = self.run_case(case, "input_x_gradient")
                self.assertClose(out["attributions"],
                                 self.expected(case, "expected/input_x_gradient/attributions"), case)

    def check_integrated_gradients(self, rule):
        for case in GOLDEN:
            with self.subTest(case=case):
                out = self.run_case(case, "integrated_gradients", "--ig-rule", rule)
                group = f"expected/integrated_gradients_{rule}/"
                self.assertClose(out["attributions"].sum(axis=1),
                                 self.expected(case, group + "position_totals"), case)
                # The delta is a difference of float32 outputs, so besides 1e-4 of its largest
                # magnitude allow a few float32 ulps of the outputs it subtracts.
                expected = self.expected(case, group + "convergence_delta")
                ulps = 4 * np.finfo(np.float32).eps * np.abs(out["predictions"]).max()
                tolerance = TOLERANCE * np.abs(expected).max() + ulps
                error = np.abs(out["convergence_delta"] - expected).max()
                self.assertLess(error, tolerance, f"{case} delta error {error:.3g}")

    def test_integrated_gradients_gausslegendre(self):
        self.check_integrated_gradients("gausslegendre")

    def test_integrated_gradients_riemann_trapezoid(self):
        self.check_integrated_gradients("riemann_trapezoid")


if __name__ == "__main__":
    unittest.main()
