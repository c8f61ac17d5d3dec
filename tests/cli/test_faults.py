"""Faults and hostile inputs (issue 17): outputs that are inputs, pipes and FIFOs, truncated
gzip, a full disk, non-finite model outputs, strict presets, tab-separated names, --resume
on another run's output, two runs on one output, stale temporaries, and the option checks
that answer at once. Each asserts the exit code, the message, and what is on disk
afterwards, inputs included."""
import gzip
import os
import random
import shutil
import stat
import subprocess
import threading
import time
import unittest
import zlib

import h5py
import numpy as np
import torch

from seqattr_cli import (BIN, CONFIGS, TempDirTest, data, expect_cli_error, read, run)

MODEL = data("conv_dense.pt")      # (N, 4, 100) -> (N, T)
CONV = data("mini_bpnet.pt")       # fully convolutional: any length


def fasta_text(count, length=100, seed=0):
    rng = random.Random(seed)
    return "".join(f">r{i}\n" + "".join(rng.choice("ACGT") for _ in range(length)) + "\n"
                   for i in range(count))


def file_bytes(path):
    with open(path, "rb") as f:
        return f.read()


def names_in(path):
    with h5py.File(path, "r") as f:
        return [n.decode() for n in f["names"][()]]


class Fixture(TempDirTest):
    def setUp(self):
        super().setUp()
        self.fasta = self.write("in.fa", fasta_text(12))
        self.out = self.path("out.h5")

    def attribute_args(self, *extra, fasta=None, model=MODEL, out=None, method="gradient"):
        return ["attribute", "--quiet", "--model", model, "--fasta", fasta or self.fasta,
                "--method", method, "--output", out or self.out, *extra]

    def genome(self, length=3000):
        """A one-chromosome genome and its index."""
        path = self.write("genome.fa", ">chr1\n" + fasta_text(1, length, seed=3).split("\n")[1]
                          + "\n")
        with open(path + ".fai", "w") as f:
            f.write(f"chr1\t{length}\t6\t{length}\t{length + 1}\n")
        return path


class OutputIsAnInput(Fixture):
    """1. An output that is an input is refused, the input left as it was."""

    def expect_kept(self, args, victim, *fragments):
        before = file_bytes(victim)
        expect_cli_error(self, args, *fragments)
        self.assertEqual(file_bytes(victim), before, f"{victim} was changed")

    def test_attribute_output_is_the_fasta_or_the_model(self):
        self.expect_kept(self.attribute_args(out=self.fasta), self.fasta,
                         "--output", "same file as --fasta")
        model = self.path("model.pt")
        shutil.copy(MODEL, model)
        self.expect_kept(self.attribute_args(model=model, out=model), model,
                         "same file as --model")

    def test_links_are_followed(self):
        hard = self.path("hard.h5")
        os.link(self.fasta, hard)
        self.expect_kept(self.attribute_args(out=hard), self.fasta, "same file as --fasta")
        soft = self.path("soft.h5")
        os.symlink(self.fasta, soft)
        self.expect_kept(self.attribute_args(out=soft), self.fasta, "--output")

    def test_attribute_output_is_the_genome(self):
        genome = self.genome()
        bed = self.write("r.bed", "chr1\t1000\t1100\n")
        args = ["attribute", "--model", CONV, "--genome", genome, "--bed", bed, "--length", 100,
                "--method", "gradient", "--output", genome]
        self.expect_kept(args, genome, "same file as --genome")

    def test_pictures_and_exports_onto_their_input(self):
        genome = self.genome()
        bed = self.write("r.bed", "chr1\t1000\t1100\n")
        run("attribute", "--quiet", "--model", CONV, "--genome", genome, "--bed", bed, "--length",
            100, "--method", "gradient", "--output", self.out)
        for command in (["report"], ["logo"], ["export-bigwig", "--genome", genome]):
            with self.subTest(command=command[0]):
                self.expect_kept([*command, self.out, "--output", self.out], self.out,
                                 "--output", "same file as")
        self.expect_kept(["export-bigwig", self.out, "--genome", genome, "--output", genome],
                         genome, "same file as --genome")

    def test_devices_are_never_replaced(self):
        # As root a rename over /dev/null would replace the device node.
        before = os.stat("/dev/null")
        expect_cli_error(self, self.attribute_args(out="/dev/null"), "--output '/dev/null'",
                         "not a regular file")
        after = os.stat("/dev/null")
        self.assertTrue(stat.S_ISCHR(after.st_mode))
        self.assertEqual((before.st_ino, before.st_rdev), (after.st_ino, after.st_rdev))


class Streams(Fixture):
    """2, 3. Every record is read from a pipe, a process substitution and a FIFO."""

    def test_pipe(self):
        with open(self.fasta) as stdin:
            proc = subprocess.run([BIN, *map(str, self.attribute_args(fasta="/dev/stdin"))],
                                  stdin=stdin, capture_output=True, text=True, timeout=120)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(names_in(self.out), [f"r{i}" for i in range(12)])

    def test_process_substitution_of_zcat(self):
        gz = self.path("in.fa.gz")
        with gzip.open(gz, "wt") as f:
            f.write(fasta_text(12))
        command = " ".join(f"'{a}'" for a in [BIN, *map(str, self.attribute_args(fasta="X"))])
        command = command.replace("'X'", f"<(zcat '{gz}')")
        proc = subprocess.run(["bash", "-c", command], capture_output=True, text=True,
                              timeout=120)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(len(names_in(self.out)), 12)

    def test_fifo(self):
        fifo = self.path("in.fifo")
        os.mkfifo(fifo)
        text = fasta_text(12)

        def feed():
            with open(fifo, "w") as f:
                f.write(text)

        writer = threading.Thread(target=feed, daemon=True)
        writer.start()
        proc = run(*self.attribute_args(fasta=fifo), check=False, timeout=120)
        writer.join(timeout=10)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(len(names_in(self.out)), 12)


class TruncatedGzip(Fixture):
    """4. A gzip stream without its end is an error, wherever it was cut."""

    def setUp(self):
        super().setUp()
        self.text = fasta_text(300).encode()
        self.whole = gzip.compress(self.text)

    def expect_truncated(self, content):
        path = self.write("cut.fa.gz", content, mode="wb")
        expect_cli_error(self, self.attribute_args(fasta=path), "--fasta", "truncated or corrupt gzip",
                         outputs=[self.out])

    def test_cut_at_a_record_boundary(self):
        # A flushed deflate stream that ends after record 100: every byte decodes.
        boundary = self.text.index(b">r100\n")
        compressor = zlib.compressobj(wbits=31)
        cut = compressor.compress(self.text[:boundary]) + compressor.flush(zlib.Z_FULL_FLUSH)
        self.assertEqual(zlib.decompressobj(wbits=31).decompress(cut), self.text[:boundary])
        self.expect_truncated(cut)

    def test_trailer_dropped(self):
        self.expect_truncated(self.whole[:-8])

    def test_cut_anywhere(self):
        for fraction in (0.2, 0.5, 0.9):
            with self.subTest(fraction=fraction):
                self.expect_truncated(self.whole[:int(len(self.whole) * fraction)])

    def test_whole_file_reads_every_record(self):
        path = self.write("whole.fa.gz", self.whole, mode="wb")
        run(*self.attribute_args(fasta=path))
        self.assertEqual(len(names_in(self.out)), 300)


class FullDisk(Fixture):
    """5, 11. A full disk (a small tmpfs; needs root, as in CI) ends with exit 1 naming the
    cause, no output, and no export pair out of step."""

    def setUp(self):
        super().setUp()
        if os.geteuid() != 0 or shutil.which("mount") is None:
            self.skipTest("mounting a tmpfs needs root")
        self.disk = self.path("disk")
        os.mkdir(self.disk)
        self.mounted = False

    def mount(self, size):
        proc = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", self.disk],
                              capture_output=True, text=True)
        if proc.returncode != 0:
            self.skipTest(f"cannot mount a tmpfs here: {proc.stderr.strip()}")
        self.mounted = True

    def tearDown(self):
        if getattr(self, "mounted", False):
            subprocess.run(["umount", self.disk], check=False)
        super().tearDown()

    def test_while_writing_parts(self):
        self.mount("64k")
        fasta = self.write("many.fa", fasta_text(400))
        out = os.path.join(self.disk, "out.h5")
        proc = run(*self.attribute_args(fasta=fasta, out=out, method="ism"), check=False)
        self.assertEqual(proc.returncode, 1, proc.stderr)
        self.assertIn("No space left on device", proc.stderr)
        self.assertIn("error: cannot write part", proc.stderr)
        self.assertNotIn("Segmentation", proc.stderr)
        self.assertFalse(os.path.exists(out))
        self.assertEqual([f for f in os.listdir(self.disk) if f.endswith(".partial")], [])

    def test_while_joining_parts(self):
        # Parts fit; parts and the joined file together do not.
        fasta = self.write("many.fa", fasta_text(256))
        probe = self.path("probe.h5")
        run(*self.attribute_args(fasta=fasta, out=probe, method="ism"))
        self.mount(str(int(os.path.getsize(probe) * 1.5)))
        out = os.path.join(self.disk, "out.h5")
        proc = run(*self.attribute_args(fasta=fasta, out=out, method="ism"), check=False)
        self.assertEqual(proc.returncode, 1, proc.stderr)
        self.assertIn(f"error: cannot write --output '{out}' (No space left on device)", proc.stderr)
        self.assertIn("--resume", proc.stderr)
        self.assertFalse(os.path.exists(out))
        self.assertTrue(os.listdir(out + ".parts"), "the finished parts are kept")

    def test_export_modisco_pair_stays_in_step(self):
        fasta = self.write("many.fa", fasta_text(64))
        attributions = self.path("dls.h5")
        run(*self.attribute_args("--n-shuffles", 2, fasta=fasta, out=attributions,
                                 method="deeplift_shap"))
        self.mount("48k")
        target = os.path.join(self.disk, "modisco")
        os.mkdir(target)
        old = {name: self.write_into(target, name, b"old " + name.encode())
               for name in ("ohe.npz", "attr.npz")}
        proc = run("export-modisco", attributions, "--output-dir", target, check=False)
        self.assertEqual(proc.returncode, 1, proc.stderr)
        self.assertIn("No space left on device", proc.stderr)
        for name, content in old.items():
            self.assertEqual(file_bytes(os.path.join(target, name)), content, name)
        self.assertEqual(sorted(os.listdir(target)), ["attr.npz", "ohe.npz"])

    def write_into(self, directory, name, content):
        with open(os.path.join(directory, name), "wb") as f:
            f.write(content)
        return content


class NonFinite(Fixture):
    """6. NaN predictions are counted in one warning; NaN deltas stay NaN; bigWig skips them."""

    def setUp(self):
        super().setUp()

        class NanWhenFirstBaseIsA(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.linear = torch.nn.Linear(4, 2)

            def forward(self, x):
                y = self.linear(x.mean(-1))
                # log(1 - 1) * 0 = -inf * 0 = NaN where the first base is A, 0 elsewhere; the
                # sum makes every base's gradient NaN there too.
                return y + torch.log(1 - x[:, 0:1, 0]) * 0 * x.sum(dim=(1, 2)).unsqueeze(1)

        torch.manual_seed(0)
        self.nan_model = self.path("nan.pt")
        torch.jit.script(NanWhenFirstBaseIsA()).save(self.nan_model)
        rng = random.Random(5)
        records = []
        for i in range(10):
            first = "A" if i < 4 else "C"
            records.append(f">s{i}\n{first}" + "".join(rng.choice("CGT") for _ in range(99)))
        self.mixed = self.write("mixed.fa", "\n".join(records) + "\n")

    def test_warning_counts_sequences(self):
        proc = run(*self.attribute_args(fasta=self.mixed, model=self.nan_model))
        warnings = [l for l in proc.stderr.splitlines() if "NaN or infinite" in l]
        self.assertEqual(len(warnings), 1, proc.stderr)
        self.assertIn("4 of 10 sequence(s)", warnings[0])
        arrays, _ = read(self.out)
        self.assertTrue(np.isnan(arrays["predictions"][:4]).all())
        self.assertTrue(np.isfinite(arrays["predictions"][4:]).all())

    def test_deeplift_shap_keeps_nan_deltas_and_warns(self):
        proc = run(*self.attribute_args("--n-shuffles", 2, "--delta-warning", 1e-3,
                                        fasta=self.mixed, model=self.nan_model,
                                        method="deeplift_shap"))
        arrays, _ = read(self.out)
        delta = arrays["convergence_delta"]
        self.assertTrue(np.isnan(delta[:4]).all(), delta)
        self.assertTrue(np.isfinite(delta[4:]).all(), delta)
        self.assertIn("convergence", proc.stderr)
        self.assertIn("NaN", proc.stderr)

    def test_bigwig_skips_non_finite_bases_and_refuses_all(self):
        genome = self.genome(600)
        bed = self.write("r.bed", "chr1\t0\t100\nchr1\t300\t400\n")
        # Windows 0..100 starts with the genome's first base; force A there and C at 300.
        with open(genome) as f:
            header, bases = f.read().split("\n")[:2]
        bases = "A" + bases[1:300] + "C" + bases[301:]
        self.write("genome.fa", f"{header}\n{bases}\n")
        h5 = self.path("g.h5")
        run("attribute", "--quiet", "--model", self.nan_model, "--genome", genome, "--bed", bed,
            "--length", 100, "--method", "gradient", "--output", h5)
        bw = self.path("g.bw")
        proc = run("export-bigwig", h5, "--output", bw, "--genome", genome)
        self.assertIn("NaN or infinite", proc.stderr)
        self.assertTrue(os.path.exists(bw))
        import pyBigWig
        with pyBigWig.open(bw) as f:
            values = np.array(f.values("chr1", 0, 600), dtype=float)
        self.assertTrue(np.isnan(values[:100]).all(), "skipped bases have no value")
        self.assertTrue(np.isfinite(values[300:400]).all())
        all_nan = self.path("all.bed")
        self.write("all.bed", "chr1\t0\t100\n")
        h5_all = self.path("all.h5")
        run("attribute", "--quiet", "--model", self.nan_model, "--genome", genome, "--bed",
            all_nan, "--length", 100, "--method", "gradient", "--output", h5_all)
        expect_cli_error(self, ["export-bigwig", h5_all, "--output", self.path("all.bw"),
                                "--genome", genome], "NaN or infinite",
                         outputs=[self.path("all.bw")])


class StrictPresets(Fixture):
    """7. Unknown keys name the nearest option; both spellings work; syntax errors give the
    line; binary files are refused."""

    def preset(self, text, mode="w"):
        return self.write("p.toml", text, mode=mode)

    def test_unknown_and_misspelled_keys(self):
        for key, nearest in [("frobnicate", None), ("n-step", "n-steps")]:
            with self.subTest(key=key):
                path = self.preset(f"[attribute]\n{key} = 3\n")
                line = expect_cli_error(self, [*self.attribute_args(), "--config", path],
                                        path, "line 2", f"unknown option '{key}'",
                                        outputs=[self.out])
                if nearest:
                    self.assertIn(f"'{nearest}'", line)

    def test_both_spellings(self):
        for key in ("n_steps", "n-steps"):
            with self.subTest(key=key):
                path = self.preset(f"[attribute]\n{key} = 7\n")
                run(*self.attribute_args(out=self.path(f"{key}.h5"), method="integrated_gradients"),
                    "--config", path)
                _, attrs = read(self.path(f"{key}.h5"))
                self.assertIn('"n_steps":7', attrs["parameters"].replace(" ", ""))

    def test_syntax_error_names_the_line(self):
        path = self.preset('[attribute]\nmethod = "gradient"\nn-steps = = 4\n')
        expect_cli_error(self, [*self.attribute_args(), "--config", path], "line 3",
                         outputs=[self.out])
        path = self.preset('[attribute\n')
        expect_cli_error(self, [*self.attribute_args(), "--config", path], "line 1",
                         outputs=[self.out])

    def test_binary_file(self):
        path = self.preset(bytes(range(256)) * 4, mode="wb")
        expect_cli_error(self, [*self.attribute_args(), "--config", path], path, "not a text file",
                         outputs=[self.out])

    def test_shipped_presets_are_accepted(self):
        for name in sorted(os.listdir(CONFIGS)):
            if not name.endswith(".toml"):
                continue
            with self.subTest(preset=name):
                proc = run("attribute", "--config", os.path.join(CONFIGS, name), "--help",
                           check=False)
                self.assertEqual(proc.returncode, 0, proc.stderr)


class TabSeparatedNames(Fixture):
    """8. A tab-separated narrowPeak whose name holds a space keeps its columns."""

    def test_name_with_a_space(self):
        genome = self.genome()
        bed = self.write("p.narrowPeak",
                         "chr1\t1100\t1200\tmy peak\t0\t.\t1\t1\t1\t50\n")
        run("attribute", "--quiet", "--model", CONV, "--genome", genome, "--bed", bed,
            "--length", 100, "--method", "gradient", "--output", self.out)
        with h5py.File(self.out) as f:
            self.assertEqual(int(f["regions/start"][0]), 1100)
            self.assertEqual(int(f["regions/end"][0]), 1200)
            self.assertEqual(f["regions/name"][0].decode(), "my peak")


class Resume(Fixture):
    """9, 10, and the stale temporary of a killed join."""

    def test_resume_on_another_runs_finished_output_is_refused(self):
        run(*self.attribute_args())
        before = file_bytes(self.out)
        line = expect_cli_error(self, self.attribute_args("--resume", method="input_x_gradient"),
                                "--resume", "finished output of a different run", "method")
        self.assertIn("left as it is", line)
        self.assertEqual(file_bytes(self.out), before)
        # The same run resumed is a no-op that keeps the file.
        run(*self.attribute_args("--resume"))

    def test_two_runs_on_one_output(self):
        fasta = self.write("many.fa", fasta_text(20000))  # minutes of ISM: killed below
        first = subprocess.Popen([BIN, *map(str, self.attribute_args("--batch-size", 8,
                                                                     fasta=fasta, method="ism"))],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            deadline = time.time() + 60
            while not os.path.isdir(self.out + ".parts") and time.time() < deadline:
                time.sleep(0.05)
            expect_cli_error(self, self.attribute_args(fasta=fasta, method="ism"),
                             "another seqattr run is writing this output")
            self.assertIsNone(first.poll(), "the first run was still writing")
            self.assertTrue(os.path.isdir(self.out + ".parts"), "the first run's parts stay")
        finally:
            first.terminate()
            first.communicate(timeout=60)
        self.assertFalse(os.path.exists(self.out))

    def test_resume_removes_a_killed_joins_temporary(self):
        run(*self.attribute_args())
        stale = self.write(".out.h5.Ab3dEf.partial", "half a file")
        other = self.write(".other.h5.Ab3dEf.partial", "not ours")
        os.remove(self.out)
        run(*self.attribute_args("--resume"))
        self.assertFalse(os.path.exists(stale))
        self.assertTrue(os.path.exists(other), "another output's temporary is not touched")

    def test_threads_are_part_of_the_identity(self):
        run(*self.attribute_args("--threads", 1, "--shard", "0/2",
                                 out=self.path("a.h5")))
        run(*self.attribute_args("--threads", 2, "--shard", "1/2",
                                 out=self.path("b.h5")))
        if os.cpu_count() and len(os.sched_getaffinity(0)) < 2:
            self.skipTest("one core: --threads 2 is capped to 1")
        expect_cli_error(self, ["merge", self.path("a.h5"), self.path("b.h5"), "--output",
                                self.out], "threads")


class QuickAnswers(Fixture):
    """12-14 and the smaller ones: each answers at once, in one line."""

    def quick_error(self, args, *fragments, seconds=10):
        start = time.time()
        line = expect_cli_error(self, args, *fragments, outputs=[self.out])
        self.assertLess(time.time() - start, seconds, line)
        return line

    def test_gauss_legendre_steps_are_capped(self):
        self.quick_error(self.attribute_args("--n-steps", 100000, method="integrated_gradients"),
                         "--n-steps 100000", "at most 10000")

    def test_threads_are_capped_with_a_warning(self):
        start = time.time()
        proc = run(*self.attribute_args("--threads", 100000), timeout=120)
        self.assertLess(time.time() - start, 60)
        self.assertIn("--threads 100000: only", proc.stderr)

    def test_negative_ism_end(self):
        self.quick_error(self.attribute_args("--ism-end", -50, method="ism"), "--ism-end -50")
        self.quick_error(self.attribute_args("--ism-start", -3, method="ism"), "--ism-start -3")

    def test_short_range_messages(self):
        for option, value in [("--batch-size", "1e400"), ("--delta-warning", "-1"),
                              ("--n-shuffles", "-99999999999999999999999")]:
            with self.subTest(option=option):
                line = self.quick_error(self.attribute_args(option, value), option)
                self.assertLess(len(line), 200, line)
        line = self.quick_error(self.attribute_args("--device", "cuda:99999999999"), "--device")
        self.assertNotIn("stoi", line)

    def test_huge_tile(self):
        genome = self.genome()
        for tile in ("1e20:1", "100000000000000000000:1", "2114:-1", "x:y"):
            with self.subTest(tile=tile):
                line = self.quick_error(["attribute", "--model", CONV, "--genome", genome,
                                         "--tile", tile, "--method", "gradient", "--output",
                                         self.out], f"--tile '{tile}'")
                self.assertNotIn("_M_create", line)

    def test_htslib_says_nothing_of_its_own(self):
        genome = self.genome()
        with open(genome + ".fai", "w") as f:
            f.write("chr1\tnot-a-number\n")
        bed = self.write("r.bed", "chr1\t10\t20\n")
        proc = run("attribute", "--model", CONV, "--genome", genome, "--bed", bed, "--length",
                   100, "--method", "gradient", "--output", self.out, check=False)
        self.assertNotEqual(proc.returncode, 0)
        self.assertEqual([l for l in proc.stderr.splitlines() if l.strip()],
                         [l for l in proc.stderr.splitlines() if l.startswith("error: ")],
                         proc.stderr)

    def test_nul_byte_is_shown_not_cutting_the_message(self):
        fasta = self.write("nul.fa", ">a\nAC\x00GT\n")
        line = self.quick_error(self.attribute_args(fasta=fasta), "'\\x00'", "only A, C, G, T")

    def test_references_exclude_the_options_that_make_references(self):
        run(*self.attribute_args("--n-shuffles", 2, "--save-references", method="deeplift_shap",
                                 out=self.path("refs.h5")))
        for extra in (["--n-shuffles", 5], ["--baseline", "uniform"], ["--seed", 3]):
            with self.subTest(extra=extra):
                self.quick_error(self.attribute_args("--references", self.path("refs.h5"), *extra,
                                                     method="deeplift_shap"),
                                 "--references", extra[0])
        run(*self.attribute_args("--references", self.path("refs.h5"), method="deeplift_shap"))
        _, attrs = read(self.out)
        self.assertIn('"n_shuffles":null', attrs["parameters"].replace(" ", ""))


if __name__ == "__main__":
    unittest.main()
