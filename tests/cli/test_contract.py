"""The output contract of `seqattr attribute` (README, "Output"), read with h5py."""
import json
import os
import shutil
import unittest

import h5py
import numpy as np
import torch

from seqattr_cli import CONFIGS, TempDirTest, attribute, data, read, run

CONTRACT = {
    "attributions": np.float32,
    "hypothetical_attributions": np.float32,
    "one_hot": np.uint8,
    "predictions": np.float32,
}
ROOT_ATTRIBUTES = {"method", "target", "model_sha256", "seqattr_version", "parameters",
                   "command_line"}


class OutputContract(TempDirTest):
    def setUp(self):
        super().setUp()
        # Records out of alphabetical order, mixed case and line widths, with N.
        self.fasta = self.write("in.fa", ">zeta\nACGTNacgtn\nACGTACGTAC\n>alpha desc\n"
                                "TTTTGGGGCCCCAAAANNNN\n>mid\nacgtacgtacgtacgtacgt\n")

    def model(self):
        return data("conv_dense.pt")

    def test_layout_types_and_order(self):
        out = self.path("ig.h5")
        attribute(self.model(), self.fasta, "integrated_gradients", out, "--target", 1,
                  "--baseline", "uniform", "--n-steps", 8)
        arrays, attrs = read(out)
        for name, dtype in CONTRACT.items():
            self.assertEqual(arrays[name].dtype, dtype, name)
        for name in ("attributions", "hypothetical_attributions", "one_hot"):
            self.assertEqual(arrays[name].shape, (3, 4, 20), name)
        self.assertEqual(arrays["predictions"].shape, (3, 3))
        self.assertEqual(arrays["convergence_delta"].shape, (3,))
        self.assertEqual([n.decode() if isinstance(n, bytes) else n for n in arrays["names"]],
                         ["zeta", "alpha", "mid"])
        self.assertEqual(ROOT_ATTRIBUTES - set(attrs), set())
        self.assertEqual(attrs["method"], "integrated_gradients")
        self.assertEqual(attrs["target"], 1)
        parameters = json.loads(attrs["parameters"])
        for key, value in {"n_steps": 8, "baseline": "uniform", "ig_rule": "gausslegendre",
                           "batch_size": 128, "device": "auto", "threads": 0, "target": 1}.items():
            self.assertEqual(parameters[key], value, key)
        self.assertIn("--n-steps 8", attrs["command_line"])
        # N is an all-zero column; only the observed base carries attribution.
        np.testing.assert_array_equal(arrays["one_hot"][0, :, 4], 0)
        np.testing.assert_array_equal(arrays["one_hot"].sum(axis=1)[1, :16], 1)
        np.testing.assert_allclose(arrays["attributions"],
                                   arrays["hypothetical_attributions"] * arrays["one_hot"])
        # With a uniform baseline, hyp = m - 0.25 sum_c m_c sums to zero over the bases.
        self.assertLess(np.abs(arrays["hypothetical_attributions"].sum(axis=1)).max(), 1e-5)
        self.assertFalse([f for f in os.listdir(self.tmp) if f.endswith(".partial")])

    def test_gradient_is_torch_autograd_gradient(self):
        out = self.path("grad.h5")
        attribute(self.model(), self.fasta, "gradient", out, "--target", 2, "--threads", 1)
        arrays, attrs = read(out)
        self.assertNotIn("convergence_delta", arrays)
        model = torch.jit.load(self.model()).eval()
        x = torch.tensor(arrays["one_hot"], dtype=torch.float32, requires_grad=True)
        y = model(x)
        y[:, 2].sum().backward()
        np.testing.assert_allclose(arrays["hypothetical_attributions"], x.grad.numpy(),
                                   rtol=1e-5, atol=1e-7)
        np.testing.assert_allclose(arrays["predictions"], y.detach().numpy(), rtol=1e-5,
                                   atol=1e-7)

    def test_convergence_delta_is_sum_minus_prediction_change(self):
        out = self.path("ig.h5")
        attribute(self.model(), self.fasta, "integrated_gradients", out, "--target", 0,
                  "--ig-rule", "riemann_middle", "--n-steps", 4)
        arrays, _ = read(out)
        model = torch.jit.load(self.model()).eval()
        f_b = model(torch.zeros(1, 4, 20))[0, 0].item()
        # zero baseline: sum (x - b) m = sum of attributions
        expected = arrays["attributions"].sum(axis=(1, 2)) - (arrays["predictions"][:, 0] - f_b)
        np.testing.assert_allclose(arrays["convergence_delta"], expected, rtol=1e-4, atol=1e-6)

    def test_batch_size_does_not_change_results(self):
        results = []
        for batch in (1, 7, 64):
            out = self.path(f"b{batch}.h5")
            attribute(self.model(), self.fasta, "integrated_gradients", out, "--n-steps", 5,
                      "--batch-size", batch)
            results.append(read(out)[0])
        for other in results[1:]:
            for name in ("attributions", "hypothetical_attributions", "predictions",
                         "convergence_delta"):
                np.testing.assert_allclose(other[name], results[0][name], rtol=1e-5, atol=1e-7)

    def test_preset_applies_first_and_flags_override(self):
        out = self.path("preset.h5")
        preset = os.path.join(CONFIGS, "ig-riemann-fast.toml")
        attribute(self.model(), self.fasta, "integrated_gradients", out, "--config", preset,
                  "--n-steps", 6)
        parameters = json.loads(read(out)[1]["parameters"])
        self.assertEqual(parameters["ig_rule"], "riemann_trapezoid")  # from the preset
        self.assertEqual(parameters["n_steps"], 6)  # the flag wins

    def test_help_lists_every_option_with_default(self):
        text = run("attribute", "--help").stdout
        for option in ("--model", "--fasta", "--method", "--output", "--target", "--batch-size",
                       "--device", "--threads", "--n-steps", "--ig-rule", "--baseline",
                       "--quiet", "--verbose", "--config", "--references", "--n-shuffles",
                       "--seed", "--delta-warning", "--save-references"):
            self.assertIn(option, text)
        for default in ("=0", "=128", "=auto", "=50", "=gausslegendre", "=zeros", "=20",
                        "=0.001"):
            self.assertIn(default, text)
        self.assertIn("attribute", run("--help").stdout)


class ModelMetadata(TempDirTest):
    """MODEL.json beside MODEL.pt names the outputs (--target NAME) and the input length."""

    def setUp(self):
        super().setUp()
        self.model = self.path("m.pt")
        shutil.copy(data("conv_dense.pt"), self.model)
        self.metadata({"input_length": 20, "alphabet": "ACGT", "targets": ["a", "b", "c"]})
        self.fasta = self.write("in.fa", ">x\nACGTACGTACGTACGTACGT\n>y\nTTTTGGGGCCCCAAAANNNN\n")

    def metadata(self, content):
        with open(self.path("m.json"), "w") as f:
            f.write(content if isinstance(content, str) else json.dumps(content))

    def test_named_target_equals_its_column(self):
        by_name, by_number = self.path("name.h5"), self.path("number.h5")
        attribute(self.model, self.fasta, "gradient", by_name, "--target", "b")
        attribute(self.model, self.fasta, "gradient", by_number, "--target", 1)
        a, attrs = read(by_name)
        b, _ = read(by_number)
        np.testing.assert_array_equal(a["attributions"], b["attributions"])
        self.assertEqual(attrs["target"], 1)
        self.assertEqual(json.loads(attrs["parameters"])["target"], "b")
        self.assertEqual(json.loads(attrs["parameters"])["target_index"], 1)

    def test_bed_length_defaults_to_the_input_length(self):
        genome = self.write("g.fa", ">chr1\n" + "ACGT" * 30 + "\n")
        bed = self.write("r.bed", "chr1\t40\t50\n")
        out = self.path("bed.h5")
        run("attribute", "--quiet", "--model", self.model, "--genome", genome, "--bed", bed,
            "--method", "gradient", "--output", out)
        with h5py.File(out) as f:
            self.assertEqual((f["regions/start"][0], f["regions/end"][0]), (35, 55))

    def test_unknown_names_and_bad_metadata_are_errors(self):
        out = self.path("x.h5")
        proc = run("attribute", "--model", self.model, "--fasta", self.fasta, "--method",
                   "gradient", "--output", out, "--target", "zz", check=False)
        self.assertIn("'zz'", proc.stderr)
        self.assertIn("a, b, c", proc.stderr)
        self.metadata({"alphabet": "TGCA"})
        proc = run("attribute", "--model", self.model, "--fasta", self.fasta, "--method",
                   "gradient", "--output", out, check=False)
        self.assertIn("alphabet 'TGCA'", proc.stderr)
        self.metadata("{not json")
        proc = run("attribute", "--model", self.model, "--fasta", self.fasta, "--method",
                   "gradient", "--output", out, check=False)
        self.assertIn("m.json", proc.stderr)
        os.remove(self.path("m.json"))
        proc = run("attribute", "--model", self.model, "--fasta", self.fasta, "--method",
                   "gradient", "--output", out, "--target", "counts", check=False)
        self.assertIn("no metadata file", proc.stderr)
        self.assertFalse(os.path.exists(out))


if __name__ == "__main__":
    unittest.main()
