"""bench/peers.py: its agreement rule (a speed ratio only where the answers agree; ISM also
judged against float64 ISM), and a run without the peers installed (Debian's python3 has
neither Captum nor tangermeme): each peer is skipped with the install command, seqattr is
still timed, and the run succeeds."""
import importlib.util
import json
import os
import subprocess
import sys
import types
import unittest

from seqattr_cli import BIN, MODELS, TempDirTest, data

PEERS = os.path.join(os.path.dirname(os.path.abspath(MODELS)), "bench", "peers.py")


def load_peers():
    spec = importlib.util.spec_from_file_location("peers", PEERS)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def peers_installed():
    return all(importlib.util.find_spec(name) for name in ("captum", "tangermeme"))


class AgreementRule(unittest.TestCase):
    def setUp(self):
        self.peers = load_peers()
        args = types.SimpleNamespace(tolerance=1e-4, stat="best")
        self.bench = self.peers.Bench.__new__(self.peers.Bench)
        self.bench.args, self.bench.rows, self.bench.failed = args, [], False

    def add(self, error, exact_errors=None):
        # seqattr runs: (compute stage, whole process) seconds; the peer's process start 0.5 s.
        self.bench.add("m", "peer", 4, [2.0, 3.0], [(1.0, 1.25), (1.5, 2.0)], error,
                       exact_errors=exact_errors, start=0.5)
        return self.bench.rows[-1]

    def test_ratio_only_where_the_answers_agree(self):
        row = self.add(5e-5)
        self.assertEqual(row["ratio"], 2.0)  # best peer 2.0 s over best seqattr 1.0 s
        # Whole processes: peer call 2.0 + start 0.5 over seqattr's best process 1.25 s.
        self.assertEqual(row["whole_ratio"], 2.0)
        self.assertFalse(self.bench.failed)
        row = self.add(2e-4)
        self.assertIsNone(row["ratio"])
        self.assertIsNone(row["whole_ratio"])
        self.assertTrue(self.bench.failed)

    def test_ism_passes_when_no_farther_from_float64_than_the_peer(self):
        self.assertEqual(self.add(3.2e-4, exact_errors=(3.6e-4, 4.1e-4))["ratio"], 2.0)
        self.assertFalse(self.bench.failed)
        self.assertIsNone(self.add(3.2e-4, exact_errors=(5e-4, 4.1e-4))["ratio"])
        self.assertTrue(self.bench.failed)

    def test_relative_error(self):
        self.assertAlmostEqual(self.peers.relative_error([1.0, 2.1], [1.0, 2.0]), 0.05)


@unittest.skipIf(peers_installed(), "Captum and tangermeme are installed here")
class WithoutPeers(TempDirTest):
    def test_skips_each_peer_with_the_install_command_and_still_times_seqattr(self):
        out = self.path("peers.json")
        proc = subprocess.run(
            [sys.executable, PEERS, "--seqattr", BIN, "--model", data("mini_bpnet.pt"),
             "--length", "160", "--target", "1", "--sequences", "1", "--n-steps", "4",
             "--shuffles", "2", "--ism-window", "4", "-r", "1", "--warmup", "0",
             "--json", out], capture_output=True, text=True, timeout=300)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertIn("pip install --no-deps captum==0.9.0 tangermeme==1.4.0", proc.stderr)
        with open(out) as f:
            rows = json.load(f)["rows"]
        self.assertEqual(sorted(r["method"] for r in rows),
                         ["deeplift_shap", "ig", "ism (fast)", "ism (naive)"])
        for row in rows:
            self.assertIsNone(row["ratio"], row["method"])
            self.assertGreater(row["seqattr_seconds"], 0, row["method"])


if __name__ == "__main__":
    unittest.main()
