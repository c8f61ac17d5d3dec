#!/usr/bin/env python3
"""Makes the TorchScript fixture and demo models and the demo sequences.

Run from the repository root with Debian's python3 (python3-torch):
    /usr/bin/python3 models/make_fixtures.py
Outputs are committed; rerunning reproduces them (fixed seeds).

models/demo/demo_bpnet.pt        small BPNet-shaped model, random weights: (N,4,L) -> (N,2)
models/demo/example_sequences.fa 64 random sequences of 500 bp (a few N), the demo input
models/fixtures/output_1d.pt     returns (N,): not the (N,T) the engine requires
models/fixtures/output_3d.pt     returns (N,C,L)
models/fixtures/output_tuple.pt  returns a tuple of two (N,T) tensors
"""
import os
import random

import torch
import torch.nn as nn
import torch.nn.functional as F

ROOT = os.path.dirname(os.path.abspath(__file__))


class DemoBPNet(nn.Module):
    """Dilated residual convolutions, then a count head and a profile-summary head."""

    def __init__(self, filters: int = 16, layers: int = 4):
        super().__init__()
        self.iconv = nn.Conv1d(4, filters, kernel_size=11, padding=5)
        self.rconvs = nn.ModuleList(
            nn.Conv1d(filters, filters, kernel_size=3, padding=2 ** i, dilation=2 ** i)
            for i in range(1, layers + 1))
        self.fconv = nn.Conv1d(filters, 1, kernel_size=15, padding=7)
        self.linear = nn.Linear(filters, 1)

    def forward(self, x):
        h = F.relu(self.iconv(x))
        for conv in self.rconvs:
            h = h + F.relu(conv(h))
        counts = self.linear(h.mean(dim=-1))
        profile = self.fconv(h)[:, 0]
        return torch.cat([counts, torch.logsumexp(profile, dim=-1, keepdim=True)], dim=-1)


class Output1d(nn.Module):
    def forward(self, x):
        return x.sum(dim=(1, 2))


class Output3d(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv1d(4, 2, kernel_size=3, padding=1)

    def forward(self, x):
        return self.conv(x)


class OutputTuple(nn.Module):
    def forward(self, x):
        y = x.sum(dim=2)
        return y, y


def save(module: nn.Module, *path: str) -> None:
    module.eval()
    torch.jit.script(module).save(os.path.join(ROOT, *path))


def write_example_sequences(path: str, count: int = 64, length: int = 500) -> None:
    rng = random.Random(7)
    with open(path, "w") as out:
        for i in range(count):
            seq = [rng.choice("ACGT") for _ in range(length)]
            if i % 16 == 3:  # a few sequences with an unknown base
                seq[rng.randrange(length)] = "N"
            out.write(f">example_{i}\n")
            text = "".join(seq)
            for start in range(0, length, 60):
                out.write(text[start:start + 60] + "\n")


def main() -> None:
    torch.manual_seed(0)
    save(DemoBPNet(), "demo", "demo_bpnet.pt")
    save(Output1d(), "fixtures", "output_1d.pt")
    save(Output3d(), "fixtures", "output_3d.pt")
    save(OutputTuple(), "fixtures", "output_tuple.pt")
    write_example_sequences(os.path.join(ROOT, "demo", "example_sequences.fa"))


if __name__ == "__main__":
    main()
