#!/usr/bin/env python3
"""How well attributions of the default model find the motifs planted in its held-out data.

    /usr/bin/python3 models/default/motif_auroc.py [--seqattr build/seqattr] [METHOD ...]

For each method (default: all of seqattr's), runs `seqattr attribute` on heldout.fa with
--target counts and prints the AUROC of the per-base |attribution| (summed over the 4 bases)
for "inside a planted motif instance" (heldout_motifs.bed) against "outside". DeepLIFT-SHAP
runs with 20 dinucleotide shuffles, seed 0; the other methods with seqattr's defaults.
tests/cli/test_default_model.py uses the functions here and holds DeepLIFT-SHAP and IG to
at least 0.9.
"""
import argparse
import os
import subprocess
import sys
import tempfile

import h5py
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
MODEL = os.path.join(HERE, "seqattr_bpnet.pt")
FASTA = os.path.join(HERE, "heldout.fa")
MOTIFS_BED = os.path.join(HERE, "heldout_motifs.bed")
METHODS = ["deeplift_shap", "integrated_gradients", "deeplift", "ism", "input_x_gradient",
           "gradient"]
EXTRA_ARGS = {"deeplift_shap": ["--n-shuffles", "20", "--seed", "0"]}


def auroc(positive, negative):
    """Mann-Whitney U / (n1 n0): the probability that a positive outranks a negative, ties
    counting one half (average ranks over tied values)."""
    values = np.concatenate([positive, negative])
    order = np.argsort(values, kind="mergesort")
    sorted_values = values[order]
    # average rank (1-based) of each run of equal values
    starts = np.flatnonzero(np.r_[True, sorted_values[1:] != sorted_values[:-1]])
    ends = np.r_[starts[1:], len(values)]
    run_rank = (starts + ends + 1) / 2.0
    ranks = np.empty(len(values))
    ranks[order] = np.repeat(run_rank, ends - starts)
    n1, n0 = len(positive), len(negative)
    return float((ranks[:n1].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


def record_names(fasta=FASTA):
    with open(fasta) as f:
        return [line[1:].split()[0] for line in f if line.startswith(">")]


def inside_planted_motif(names, length, bed=MOTIFS_BED):
    """(N, L) bool: bases of each record covered by a planted motif instance."""
    index = {name: i for i, name in enumerate(names)}
    mask = np.zeros((len(names), length), dtype=bool)
    with open(bed) as f:
        for line in f:
            record, start, end = line.split("\t")[:3]
            mask[index[record], int(start):int(end)] = True
    return mask


def attribution_auroc(attributions, inside):
    """AUROC of |attributions summed over bases| (N, L), inside the motifs against outside."""
    per_base = np.abs(attributions.sum(axis=1))
    return auroc(per_base[inside], per_base[~inside])


def run_method(seqattr, method, output):
    """`seqattr attribute` of the held-out windows; returns /attributions (N, 4, L)."""
    subprocess.run([seqattr, "attribute", "--quiet", "--model", MODEL, "--fasta", FASTA,
                    "--method", method, "--target", "counts", "--output", output,
                    *EXTRA_ARGS.get(method, [])], check=True)
    with h5py.File(output, "r") as f:
        return f["attributions"][()]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument("--seqattr", default=os.path.join(HERE, "..", "..", "build", "seqattr"))
    parser.add_argument("methods", nargs="*", default=METHODS)
    args = parser.parse_args()
    names = record_names()
    print("| method | AUROC |\n| --- | --- |")
    with tempfile.TemporaryDirectory() as tmp:
        for method in args.methods:
            attributions = run_method(args.seqattr, method, os.path.join(tmp, method + ".h5"))
            inside = inside_planted_motif(names, attributions.shape[2])
            print(f"| `{method}` | {attribution_auroc(attributions, inside):.3f} |", flush=True)


if __name__ == "__main__":
    sys.exit(main())
