"""`seqattr bench`: one row per combination of the lists given, with every field, in md,
csv and json; bad options are one `error:` line naming the option."""
import csv
import io
import json
import math
import unittest

from seqattr_cli import TempDirTest, data, run

MODEL = data("mini_bpnet.pt")
# A few seconds: 4 sequences with the default settings (50 IG steps, 20 shuffles, 100 ISM
# positions), one warm-up and two repetitions per combination. One thread: OpenMP threads
# that spin on a busy 2-core CI machine can make a run 30 times slower.
SWEEP = ["bench", "--model", MODEL, "--length", "160", "--methods", "ig,deeplift_shap,ism",
         "--batch-size", "16,32", "-r", "2", "--sequences", "4", "--device", "cpu",
         "--threads", "1"]

FIELDS = ["model", "method", "settings", "device", "device_name", "cpu_model", "threads",
          "precision", "convolutions", "batch_size", "sequences", "length", "warmup", "repetitions",
          "forward_rows_per_sequence", "backward_rows_per_sequence",
          "forward_flops_per_sequence", "method_flops_per_sequence",
          "executed_flops_per_sequence", "seconds_mean",
          "seconds_sd", "sequences_per_second_mean", "sequences_per_second_sd",
          "bases_per_second_mean", "bases_per_second_sd", "flops_per_second_mean",
          "flops_per_second_sd", "gemm_flops_per_second", "gemm_fraction", "peak_rss_mib", "peak_rss_scope", "cuda_peak_mib", "timing",
          "libtorch_version", "seqattr_version"]
POSITIVE = ["threads", "batch_size", "sequences", "length", "repetitions",
            "forward_rows_per_sequence", "forward_flops_per_sequence",
            "method_flops_per_sequence", "executed_flops_per_sequence", "seconds_mean",
            "sequences_per_second_mean",
            "bases_per_second_mean", "flops_per_second_mean", "gemm_flops_per_second",
            "gemm_fraction", "peak_rss_mib"]
SPREADS = ["seconds_sd", "sequences_per_second_sd", "bases_per_second_sd", "flops_per_second_sd"]

# mini_bpnet at L = 160, by hand (as tests/unit/test_model_flops.cpp): 2 x MACs of iconv,
# four residual convolutions, fconv on the 120-base crop and the count head's linear.
FORWARD_FLOPS = 2 * (16 * 160 * 84 + 4 * 16 * 160 * 48 + 120 * 400 + 16)


class Bench(TempDirTest):
    @classmethod
    def setUpClass(cls):
        cls.rows = json.loads(run(*SWEEP, "-o", "json").stdout)

    def test_one_row_per_combination_with_every_field(self):
        self.assertEqual(len(self.rows), 6)
        combos = [(r["method"], r["batch_size"]) for r in self.rows]
        self.assertEqual(combos, [(m, b) for m in ["integrated_gradients", "deeplift_shap", "ism"]
                                  for b in [16, 32]])
        for row in self.rows:
            self.assertEqual(list(row), FIELDS)
            for key in POSITIVE:
                value = row[key]
                self.assertTrue(isinstance(value, (int, float)) and math.isfinite(value)
                                and value > 0, f"{key} = {value!r}")
            for key in SPREADS:
                self.assertTrue(math.isfinite(row[key]) and row[key] >= 0, f"{key} = {row[key]!r}")
            self.assertIsNone(row["cuda_peak_mib"])  # CPU
            self.assertEqual((row["device"], row["precision"], row["timing"]),
                             ("cpu", "fp32", "steady_clock"))
            self.assertEqual((row["sequences"], row["length"], row["warmup"], row["repetitions"]),
                             (4, 160, 1, 2))
            for key in ["cpu_model", "device_name", "libtorch_version", "seqattr_version"]:
                self.assertTrue(row[key] and row[key] != "unknown", key)
            self.assertAlmostEqual(row["bases_per_second_mean"],
                                   160 * row["sequences_per_second_mean"], delta=1e-6 * row["bases_per_second_mean"])

    def test_flops(self):
        for row in self.rows:
            self.assertEqual(row["forward_flops_per_sequence"], FORWARD_FLOPS)
        by_method = {}
        for row in self.rows:
            by_method.setdefault(row["method"], set()).add(row["method_flops_per_sequence"])
        # the same work per sequence whatever the batch size
        self.assertTrue(all(len(v) == 1 for v in by_method.values()), by_method)
        rows = {r["method"]: r for r in self.rows}
        self.assertEqual((rows["integrated_gradients"]["forward_rows_per_sequence"],
                          rows["integrated_gradients"]["backward_rows_per_sequence"]), (52, 50))
        self.assertEqual((rows["deeplift_shap"]["forward_rows_per_sequence"],
                          rows["deeplift_shap"]["backward_rows_per_sequence"]), (21, 21))
        self.assertEqual((rows["ism"]["forward_rows_per_sequence"],
                          rows["ism"]["backward_rows_per_sequence"]), (1 + 3 * 100, 0))
        self.assertEqual(rows["integrated_gradients"]["method_flops_per_sequence"],
                         FORWARD_FLOPS * (52 + 2 * 50))
        self.assertIn("window=100/160 (30..130)", rows["ism"]["settings"])
        for row in self.rows:
            self.assertAlmostEqual(row["flops_per_second_mean"],
                                   row["method_flops_per_sequence"] * row["sequences_per_second_mean"],
                                   delta=1e-6 * row["flops_per_second_mean"])
            # The ceiling is measured once per device and thread count: one value for the run.
            self.assertEqual(row["gemm_flops_per_second"], self.rows[0]["gemm_flops_per_second"])
            # Of the ceiling: the FLOPs the run executes, at most the model's.
            self.assertLessEqual(row["executed_flops_per_sequence"], FORWARD_FLOPS)
            executed = row["executed_flops_per_sequence"] * (
                row["forward_rows_per_sequence"] + 2 * row["backward_rows_per_sequence"])
            self.assertAlmostEqual(row["gemm_fraction"],
                                   executed * row["sequences_per_second_mean"]
                                   / row["gemm_flops_per_second"],
                                   delta=1e-6 * row["gemm_fraction"])

    def test_csv_and_markdown(self):
        small = SWEEP[:SWEEP.index("--methods")] + [
            "--methods", "gradient,ism", "--batch-size", "8", "-r", "1", "--sequences", "2",
            "--device", "cpu", "--threads", "1", "--ism-window", "4", "--warmup", "0"]
        table = list(csv.DictReader(io.StringIO(run(*small, "-o", "csv").stdout)))
        self.assertEqual(len(table), 2)
        self.assertEqual(list(table[0]), FIELDS)
        self.assertEqual([r["method"] for r in table], ["gradient", "ism"])
        for row in table:
            self.assertEqual(row["cuda_peak_mib"], "-")
            self.assertEqual(int(row["forward_flops_per_sequence"]), FORWARD_FLOPS)
            self.assertGreater(float(row["sequences_per_second_mean"]), 0)
            self.assertEqual(float(row["sequences_per_second_sd"]), 0)  # one repetition

        md = run(*small).stdout  # md is the default
        lines = [l for l in md.splitlines() if l.startswith("|")]
        cells = [[c.strip() for c in l.strip("|").split("|")] for l in lines]
        self.assertEqual(cells[0][:6], ["method", "settings", "device", "precision", "threads", "batch"])
        self.assertTrue(all(set(c) <= set("-:") for c in cells[1]))
        self.assertEqual(len(cells), 4)
        self.assertTrue(all(len(c) == len(cells[0]) for c in cells))
        for row in cells[2:]:
            record = dict(zip(cells[0], row))
            self.assertIn("±", record["seq/s"])
            self.assertGreater(float(record["seq/s"].split()[0]), 0)
            self.assertEqual(record["CUDA peak MiB"], "-")
            self.assertGreater(float(record["of GEMM"]), 0)
        self.assertIn("LibTorch", md)
        self.assertIn("of GEMM: FLOP/s as above (the 1 : 2 rule) but of the forward FLOPs the run "
                      "executes, over the machine's ceiling", md)
        self.assertIn("Executed forward FLOPs per sequence: 1.51 M", md)
        self.assertIn("--ism-window", md)


class BenchProfile(TempDirTest):
    def test_top_operators(self):
        md = run("bench", "--model", MODEL, "--length", "160", "--methods", "deeplift_shap",
                 "--n-shuffles", "4", "-r", "1", "--sequences", "2", "--device", "cpu",
                 "--threads", "1", "--profile", "5").stdout
        part = md[md.index("### Where the time goes: deeplift_shap"):]
        rows = [l for l in part.splitlines() if l.startswith("| ") and "---" not in l][1:]
        self.assertEqual(len(rows), 5)
        selfs = [float(r.strip("|").split("|")[2]) for r in rows]
        self.assertEqual(selfs, sorted(selfs, reverse=True))
        self.assertTrue(any("conv" in r for r in rows), rows)  # a convolutional model


class BenchErrors(TempDirTest):
    def expect_error(self, *args):
        proc = run("bench", "--model", MODEL, "--length", "160", "--sequences", "1",
                   "-r", "1", *args, check=False)
        self.assertNotEqual(proc.returncode, 0)
        errors = [l for l in proc.stderr.splitlines() if l.startswith("error: ")]
        self.assertEqual(len(errors), 1, proc.stderr)
        self.assertEqual(proc.stdout, "")
        return errors[0]

    def test_bad_options(self):
        cases = [
            (["--methods", "ig,shap"], ["--methods", "shap"]),
            (["--methods", "ig,integrated_gradients"], ["--methods", "repeats"]),
            (["--methods", "ig,,ism"], ["--methods", "empty"]),
            (["--batch-size", "16,x"], ["--batch-size", "'x'"]),
            (["--batch-size", "0"], ["--batch-size", "'0'"]),
            (["--device", "tpu"], ["--device", "tpu"]),
            (["--precision", "fp16"], ["--precision", "fp16", "fp32"]),
            (["--precision", "fp64"], ["--precision", "fp64"]),
            (["--threads", "1,x"], ["--threads", "'x'"]),
            (["-o", "xml"], ["--output", "xml"]),
            (["--sequences", "0"], ["--sequences"]),
            (["--target", "5"], ["--target", "5"]),
        ]
        for args, fragments in cases:
            with self.subTest(args=args):
                error = self.expect_error(*args)
                for fragment in fragments:
                    self.assertIn(fragment, error)

    def test_missing_model_and_length(self):
        missing = self.path("nope.pt")
        proc = run("bench", "--model", missing, "--length", "100", check=False)
        self.assertNotEqual(proc.returncode, 0)
        self.assertIn("--model", proc.stderr)
        self.assertIn(missing, proc.stderr)
        proc = run("bench", "--model", MODEL, check=False)  # no MODEL.json beside it
        self.assertNotEqual(proc.returncode, 0)
        self.assertIn("--length", proc.stderr)
        proc = run("bench", "--length", "100", check=False)
        self.assertNotEqual(proc.returncode, 0)
        self.assertIn("--model", proc.stderr)


if __name__ == "__main__":
    unittest.main()
