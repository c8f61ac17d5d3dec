"""`seqattr seqlets`: tangermeme's recursive seqlets, streamed over an output file.

Fixture: tests/data/make_seqlets_fixtures.py (tangermeme 1.4 recursive_seqlets on attributions
with planted stretches of both signs; tests/data/seqlets/)."""
import os
import re

import h5py
import numpy as np

import subprocess
import sys

from seqattr_cli import BIN, DATA, MODELS, TempDirTest, expect_cli_error, make_genome, run

FIXTURE = os.path.join(DATA, "seqlets", "seqlets.h5")


def read_bed(path):
    with open(path) as f:
        lines = f.read().splitlines()
    return lines[0], [line.split("\t") for line in lines[1:]]


class Seqlets(TempDirTest):
    def test_same_seqlets_as_tangermeme(self):
        out = self.path("seqlets.bed")
        run("seqlets", FIXTURE, "--output", out, "--threshold", "0.01")  # tangermeme's default
        header, rows = read_bed(out)
        self.assertEqual(header, "#chrom\tstart\tend\tname\tscore\tstrand\tp_value\t"
                                 "motif_p_value\tmotif_q_value\tsequence")
        with h5py.File(FIXTURE, "r") as f:
            expected = {"+": f["expected/positive"][()], "-": f["expected/negative"][()]}
            one_hot = f["one_hot"][()]
        for sign, peer in expected.items():
            ours = sorted((int(r[0][3:]), int(r[1]), int(r[2]), float(r[4]), float(r[6]))
                          for r in rows if (float(r[4]) < 0) == (sign == "-"))
            theirs = sorted((int(e[0]), int(e[1]), int(e[2]), (1 if sign == "+" else -1) * e[3], e[4])
                            for e in peer)
            self.assertEqual([o[:3] for o in ours], [t[:3] for t in theirs], sign)
            np.testing.assert_allclose([o[3] for o in ours], [t[3] for t in theirs], rtol=1e-5)
            np.testing.assert_allclose([o[4] for o in ours], [t[4] for t in theirs], rtol=1e-5)
        row = rows[0]
        i, start, end = int(row[0][3:]), int(row[1]), int(row[2])
        letters = "".join("ACGT"[one_hot[i, :, j].argmax()] for j in range(start, end))
        self.assertEqual(row[9], letters)

    def test_errors(self):
        out = self.path("s.bed")
        expect_cli_error(self, ["seqlets", FIXTURE, "--output", out, "--max-length", "2"],
                         "--max-length", outputs=[out])
        expect_cli_error(self, ["seqlets", FIXTURE, "--output", out, "--attributions", "nope"],
                         "no 'nope' dataset", outputs=[out])
        expect_cli_error(self, ["seqlets", self.write("x.h5", "not hdf5"), "--output", out],
                         "cannot open as HDF5", outputs=[out])


    def test_seqlets_run_without_libtorch_and_other_commands_with_it(self):
        # `seqattr` loads LibTorch (0.5 s of static initialisation) only through
        # seqattr-engine, which it runs for every command but seqlets (launcher.cpp).
        libraries = subprocess.run(["ldd", BIN], capture_output=True, text=True, check=True).stdout
        self.assertNotIn("libtorch", libraries)
        engine = os.path.join(os.path.dirname(BIN), "seqattr-engine")
        self.assertIn("libtorch", subprocess.run(["ldd", engine], capture_output=True, text=True,
                                                 check=True).stdout)
        out = self.path("s.bed")
        proc = subprocess.run([BIN, "--config", self.write("p.toml", "[seqlets]\nthreshold = 0.01\n"),
                               "seqlets", FIXTURE, "--output", out], capture_output=True, text=True)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertTrue(os.path.exists(out))
        # Other commands (and help) reach the engine with the same arguments.
        proc = subprocess.run([BIN, "inspect", "--help"], capture_output=True, text=True)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertIn("--model", proc.stdout)


class Genomic(TempDirTest):
    def test_export_bed_and_genomic_seqlets(self):
        genome, peaks = make_genome(self.tmp, scale=0.02, seed=9)
        model = os.path.join(MODELS, "default", "seqattr_bpnet.pt")
        out = self.path("peaks.h5")
        run("attribute", "--quiet", "--model", model, "--bed", peaks, "--genome", genome,
            "--method", "input_x_gradient", "--target", "counts", "--output", out)
        narrow = self.path("peaks.narrowPeak")
        run("export-bed", out, "--output", narrow)
        with open(narrow) as f:
            lines = [line.rstrip("\n").split("\t") for line in f]
        with h5py.File(out, "r") as f:
            starts, ends = f["regions/start"][()], f["regions/end"][()]
            totals = f["attributions"][()].astype(np.float64).sum((1, 2))
            summits = f["regions/summit"][()]
        self.assertEqual(len(lines), len(starts))
        self.assertTrue(all(len(line) == 10 for line in lines))
        self.assertEqual([int(line[1]) for line in lines], list(starts))
        self.assertEqual([int(line[2]) for line in lines], list(ends))
        self.assertEqual([int(line[9]) for line in lines], list(summits))
        np.testing.assert_allclose([float(line[6]) for line in lines], totals, rtol=1e-5, atol=1e-6)
        # The report names the target as --target named it.
        report = self.path("report.html")
        run("report", out, "--output", report, "--top", 1)
        with open(report) as f:
            self.assertIn("counts (column 0)", f.read())
        # Overlapping tiles: a seqlet seen in two windows is written once.
        tiles = self.path("tiles.h5")
        run("attribute", "--quiet", "--model", model, "--tile", "1000:500", "--genome", genome,
            "--chroms", "chr1", "--method", "input_x_gradient", "--target", "counts", "--output", tiles)
        bed = self.path("tiles.bed")
        proc = run("seqlets", tiles, "--output", bed)
        _, rows = read_bed(bed)
        keys = [(r[0], int(r[1]), int(r[2]), float(r[4]) < 0) for r in rows]
        self.assertEqual(len(keys), len(set(keys)))
        self.assertTrue(all(r[0] == "chr1" for r in rows))
        self.assertIn("found again in overlapping windows", proc.stderr)


MEME = os.path.join(MODELS, "synthetic", "motifs.meme")


class Naming(TempDirTest):
    def test_planted_sites_found_and_named(self):
        """The issue's measure on a genome seed nothing was tuned on (45; the default
        --threshold was chosen on seed 21, and seed 33, this test's before, was looked at while
        choosing): DeepLIFT-SHAP of the default model over peaks with strong planted sites (as
        its held-out set). Measured here: recall 0.840, precision 0.626, F1 0.717, naming 0.997;
        tangermeme's recursive_seqlets with its defaults on the same attributions: F1 0.704
        (bench/seqlets_f1.py --seed 45)."""
        subprocess.run([sys.executable, os.path.join(MODELS, "synthetic", "make_genome.py"),
                        "--out-dir", self.tmp, "--seed", "45", "--scale", "0.5",
                        "--min-motif-score", "850"], check=True, capture_output=True)
        with open(self.path("peaks.narrowPeak")) as f:
            peaks = self.write("peaks.bed", "".join(f.readlines()[:120]))
        dls = self.path("dls.h5")
        run("attribute", "--quiet", "--model", os.path.join(MODELS, "default", "seqattr_bpnet.pt"),
            "--bed", peaks, "--genome", self.path("genome.fa"), "--method", "deeplift_shap",
            "--n-shuffles", "10", "--target", "counts", "--output", dls, timeout=600)
        bed = self.path("seqlets.bed")
        run("seqlets", dls, "--output", bed, "--motifs", MEME)
        with h5py.File(dls, "r") as f:
            windows = list(zip([c.decode() for c in f["regions/chrom"][()]], f["regions/start"][()]))
        sites = set()
        with open(self.path("motifs.bed")) as f:
            for line in f:
                chrom, s, e, name = line.split("\t")[:4]
                if any(c == chrom and w <= int(s) and int(e) <= w + 1000 for c, w in windows):
                    sites.add((chrom, int(s), int(e), name))
        _, rows = read_bed(bed)
        positive = [(r[0], int(r[1]), int(r[2]), r[3]) for r in rows if float(r[4]) > 0]
        hit = lambda a, b: a[0] == b[0] and a[1] < b[2] and b[1] < a[2]
        recall = sum(any(hit(site, s) for s in positive) for site in sites) / len(sites)
        on_site = [(s, [site for site in sites if hit(s, site)]) for s in positive]
        on_site = [(s, hits) for s, hits in on_site if hits]
        precision = len(on_site) / len(positive)
        f1 = 2 * recall * precision / (recall + precision)
        named = sum(any(s[3] == site[3] for site in hits) for s, hits in on_site) / len(on_site)
        self.assertGreaterEqual(recall, 0.8)
        self.assertGreaterEqual(f1, 0.68)
        self.assertGreaterEqual(named, 0.85)
        self.check_report(dls, bed, windows, rows)

    def check_report(self, dls, bed, windows, rows):
        """`report --seqlets` opens with the motifs: counts, mean scores and shares of regions as
        the BED gives them, one average logo each; named seqlets marked on the top logos. With
        GATA's names removed, its seqlets come back as the largest unnamed clusters."""
        html = self.path("report.html")
        run("report", dls, "--output", html, "--seqlets", bed, "--top", "3")
        with open(html) as f:
            text = f.read()
        self.assertEqual(re.findall(r"<h2>([^<]*)</h2>", text)[:3],
                         ["Motifs", "Unnamed seqlet clusters", "Run"])
        motifs_part = text[text.index("<h2>Motifs"):text.index("<h2>Unnamed")]
        table = re.findall(r'<tr><td>([^<]*)</td><td class="num">(\d+)</td><td class="num">([^<]*)</td>'
                           r'<td class="num">([^<]*)%</td>', motifs_part)
        length = 1000

        def row_of(r):  # the window whose centre is nearest the seqlet's (ties: the first)
            s, e = int(r[1]), int(r[2])
            fits = [(abs(2 * w + length - s - e), w, i) for i, (c, w) in enumerate(windows)
                    if c == r[0] and w <= s and e <= w + length]
            return min(fits)[2]

        named = {}
        for r in rows:
            if r[3] != ".":
                named.setdefault(r[3], []).append(r)
        self.assertEqual(sorted(t[0] for t in table), sorted(named))
        for name, count, mean, share in table:
            members = named[name]
            self.assertEqual(int(count), len(members))
            self.assertAlmostEqual(float(mean), np.mean([float(r[4]) for r in members]),
                                   delta=1e-5 * max(1, abs(float(mean))))
            regions = len({row_of(r) for r in members}) / len(windows)
            self.assertAlmostEqual(float(share), 100 * regions, delta=0.051)
        self.assertEqual(len(re.findall(r"<svg class=\"logo\"", motifs_part)), len(named))
        top = text[text.index("<h2>Top"):]
        self.assertIn('class="marks"', top)
        self.assertTrue(any(f">{name} (" in top for name in named))
        # GATA unnamed: the largest positive clusters are GATA's seqlets (GATA or, reversed, TATC).
        renamed = self.write("unnamed.bed", "".join(
            "\t".join(r[:3] + ["." if r[3] == "GATA" else r[3]] + r[4:]) + "\n"
            for r in [["#chrom", "start", "end", "name", "score", "strand", "p_value",
                       "motif_p_value", "motif_q_value", "sequence"]] + rows))
        run("report", dls, "--output", html, "--seqlets", renamed, "--top", "0")
        with open(html) as f:
            text = f.read()
        clusters = re.findall(r'<tr><td>cluster \d+</td><td class="num">(\d+)</td><td class="num">([^<]*)</td>'
                              r'<td class="num">[^<]*</td><td class="mono">([^<]*)</td>', text)
        positive = [c for c in clusters if float(c[1]) > 0]
        self.assertGreaterEqual(len(positive), 2)
        for count, _, consensus in positive[:2]:
            self.assertTrue("GATA" in consensus or "TATC" in consensus, consensus)
        # A malformed BED: an error naming the line, no report.
        bad = self.write("bad.bed", "chr1\t10\tx\tGATA\t1\t+\t0.1\t.\t.\tACGT\n")
        expect_cli_error(self, ["report", dls, "--output", self.path("bad.html"), "--seqlets", bad],
                         "--seqlets", "line 1", outputs=[self.path("bad.html")])

    def test_malformed_meme_files(self):
        bad = {
            "no_header.meme": ("MOTIF A\nletter-probability matrix: w= 1\n1 0 0 0\n", "line 1", "MEME version"),
            "alphabet.meme": ("MEME version 4\nALPHABET= ACGU\n", "line 2", "alphabet"),
            "sum.meme": ("MEME version 4\nMOTIF A\nletter-probability matrix: w= 1\n0.5 0 0 0\n",
                         "line 4", "sum to"),
            "short_row.meme": ("MEME version 4\nMOTIF A\nletter-probability matrix: w= 1\n0.5 0.5 0\n",
                               "line 4", "four probabilities"),
            "rows.meme": ("MEME version 4\nMOTIF A\nletter-probability matrix: w= 2\n1 0 0 0\n",
                          "1 rows, w=2"),
            "no_matrix.meme": ("MEME version 4\nMOTIF A\nMOTIF B\nletter-probability matrix: w= 1\n1 0 0 0\n",
                               "line 2", "no letter-probability matrix"),
            "empty.meme": ("MEME version 4\n", "no motifs"),
        }
        out = self.path("s.bed")
        for name, (text, *fragments) in bad.items():
            with self.subTest(name=name):
                path = self.write(name, text)
                expect_cli_error(self, ["seqlets", FIXTURE, "--output", out, "--motifs", path],
                                 "--motifs", path, *fragments, outputs=[out, out + ".unnamed"])
