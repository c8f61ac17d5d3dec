#!/usr/bin/env python3
"""DeepLIFT-SHAP throughput: seqattr against tangermeme's deep_lift_shap, in one run, on the
same machine, model, inputs, references (20 dinucleotide shuffles) and threads. Also
reports how far the two results are apart.

The model is bench/data/bpnet_2114.pt (64 filters, 8 dilated residual layers, 2,114 bp);
tangermeme gets the same weights as an eager nn.Module (it hooks modules).

Setup once on Debian 12 (tangermeme's own dependencies come from Debian, not PyPI):
    apt-get install python3-venv python3-numba python3-pandas
    python3 -m venv --system-site-packages /tmp/tvenv
    /tmp/tvenv/bin/pip install --no-deps tangermeme==1.4.0 tqdm
Run:
    /tmp/tvenv/bin/python bench/compare_tangermeme.py [--sequences 8] [--threads 2] [--target 0]
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
import torch.nn as nn

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODEL = os.path.join(ROOT, "bench", "data", "bpnet_2114.pt")
LENGTH = 2114


class EagerBPNet(nn.Module):
    """bpnet_2114.pt's forward as an eager module, with its weights."""

    def __init__(self, scripted):
        super().__init__()
        self.trim = scripted.trim

        def conv(s):
            w = s.weight
            c = nn.Conv1d(w.shape[1], w.shape[0], w.shape[2], padding=s.padding, dilation=s.dilation)
            c.load_state_dict({"weight": w, "bias": s.bias})
            return c

        self.iconv = conv(scripted.iconv)
        self.irelu = nn.ReLU()
        self.rconvs = nn.ModuleList(conv(getattr(scripted.rconvs, str(i))) for i in range(8))
        self.rrelus = nn.ModuleList(nn.ReLU() for _ in range(8))
        self.fconv = conv(scripted.fconv)
        self.linear = nn.Linear(scripted.linear.weight.shape[1], 1)
        self.linear.load_state_dict({"weight": scripted.linear.weight, "bias": scripted.linear.bias})

    def forward(self, x):
        h = self.irelu(self.iconv(x))
        for conv, relu in zip(self.rconvs, self.rrelus):
            h = h + relu(conv(h))
        h = h[:, :, self.trim:h.shape[-1] - self.trim]
        profile = self.fconv(h)[:, 0]
        counts = self.linear(h.mean(dim=-1))
        weights = torch.softmax(profile, dim=-1).detach()
        centred = profile - profile.mean(dim=-1, keepdim=True)
        return torch.cat([counts, (weights * centred).sum(dim=-1, keepdim=True)], dim=-1)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--sequences", type=int, default=8)
    parser.add_argument("--shuffles", type=int, default=20)
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--batch-size", type=int, default=32, help="pairs per pass, both tools")
    parser.add_argument("--target", type=int, default=0)
    parser.add_argument("--seqattr", default=os.path.join(ROOT, "build", "seqattr"))
    args = parser.parse_args()

    from tangermeme.deep_lift_shap import deep_lift_shap
    from tangermeme.ersatz import dinucleotide_shuffle
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    bases = torch.randint(0, 4, (args.sequences, LENGTH))
    X = torch.nn.functional.one_hot(bases, 4).permute(0, 2, 1).float()
    references = dinucleotide_shuffle(X, n=args.shuffles, random_state=0)
    scripted = torch.jit.load(MODEL).eval()
    eager = EagerBPNet(scripted).eval()
    assert torch.allclose(eager(X[:2]), scripted(X[:2]), atol=1e-5)

    with tempfile.TemporaryDirectory() as tmp:
        fasta = os.path.join(tmp, "x.fa")
        with open(fasta, "w") as f:
            for i, row in enumerate(bases.tolist()):
                f.write(f">s{i}\n{''.join('ACGT'[b] for b in row)}\n")
        refs_path = os.path.join(tmp, "refs.h5")
        with h5py.File(refs_path, "w") as f:
            f["references"] = references.numpy().astype(np.uint8)

        start = time.time()
        expected = deep_lift_shap(eager, X, references=references, target=args.target,
                                  batch_size=args.batch_size, device="cpu", hypothetical=True)
        tangermeme_seconds = time.time() - start

        out = os.path.join(tmp, "out.h5")
        start = time.time()
        proc = subprocess.run([args.seqattr, "attribute", "--model", MODEL, "--fasta", fasta,
                               "--method", "deeplift_shap", "--references", refs_path,
                               "--target", str(args.target), "--threads", str(args.threads),
                               "--batch-size", str(args.batch_size), "--device", "cpu",
                               "--output", out], capture_output=True, text=True, check=True)
        seqattr_seconds = time.time() - start
        inner = float(re.search(r"in ([0-9.]+) s", proc.stderr).group(1))
        with h5py.File(out, "r") as f:
            got = f["hypothetical_attributions"][()]

    error = np.abs(got - expected.numpy()).max() / np.abs(expected.numpy()).max()
    n = args.sequences
    print(f"DeepLIFT-SHAP, {n} sequences x {args.shuffles} references of {LENGTH} bp, "
          f"target {args.target}, {args.threads} threads, {args.batch_size} pairs a pass, CPU")
    print(f"  tangermeme {tangermeme_seconds:8.2f} s  {n / tangermeme_seconds:7.3f} seq/s")
    print(f"  seqattr    {seqattr_seconds:8.2f} s  {n / seqattr_seconds:7.3f} seq/s "
          f"(whole command; {inner:.2f} s inside, {n / inner:.3f} seq/s)")
    print(f"  speed-up   {tangermeme_seconds / seqattr_seconds:8.2f} x whole command, "
          f"{tangermeme_seconds / inner:.2f} x inside")
    print(f"  max |difference| / max |tangermeme| of hypothetical attributions: {error:.2e}")


if __name__ == "__main__":
    main()
