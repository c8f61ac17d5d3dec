"""The trained default model (models/default/) finds the motifs planted in held-out regions.

models/default/train.py trains seqattr_bpnet.pt on windows drawn like the synthetic genome
(models/synthetic/make_genome.py --min-motif-score 850) and writes 88 held-out 1000-bp
windows of that genome's chr3 (heldout.fa, centred on its peaks and isolated motifs) with
every planted motif instance in them (heldout_motifs.bed: the window's record name as
chrom, coordinates relative to the window). Here seqattr explains the `counts` output on
those windows (DeepLIFT-SHAP with 20 dinucleotide shuffles; integrated gradients with its
defaults: 50 Gauss-Legendre steps, zero baseline), and the AUROC of the per-base
|attribution| (summed over the 4 bases) for "inside a planted motif" against "outside" must
be at least 0.9 for each. The committed model gives 0.951 and 0.949 (printed to stderr;
models/default/motif_auroc.py prints the figure for every method).
"""
import json
import os
import sys
import unittest

import numpy as np
import torch

from seqattr_cli import MODELS, TempDirTest, attribute, read, read_fasta

DEFAULT = os.path.join(MODELS, "default")
sys.path.insert(0, DEFAULT)
from motif_auroc import auroc, attribution_auroc, inside_planted_motif  # noqa: E402
MODEL = os.path.join(DEFAULT, "seqattr_bpnet.pt")
META = os.path.join(DEFAULT, "seqattr_bpnet.json")
FASTA = os.path.join(DEFAULT, "heldout.fa")
BED = os.path.join(DEFAULT, "heldout_motifs.bed")
BAR = 0.9


def metadata():
    with open(META) as f:
        return json.load(f)


class Auroc(unittest.TestCase):
    def test_formula(self):
        self.assertEqual(auroc(np.array([3.0, 4.0]), np.array([1.0, 2.0])), 1.0)
        self.assertEqual(auroc(np.array([1.0]), np.array([2.0])), 0.0)
        self.assertEqual(auroc(np.array([1.0, 1.0]), np.array([1.0, 1.0, 1.0])), 0.5)
        # 2 beats 1 and ties 2: (1 + 0.5) / 2
        self.assertEqual(auroc(np.array([2.0]), np.array([1.0, 2.0])), 0.75)


class DefaultModel(TempDirTest):
    def test_files_and_metadata(self):
        meta = metadata()
        self.assertEqual(meta["alphabet"], "ACGT")
        self.assertIn("counts", meta["targets"])
        self.assertLess(os.path.getsize(MODEL), 2 * 1024 * 1024)
        records = read_fasta(FASTA)
        self.assertGreaterEqual(len(records), 32)
        self.assertEqual({len(s) for s in records.values()}, {meta["input_length"]})
        self.assertLess(os.path.getsize(FASTA) + os.path.getsize(BED), 300 * 1024)
        model = torch.jit.load(MODEL).eval()
        with torch.no_grad():
            out = model(torch.zeros(2, 4, meta["input_length"]))
        self.assertEqual(tuple(out.shape), (2, len(meta["targets"])))

    def motif_auroc(self, method, *extra):
        meta = metadata()
        out = self.path(method + ".h5")
        attribute(MODEL, FASTA, method, out, "--target", "counts", *extra)
        arrays, _ = read(out)
        names = list(read_fasta(FASTA))
        self.assertEqual(arrays["attributions"].shape, (len(names), 4, meta["input_length"]))
        inside = inside_planted_motif(names, meta["input_length"], BED)
        self.assertGreater(inside.sum(), 500)
        value = attribution_auroc(arrays["attributions"], inside)
        print(f"\n{method}: AUROC of |attribution| inside vs outside planted motifs = "
              f"{value:.4f}", file=sys.stderr)
        return value

    def test_deeplift_shap_finds_planted_motifs(self):
        self.assertGreaterEqual(
            self.motif_auroc("deeplift_shap", "--n-shuffles", 20, "--seed", 0), BAR)

    def test_integrated_gradients_finds_planted_motifs(self):
        self.assertGreaterEqual(self.motif_auroc("integrated_gradients"), BAR)
