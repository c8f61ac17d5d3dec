#!/usr/bin/env python3
"""Fast over naive ISM on traced bpnet-lite models at their real input length, and both
against ISM computed in float64.

Makes, with bpnet-lite's own classes (random weights, scaled so that the ReLUs switch), and
traces as users do:
  BPNet       n_filters=64, n_layers=8 (bpnet-lite's defaults), 2,114 bp in, 1,000 out;
  ChromBPNet  accessibility BPNet(64, 8) + bias BPNet(32, 4) (chrombpnet's are 512 and 128
              filters wide; at 64 the CPU run takes minutes, not hours; the graph is the same);
then times `seqattr attribute --method ism` with --ism-mode fast and naive on the same
sequences and window (best of --repeats, the `compute` stage of --verbose), for the counts
head and for the profile head with chrombpnet's and bpnet-lite's reductions, and reports each
one's largest distance from ISM in float64 (the traced model in double precision) as a
fraction of the largest delta.

Needs the venv of bench/peers.py with bpnet-lite (README, Development):
    /tmp/tvenv/bin/pip install --no-deps bpnet-lite==1.1.0
    /tmp/tvenv/bin/python bench/bpnetlite_ism.py [--sequences 2] [--window 100] [--repeats 3]
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile

import h5py
import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
SEQATTR = os.path.join(HERE, "..", "build", "seqattr")
LENGTH = 2114
HEADS = [("counts", ["--head", "counts"]),
         ("profile, chrombpnet-profile", ["--head", "profile", "--reduce", "chrombpnet-profile"]),
         ("profile, bpnet-lite-profile", ["--head", "profile", "--reduce", "bpnet-lite-profile"])]


def make_models(directory):
    from bpnetlite.bpnet import BPNet
    from bpnetlite.chrombpnet import ChromBPNet
    torch.manual_seed(0)
    bpnet = BPNet(n_filters=64, n_layers=8, n_control_tracks=0, verbose=False)
    chrombpnet = ChromBPNet(BPNet(n_filters=32, n_layers=4, n_outputs=1, n_control_tracks=0, verbose=False),
                            BPNet(n_filters=64, n_layers=8, n_outputs=1, n_control_tracks=0, verbose=False))
    paths = {}
    for name, model in [("bpnet", bpnet), ("chrombpnet", chrombpnet)]:
        model.eval()
        with torch.no_grad():
            for parameter_name, p in model.named_parameters():
                if parameter_name.endswith("weight"):
                    p.mul_(3.0)
            traced = torch.jit.trace(model, (torch.zeros(2, 4, LENGTH),), check_trace=False)
        paths[name] = os.path.join(directory, name + ".pt")
        traced.save(paths[name])
    return paths


def head_value(outputs, flags):
    """The explained value, as seqattr's adapter computes it."""
    if "counts" in flags:
        return outputs[1][:, 0]
    z = outputs[0].flatten(1)
    z = z - z.mean(-1, keepdim=True)
    return (z * torch.softmax(z, -1)).sum(-1)


def exact_ism(path, one_hot, start, end, flags):
    """f(mutant) - f(input) in float64, (N, 4, L), 0 outside [start, end) and at the base."""
    model = torch.jit.load(path).double().eval()
    x = torch.tensor(one_hot, dtype=torch.float64)
    deltas = np.zeros(one_hot.shape)
    with torch.no_grad():
        for n in range(x.shape[0]):
            rows = []
            for p in range(start, end):
                for b in range(4):
                    m = x[n].clone()
                    m[:, p] = 0
                    m[b, p] = 1
                    rows.append(m)
            f = torch.cat([head_value(model(torch.stack(rows[i:i + 64])), flags)
                           for i in range(0, len(rows), 64)])
            f0 = head_value(model(torch.stack([x[n], x[n]])), flags)[0]
            deltas[n, :, start:end] = (f - f0).reshape(end - start, 4).T.numpy()
            deltas[n] *= 1 - one_hot[n]
    return deltas


def seqattr_ism(path, fasta, out, mode, start, end, flags, threads):
    if os.path.exists(out):
        os.remove(out)
    proc = subprocess.run([SEQATTR, "attribute", "--verbose", "--model", path, "--fasta", fasta,
                           "--method", "ism", "--ism-mode", mode, "--ism-start", str(start),
                           "--ism-end", str(end), "--threads", str(threads), "--output", out,
                           *flags], capture_output=True, text=True, check=True)
    seconds = float(re.search(r"compute ([0-9.e+-]+)", proc.stderr).group(1))
    with h5py.File(out, "r") as f:
        return seconds, f["ism_delta"][()].astype(np.float64)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sequences", type=int, default=2)
    parser.add_argument("--window", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    start = (LENGTH - args.window) // 2
    end = start + args.window
    rng = np.random.default_rng(0)
    bases = rng.integers(0, 4, (args.sequences, LENGTH))
    one_hot = np.zeros((args.sequences, 4, LENGTH))
    one_hot[np.arange(args.sequences)[:, None], bases, np.arange(LENGTH)[None, :]] = 1
    with tempfile.TemporaryDirectory() as tmp:
        paths = make_models(tmp)
        fasta = os.path.join(tmp, "seqs.fa")
        with open(fasta, "w") as f:
            for i, row in enumerate(bases):
                f.write(f">s{i}\n{''.join('ACGT'[b] for b in row)}\n")
        print(f"| model | explained | fast | naive | fast/naive | fast vs float64 | naive vs float64 |")
        print("| --- | --- | --- | --- | --- | --- | --- |")
        for name, path in paths.items():
            for label, flags in HEADS:
                exact = exact_ism(path, one_hot, start, end, flags)
                scale = np.abs(exact).max()
                times, errors = {}, {}
                for mode in ("fast", "naive"):
                    runs = [seqattr_ism(path, fasta, os.path.join(tmp, mode + ".h5"), mode,
                                        start, end, flags, args.threads)
                            for _ in range(args.repeats)]
                    times[mode] = min(seconds for seconds, _ in runs)
                    errors[mode] = np.abs(runs[0][1] - exact).max() / scale
                print(f"| {name} | {label} | {times['fast']:.2f} s | {times['naive']:.2f} s | "
                      f"**{times['naive'] / times['fast']:.1f}×** | {errors['fast']:.1e} | "
                      f"{errors['naive']:.1e} |", flush=True)
        print(f"\n{args.sequences} sequences of {LENGTH} bp, the central {args.window} positions "
              f"(3 substitutions each), {args.threads} threads; seconds are the best of "
              f"{args.repeats} of seqattr's compute stage; errors are max |delta - exact| / "
              f"max |exact|, exact being ISM of the traced model in float64.")


if __name__ == "__main__":
    sys.exit(main())
