#!/usr/bin/env python3
"""Genome-scale runs: host memory against region count, and what I/O costs.

1. Peak RSS of `seqattr attribute --tile` over the synthetic genome for about 20k and 200k
   windows (gradient, a small fully convolutional model, 100 bp): memory must not grow
   with the number of regions.
2. DeepLIFT-SHAP (20 shuffles) on bench/data/bpnet_2114.pt over narrowPeak regions of the
   synthetic genome, end to end (--bed --genome, HDF5 written), against the same sequences
   given in memory-sized FASTA, and against the compute stage alone (--verbose stage
   times). I/O (reading the genome, writing parts, assembling the output) must cost < 5%.

    /usr/bin/python3 bench/genome_scale.py [--regions N] [--skip-rss] [--skip-io] [build/seqattr]
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile
import time

import h5py

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SMALL_MODEL = os.path.join(ROOT, "tests", "data", "mini_bpnet.pt")
BPNET = os.path.join(ROOT, "bench", "data", "bpnet_2114.pt")


def timed(args):
    """(peak RSS MiB, seconds, stderr) of a command."""
    start = time.time()
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    stderr = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    if status != 0:
        raise SystemExit(f"failed: {' '.join(args)}\n{stderr}")
    return usage.ru_maxrss / 1024, time.time() - start, stderr


def stage_seconds(stderr):
    match = re.search(r"read sequences ([\d.e-]+), compute ([\d.e-]+), write parts ([\d.e-]+), "
                      r"assemble output ([\d.e-]+)", stderr)
    return dict(zip(("read", "compute", "write", "assemble"), map(float, match.groups())))


def rss_against_regions(binary, genome, tmp):
    print("## Peak host memory against region count (gradient, mini_bpnet, 100 bp windows)")
    print(f"{'windows':>9} {'peak RSS MiB':>13} {'seconds':>8} {'output MiB':>11}")
    for step in (155, 15):
        out = os.path.join(tmp, f"tiles{step}.h5")
        rss, seconds, _ = timed([binary, "attribute", "--quiet", "--model", SMALL_MODEL,
                                 "--genome", genome, "--tile", f"100:{step}", "--method",
                                 "gradient", "--batch-size", "256", "--output", out])
        with h5py.File(out) as f:
            windows = f["one_hot"].shape[0]
        print(f"{windows:>9} {rss:>13.0f} {seconds:>8.1f} {os.path.getsize(out) / 2**20:>11.0f}")
        os.remove(out)


def io_cost(binary, genome, peaks, regions, tmp):
    print(f"\n## DeepLIFT-SHAP, 20 shuffles, bpnet_2114, {regions} regions of 2,114 bp")
    bed = os.path.join(tmp, "peaks.bed")
    with open(peaks) as src, open(bed, "w") as dst:
        dst.writelines(line for i, line in enumerate(src) if i < regions)
    common = ["--model", BPNET, "--method", "deeplift_shap", "--n-shuffles", "20",
              "--batch-size", "128", "-v"]
    from_bed = os.path.join(tmp, "bed.h5")
    _, bed_seconds, stderr = timed([binary, "attribute", *common, "--genome", genome, "--bed", bed,
                                    "--length", "2114", "--output", from_bed])
    stages = stage_seconds(stderr)
    fasta = os.path.join(tmp, "same.fa")
    with h5py.File(from_bed) as f, open(fasta, "w") as out:
        for i, one_hot in enumerate(f["one_hot"][()]):
            seq = "".join("ACGT"[one_hot[:, j].argmax()] if one_hot[:, j].any() else "N"
                          for j in range(one_hot.shape[1]))
            out.write(f">r{i}\n{seq}\n")
    _, fasta_seconds, fasta_err = timed([binary, "attribute", *common, "--fasta", fasta,
                                         "--output", os.path.join(tmp, "fasta.h5")])
    io = stages["read"] + stages["write"] + stages["assemble"]
    print(f"end to end from --bed --genome : {regions / bed_seconds:8.2f} regions/s ({bed_seconds:.1f} s)")
    print(f"same sequences from --fasta    : {regions / fasta_seconds:8.2f} regions/s ({fasta_seconds:.1f} s)")
    print(f"compute stage alone            : {regions / stages['compute']:8.2f} regions/s")
    print("stages (s): " + ", ".join(f"{k} {v:.3f}" for k, v in stages.items()))
    print(f"I/O share of the --bed run     : {100 * io / bed_seconds:.2f}% "
          f"(read + write parts + assemble)")
    print(f"--bed against --fasta          : {100 * (bed_seconds / fasta_seconds - 1):+.2f}%")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("binary", nargs="?", default=os.path.join(ROOT, "build", "seqattr"))
    parser.add_argument("--regions", type=int, default=64)
    parser.add_argument("--skip-rss", action="store_true")
    parser.add_argument("--skip-io", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([sys.executable, os.path.join(ROOT, "models", "synthetic", "make_genome.py"),
                        "--out-dir", tmp], check=True, capture_output=True)
        genome, peaks = os.path.join(tmp, "genome.fa"), os.path.join(tmp, "peaks.narrowPeak")
        print(f"threads: {os.cpu_count()} cores; {time.strftime('%Y-%m-%d')}\n")
        if not args.skip_rss:
            rss_against_regions(args.binary, genome, tmp)
        if not args.skip_io:
            io_cost(args.binary, genome, peaks, args.regions, tmp)


if __name__ == "__main__":
    main()
