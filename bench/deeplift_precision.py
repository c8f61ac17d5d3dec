#!/usr/bin/env python3
"""How far float32 DeepLIFT is from the float64 evaluation of the same definition: seqattr
(secants from Δ carried through the graph), Captum and tangermeme (secants from
differences of float32 activations).

The model is models/fixtures/dl_smooth.pt (conv + batchnorm blocks with ELU, softplus,
tanh and sigmoid), run by the peers as the nn.Module it was made from (models/
make_fixtures.py's Smooth, activation modules: the peers find their rules through hooks). 13 random sequences
of 120 bp. Distance = max |a - exact| / max |exact| over the attributions (multiplier x
(input - reference), averaged over references), where exact is the peer's own run in
float64 (model and inputs in double); seqattr's own float64 evaluation (the unit test
tests/unit/test_deeplift_exact.cpp) agrees with it.
  - deeplift, all-zero baseline: seqattr and Captum 0.9 DeepLift, exact = Captum in float64.
  - deeplift_shap, 8 dinucleotide shuffles (seqattr's, saved and given to tangermeme):
    seqattr and tangermeme 1.4 deep_lift_shap, exact = tangermeme in float64.

    /tmp/tvenv/bin/python bench/deeplift_precision.py [--seqattr build/seqattr]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

import h5py
import numpy as np
import torch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODEL = os.path.join(ROOT, "models", "fixtures", "dl_smooth.pt")
sys.path.insert(0, os.path.join(ROOT, "models"))
from make_fixtures import Smooth  # noqa: E402


def module_twin(dtype):
    """The fixture as the nn.Module it was made from (activation modules), same weights."""
    model = Smooth()
    model.load_state_dict(torch.jit.load(MODEL).state_dict())
    return model.eval().to(dtype)


def distance(a, exact):
    return float(np.abs(a - exact).max() / np.abs(exact).max())


def run_seqattr(binary, fasta, out, method, extra):
    subprocess.run([binary, "attribute", "--model", MODEL, "--fasta", fasta, "--method", method,
                    "--output", out, "--target", "0", "--threads", "2"] + extra, check=True,
                   capture_output=True)
    with h5py.File(out) as f:
        return f["attributions"][:], f["one_hot"][:].astype(np.float32), \
            f["references"][:] if "references" in f else None, json.loads(f.attrs["parameters"])


def captum_deeplift(x, dtype):
    from captum.attr import DeepLift
    model = module_twin(dtype)
    xs = torch.from_numpy(x).to(dtype)
    return DeepLift(model).attribute(xs, baselines=torch.zeros_like(xs), target=0).detach().numpy()


def tangermeme_shap(x, references, dtype):
    from tangermeme.deep_lift_shap import deep_lift_shap
    model = module_twin(dtype)
    return deep_lift_shap(model, torch.from_numpy(x).to(dtype), target=0,
                          references=torch.from_numpy(references).to(dtype), device="cpu",
                          warning_threshold=1e9).detach().numpy()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seqattr", default=os.path.join(ROOT, "build", "seqattr"))
    args = parser.parse_args()
    rng = np.random.default_rng(24)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        fasta = os.path.join(tmp, "x.fa")
        with open(fasta, "w") as f:
            for i in range(13):
                f.write(f">s{i}\n{''.join(rng.choice(list('ACGT'), 120))}\n")

        ours, x, _, params = run_seqattr(args.seqattr, fasta, os.path.join(tmp, "dl.h5"), "deeplift", [])
        exact = captum_deeplift(x, torch.float64)
        rows.append(("deeplift (zero baseline)", "Captum 0.9 DeepLift", distance(ours, exact),
                     distance(captum_deeplift(x, torch.float32), exact), params["deeplift_secants"]))

        ours, x, refs, params = run_seqattr(args.seqattr, fasta, os.path.join(tmp, "dls.h5"),
                                            "deeplift_shap", ["--n-shuffles", "8", "--save-references"])
        exact = tangermeme_shap(x, refs, torch.float64)
        rows.append(("deeplift_shap (8 shuffles)", "tangermeme 1.4 deep_lift_shap", distance(ours, exact),
                     distance(tangermeme_shap(x, refs, torch.float32), exact), params["deeplift_secants"]))

    print("| method | seqattr float32 | peer | peer float32 |")
    print("| --- | --- | --- | --- |")
    for method, peer, mine, theirs, secants in rows:
        print(f"| {method} | {mine:.2g} (secants from {secants}) | {peer} | {theirs:.2g} |")


if __name__ == "__main__":
    main()
