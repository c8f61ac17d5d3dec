"""`seqattr variants`: windows, predictions and scores of VCF variants, checked against an
independent computation of the specification here (README "Variant effects"), on the synthetic
genome with the default model."""
import os
import signal
import subprocess
import time

import h5py
import numpy as np
import torch

from seqattr_cli import (BIN, DATA, MODELS, TempDirTest, assert_identical_outputs, attribute,
                         expect_cli_error, make_genome, max_relative_error, read_fasta, run)

MODEL = os.path.join(MODELS, "default", "seqattr_bpnet.pt")
LENGTH = 1000
HEADER = "##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"


def window(genome, chrom, start, end):
    """genome[chrom][start:end], N outside the chromosome, upper-case, non-ACGT as N."""
    seq = genome[chrom]
    out = "".join(seq[p].upper() if 0 <= p < len(seq) else "N" for p in range(start, end))
    return "".join(c if c in "ACGT" else "N" for c in out)


def windows(genome, chrom, pos, ref, alt, length=LENGTH):
    """The specification: p = POS - 1, s = p - L // 2; ref = genome[s, s + L); alt =
    genome[s, p) + ALT + genome[p + len(REF), ...) cut or extended to L."""
    p = pos - 1
    s = p - length // 2
    ref_window = window(genome, chrom, s, s + length)
    alt_window = window(genome, chrom, s, p) + alt
    need = length - len(alt_window)
    if need > 0:
        alt_window += window(genome, chrom, p + len(ref), p + len(ref) + need)
    return ref_window, alt_window[:length]


def one_hot(sequences):
    index = {"A": 0, "C": 1, "G": 2, "T": 3}
    x = np.zeros((len(sequences), 4, len(sequences[0])), dtype=np.float32)
    for i, s in enumerate(sequences):
        for j, c in enumerate(s):
            if c in index:
                x[i, index[c], j] = 1
    return x


class Variants(TempDirTest):
    def setUp(self):
        super().setUp()
        self.fasta, self.peaks = make_genome(self.tmp, scale=0.02, seed=7)
        self.genome = read_fasta(self.fasta)
        self.motifs = os.path.join(self.tmp, "motifs.bed")

    def base(self, chrom, pos, n=1):
        return self.genome[chrom][pos - 1:pos - 1 + n].upper()

    def vcf(self, records, name="v.vcf"):
        lines = [f"{c}\t{p}\t{i}\t{r}\t{a}\t.\t.\t." for c, p, i, r, a in records]
        return self.write(name, HEADER + "\n".join(lines) + "\n")

    def spec_records(self):
        """SNVs, an insertion, a deletion, a multi-allelic record, variants near both ends of
        a chromosome, and symbolic alleles."""
        other = lambda b: "C" if b != "C" else "G"
        chrom, end = "chr1", len(self.genome["chr1"])
        records = [(chrom, 5000, "rs1", self.base(chrom, 5000), other(self.base(chrom, 5000))),
                   (chrom, 6000, "multi", self.base(chrom, 6000), "A,T,<DEL>"),
                   (chrom, 7000, "ins", self.base(chrom, 7000), self.base(chrom, 7000) + "GATTACA"),
                   (chrom, 8000, "del", self.base(chrom, 8000, 12), self.base(chrom, 8000)),
                   (chrom, 200, "start", self.base(chrom, 200), other(self.base(chrom, 200))),
                   (chrom, end - 100, "end", self.base(chrom, end - 100, 3), self.base(chrom, end - 100)),
                   ("chr2", 3000, "star", self.base("chr2", 3000), "*")]
        return records

    def test_windows_and_predictions_follow_the_specification(self):
        records = self.spec_records()
        out = self.path("out.h5")
        proc = run("variants", "--model", MODEL, "--vcf", self.vcf(records), "--genome", self.fasta,
                   "--output", out, "--target", "counts")
        self.assertIn("skipped 2 ALT allele(s)", proc.stderr)
        self.assertIn("<DEL> (1)", proc.stderr)
        expected = []
        for chrom, pos, vid, ref, alts in records:
            for alt in alts.split(","):
                if alt in ("*", ".") or alt.startswith("<"):
                    continue
                expected.append((chrom, pos, vid, ref, alt) + windows(self.genome, chrom, pos, ref, alt))
        model = torch.jit.load(MODEL)
        with h5py.File(out, "r") as f:
            self.assertEqual([c.decode() for c in f["variants/chrom"][()]], [e[0] for e in expected])
            self.assertEqual(list(f["variants/pos"][()]), [e[1] for e in expected])
            self.assertEqual([a.decode() for a in f["variants/alt"][()]], [e[4] for e in expected])
            ref, alt = one_hot([e[5] for e in expected]), one_hot([e[6] for e in expected])
            np.testing.assert_array_equal(f["ref/one_hot"][()], ref.astype(np.uint8))
            np.testing.assert_array_equal(f["alt/one_hot"][()], alt.astype(np.uint8))
            with torch.no_grad():
                want_ref = model(torch.from_numpy(ref)).numpy()
                want_alt = model(torch.from_numpy(alt)).numpy()
            self.assertLessEqual(max_relative_error(f["predictions_ref"][()], want_ref), 1e-5)
            self.assertLessEqual(max_relative_error(f["predictions_alt"][()], want_alt), 1e-5)
            score = want_alt[:, 0].astype(np.float64) - want_ref[:, 0]
            np.testing.assert_allclose(f["score"][()], score, rtol=0,
                                       atol=1e-5 * np.abs(score).max() + 1e-6)

    def test_snvs_in_planted_motifs_score_larger(self):
        rng = np.random.default_rng(0)
        with open(self.motifs) as f:
            sites = [line.split("\t") for line in f]
        inside, records = set(), []
        for chrom, start, end, *_ in sites:
            for p in range(int(start), int(end)):
                inside.add((chrom, p + 1))
        swap = {"A": "C", "C": "G", "G": "T", "T": "A"}
        for chrom, start, end, *_ in sites[:40]:
            pos = (int(start) + int(end)) // 2 + 1
            b = self.base(chrom, pos)
            if b in swap:
                records.append((chrom, pos, "in", b, swap[b]))
        outside = 0
        while outside < 40:
            chrom = "chr2"
            pos = int(rng.integers(LENGTH, len(self.genome[chrom]) - LENGTH))
            b = self.base(chrom, pos)
            near = any((chrom, q) in inside for q in range(pos - 30, pos + 30))
            if b in swap and not near:
                records.append((chrom, pos, "out", b, swap[b]))
                outside += 1
        out = self.path("out.h5")
        run("variants", "--quiet", "--model", MODEL, "--vcf", self.vcf(records), "--genome",
            self.fasta, "--output", out, "--target", "counts")
        with h5py.File(out, "r") as f:
            ids = [i.decode() for i in f["variants/id"][()]]
            score = np.abs(f["score"][()])
        ins = score[[i == "in" for i in ids]]
        outs = score[[i == "out" for i in ids]]
        self.assertGreater(np.median(ins), 5 * np.median(outs), (np.median(ins), np.median(outs)))

    def test_deeplift_shap_equals_attribute_on_the_windows(self):
        records = self.spec_records()
        out = self.path("out.h5")
        run("variants", "--quiet", "--model", MODEL, "--vcf", self.vcf(records), "--genome",
            self.fasta, "--output", out, "--target", "counts", "--method", "deeplift_shap",
            "--n-shuffles", "3", "--seed", "4", "--delta-warning", "10")
        with h5py.File(out, "r") as f:
            names = [f"v{i}" for i in range(len(f["score"]))]
            for side in ("ref", "alt"):
                x = f[side + "/one_hot"][()]
                seqs = ["".join("ACGT"[c] if x[i, c, j] else "" for c in range(4)) or "N"
                        for i in range(len(x)) for j in range(x.shape[2])]
                text = "".join(f">{names[i]}\n" + "".join(seqs[i * LENGTH:(i + 1) * LENGTH]) + "\n"
                               for i in range(len(x)))
                fasta = self.write(side + ".fa", text)
                attribute(MODEL, fasta, "deeplift_shap", self.path(side + "_attr.h5"), "--target",
                          "counts", "--n-shuffles", "3", "--seed", "4", "--delta-warning", "10")
                with h5py.File(self.path(side + "_attr.h5"), "r") as g:
                    np.testing.assert_array_equal(f[side + "/hypothetical_attributions"][()],
                                                  g["hypothetical_attributions"][()])
                    np.testing.assert_array_equal(f[side + "/attributions"][()], g["attributions"][()])

    def many_snvs(self, count):
        rng = np.random.default_rng(1)
        records = []
        while len(records) < count:
            pos = int(rng.integers(1, len(self.genome["chr3"])))
            b = self.base("chr3", pos)
            if b in "ACGT":
                records.append(("chr3", pos, f"v{len(records)}", b, "ACGT"[("ACGT".index(b) + 1) % 4]))
        return self.vcf(records, "many.vcf")

    def test_fast_ism_snvs_equal_forward_passes(self):
        vcf = self.many_snvs(40)
        outputs = {}
        for mode in ("naive", "fast"):
            outputs[mode] = self.path(mode + ".h5")
            run("variants", "--quiet", "--model", MODEL, "--vcf", vcf, "--genome", self.fasta,
                "--target", "counts", "--ism-mode", mode, "--output", outputs[mode])
        with h5py.File(outputs["naive"], "r") as a, h5py.File(outputs["fast"], "r") as b:
            naive, fast = a["score"][()], b["score"][()]
            self.assertLessEqual(np.abs(naive - fast).max() / np.abs(naive).max(), 1e-5)
            self.assertLessEqual(max_relative_error(b["predictions_alt"][()], a["predictions_alt"][()]), 1e-5)

    def test_shards_merge_and_resume_equal_one_run(self):
        vcf = self.many_snvs(150)
        args = ["variants", "--quiet", "--model", MODEL, "--vcf", vcf, "--genome", self.fasta,
                "--target", "counts", "--method", "integrated_gradients", "--n-steps", "8",
                "--threads", "1"]
        whole = self.path("whole.h5")
        run(*args, "--output", whole)
        shards = [self.path(f"s{i}.h5") for i in range(2)]
        for i, shard in enumerate(shards):
            run(*args, "--output", shard, "--shard", f"{i}/2")
        merged = self.path("merged.h5")
        run("merge", *shards, "--output", merged)
        assert_identical_outputs(self, whole, merged)
        # kill -9 once a part is finished, then --resume.
        resumed = self.path("resumed.h5")
        proc = subprocess.Popen([BIN, *args, "--output", resumed], stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        parts = resumed + ".parts"
        deadline = time.time() + 120
        while time.time() < deadline and proc.poll() is None:
            if os.path.isdir(parts) and any(f.startswith("part-") and f.endswith(".h5")
                                            for f in os.listdir(parts)):
                proc.send_signal(signal.SIGKILL)
                break
            time.sleep(0.01)
        proc.wait()
        self.assertFalse(os.path.exists(resumed), "killed before it finished")
        run(*args, "--output", resumed, "--resume")
        assert_identical_outputs(self, whole, resumed)

    def test_tsv_bed_and_jsd(self):
        # bpnet-lite's BPNet (tests/data/bpnetlite): heads profile (N, 2, 146) and counts.
        bpnet = os.path.join(DATA, "bpnetlite", "bpnet.pt")
        records = self.spec_records()[:4]
        out, tsv, bed = self.path("out.h5"), self.path("out.tsv"), self.path("out.bed")
        run("variants", "--quiet", "--model", bpnet, "--vcf", self.vcf(records), "--genome",
            self.fasta, "--output", out, "--head", "counts", "--tsv", tsv, "--bed-out", bed,
            "--profile-head", "profile")
        with h5py.File(out, "r") as f:
            score, jsd = f["score"][()], f["jsd"][()]
            ref, alt = f["ref/one_hot"][()], f["alt/one_hot"][()]
        with open(tsv) as f:
            lines = f.read().splitlines()
        self.assertEqual(lines[0], "chrom\tpos\tid\tref\talt\tscore\tjsd")
        self.assertEqual(len(lines), 1 + len(score))
        self.assertEqual([float(l.split("\t")[5]) for l in lines[1:]],
                         [float(f"{s:.7g}") for s in score])
        with open(bed) as f:
            bed_lines = [l.split("\t") for l in f.read().splitlines()]
        self.assertEqual(bed_lines[0][:4],
                         ["chr1", "4999", "5000", f"rs1:{records[0][3]}>{records[0][4]}"])
        self.assertEqual(max(int(b[4]) for b in bed_lines), 1000)
        # scipy.spatial.distance.jensenshannon of the flattened profiles' softmax, natural log.
        model = torch.jit.load(bpnet)
        with torch.no_grad():
            p = torch.softmax(model(torch.from_numpy(ref).float())[0].flatten(1).double(), 1).numpy()
            q = torch.softmax(model(torch.from_numpy(alt).float())[0].flatten(1).double(), 1).numpy()
        m = (p + q) / 2
        expected = np.sqrt(0.5 * (p * np.log(p / m)).sum(1) + 0.5 * (q * np.log(q / m)).sum(1))
        np.testing.assert_allclose(jsd, expected, rtol=1e-4, atol=1e-6)
        self.assertTrue((jsd > 0).any())
        # --resume on the complete output computes nothing but writes tables asked for now.
        again = self.path("again.tsv")
        proc = run("variants", "--model", bpnet, "--vcf", self.vcf(records), "--genome", self.fasta,
                   "--output", out, "--head", "counts", "--tsv", again, "--profile-head", "profile",
                   "--resume")
        self.assertIn("already complete", proc.stderr)
        with open(again) as f:
            self.assertEqual(f.read().splitlines(), lines)


class Errors(TempDirTest):
    def setUp(self):
        super().setUp()
        self.fasta, _ = make_genome(self.tmp, scale=0.01, seed=3)
        self.genome = read_fasta(self.fasta)

    def expect(self, vcf_text, *fragments):
        vcf = self.write("bad.vcf", HEADER + vcf_text)
        out = self.path("out.h5")
        expect_cli_error(self, ["variants", "--model", MODEL, "--vcf", vcf, "--genome", self.fasta,
                                "--output", out, "--target", "counts", "--tsv", self.path("t.tsv")],
                         *fragments, outputs=[out, self.path("t.tsv")])

    def test_ref_that_disagrees_with_the_genome(self):
        b = self.genome["chr1"][999].upper()
        wrong = "A" if b != "A" else "C"
        self.expect(f"chr1\t1000\t.\t{b}\tG\t.\t.\t.\nchr1\t1000\t.\t{wrong}\tG\t.\t.\t.\n",
                    "bad.vcf' line 4", f"REF '{wrong}' disagrees with the genome")

    def test_unknown_chromosome(self):
        self.expect("chrZ\t10\t.\tA\tG\t.\t.\t.\n", "line 3", "unknown chromosome 'chrZ'")

    def test_malformed_lines(self):
        self.expect("chr1\t10\t.\tA\n", "line 3", "at least 5")
        self.expect("chr1\tten\t.\tA\tG\t.\t.\t.\n", "line 3", "POS 'ten'")
        b = self.genome["chr1"][9].upper()
        self.expect(f"chr1\t10\t.\t{b}\tXYZ\t.\t.\t.\n", "line 3", "ALT 'XYZ'")

    def test_only_symbolic_alleles(self):
        b = self.genome["chr1"][9].upper()
        self.expect(f"chr1\t10\t.\t{b}\t<DEL>\t.\t.\t.\n", "no variants")

    def test_missing_vcf(self):
        out = self.path("out.h5")
        expect_cli_error(self, ["variants", "--model", MODEL, "--vcf", self.path("none.vcf"),
                                "--genome", self.fasta, "--output", out], "--vcf", outputs=[out])
