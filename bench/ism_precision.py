#!/usr/bin/env python3
"""How close float32 ISM can get to exact ISM, on bench/data/bpnet_2114.pt (or --model).

Issue 4 asks fast ISM to agree with exact ISM within 1e-5 of the largest |delta| in
float32. This measures, against ISM computed in float64 (the exact function, to ~1e-13):
  - seqattr fast ISM (float32),
  - seqattr naive ISM (float32, every mutant recomputed in full),
  - the floor that float32 sets for any ISM that forms f(mutant) as a float32 number near
    |f(input)| before subtracting (naive ISM, tangermeme): rounding it alone costs ulp(|f|)/2.
    Fast ISM carries the change itself through the graph, so it is not bound by this floor.

    /usr/bin/python3 bench/ism_precision.py [build/seqattr] [--start 1000 --end 1030]
    /usr/bin/python3 bench/ism_precision.py --model models/fixtures/basset_600.pt \
        --length 600 --start 0 --end 600 --targets 0 3
"""
import argparse
import os
import subprocess
import tempfile

import h5py
import numpy as np
import torch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODEL = os.path.join(ROOT, "bench", "data", "bpnet_2114.pt")


def exact_ism(model_path, one_hot, start, end, target):
    """(4, L) f(mutant) - f(input) in float64; 0 at the observed base and outside."""
    model = torch.jit.load(model_path).eval().double()
    x = torch.from_numpy(one_hot).double()[None]
    mutants = []
    for p in range(start, end):
        for b in range(4):
            m = x.clone()
            m[0, :, p] = 0
            m[0, b, p] = 1
            mutants.append(m)
    with torch.no_grad():
        out = model(torch.cat([x, x] + mutants))[:, target]
    delta = np.zeros(one_hot.shape)
    delta[:, start:end] = (out[2:] - out[0]).numpy().reshape(end - start, 4).T
    delta[one_hot.astype(bool)] = 0
    return delta, float(out[0])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("binary", nargs="?", default=os.path.join(ROOT, "build", "seqattr"))
    parser.add_argument("--start", type=int, default=1000)
    parser.add_argument("--end", type=int, default=1030)
    parser.add_argument("--model", default=MODEL)
    parser.add_argument("--length", type=int, default=2114, help="the model's input length")
    parser.add_argument("--targets", type=int, nargs="+", default=[0, 1])
    args = parser.parse_args()
    torch.set_num_threads(os.cpu_count())
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as tmp:
        fasta = os.path.join(tmp, "x.fa")
        with open(fasta, "w") as f:
            f.write(">x\n" + "".join(rng.choice(list("ACGT"), args.length)) + "\n")
        print(f"{'target':>6} {'|f|':>8} {'max|delta|':>11} {'fast32':>9} {'naive32':>9} "
              f"{'ulp(f)/2':>9}   (errors against float64 ISM, / max|delta|; target 1e-5)")
        for target in args.targets:
            results = {}
            for mode in ("fast", "naive"):
                out = os.path.join(tmp, f"{mode}.h5")
                subprocess.run([args.binary, "attribute", "--quiet", "--model", args.model, "--fasta",
                                fasta, "--method", "ism", "--ism-mode", mode, "--target",
                                str(target), "--ism-start", str(args.start), "--ism-end",
                                str(args.end), "--output", out], check=True)
                with h5py.File(out) as f:
                    results[mode] = f["ism_delta"][0].astype(np.float64)
                    one_hot = f["one_hot"][0]
            exact, f_input = exact_ism(args.model, one_hot, args.start, args.end, target)
            scale = np.abs(exact).max()
            floor = np.spacing(np.float32(abs(f_input))) / 2 / scale
            errors = {m: np.abs(results[m] - exact).max() / scale for m in results}
            print(f"{target:>6} {abs(f_input):>8.3f} {scale:>11.3g} {errors['fast']:>9.2e} "
                  f"{errors['naive']:>9.2e} {floor:>9.2e}")


if __name__ == "__main__":
    main()
