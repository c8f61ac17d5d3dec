"""models/default/train.py, retrained: what must hold on any machine, and what on one.

Training is chaotic in its rounding. float32 kernels round differently on each CPU
(LibTorch's ATen vector kernels, OpenBLAS, oneDNN), and 3,800 Adam steps amplify those
7th-digit differences: retrained on this CPU's native and on its least-capable kernels,
the weights differ from the committed ones by 0.2% (the output bias) to 86% (relative
Frobenius norm per tensor), while the models' held-out predictions correlate with the committed model's at r = 0.982 to
0.999 per column. So a retrained model is compared by what it computes, not by its bytes:

- on one machine, two runs of a short schedule write byte-identical files (the script fixes
  its seeds, 2 threads, deterministic algorithms and PYTHONHASHSEED). They run under the
  least-capable kernels of any x86-64 CPU (as tests/CMakeLists.txt names them), so that
  every suite run trains under those kernels too;
- on any machine, the default schedule gives (retrained here with the kernels in effect:
  this CPU's own in `scripts/test`, the least-capable ones in `scripts/test --least-capable`.
  Either way the CPU is not the one that made the committed model, whose exact bytes only
  that machine reproduces)
  - heldout.fa, heldout_motifs.bed and seqattr_bpnet.json equal to the committed ones byte
    for byte (drawn by numpy's generator with integer arithmetic; no float kernel decides);
  - a model whose held-out AUROC of DeepLIFT-SHAP and IG, computed by seqattr, is at least
    0.9, as test_default_model.py requires of the committed model;
  - held-out predictions that correlate with the committed model's at r >= 0.95 in every
    column.

The default schedule takes about 2.5 minutes on 2 idle cores with the native kernels, about
6 under the least-capable ones, where 2 threads make it half the suite's CPU time: that is
why the suite's own run retrains with the native kernels (it prints how long it took);
ctest starts it first.
"""
import filecmp
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch

from seqattr_cli import MODELS, TempDirTest, attribute, read, read_fasta

DEFAULT = os.path.join(MODELS, "default")
sys.path.insert(0, DEFAULT)
from motif_auroc import attribution_auroc, inside_planted_motif  # noqa: E402

OUTPUTS = ["seqattr_bpnet.pt", "seqattr_bpnet.json", "heldout.fa", "heldout_motifs.bed"]
DATA_OUTPUTS = OUTPUTS[1:]
SHORT_SCHEDULE = ["--plain", "128:40", "--schedule", "256:10,1000:10"]
AUROC_BAR = 0.9
CORRELATION_BAR = 0.95


# Another CPU's kernels: LibTorch's scalar ATen kernels, OpenBLAS's Nehalem, oneDNN's SSE4.1.
LEAST_CAPABLE = {"ATEN_CPU_CAPABILITY": "default", "OPENBLAS_CORETYPE": "Nehalem",
                 "ONEDNN_MAX_CPU_ISA": "SSE41", "DNNL_MAX_CPU_ISA": "SSE41"}


def train(out_dir, *extra, environment=None):
    start = time.monotonic()
    proc = subprocess.run([sys.executable, os.path.join(DEFAULT, "train.py"), "--out-dir",
                           out_dir, *extra], capture_output=True, text=True, timeout=1800,
                          env={**os.environ, **(environment or {})})
    if proc.returncode != 0:
        raise AssertionError(f"train.py failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    return time.monotonic() - start


def heldout_one_hot():
    records = read_fasta(os.path.join(DEFAULT, "heldout.fa"))
    codes = {c: i for i, c in enumerate("ACGT")}
    x = np.zeros((len(records), 4, len(next(iter(records.values())))), dtype=np.float32)
    for n, seq in enumerate(records.values()):
        for position, base in enumerate(seq.upper()):
            if base in codes:
                x[n, codes[base], position] = 1
    return list(records), torch.from_numpy(x)


class SameMachine(TempDirTest):
    def test_two_runs_write_identical_bytes(self):
        first, second = self.path("first"), self.path("second")
        train(first, *SHORT_SCHEDULE, environment=LEAST_CAPABLE)
        train(second, *SHORT_SCHEDULE, environment=LEAST_CAPABLE)
        for name in OUTPUTS:
            with self.subTest(name=name):
                self.assertTrue(filecmp.cmp(os.path.join(first, name),
                                            os.path.join(second, name), shallow=False),
                                f"{name} differs between two runs on this machine")


class AnyMachine(TempDirTest):
    @classmethod
    def setUpClass(cls):
        cls.trained = tempfile.TemporaryDirectory(prefix="seqattr-training-")
        cls.out = os.path.join(cls.trained.name, "trained")
        seconds = train(cls.out)
        kernels = ("least-capable" if os.environ.get("ATEN_CPU_CAPABILITY") == "default"
                   else "this CPU's")
        print(f"\ntrain.py took {seconds:.0f} s ({kernels} kernels)", file=sys.stderr)

    @classmethod
    def tearDownClass(cls):
        cls.trained.cleanup()

    def test_data_files_equal_the_committed_ones(self):
        for name in DATA_OUTPUTS:
            with self.subTest(name=name):
                self.assertTrue(filecmp.cmp(os.path.join(self.out, name),
                                            os.path.join(DEFAULT, name), shallow=False),
                                f"{name} differs from models/default")

    def test_predictions_correlate_with_the_committed_model(self):
        _, x = heldout_one_hot()
        committed = torch.jit.load(os.path.join(DEFAULT, "seqattr_bpnet.pt")).eval()
        retrained = torch.jit.load(os.path.join(self.out, "seqattr_bpnet.pt")).eval()
        with torch.no_grad():
            a, b = committed(x).numpy(), retrained(x).numpy()
        r = [float(np.corrcoef(a[:, j], b[:, j])[0, 1]) for j in range(a.shape[1])]
        print(f"\nheld-out predictions, r per column against the committed model: "
              f"{' '.join(f'{v:.4f}' for v in r)}", file=sys.stderr)
        self.assertGreaterEqual(min(r), CORRELATION_BAR, r)

    def test_attributions_find_the_planted_motifs(self):
        model = os.path.join(self.out, "seqattr_bpnet.pt")
        names, x = heldout_one_hot()
        inside = inside_planted_motif(names, x.shape[2], os.path.join(DEFAULT,
                                                                      "heldout_motifs.bed"))
        for method, extra in [("deeplift_shap", ["--n-shuffles", 20, "--seed", 0]),
                              ("integrated_gradients", [])]:
            with self.subTest(method=method):
                out = self.path(method + ".h5")
                attribute(model, os.path.join(DEFAULT, "heldout.fa"), method, out,
                          "--target", "counts", *extra)
                value = attribution_auroc(read(out)[0]["attributions"], inside)
                print(f"\nretrained model, {method}: held-out AUROC {value:.4f}", file=sys.stderr)
                self.assertGreaterEqual(value, AUROC_BAR)
