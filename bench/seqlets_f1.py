#!/usr/bin/env python3
"""Seqlets against the planted motif sites of a synthetic genome: recall, precision, F1 and
time, seqattr's `seqlets` beside tangermeme's recursive_seqlets on the same attributions.

    python bench/seqlets_f1.py --seqattr build/seqattr [--seed 21] [--peaks 120] [--shuffles 20]
    python bench/seqlets_f1.py --seqattr build/seqattr --tile 1000:500 --shuffles 4   # whole genome

The genome (models/synthetic/make_genome.py --seed S) is one the default model was not trained
on (it was trained on seed 0). Its first --peaks peaks are explained by the default model
(models/default) with DeepLIFT-SHAP (--shuffles references, the counts head), as
`seqattr attribute --bed`. A planted site (motifs.bed) inside a window is recalled when a
positive seqlet overlaps it; a positive seqlet is precise when it overlaps a planted site.
tangermeme (the venv of bench/peers.py, --peer-python) runs recursive_seqlets with its defaults
on the same per-position attributions. Times are medians of --repeats runs: seqattr's whole
process, tangermeme's call alone and its whole process (Python start, imports, reading the
file, the call), each with its peak RSS. With --tile W:S the whole genome is tiled instead of
taking peaks.
"""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

import h5py
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

PEER = """
import sys, time, h5py, numpy
from tangermeme.seqlet import recursive_seqlets
with h5py.File(sys.argv[1]) as f:
    x = f["attributions"][()].sum(1)
start = time.time()
s = recursive_seqlets(x)
elapsed = time.time() - start
if len(sys.argv) > 3:  # a second call, numba's compilation done: the steady state
    start = time.time()
    s = recursive_seqlets(x)
    elapsed = time.time() - start
numpy.save(sys.argv[2], s[["example_idx", "start", "end", "attribution"]].to_numpy())
print(elapsed)
"""


def timed(command):
    """(seconds, peak RSS in MB, stdout) of one process."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        start = time.time()
        proc = subprocess.Popen(command, stdout=out, stderr=err, text=True)
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.time() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if proc.returncode != 0:
            sys.exit(err.read())
        return elapsed, usage.ru_maxrss / 1024, out.read()


def planted(motifs_path, windows):
    """Planted sites inside a window, each once: (chrom, start, end), genomic."""
    sites = set()
    with open(motifs_path) as f:
        for line in f:
            chrom, s, e, name = line.split("\t")[:4]
            s, e = int(s), int(e)
            if any(c == chrom and w <= s and e <= w + 1000 for c, w in windows):
                sites.add((chrom, s, e, name))
    return sorted(sites)


def score(seqlets, sites):
    """Recall of sites, precision of the positive seqlets (genomic, each once), F1."""
    seqlets = sorted({tuple(s[:3]) for s in seqlets if s[3] > 0})
    sites = [site[:3] for site in sites]
    overlaps = lambda a, b: a[0] == b[0] and a[1] < b[2] and b[1] < a[2]
    recalled = sum(any(overlaps(site, s) for s in seqlets) for site in sites)
    precise = sum(any(overlaps(s, site) for site in sites) for s in seqlets)
    recall = recalled / max(len(sites), 1)
    precision = precise / max(len(seqlets), 1)
    f1 = 2 * recall * precision / max(recall + precision, 1e-12)
    return recall, precision, f1, len(seqlets)


def naming(seqlets, sites):
    """Of the positive seqlets on a planted site, the share named after (one of) its motif(s)."""
    on_site = correct = 0
    for chrom, s, e, value, name in seqlets:
        if value <= 0:
            continue
        hits = [site for site in sites if site[0] == chrom and site[1] < e and s < site[2]]
        if hits:
            on_site += 1
            correct += any(name == site[3] for site in hits)
    return correct / max(on_site, 1), on_site


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seqattr", required=True)
    parser.add_argument("--seed", type=int, default=21)
    parser.add_argument("--peaks", type=int, default=120)
    parser.add_argument("--shuffles", type=int, default=20)
    parser.add_argument("--min-motif-score", type=int, default=850,
                        help="make_genome.py's: planted sites at least this strong (as the default "
                             "model's held-out set)")
    parser.add_argument("--peer-python", default="/tmp/tvenv/bin/python")
    parser.add_argument("--keep", default="", help="directory to keep the files in")
    parser.add_argument("--tile", default="", help="W:S: tile the whole genome instead of peaks")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("seqlet_args", nargs="*", help="extra `seqattr seqlets` options (after --)")
    args = parser.parse_args()
    tmp = args.keep or tempfile.mkdtemp()
    os.makedirs(tmp, exist_ok=True)
    subprocess.run([sys.executable, os.path.join(ROOT, "models", "synthetic", "make_genome.py"),
                    "--out-dir", tmp, "--seed", str(args.seed), "--scale", "0.5",
                    "--min-motif-score", str(args.min_motif_score)],
                   check=True, capture_output=True)
    with open(os.path.join(tmp, "peaks.narrowPeak")) as f:
        peaks = f.readlines()[:args.peaks]
    bed = os.path.join(tmp, "peaks.bed")
    with open(bed, "w") as f:
        f.writelines(peaks)
    # Named by what made it, so that --keep never reuses another genome's attributions.
    where = f"tile{args.tile.replace(':', '-')}" if args.tile else f"peaks{args.peaks}"
    attributions = os.path.join(tmp, f"dls-seed{args.seed}-motif{args.min_motif_score}-"
                                     f"{where}-shuffles{args.shuffles}.h5")
    regions = ["--tile", args.tile] if args.tile else ["--bed", bed]
    if not os.path.exists(attributions):
        subprocess.run([args.seqattr, "attribute", "--quiet", "--model",
                        os.path.join(ROOT, "models", "default", "seqattr_bpnet.pt"), *regions,
                        "--genome", os.path.join(tmp, "genome.fa"), "--method", "deeplift_shap",
                        "--n-shuffles", str(args.shuffles), "--target", "counts",
                        "--output", attributions], check=True)
    with h5py.File(attributions) as f:
        windows = list(zip([c.decode() for c in f["regions/chrom"][()]], f["regions/start"][()]))
    sites = planted(os.path.join(tmp, "motifs.bed"), windows)
    out = os.path.join(tmp, "seqlets.bed")
    runs = [timed([args.seqattr, "seqlets", attributions, "--output", out, *args.seqlet_args])
            for _ in range(args.repeats)]
    ours_time = statistics.median(r[0] for r in runs)
    ours_rss = max(r[1] for r in runs)
    ours = []
    with open(out) as f:
        next(f)
        for line in f:
            chrom, s, e, name, value = line.split("\t")[:5]
            ours.append((chrom, int(s), int(e), float(value), name))
    peer_file = os.path.join(tmp, "peer.npy")
    runs = [timed([args.peer_python, "-c", PEER, attributions, peer_file]) for _ in range(args.repeats)]
    peer_call = statistics.median(float(r[2].split()[-1]) for r in runs)
    peer_time = statistics.median(r[0] for r in runs)
    peer_rss = max(r[1] for r in runs)
    steady = timed([args.peer_python, "-c", PEER, attributions, peer_file, "again"])
    peer_steady = float(steady[2].split()[-1])
    peer = [(windows[int(r)][0], int(windows[int(r)][1] + s), int(windows[int(r)][1] + e), v)
            for r, s, e, v in np.load(peer_file)]
    print(f"{len(windows)} windows of 1,000 bp (genome seed {args.seed}), {len(sites)} planted sites")
    print("| caller | recall | precision | F1 | seqlets (positive) | seconds | peak RSS |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for name, seqlets, seconds, rss in (
            ("seqattr seqlets " + " ".join(args.seqlet_args), ours, f"{ours_time:.2f} (whole process)",
             ours_rss),
            ("tangermeme recursive_seqlets", peer,
             f"{peer_time:.2f} (whole process); call {peer_call:.2f}, {peer_steady:.2f} compiled", peer_rss)):
        r, p, f1, n = score(seqlets, sites)
        print(f"| {name} | {r:.3f} | {p:.3f} | {f1:.3f} | {n} | {seconds} | {rss:.0f} MB |")
    print(f"speed: {peer_time / ours_time:.1f}x tangermeme's whole process, "
          f"{peer_call / ours_time:.1f}x its call, {peer_steady / ours_time:.1f}x its compiled call")
    if "--motifs" in args.seqlet_args:
        accuracy, on_site = naming(ours, sites)
        print(f"naming: {accuracy:.3f} of the {on_site} positive seqlets on a planted site are "
              f"named after its motif")


if __name__ == "__main__":
    main()
