#!/usr/bin/env python3
"""Makes tests/data/softmax.{pt,fa,h5}: tangermeme 1.4.0's deep_lift_shap on a small model
with a softmax over length, for the softmax rule's test.

tangermeme hooks nn.Softmax with Captum's rule (rescale, then minus the mean over the whole
batch); batch_size=1 (one pair per batch) is the rule seqattr implements.

The rule is ill-conditioned in the activations: where a softmax input differs little between
a sequence and its reference, the multiplier is large and carries the relative rounding
error of that difference. tangermeme in float32 is therefore 5e-5 (the machine that made
expected/deeplift_shap) to 2e-4 (an AVX2 EPYC) of the largest value away from the same
definition evaluated in float64, which `expected/deeplift_shap_float64` holds: tangermeme
on the same model, inputs and references with every tensor in float64.

Run under the venv of bench/peers.py (its header says how to set it up):
    /tmp/tvenv/bin/python tests/data/make_softmax_golden.py             # everything, anew
    /tmp/tvenv/bin/python tests/data/make_softmax_golden.py --float64   # only the float64
        evaluation, added to the committed files (model, inputs and references kept)
"""
import argparse
import os

import h5py
import numpy as np
import torch
import torch.nn as nn

HERE = os.path.dirname(os.path.abspath(__file__))


class SoftmaxNet(nn.Module):
    """Softmax over length of a small conv stack, weighting fixed per-output profiles."""

    def __init__(self, length=60):
        super().__init__()
        self.c1 = nn.Conv1d(4, 4, 9, padding=4)
        self.relu = nn.ReLU()
        self.score = nn.Conv1d(4, 1, 5, padding=2)
        self.softmax = nn.Softmax(dim=-1)
        self.profiles = nn.Parameter(torch.randn(3, length))

    def forward(self, x):
        weights = self.softmax(3.0 * self.score(self.relu(self.c1(x))))  # (N, 1, L)
        return (weights * self.profiles).sum(dim=-1)                      # (N, 3)


def float64_expected(model, X, references, target):
    from tangermeme.deep_lift_shap import deep_lift_shap
    exact = SoftmaxNet().eval()
    exact.load_state_dict(model.state_dict())
    exact = exact.double()
    return deep_lift_shap(exact, X.double(), references=references.double(), target=target,
                          batch_size=1, device="cpu", hypothetical=True).numpy()


def add_float64():
    model = SoftmaxNet().eval()
    model.load_state_dict(torch.jit.load(os.path.join(HERE, "softmax.pt")).state_dict())
    with h5py.File(os.path.join(HERE, "softmax.h5"), "a") as f:
        X = torch.tensor(f["one_hot"][()])
        references = torch.tensor(f["references"][()]).float()
        name = "expected/deeplift_shap_float64/hypothetical_attributions"
        if name in f:
            del f[name]
        f[name] = float64_expected(model, X, references, int(f.attrs["target"]))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--float64", action="store_true",
                        help="only add the float64 evaluation to the committed files")
    if parser.parse_args().float64:
        add_float64()
        return
    from tangermeme.deep_lift_shap import deep_lift_shap
    from tangermeme.ersatz import dinucleotide_shuffle
    torch.manual_seed(4)
    model = SoftmaxNet().eval()
    n, length, target = 6, 60, 2
    bases = torch.randint(0, 4, (n, length))
    X = torch.nn.functional.one_hot(bases, 4).permute(0, 2, 1).float()
    references = dinucleotide_shuffle(X, n=4, random_state=1)
    hypothetical = deep_lift_shap(model, X, references=references, target=target, batch_size=1,
                                  device="cpu", hypothetical=True)
    torch.jit.script(model).save(os.path.join(HERE, "softmax.pt"))
    with open(os.path.join(HERE, "softmax.fa"), "w") as f:
        for i, row in enumerate(bases.tolist()):
            f.write(f">seq{i}\n{''.join('ACGT'[b] for b in row)}\n")
    with h5py.File(os.path.join(HERE, "softmax.h5"), "w") as f:
        f.attrs["target"] = target
        f["one_hot"] = X.numpy()
        f["references"] = references.numpy().astype(np.uint8)
        f["expected/deeplift_shap/hypothetical_attributions"] = hypothetical.numpy()
    add_float64()


if __name__ == "__main__":
    main()
