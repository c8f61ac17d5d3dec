"""libseqattr's public API gives the command line's numbers: examples/explain_fasta (which
uses include/seqattr/seqattr.h alone) against `seqattr attribute` on the same model and
sequences, for every method family."""
import os
import subprocess
import unittest

import numpy as np

from seqattr_cli import TempDirTest, attribute, data, read

EXAMPLES = os.environ["SEQATTR_EXAMPLES"]  # tests/CMakeLists.txt: examples are built with the tests


def explain(model, fasta, method):
    """The example's rows: name, prediction, peak position and the attribution there."""
    proc = subprocess.run([os.path.join(EXAMPLES, "explain_fasta"), model, fasta, method],
                          capture_output=True, text=True, timeout=300)
    if proc.returncode != 0:
        raise AssertionError(f"explain_fasta failed ({proc.returncode}):\n{proc.stderr}")
    rows = []
    for line in proc.stdout.splitlines():
        name, prediction, peak, value = line.split("\t")
        rows.append((name, float(prediction.split()[1]), int(peak.split()[1]), float(value)))
    return rows


class LibraryEqualsCommandLine(TempDirTest):
    def test_every_method_family(self):
        model, fasta = data("mini_basset.pt"), data("mini_basset.fa")
        for method in ["gradient", "integrated_gradients", "deeplift_shap", "ism"]:
            with self.subTest(method=method):
                out = self.path(method + ".h5")
                attribute(model, fasta, method, out)
                arrays, attrs = read(out)
                target = int(attrs["target"])
                per_position = arrays["attributions"].sum(axis=1)
                rows = explain(model, fasta, method)
                self.assertEqual([r[0] for r in rows],
                                 [n.decode() if isinstance(n, bytes) else n for n in arrays["names"]])
                for i, (_, prediction, peak, value) in enumerate(rows):
                    # The example prints 6 significant digits.
                    np.testing.assert_allclose(prediction, arrays["predictions"][i, target],
                                               rtol=1e-5, atol=1e-12)
                    self.assertEqual(peak, int(np.abs(per_position[i]).argmax()))
                    np.testing.assert_allclose(value, per_position[i, peak], rtol=1e-5, atol=1e-12)

    def test_bad_input_is_one_line_error(self):
        proc = subprocess.run([os.path.join(EXAMPLES, "explain_fasta"), data("mini_basset.pt"),
                               data("mini_basset.fa"), "shap"], capture_output=True, text=True)
        self.assertEqual(proc.returncode, 1)
        self.assertEqual(proc.stderr.strip(),
                         "error: --method 'shap': unknown value (known: gradient, "
                         "input_x_gradient, integrated_gradients, deeplift, deeplift_shap, ism)")


if __name__ == "__main__":
    unittest.main()
