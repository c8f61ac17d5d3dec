#!/usr/bin/env python3
"""DeepLIFT-SHAP on the Basset-like fixture (models/fixtures/basset_600.pt): seqattr and
tangermeme in float32 against tangermeme in float64, per sequence.

bench/peers.py found the two float32 sides 1.3e-2 apart on 24 sequences. This shows where:
one sequence, on which both are far from the float64 answer (the max-pool rule divides a
window's change by its argmax position's own change, and near the 1e-7 "no change" threshold
float32 rounding decides the multiplier).

    /tmp/tvenv/bin/python bench/dls_basset_float64.py [--sequences 24] [--shuffles 20]
"""
import argparse
import os
import subprocess
import sys
import tempfile

import h5py
import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
MODEL = os.path.join(ROOT, "models", "fixtures", "basset_600.pt")
sys.path.insert(0, HERE)
from peers import basset_600_module  # noqa: E402


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seqattr", default=os.path.join(ROOT, "build", "seqattr"))
    parser.add_argument("--sequences", type=int, default=24)
    parser.add_argument("--shuffles", type=int, default=20)
    args = parser.parse_args()
    from tangermeme.deep_lift_shap import deep_lift_shap
    from tangermeme.ersatz import dinucleotide_shuffle
    torch.manual_seed(0)
    X = F.one_hot(torch.randint(0, 4, (args.sequences, 600)), 4).permute(0, 2, 1).float()
    refs = dinucleotide_shuffle(X, n=args.shuffles, random_state=0)
    model = basset_600_module(torch.jit.load(MODEL))
    run = lambda m, dtype: deep_lift_shap(m.to(dtype), X.to(dtype), references=refs.to(dtype),
                                          target=0, device="cpu", warning_threshold=1e9,
                                          batch_size=32).numpy()
    peer32 = run(model, torch.float32)
    exact = run(model, torch.float64)
    with tempfile.TemporaryDirectory() as tmp:
        fasta, refs_path, out = (os.path.join(tmp, n) for n in ("x.fa", "r.h5", "o.h5"))
        with open(fasta, "w") as f:
            for i, row in enumerate(X.argmax(1).tolist()):
                f.write(f">s{i}\n" + "".join("ACGT"[j] for j in row) + "\n")
        with h5py.File(refs_path, "w") as f:
            f["references"] = refs.numpy().astype(np.uint8)
        subprocess.run([args.seqattr, "attribute", "--model", MODEL, "--fasta", fasta, "--method",
                        "deeplift_shap", "--references", refs_path, "--output", out, "--quiet",
                        "--batch-size", "32", "--threads", "2"], check=True)
        with h5py.File(out) as f:
            ours = f["attributions"][()]
    scale = np.abs(exact).max()
    for name, a in (("seqattr float32", ours), ("tangermeme float32", peer32)):
        per_sequence = np.abs(a - exact).max(axis=(1, 2)) / scale
        print(f"{name}: max |a - float64| / max |float64| = {per_sequence.max():.2e} "
              f"(sequence {per_sequence.argmax()}; median over sequences {np.median(per_sequence):.1e})")
    print(f"seqattr against tangermeme float32: {np.abs(ours - peer32).max() / np.abs(peer32).max():.2e}")


if __name__ == "__main__":
    main()
