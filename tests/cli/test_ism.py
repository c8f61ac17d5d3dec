"""In-silico saturation mutagenesis: tangermeme's three outputs, windows, N, batching."""
import json
import os
import random

import numpy as np
import torch

from seqattr_cli import (GOLDEN, TempDirTest, attribute, data, expected, fixture,
                         golden_target, max_relative_error, read, run)

TOLERANCE = 1e-4




class Ism(TempDirTest):
    def ism(self, model, fasta, *extra):
        out = self.path("ism.h5")
        attribute(model, fasta, "ism", out, *extra)
        return read(out)[0]

    def test_equals_tangermeme(self):
        for case in GOLDEN:
            with self.subTest(case=case):
                arrays = self.ism(data(case + ".pt"), data(case + ".fa"),
                                  "--target", golden_target(case))
                for ours, theirs in [("ism_delta", "delta"),
                                     ("hypothetical_attributions", "hypothetical_attributions"),
                                     ("attributions", "attributions")]:
                    error = max_relative_error(arrays[ours], expected(case, "expected/ism/" + theirs))
                    self.assertLess(error, TOLERANCE, f"{case} {ours}: {error:.3g}")

    def test_delta_is_mutant_minus_input(self):
        fasta = self.write("n.fa", ">a\nACGTNACGTAACCGGTTNNA\n>b\nTTTTGGGGCCCCAAAATGCA\n")
        arrays = self.ism(data("conv_dense.pt"), fasta, "--target", 1, "--batch-size", 7)
        model = torch.jit.load(data("conv_dense.pt")).eval()
        x = torch.tensor(arrays["one_hot"], dtype=torch.float32)
        with torch.no_grad():
            f = model(x)[:, 1]
            for n, l, b in [(0, 4, 0), (0, 4, 3), (0, 0, 2), (1, 19, 1), (0, 17, 2)]:
                mutant = x[n:n + 1].clone()
                mutant[0, :, l] = 0
                mutant[0, b, l] = 1
                want = (model(mutant)[0, 1] - f[n]).item()
                self.assertAlmostEqual(arrays["ism_delta"][n, b, l], want, delta=1e-6)
        # Identity edits are 0; at N all four bases are scored.
        observed = arrays["one_hot"].astype(bool)
        self.assertTrue((arrays["ism_delta"][observed] == 0).all())
        self.assertTrue((arrays["ism_delta"][0, :, 4] != 0).all())
        np.testing.assert_array_equal(arrays["attributions"][0, :, 4], 0)
        np.testing.assert_allclose(arrays["hypothetical_attributions"],
                                   arrays["ism_delta"] - arrays["ism_delta"].mean(axis=1, keepdims=True),
                                   rtol=1e-6, atol=1e-7)

    def test_window_and_batching(self):
        full = self.ism(data("mini_bpnet.pt"), data("mini_bpnet.fa"), "--batch-size", 1000,
                        "--ism-mode", "naive")
        for start, end, batch in [(0, 30, 64), (150, 160, 5), (40, 41, 3), (0, 160, 97)]:
            with self.subTest(start=start, end=end, batch=batch):
                part = self.ism(data("mini_bpnet.pt"), data("mini_bpnet.fa"), "--ism-start", start,
                                "--ism-end", end, "--batch-size", batch, "--ism-mode", "naive")
                # The order and grouping of work never change a result, to the bit.
                np.testing.assert_array_equal(part["ism_delta"][:, :, start:end],
                                              full["ism_delta"][:, :, start:end])
                outside = np.ones(160, dtype=bool)
                outside[start:end] = False
                self.assertTrue((part["ism_delta"][:, :, outside] == 0).all())
                self.assertTrue((part["hypothetical_attributions"][:, :, outside] == 0).all())
                np.testing.assert_array_equal(part["predictions"], full["predictions"])

    def test_bad_window(self):
        # Windows against the length (160) name it; a negative start is refused before that.
        proc = run("attribute", "--model", data("mini_bpnet.pt"), "--fasta", data("mini_bpnet.fa"),
                   "--method", "ism", "--ism-start", -1, "--ism-end", 5, "--output",
                   self.path("bad.h5"), check=False)
        self.assertIn("error: --ism-start -1: must be >= 0", proc.stderr)
        for start, end in [(10, 10), (20, 5), (0, 161), (160, -1)]:
            with self.subTest(start=start, end=end):
                out = self.path("bad.h5")
                proc = run("attribute", "--model", data("mini_bpnet.pt"), "--fasta",
                           data("mini_bpnet.fa"), "--method", "ism", "--ism-start", start,
                           "--ism-end", end, "--output", out, check=False)
                self.assertNotEqual(proc.returncode, 0)
                self.assertIn("--ism-start", proc.stderr.strip().splitlines()[-1])
                self.assertIn("160", proc.stderr)
                self.assertFalse(os.path.exists(out))


class FastIsm(TempDirTest):
    """Fast ISM against full recomputation, in float32 as users run it. (Exactness of the
    windows is checked in float64, and fast float32 against exact ISM within 1e-5 of the
    largest delta, by tests/unit/test_fast_ism.cpp.)"""

    def run_mode(self, model, fasta, mode, *extra):
        out = self.path(mode + ".h5")
        proc = attribute(model, fasta, "ism", out, "--ism-mode", mode, *extra)
        arrays, attrs = read(out)
        return arrays, json.loads(attrs["parameters"]), proc

    def test_fast_equals_naive(self):
        n_fasta = self.write("n.fa", "".join(
            f">s{i}\n{''.join(random.Random(i).choice('ACGTN') for _ in range(100))}\n"
            for i in range(3)))
        cases = [(data("conv_dense.pt"), data("conv_dense.fa"), 2, []),
                 (data("mini_basset.pt"), data("mini_basset.fa"), 1, []),
                 (data("mini_bpnet.pt"), data("mini_bpnet.fa"), 0, ["--ism-start", "0", "--ism-end", "40"]),
                 (data("mini_bpnet.pt"), data("mini_bpnet.fa"), 1, ["--ism-start", "120", "--ism-end", "160"]),
                 (fixture("dl_batchnorm"), n_fasta, 0, []),
                 (fixture("dl_residual"), n_fasta, 1, [])]
        for model, fasta, target, extra in cases:
            with self.subTest(model=model, target=target):
                naive, _, _ = self.run_mode(model, fasta, "naive", "--target", target, *extra)
                fast, parameters, _ = self.run_mode(model, fasta, "fast", "--target", target, *extra)
                self.assertEqual(parameters["ism_mode_used"], "fast")
                # Within 1e-5 of the largest delta, plus a few float32 ulps of the outputs:
                # naive ISM's own error, as it rounds f(mutant) and f(input) at |f| before
                # subtracting (fast ISM carries the change itself).
                ulps = 8 * np.finfo(np.float32).eps * np.abs(naive["predictions"]).max()
                tolerance = 1e-5 * np.abs(naive["ism_delta"]).max() + ulps
                self.assertLess(np.abs(fast["ism_delta"] - naive["ism_delta"]).max(), tolerance)

    def test_fast_does_not_depend_on_batch_size(self):
        # Fast passes are fixed blocks of positions, whatever --batch-size says.
        runs = [self.run_mode(data("mini_bpnet.pt"), data("mini_bpnet.fa"), "fast",
                              "--batch-size", batch)[0] for batch in (7, 64, 1000)]
        for other in runs[1:]:
            np.testing.assert_array_equal(other["ism_delta"], runs[0]["ism_delta"])

    def test_auto_falls_back_and_says_why(self):
        fasta = data("conv_dense.fa")
        out = self.path("auto.h5")
        proc = run("attribute", "--verbose", "--model", fixture("dense_first"), "--fasta", fasta,
                   "--method", "ism", "--output", out)
        self.assertEqual(json.loads(read(out)[1]["parameters"])["ism_mode_used"], "naive")
        self.assertIn("aten::flatten", proc.stderr)
        out = self.path("fast.h5")
        proc = run("attribute", "--model", fixture("dense_first"), "--fasta", fasta,
                   "--method", "ism", "--ism-mode", "fast", "--output", out, check=False)
        self.assertNotEqual(proc.returncode, 0)
        self.assertIn("does not qualify", proc.stderr)
        self.assertIn("aten::flatten", proc.stderr)
        self.assertFalse(os.path.exists(out))
        _, parameters, _ = self.run_mode(data("conv_dense.pt"), fasta, "auto")
        self.assertEqual(parameters["ism_mode_used"], "fast")
