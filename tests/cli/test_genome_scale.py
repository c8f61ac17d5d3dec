"""Genome-scale runs: BED/narrowPeak regions and tiles of an indexed genome, --resume after
kill -9, shards and merge, float16 and chrombpnet datasets, and their errors."""
import gzip
import os
import subprocess
import time
import unittest

import h5py
import numpy as np

from seqattr_cli import (BIN, TempDirTest, all_datasets, assert_identical_outputs, data,
                         make_genome, read_fasta, run)

MODEL = data("mini_bpnet.pt")  # fully convolutional: any window length


def expected_one_hot(genome, chrom, start, end):
    """(4, L) uint8 of a window; bases off the chromosome and non-ACGT letters are N."""
    sequence = genome[chrom]
    text = "".join(sequence[i].upper() if 0 <= i < len(sequence) else "N"
                   for i in range(start, end))
    out = np.zeros((4, len(text)), np.uint8)
    for channel, base in enumerate("ACGT"):
        out[channel] = np.frombuffer(text.encode(), np.uint8) == ord(base)
    return out


def peaks(path):
    with open(path) as f:
        return [line.rstrip("\n").split("\t") for line in f if line.strip()]


class GenomeTest(TempDirTest):
    def setUp(self):
        super().setUp()
        self.genome, self.peaks = make_genome(self.tmp, scale=0.1)
        self.sequences = read_fasta(self.genome)

    def attribute(self, output, *extra, check=True):
        return run("attribute", "--quiet", "--model", MODEL, "--genome", self.genome,
                   "--output", output, *extra, check=check)


class Regions(GenomeTest):
    def test_narrowpeak_windows_are_centred_and_padded(self):
        out = self.path("peaks.h5")
        proc = self.attribute(out, "--bed", self.peaks, "--length", 3000, "--method", "gradient",
                              check=False)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        rows = peaks(self.peaks)
        with h5py.File(out) as f:
            chrom = [c.decode() for c in f["regions/chrom"][()]]
            start, end = f["regions/start"][()], f["regions/end"][()]
            summit, name = f["regions/summit"][()], [n.decode() for n in f["regions/name"][()]]
            one_hot = f["one_hot"][()]
            self.assertEqual([n.decode() for n in f["names"][()]], name)
        self.assertEqual(len(chrom), len(rows))
        padded = 0
        for i, row in enumerate(rows):
            s, e, peak_summit = int(row[1]), int(row[2]), int(row[9])
            centre = s + peak_summit if peak_summit >= 0 else (s + e) // 2
            self.assertEqual((chrom[i], start[i], end[i], summit[i], name[i]),
                             (row[0], centre - 1500, centre + 1500, 1500, row[3]))
            np.testing.assert_array_equal(one_hot[i], expected_one_hot(
                self.sequences, row[0], start[i], end[i]), err_msg=row[3])
            padded += start[i] < 0 or end[i] > len(self.sequences[row[0]])
        self.assertGreater(padded, 0, "the synthetic peaks include windows past an end")
        self.assertIn(f"warning: {padded} of {len(rows)} windows run past a chromosome end",
                      run("attribute", "--model", MODEL, "--genome", self.genome, "--bed",
                          self.peaks, "--length", 3000, "--method", "gradient", "--output",
                          self.path("again.h5")).stderr)

    def test_gzipped_bed_and_midpoints(self):
        bed = self.path("plain.bed.gz")
        with gzip.open(bed, "wt") as f:
            f.write("track name=x\n# comment\nchr2\t100\t201\nchr1\t10\t20\tnamed\n")
        out = self.path("bed.h5")
        self.attribute(out, "--bed", bed, "--length", 50, "--method", "gradient")
        with h5py.File(out) as f:
            self.assertEqual(list(f["regions/start"][()]), [150 - 25, 15 - 25])
            self.assertEqual([n.decode() for n in f["regions/name"][()]],
                             ["chr2:125-175", "named"])
            self.assertEqual(list(f["regions/summit"][()]), [25, 25])

    def test_tiles_cover_each_chromosome_to_its_end(self):
        out = self.path("tiles.h5")
        self.attribute(out, "--tile", "400:300", "--chroms", "chr3,chrM", "--method", "gradient")
        expected = []
        for chrom in ("chr3", "chrM"):
            size = len(self.sequences[chrom])
            starts = list(range(0, size - 400 + 1, 300))
            if starts[-1] != size - 400:
                starts.append(size - 400)
            expected += [(chrom, s, s + 400) for s in starts]
        with h5py.File(out) as f:
            got = list(zip([c.decode() for c in f["regions/chrom"][()]],
                           f["regions/start"][()], f["regions/end"][()]))
            self.assertEqual(got, expected)
            self.assertEqual(set(f["regions/summit"][()]), {-1})
            i = len(expected) - 1
            np.testing.assert_array_equal(f["one_hot"][i],
                                          expected_one_hot(self.sequences, *expected[i]))

    def test_float16_and_chrombpnet_datasets(self):
        full, half = self.path("full.h5"), self.path("half.h5")
        common = ["--bed", self.peaks, "--length", 200, "--method", "deeplift_shap",
                  "--n-shuffles", 2]
        self.attribute(full, *common)
        self.attribute(half, *common, "--dtype", "float16", "--format", "chrombpnet")
        a, b = all_datasets(full), all_datasets(half)
        for name in ("attributions", "hypothetical_attributions"):
            self.assertEqual(b[name].dtype, np.float16)
            np.testing.assert_array_equal(b[name], a[name].astype(np.float16))
        np.testing.assert_array_equal(b["predictions"], a["predictions"])
        self.assertEqual(b["raw/seq"].dtype, np.int8)
        np.testing.assert_array_equal(b["raw/seq"], a["one_hot"])
        np.testing.assert_array_equal(b["shap/seq"], a["hypothetical_attributions"].astype(np.float16))
        np.testing.assert_array_equal(b["projected_shap/seq"], a["attributions"].astype(np.float16))
        self.assertEqual(b["shap/seq"].shape, a["one_hot"].shape)


class Sharding(GenomeTest):
    ARGS = ["--tile", "500:400", "--method", "integrated_gradients", "--n-steps", 4,
            "--batch-size", 64]

    def test_merged_shards_equal_one_process(self):
        whole = self.path("whole.h5")
        self.attribute(whole, *self.ARGS)
        shards = [self.path(f"shard{i}.h5") for i in range(3)]
        for i, shard in enumerate(shards):
            self.attribute(shard, *self.ARGS, "--shard", f"{i}/3")
            with h5py.File(shard) as f:
                self.assertEqual(f.attrs["shard"], f"{i}/3")
                self.assertGreater(f["one_hot"].shape[0], 0)
        merged = self.path("merged.h5")
        run("merge", "--quiet", shards[2], shards[0], shards[1], "--output", merged)
        assert_identical_outputs(self, whole, merged)

    def test_more_shards_than_parts_and_slurm_environment(self):
        whole = self.path("whole.h5")
        args = ["--tile", "5000:5000", "--chroms", "chr3", "--method", "gradient"]
        self.attribute(whole, *args)  # 12 windows: one part
        shards = []
        for task in (1, 2, 3):  # --array=1-3: the index counts from SLURM_ARRAY_TASK_MIN
            shards.append(self.path(f"task{task}.h5"))
            env = dict(os.environ, SLURM_ARRAY_TASK_ID=str(task), SLURM_ARRAY_TASK_MIN="1",
                       SLURM_ARRAY_TASK_COUNT="3")
            subprocess.run([BIN, "attribute", "--quiet", "--model", MODEL, "--genome", self.genome,
                            "--output", shards[-1], *args], env=env, check=True)
        rows = [h5py.File(s)["one_hot"].shape[0] for s in shards]
        self.assertEqual(rows, [12, 0, 0])
        merged = self.path("merged.h5")
        run("merge", *shards, "--output", merged)
        assert_identical_outputs(self, whole, merged)

    def test_merge_refuses_gaps_duplicates_and_other_runs(self):
        shards = [self.path(f"s{i}.h5") for i in range(2)]
        for i, shard in enumerate(shards):
            self.attribute(shard, *self.ARGS, "--shard", f"{i}/2")
        other = self.path("other.h5")
        self.attribute(other, *self.ARGS[:-4], "--n-steps", 5, "--batch-size", 64, "--shard", "1/2")
        out = self.path("merged.h5")
        for inputs, fragment in [([shards[0]], "missing shard(s) 1"),
                                 ([shards[0], shards[0], shards[1]], "given twice"),
                                 ([shards[0], other], "different runs"),
                                 ([shards[0], data("conv_dense.h5")], "not a shard")]:
            proc = run("merge", *inputs, "--output", out, check=False)
            self.assertNotEqual(proc.returncode, 0)
            self.assertIn(fragment, proc.stderr)
            self.assertTrue(proc.stderr.strip().splitlines()[-1].startswith("error: merge:"))
            self.assertFalse(os.path.exists(out))


class Resume(GenomeTest):
    ARGS = ["--tile", "500:400", "--method", "integrated_gradients", "--n-steps", 16,
            "--batch-size", 64]

    def parts(self, out):
        return sorted(p for p in os.listdir(out + ".parts") if p.startswith("part-"))

    def test_kill_9_then_resume_equals_an_uninterrupted_run(self):
        out = self.path("killed.h5")
        proc = subprocess.Popen([BIN, "attribute", "--quiet", "--model", MODEL, "--genome",
                                 self.genome, "--output", out, *map(str, self.ARGS)],
                                stderr=subprocess.PIPE)
        deadline = time.time() + 120
        while time.time() < deadline and proc.poll() is None:
            if os.path.isdir(out + ".parts") and len(self.parts(out)) >= 2:
                break
            time.sleep(0.02)
        self.assertIsNone(proc.poll(), "the run ended before it could be killed")
        proc.kill()
        proc.wait()
        proc.stderr.close()
        self.assertFalse(os.path.exists(out))
        finished = self.parts(out)
        for part in finished:  # every part present is whole and readable
            with h5py.File(os.path.join(out + ".parts", part)) as f:
                self.assertEqual(f["one_hot"].shape[0], 64)

        # Without --resume the finished parts are not silently thrown away.
        refused = self.attribute(out, *self.ARGS, check=False)
        self.assertIn("--resume", refused.stderr)
        # Different parameters are refused, naming them.
        changed = self.attribute(out, *self.ARGS[:-4], "--n-steps", 10, "--batch-size", 64,
                                 "--resume", check=False)
        self.assertNotEqual(changed.returncode, 0)
        self.assertIn("n_steps (16 then 10)", changed.stderr)
        self.assertEqual(self.parts(out), finished)

        resumed = run("attribute", "--model", MODEL, "--genome", self.genome, "--output", out,
                      *self.ARGS, "--resume")
        self.assertIn(f"{64 * len(finished)} of them resumed from finished parts", resumed.stderr)
        self.assertFalse(os.path.exists(out + ".parts"))
        reference = self.path("reference.h5")
        run("attribute", "--model", MODEL, "--genome", self.genome, "--output", reference,
            *self.ARGS)  # the flags of the resumed run (--quiet is stored in the parameters)
        assert_identical_outputs(self, reference, out)
        # Resuming a finished run does nothing.
        again = run("attribute", "--model", MODEL, "--genome", self.genome, "--output", out,
                    *self.ARGS, "--resume")
        self.assertIn("already complete", again.stderr)


class DiskFull(GenomeTest):
    def test_full_disk_is_a_clear_error_and_finished_parts_stay_readable(self):
        small = self.path("small")
        os.mkdir(small)
        mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=600k", "tmpfs", small],
                                 capture_output=True)
        if mounted.returncode != 0:
            self.skipTest("cannot mount a small tmpfs here: " + mounted.stderr.decode().strip())
        try:
            out = os.path.join(small, "out.h5")
            proc = self.attribute(out, "--tile", "500:250", "--method", "gradient",
                                  "--batch-size", 64, check=False)
            self.assertNotEqual(proc.returncode, 0)
            error = proc.stderr.strip().splitlines()[-1]
            self.assertTrue(error.startswith("error: "), proc.stderr)
            self.assertIn("No space left on device", error)
            self.assertFalse(os.path.exists(out))
            parts = sorted(p for p in os.listdir(out + ".parts") if p.startswith("part-"))
            self.assertGreater(len(parts), 0)
            for part in parts:
                with h5py.File(os.path.join(out + ".parts", part)) as f:
                    self.assertEqual(f["attributions"].shape[0], 64)
                    self.assertTrue(np.isfinite(f["attributions"][()]).all())
        finally:
            subprocess.run(["umount", small], check=False)


class BadRegions(GenomeTest):
    def expect_error(self, args, *fragments):
        out = self.path("bad.h5")
        proc = self.attribute(out, *args, check=False)
        self.assertNotEqual(proc.returncode, 0, args)
        last = proc.stderr.strip().splitlines()[-1]
        self.assertTrue(last.startswith("error: "), proc.stderr)
        for fragment in fragments:
            self.assertIn(str(fragment), last)
        self.assertFalse(os.path.exists(out))
        self.assertFalse(os.path.exists(out + ".parts"))

    def test_malformed_lines_unknown_chromosomes_and_reversed_intervals(self):
        for body, fragment in [("chr1\t10\n", "line 2"), ("chr1\tten\t20\n", "line 2"),
                               ("chrZ\t10\t20\n", "chrZ"), ("chr1\t30\t20\n", "line 2")]:
            with self.subTest(body=body):
                bed = self.write("bad.bed", "chr1\t0\t10\n" + body)
                self.expect_error(["--bed", bed, "--length", 50, "--method", "gradient"], bed,
                                  fragment)

    def test_option_combinations(self):
        self.expect_error(["--bed", self.peaks, "--method", "gradient"], "--length")
        self.expect_error(["--tile", "10", "--method", "gradient"], "--tile", "W:S")
        self.expect_error(["--tile", "100:50", "--chroms", "chrQ", "--method", "gradient"],
                          "chrQ")
        self.expect_error(["--tile", "100:50", "--method", "gradient", "--shard", "3/3"],
                          "--shard")
        proc = run("attribute", "--model", MODEL, "--bed", self.peaks, "--length", 100,
                   "--method", "gradient", "--output", self.path("x.h5"), check=False)
        self.assertIn("--genome", proc.stderr)
        missing = self.path("missing.fa")
        proc = run("attribute", "--model", MODEL, "--genome", missing, "--bed", self.peaks,
                   "--length", 100, "--method", "gradient", "--output", self.path("x.h5"),
                   check=False)
        self.assertIn(missing, proc.stderr)


if __name__ == "__main__":
    unittest.main()
