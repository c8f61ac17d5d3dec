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

DeepLIFT fixtures, built only from operations with a DeepLIFT rule (summation-to-delta
must hold on them), random weights:
models/fixtures/dl_activations.pt     every ruled activation, written functionally, one branch each
models/fixtures/dl_reused_module.pt   one ReLU module applied three times
models/fixtures/dl_maxpool.pt         overlapping (kernel > stride), padded and stacked max-pools
models/fixtures/dl_batchnorm.pt       conv, batchnorm (eval, non-trivial statistics), relu, avg-pool
models/fixtures/dl_residual.pt        dilated residual adds, crop, mean
models/fixtures/dl_smooth.pt         four conv + batchnorm (eval) blocks with ELU, softplus, tanh,
                                      sigmoid, then a mean and a linear: smooth activations,
                                      where float32 secants from activations lose digits
models/fixtures/dl_unruled.pt         a product of two activations and a logsumexp: no rule
models/fixtures/conv_dense_functional.pt  tests/data/conv_dense.pt's weights, written with
                                      F.relu and torch.relu instead of ReLU modules
models/fixtures/conv_dense_reused.pt  the same weights with one ReLU module used twice

ISM benchmark model:
models/fixtures/dense_first.pt        flatten then linear on the input (100 bp): fast ISM does not apply
models/fixtures/basset_600.pt         Basset-shaped (3 conv + max-pool blocks, 2 dense layers),
                                      600 bp in, 8 outputs, random weights
models/fixtures/fast_ism_rules.pt     fast ISM's other rules (strided and "same" convolutions,
                                      gating, softmax over channels, a linear over channels,
                                      log-softmax over length) and ops without one (rsub, pow,
                                      amax), 100 bp in, 3 outputs
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


class Activations(nn.Module):
    """One branch per ruled activation (functional calls) plus PReLU; outputs (N, 2)."""

    def __init__(self):
        super().__init__()
        n = 17  # branches below
        self.conv = nn.Conv1d(4, 2 * n, kernel_size=5, padding=2)
        self.prelu = nn.PReLU(2)
        self.fc = nn.Linear(2 * n, 2)

    def forward(self, x):
        h = self.conv(x)
        parts = []
        parts.append(F.relu(h[:, 0:2]))
        parts.append(F.relu6(3.0 * h[:, 2:4]))
        parts.append(F.leaky_relu(h[:, 4:6], 0.1))
        parts.append(F.elu(h[:, 6:8]))
        parts.append(F.selu(h[:, 8:10]))
        parts.append(F.celu(h[:, 10:12]))
        parts.append(F.gelu(h[:, 12:14]))
        parts.append(F.silu(h[:, 14:16]))
        parts.append(F.mish(h[:, 16:18]))
        parts.append(torch.sigmoid(h[:, 18:20]))
        parts.append(torch.tanh(h[:, 20:22]))
        parts.append(F.softplus(h[:, 22:24]))
        parts.append(F.logsigmoid(h[:, 24:26]))
        parts.append(F.hardtanh(h[:, 26:28]))
        parts.append(torch.exp(torch.tanh(h[:, 28:30])))
        parts.append(torch.log(F.softplus(h[:, 30:32]) + 1.0))
        parts.append(self.prelu(h[:, 32:34]))
        return self.fc(torch.cat(parts, dim=1).mean(dim=-1))


class ReusedModule(nn.Module):
    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv1d(4, 8, 7, padding=3)
        self.c2 = nn.Conv1d(8, 8, 5, padding=2)
        self.c3 = nn.Conv1d(8, 8, 3, padding=1)
        self.act = nn.ReLU()
        self.fc = nn.Linear(8, 2)
        self.fc.weight.data *= 20  # outputs that move visibly between input and reference

    def forward(self, x):
        h = self.act(self.c1(x))
        h = self.act(self.c2(h))
        h = self.act(self.c3(h))
        return self.fc(h.mean(dim=-1))


class MaxPools(nn.Module):
    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv1d(4, 6, 7, padding=3)
        self.c2 = nn.Conv1d(6, 6, 3, padding=1)
        self.fc = nn.Linear(6 * 13, 2)

    def forward(self, x):  # L = 100
        h = F.relu(self.c1(x))
        h = F.max_pool1d(h, kernel_size=5, stride=2, padding=2)  # overlapping, padded: 50
        h = F.max_pool1d(h, kernel_size=3, stride=1)  # stacked, overlapping: 48
        h = F.relu(self.c2(h))
        h = F.max_pool1d(h, kernel_size=4, stride=4, ceil_mode=True)  # 12
        h = F.max_pool1d(h, kernel_size=2, stride=1, padding=1)  # 13
        return self.fc(torch.flatten(h, 1))


class BatchNormNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv1d(4, 8, 9, padding=4)
        self.bn = nn.BatchNorm1d(8)
        self.bn.running_mean.uniform_(-0.5, 0.5)
        self.bn.running_var.uniform_(0.5, 2.0)
        self.bn.weight.data.uniform_(0.5, 1.5)
        self.bn.bias.data.uniform_(-0.2, 0.2)
        self.fc = nn.Linear(8 * 25, 2)

    def forward(self, x):  # L = 100
        h = F.relu(self.bn(self.conv(x)))
        h = F.avg_pool1d(h, 4)
        return self.fc(torch.flatten(h, 1))


class Residual(nn.Module):
    def __init__(self):
        super().__init__()
        self.iconv = nn.Conv1d(4, 8, 9, padding=4)
        self.rconvs = nn.ModuleList(
            nn.Conv1d(8, 8, 3, padding=2 ** i, dilation=2 ** i) for i in range(1, 4))
        self.fc = nn.Linear(8, 2)

    def forward(self, x):
        h = F.relu(self.iconv(x))
        for conv in self.rconvs:
            h = h + F.relu(conv(h))
        h = h[:, :, 10:-10]
        return self.fc(h.mean(dim=-1))


class Smooth(nn.Module):
    def __init__(self):
        super().__init__()
        widths = [4, 16, 16, 16, 16]
        self.convs = nn.ModuleList(
            nn.Conv1d(widths[i], widths[i + 1], 7 - i, padding=(7 - i) // 2 * (i + 1), dilation=i + 1)
            for i in range(4))
        self.bns = nn.ModuleList(nn.BatchNorm1d(w) for w in widths[1:])
        for bn in self.bns:
            bn.running_mean.uniform_(-0.5, 0.5)
            bn.running_var.uniform_(0.5, 2.0)
            bn.weight.data.uniform_(0.5, 1.5)
            bn.bias.data.uniform_(-0.2, 0.2)
        # Activation modules (no parameters, so the weights are as before they were modules):
        # bench/deeplift_precision.py runs this class under Captum and tangermeme, which find
        # their rules through module hooks.
        self.activations = nn.ModuleList([nn.ELU(), nn.Softplus(), nn.Tanh(), nn.Sigmoid()])
        self.fc = nn.Linear(16, 3)

    def forward(self, x):
        for conv, bn, activation in zip(self.convs, self.bns, self.activations):
            x = activation(bn(conv(x)))
        return self.fc(x.mean(dim=-1))


class Unruled(nn.Module):
    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv1d(4, 4, 5, padding=2)
        self.c2 = nn.Conv1d(4, 4, 5, padding=2)

    def forward(self, x):
        a = torch.sigmoid(self.c1(x))
        b = torch.tanh(self.c2(x))
        product = (a * b).mean(dim=-1)
        return torch.cat([product[:, :2], torch.logsumexp(b, dim=-1)[:, :2]], dim=1)


class FastIsmRules(nn.Module):
    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv1d(4, 8, 5, padding=2)
        self.strided = nn.Conv1d(8, 8, 4, stride=2, padding=1)
        self.same = nn.Conv1d(8, 8, 3, padding="same", dilation=2)
        self.gate = nn.Conv1d(8, 8, 3, padding=1)
        self.mix = nn.Linear(8, 6)
        self.fc = nn.Linear(6, 3)

    def forward(self, x):
        h = F.leaky_relu(self.strided(F.relu(self.c1(x))), 0.1)
        g = self.same(h) * torch.sigmoid(self.gate(h))
        g = g / (1.0 + torch.sigmoid(h))
        p = torch.softmax(g, dim=1)
        m = self.mix(p.transpose(1, 2)).transpose(1, 2)
        q = torch.pow(1.0 - torch.tanh(m), 2)
        s = torch.log_softmax(q, dim=-1)
        return self.fc(torch.cat([s.mean(-1)[:, :3], q.amax(-1)[:, :3]], 1))


class ConvDenseFunctional(nn.Module):
    """tests/data/conv_dense.pt with functional activations (F.relu, torch.relu)."""

    def __init__(self, golden):
        super().__init__()
        self.c1, self.c2, self.fc = golden["c1"], golden["c2"], golden["fc"]

    def forward(self, x):
        h = torch.relu(self.c2(F.relu(self.c1(x))))
        return self.fc(torch.mean(h, [-1]))


class ConvDenseReused(nn.Module):
    """tests/data/conv_dense.pt with one ReLU module used for both activations."""

    def __init__(self, golden):
        super().__init__()
        self.c1, self.c2, self.fc = golden["c1"], golden["c2"], golden["fc"]
        self.act = nn.ReLU()

    def forward(self, x):
        h = self.act(self.c2(self.act(self.c1(x))))
        return self.fc(torch.mean(h, [-1]))


class DenseFirst(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(400, 2)

    def forward(self, x):  # L = 100
        return self.fc(torch.flatten(x, 1))


class Basset600(nn.Module):
    """Basset's shape at 600 bp, narrowed to keep the file small."""

    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv1d(4, 128, 19, padding=9)
        self.c2 = nn.Conv1d(128, 128, 11, padding=5)
        self.c3 = nn.Conv1d(128, 128, 7, padding=3)
        self.bn1 = nn.BatchNorm1d(128)
        self.fc1 = nn.Linear(128 * 12, 256)
        self.fc2 = nn.Linear(256, 8)
        # One module per ReLU and max-pool (no parameters): bench/peers.py runs this class
        # under tangermeme, which finds its rules through module hooks.
        self.relus = nn.ModuleList(nn.ReLU() for _ in range(4))
        self.pools = nn.ModuleList(nn.MaxPool1d(k) for k in (3, 4, 4))

    def forward(self, x):  # L = 600
        h = self.pools[0](self.relus[0](self.bn1(self.c1(x))))   # 200
        h = self.pools[1](self.relus[1](self.c2(h)))             # 50
        h = self.pools[2](self.relus[2](self.c3(h)))             # 12
        return self.fc2(self.relus[3](self.fc1(torch.flatten(h, 1))))


def golden_conv_dense_layers():
    """The layers of the golden conv_dense model, rebuilt as nn modules with its weights."""
    scripted = torch.jit.load(os.path.join(ROOT, "..", "tests", "data", "conv_dense.pt"))
    layers = {}
    for name in ("c1", "c2", "fc"):
        sub = getattr(scripted, name)
        weight = sub.weight
        if weight.dim() == 3:
            layer = nn.Conv1d(weight.shape[1], weight.shape[0], weight.shape[2],
                              padding=sub.padding, dilation=sub.dilation)
        else:
            layer = nn.Linear(weight.shape[1], weight.shape[0])
        layer.load_state_dict({"weight": weight, "bias": sub.bias})
        layers[name] = layer
    return layers


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
    torch.manual_seed(1)
    save(Activations(), "fixtures", "dl_activations.pt")
    save(ReusedModule(), "fixtures", "dl_reused_module.pt")
    save(MaxPools(), "fixtures", "dl_maxpool.pt")
    save(BatchNormNet(), "fixtures", "dl_batchnorm.pt")
    save(Residual(), "fixtures", "dl_residual.pt")
    save(Unruled(), "fixtures", "dl_unruled.pt")
    save(Basset600(), "fixtures", "basset_600.pt")
    save(DenseFirst(), "fixtures", "dense_first.pt")
    golden = golden_conv_dense_layers()
    save(ConvDenseFunctional(golden), "fixtures", "conv_dense_functional.pt")
    save(ConvDenseReused(golden), "fixtures", "conv_dense_reused.pt")
    write_example_sequences(os.path.join(ROOT, "demo", "example_sequences.fa"))
    torch.manual_seed(2)
    save(FastIsmRules(), "fixtures", "fast_ism_rules.pt")
    torch.manual_seed(3)
    save(Smooth(), "fixtures", "dl_smooth.pt")


if __name__ == "__main__":
    main()
