"""scripts/demo, as a newcomer runs it (with this build's binary and a temporary output
directory): it explains the default model on its held-out regions, writes attributions, a
bigWig, a report and a logo, says where they are, and the attributions point at the planted
motifs."""
import os
import subprocess
import xml.etree.ElementTree as ET

import h5py
import numpy as np
import pyBigWig

from seqattr_cli import BIN, MODELS, TempDirTest, read_fasta

ROOT = os.path.dirname(os.path.abspath(MODELS))
DEMO = os.path.join(ROOT, "scripts", "demo")
HELDOUT = os.path.join(MODELS, "default", "heldout.fa")
MOTIFS = os.path.join(MODELS, "default", "heldout_motifs.bed")


class Demo(TempDirTest):
    def test_demo_writes_its_outputs_and_finds_the_first_motif(self):
        out = self.path("demo")
        proc = subprocess.run([DEMO], capture_output=True, text=True, timeout=900,
                              env={**os.environ, "SEQATTR": BIN, "DEMO_OUT": out})
        self.assertEqual(proc.returncode, 0, proc.stderr)
        names = ["attributions.h5", "attributions.bw", "report.html", "logo.svg"]
        for name in names:
            self.assertIn(os.path.join(out, name), proc.stdout)
            self.assertGreater(os.path.getsize(os.path.join(out, name)), 0, name)

        records = list(read_fasta(HELDOUT))
        with h5py.File(os.path.join(out, "attributions.h5"), "r") as f:
            attributions = f["attributions"][()]
            chroms = [c.decode() if isinstance(c, bytes) else c for c in f["regions/chrom"][()]]
            starts = f["regions/start"][()]
        self.assertEqual(attributions.shape, (len(records), 4, 1000))
        self.assertEqual([f"{c}:{s}-{s + 1000}" for c, s in zip(chroms, starts)], records)

        # The first window's largest |attribution| lies in its planted motif.
        first = [line.split("\t") for line in open(MOTIFS) if line.startswith(records[0] + "\t")]
        per_base = np.abs(attributions[0].sum(axis=0))
        peak = int(per_base.argmax())
        self.assertTrue(any(int(m[1]) <= peak < int(m[2]) for m in first), (peak, first))

        # The bigWig carries the same per-base attribution at that region.
        with pyBigWig.open(os.path.join(out, "attributions.bw")) as bw:
            track = np.array(bw.values(chroms[0], int(starts[0]), int(starts[0]) + 1000))
        np.testing.assert_allclose(track, attributions[0].sum(axis=0), rtol=1e-5, atol=1e-6)

        ET.parse(os.path.join(out, "logo.svg"))
        with open(os.path.join(out, "report.html")) as f:
            report = f.read()
        self.assertIn("<svg", report)
        self.assertIn("deeplift_shap", report)
