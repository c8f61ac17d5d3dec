"""models/default/train.py is deterministic: retrained with its default seed into a temporary
directory, it writes byte for byte the committed model, metadata and held-out files. (About
2.5 minutes on 2 idle cores; it prints how long it took.)"""
import filecmp
import os
import subprocess
import sys
import time
import unittest

from seqattr_cli import MODELS, TempDirTest

DEFAULT = os.path.join(MODELS, "default")
OUTPUTS = ["seqattr_bpnet.pt", "seqattr_bpnet.json", "heldout.fa", "heldout_motifs.bed"]


class Training(TempDirTest):
    def test_retraining_reproduces_the_committed_files(self):
        out = self.path("trained")
        start = time.monotonic()
        proc = subprocess.run([sys.executable, os.path.join(DEFAULT, "train.py"), "--out-dir",
                               out], capture_output=True, text=True, timeout=1800, cwd=self.tmp)
        self.assertEqual(proc.returncode, 0, proc.stderr[-3000:])
        print(f"\ntrain.py took {time.monotonic() - start:.0f} s", file=sys.stderr)
        for name in OUTPUTS:
            with self.subTest(name=name):
                self.assertTrue(filecmp.cmp(os.path.join(out, name), os.path.join(DEFAULT, name),
                                            shallow=False), f"{name} differs from models/default")


if __name__ == "__main__":
    unittest.main()
