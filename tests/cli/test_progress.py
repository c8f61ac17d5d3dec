"""The progress bar: on a terminal, for runs longer than a few seconds, with ETA; never
when stderr is not a terminal or with --quiet."""
import os
import pty
import subprocess
import unittest

from seqattr_cli import BIN, TempDirTest, data


class ProgressBar(TempDirTest):
    def run_with_stderr_on_terminal(self, *extra):
        fasta = self.write("many.fa", "".join(f">s{i}\n{'ACGT' * 40}\n" for i in range(80)))
        # The bar waits 2 s before it draws: 48,000 model rows take about 8 s here (150 steps,
        # 2 s, finished before the bar once the convolutions got faster).
        args = [BIN, "attribute", "--model", data("mini_bpnet.pt"), "--fasta", fasta,
                "--method", "integrated_gradients", "--n-steps", "600", "--batch-size", "16",
                "--threads", "1", "--output", self.path("out.h5"), *extra]
        master, slave = pty.openpty()
        proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=slave)
        os.close(slave)
        chunks = []
        while True:
            try:
                chunk = os.read(master, 4096)
            except OSError:  # EIO once the child closes the terminal
                break
            if not chunk:
                break
            chunks.append(chunk)
        os.close(master)
        self.assertEqual(proc.wait(timeout=300), 0)
        return b"".join(chunks).decode(errors="replace")

    def test_bar_with_eta_on_a_terminal(self):
        text = self.run_with_stderr_on_terminal()
        self.assertIn("ETA", text)
        self.assertIn("80/80", text)

    def test_no_bar_when_quiet(self):
        self.assertNotIn("ETA", self.run_with_stderr_on_terminal("--quiet"))

    def test_no_bar_when_stderr_is_not_a_terminal(self):
        fasta = self.write("many.fa", "".join(f">s{i}\n{'ACGT' * 40}\n" for i in range(80)))
        proc = subprocess.run([BIN, "attribute", "--model", data("mini_bpnet.pt"), "--fasta",
                               fasta, "--method", "integrated_gradients", "--n-steps", "150",
                               "--threads", "1", "--output", self.path("out.h5")],
                              capture_output=True, text=True, timeout=300)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertNotIn("ETA", proc.stderr)
        self.assertIn("done:", proc.stderr)


if __name__ == "__main__":
    unittest.main()
