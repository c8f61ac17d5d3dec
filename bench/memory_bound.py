#!/usr/bin/env python3
"""Peak host memory of `seqattr attribute` against input size and --batch-size.

Shows that memory is bounded by --batch-size (model rows per pass), not by the number of
sequences: results stream to HDF5 block by block. Uses the BPNet-sized bench model.

    /usr/bin/python3 bench/memory_bound.py [build/seqattr]
"""
import os
import random
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "build", "seqattr")
MODEL = os.path.join(ROOT, "bench", "data", "bpnet_2114.pt")
LENGTH = 2114


def peak_rss_mib(args):
    start = time.time()
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    if status != 0:
        raise SystemExit(f"failed: {' '.join(args)}\n{proc.stderr.read().decode()}")
    return usage.ru_maxrss / 1024, time.time() - start


def main():
    rng = random.Random(0)
    with tempfile.TemporaryDirectory() as tmp:
        print(f"{'method':<22}{'sequences':>10}{'batch':>7}{'peak RSS MiB':>14}{'seconds':>9}")
        for method, extra, counts in [("gradient", [], (64, 512)),
                                      ("integrated_gradients", ["--n-steps", "10"], (16, 128))]:
            for n in counts:
                fasta = os.path.join(tmp, f"{n}.fa")
                with open(fasta, "w") as f:
                    for i in range(n):
                        f.write(f">r{i}\n{''.join(rng.choice('ACGT') for _ in range(LENGTH))}\n")
                for batch in (8, 32):
                    rss, seconds = peak_rss_mib([BIN, "attribute", "--quiet", "--model", MODEL,
                                                 "--fasta", fasta, "--method", method,
                                                 "--batch-size", str(batch), "--output",
                                                 os.path.join(tmp, "out.h5"), *extra])
                    print(f"{method:<22}{n:>10}{batch:>7}{rss:>14.0f}{seconds:>9.1f}")


if __name__ == "__main__":
    main()
