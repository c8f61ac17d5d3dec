#!/usr/bin/env python3
"""ISM throughput: seqattr fast and naive against tangermeme's saturation_mutagenesis, in one
run, on the same machine, models, sequences, window and threads.

Models: bench/data/bpnet_2114.pt (BPNet shape, 2,114 bp; a window of --bpnet-window
positions in the middle) and models/fixtures/basset_600.pt (Basset shape, 600 bp, every
position). Setup: see bench/compare_tangermeme.py. Run:
    /tmp/tvenv/bin/python bench/compare_ism.py [--threads 2]
"""
import argparse
import os
import re
import subprocess
import tempfile
import time

import h5py
import numpy as np
import torch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def random_sequences(count, length, seed):
    g = torch.Generator().manual_seed(seed)
    return torch.randint(0, 4, (count, length), generator=g)


def seqattr_ism(binary, model, bases, start, end, target, threads, mode, tmp):
    fasta = os.path.join(tmp, "x.fa")
    with open(fasta, "w") as f:
        for i, row in enumerate(bases.tolist()):
            f.write(f">s{i}\n{''.join('ACGT'[b] for b in row)}\n")
    out = os.path.join(tmp, mode + ".h5")
    begin = time.time()
    proc = subprocess.run([binary, "attribute", "--model", model, "--fasta", fasta,
                           "--method", "ism", "--ism-mode", mode, "--ism-start", str(start),
                           "--ism-end", str(end), "--target", str(target), "--threads",
                           str(threads), "--batch-size", "64", "--device", "cpu", "--output", out],
                          check=True, capture_output=True, text=True)
    seconds = time.time() - begin
    inside = float(re.search(r"in ([0-9.]+) s", proc.stderr).group(1))
    with h5py.File(out, "r") as f:
        return f["ism_delta"][()][:, :, start:end], seconds, inside


def compare(name, model, count, length, start, end, target, args):
    from tangermeme.saturation_mutagenesis import saturation_mutagenesis
    bases = random_sequences(count, length, seed=1)
    X = torch.nn.functional.one_hot(bases, 4).permute(0, 2, 1).float()
    scripted = torch.jit.load(model).eval()
    begin = time.time()
    raw = saturation_mutagenesis(scripted, X, start=start, end=end, batch_size=64, device="cpu",
                                 raw_outputs=True)
    tangermeme_seconds = time.time() - begin
    expected = (raw.y_hat[..., target] - raw.y0[:, None, None, target]).numpy()
    with tempfile.TemporaryDirectory() as tmp:
        naive, naive_seconds, naive_inside = seqattr_ism(args.seqattr, model, bases, start, end,
                                                         target, args.threads, "naive", tmp)
        fast, fast_seconds, fast_inside = seqattr_ism(args.seqattr, model, bases, start, end,
                                                      target, args.threads, "fast", tmp)
    scale = np.abs(naive).max()
    mutants = count * 3 * (end - start)
    print(f"{name}: {count} sequences x {end - start} positions ({mutants} substitutions), "
          f"target {target}, {args.threads} threads, CPU")
    for label, seconds in [("tangermeme", tangermeme_seconds), ("seqattr naive", naive_seconds),
                           ("seqattr fast", fast_seconds)]:
        print(f"  {label:14s} {seconds:8.2f} s  {mutants / seconds:9.1f} substitutions/s")
    print(f"  inside the command (no start-up, model load or output): naive {naive_inside:.2f} s, "
          f"fast {fast_inside:.2f} s, fast over naive {naive_inside / fast_inside:.2f}x")
    print(f"  fast over naive {naive_seconds / fast_seconds:.2f}x; naive over tangermeme "
          f"{tangermeme_seconds / naive_seconds:.2f}x; fast over tangermeme "
          f"{tangermeme_seconds / fast_seconds:.2f}x")
    print(f"  max |naive - tangermeme| / max |delta| {np.abs(naive - expected).max() / scale:.2e}; "
          f"max |fast - naive| / max |delta| {np.abs(fast - naive).max() / scale:.2e}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--bpnet-sequences", type=int, default=2)
    parser.add_argument("--bpnet-window", type=int, default=200)
    parser.add_argument("--basset-sequences", type=int, default=8)
    parser.add_argument("--seqattr", default=os.path.join(ROOT, "build", "seqattr"))
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    mid = 2114 // 2
    compare("bpnet_2114", os.path.join(ROOT, "bench", "data", "bpnet_2114.pt"),
            args.bpnet_sequences, 2114, mid - args.bpnet_window // 2,
            mid + args.bpnet_window // 2, 0, args)
    compare("basset_600", os.path.join(ROOT, "models", "fixtures", "basset_600.pt"),
            args.basset_sequences, 600, 0, 600, 3, args)


if __name__ == "__main__":
    main()
