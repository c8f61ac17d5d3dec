"""Bad input: a one-line `error:` naming the problem and the offending file, record or
value; a non-zero exit; and no file at the output path (nor a leftover temporary)."""
import os
import signal
import subprocess
import time
import unittest

import h5py
import torch

from seqattr_cli import BIN, MODELS, TempDirTest, data, expect_cli_error, run

GOOD_FA = ">a\nACGTACGTAC\n>b\nacgtnacgta\n"


class BadInput(TempDirTest):
    def setUp(self):
        super().setUp()
        self.out = self.path("out.h5")
        self.fasta = self.write("good.fa", GOOD_FA)

    def expect_error(self, args, *fragments, output=None):
        return expect_cli_error(self, args, *fragments, outputs=[output or self.out])

    def attribute(self, model=None, fasta=None, method="gradient", *extra):
        return ["attribute", "--model", model or data("conv_dense.pt"),
                "--fasta", fasta or self.fasta, "--method", method, "--output", self.out, *extra]

    # -- model ----------------------------------------------------------------------------
    def test_missing_model(self):
        missing = self.path("nope.pt")
        self.expect_error(self.attribute(model=missing), "--model", missing)

    def test_corrupt_model(self):
        junk = self.write("junk.pt", "this is not a TorchScript archive\n")
        self.expect_error(self.attribute(model=junk), "--model", junk, "TorchScript")
        truncated = self.path("truncated.pt")
        with open(data("conv_dense.pt"), "rb") as src, open(truncated, "wb") as dst:
            dst.write(src.read()[:4000])
        self.expect_error(self.attribute(model=truncated), "--model", truncated)

    def test_model_output_not_n_by_t(self):
        # (N, S, L) needs a reduction, a tuple a head (tests/cli/test_models.py has the rest).
        for name, fragments in [("output_3d.pt", ["shape (N, 2, 10)", "--reduce"]),
                                ("output_tuple.pt", ["returns 2 outputs", "0 (N, 4); 1 (N, 4)",
                                                     "--head"])]:
            with self.subTest(name=name):
                model = os.path.join(MODELS, "fixtures", name)
                self.expect_error(self.attribute(model=model), *fragments)

    def test_model_output_of_one_value_per_sequence(self):
        # (N,) is read as (N, 1).
        out = self.path("one.h5")
        run("attribute", "--quiet", "--model", os.path.join(MODELS, "fixtures", "output_1d.pt"),
            "--fasta", self.fasta, "--method", "gradient", "--output", out)
        with h5py.File(out, "r") as f:
            self.assertEqual(f["predictions"].shape[1], 1)

    def test_model_rejects_sequence_length(self):
        # mini_basset flattens into a dense layer sized for 100 bp.
        self.expect_error(self.attribute(model=data("mini_basset.pt")), "forward failed",
                          "(2, 4, 10)", "shapes cannot be multiplied")

    def test_target_out_of_range(self):
        self.expect_error(self.attribute(None, None, "gradient", "--target", 3), "--target 3",
                          "3 output(s)")
        self.expect_error(self.attribute(None, None, "gradient", "--target", -1), "--target")

    # -- FASTA ----------------------------------------------------------------------------
    def test_empty_fasta(self):
        empty = self.write("empty.fa", "")
        self.expect_error(self.attribute(fasta=empty), empty, "empty")

    def test_malformed_fasta(self):
        for content, fragment in [(b"ACGT\n>a\nACGT\n", "not a FASTA"),
                                  (b">a\n>b\nACGT\n", "record 'a' has no sequence"),
                                  (b"@r\nACGT\n+\nIIII\n", "not a FASTA"),
                                  (b"\x1f\x8b\x08\x00garbage", "cannot read")]:
            with self.subTest(content=content):
                bad = self.write("bad.fa", content, mode="wb")
                self.expect_error(self.attribute(fasta=bad), bad, fragment)

    def test_missing_fasta(self):
        missing = self.path("missing.fa")
        self.expect_error(self.attribute(fasta=missing), missing)

    def test_unequal_lengths(self):
        fasta = self.write("unequal.fa", ">a\nACGT\n>b\nACGT\n>c\nACG\n>d\nA\n")
        self.expect_error(self.attribute(fasta=fasta), fasta, "record 'c'", "length 3")

    def test_characters_other_than_acgtn(self):
        for bad_char in ("X", "-", "R", "u"):
            with self.subTest(char=bad_char):
                fasta = self.write("chars.fa", f">ok\nACGTN\n>bad_one\nAC{bad_char}TN\n")
                self.expect_error(self.attribute(fasta=fasta), fasta, "bad_one",
                                  f"'{bad_char}' at position 3")

    # -- output ---------------------------------------------------------------------------
    def test_unwritable_output(self):
        missing_dir = self.path("no/such/dir/out.h5")
        self.expect_error(self.attribute()[:-1] + [missing_dir], missing_dir, "does not exist",
                          output=missing_dir)
        # /proc refuses new files even to root.
        self.expect_error(self.attribute()[:-1] + ["/proc/seqattr-out.h5"], "/proc/seqattr-out.h5",
                          "cannot write", output="/proc/seqattr-out.h5")
        self.expect_error(self.attribute()[:-1] + [self.tmp], self.tmp, "is a directory",
                          output=self.path("never"))

    # -- command line ---------------------------------------------------------------------
    def test_unknown_method_or_option(self):
        self.expect_error(self.attribute(method="deepshap"), "--method", "deepshap")
        self.expect_error(self.attribute() + ["--frobnicate"], "--frobnicate")
        self.expect_error(["frobnicate"], "unknown command 'frobnicate'")
        self.expect_error(self.attribute(None, None, "integrated_gradients", "--ig-rule",
                                         "simpson"), "--ig-rule", "simpson")
        self.expect_error(self.attribute(None, None, "integrated_gradients", "--ig-rule",
                                         "riemann_left", "--n-steps", 1), "--n-steps 1")
        self.expect_error(self.attribute(None, None, "gradient", "--batch-size", 0), "--batch-size")

    def test_unavailable_device(self):
        if torch.cuda.is_available():
            self.skipTest("a CUDA device is present")
        self.expect_error(self.attribute(None, None, "gradient", "--device", "cuda"),
                          "--device", "cuda")
        self.expect_error(self.attribute(None, None, "gradient", "--device", "tpu"), "--device", "tpu")


class InterruptedRun(TempDirTest):
    """A killed run never leaves a file at the output path; what it finished stays in
    OUT.parts/ for --resume (test_genome_scale.py resumes it)."""

    def start_long_run(self, name="out.h5"):
        records = "".join(f">s{i}\n{'ACGT' * 250}\n" for i in range(400))
        fasta = self.write("many.fa", records)
        out = self.path(name)
        proc = subprocess.Popen([BIN, "attribute", "--quiet", "--model", data("mini_bpnet.pt"),
                                 "--fasta", fasta, "--method", "integrated_gradients",
                                 "--n-steps", "200", "--batch-size", "16", "--output", out],
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.time() + 30
        while time.time() < deadline and not os.path.isdir(out + ".parts"):
            time.sleep(0.05)
        time.sleep(0.5)
        self.assertIsNone(proc.poll(), "the run finished before it could be interrupted")
        return proc, out

    def test_sigkill(self):
        proc, out = self.start_long_run()
        proc.kill()
        proc.wait()
        self.assertFalse(os.path.exists(out))

    def test_sigterm_and_sigint_remove_the_temporary(self):
        for sig in (signal.SIGTERM, signal.SIGINT):
            with self.subTest(signal=sig):
                proc, out = self.start_long_run(f"out-{sig.name}.h5")
                proc.send_signal(sig)
                proc.wait(timeout=30)
                self.assertNotEqual(proc.returncode, 0)
                self.assertFalse(os.path.exists(out))
                self.assertEqual([f for f in os.listdir(self.tmp) if ".partial" in f], [])
                parts = os.listdir(out + ".parts") if os.path.isdir(out + ".parts") else []
                self.assertEqual([p for p in parts if not (p == "run.json" or
                                                           (p.startswith("part-") and
                                                            p.endswith(".h5")))], [])


if __name__ == "__main__":
    unittest.main()
