#!/usr/bin/env python3
"""Trains seqattr's default model: a small BPNet-style network on the synthetic genome.

    /usr/bin/python3 models/default/train.py [--seed 0] [--out-dir models/default]

Debian's python3-torch (CPU) and numpy only; about 2.5 minutes on 2 idle cores (it prints
its progress). Deterministic for a given seed: 2 threads, deterministic algorithms,
PYTHONHASHSEED=0 (the script re-executes itself with it), and the TorchScript file written
without its debug records, which name this script's path. Rerunning it with the same torch
reproduces its files byte for byte on the same machine; on another CPU the weights differ (its
float32 kernels round differently and training amplifies that) but the model computes nearly
the same function: tests/cli/test_training.py says what is checked where.

Data. The synthetic genome is models/synthetic/make_genome.py's: background of 35-62% GC
with soft-masked repeats (tandem repeats, an interspersed repeat family), and the motifs of
models/synthetic/motifs.json (GATA, E-box, AP-1, CTCF core, SP1 GC box) sampled from their
position frequency matrices and planted on either strand, in clusters of 2-5 (peaks) and
alone. Planted sites are strong ones: make_genome.py --min-motif-score 850 (MIN_MOTIF_SCORE)
redraws any site scoring below 850 of 1000. The 8-9 bp PFMs carry only 7.5-9.5 bits, so a
weaker draw scores no better than the chance matches of random background (a few per kb of
each motif at that level): no model could tell it from them, and the AUROC of the test
would measure the PFMs' softness rather than the attributions (with the default genome,
this model gives 0.86-0.88).

Training windows are drawn the same way, with make_genome's own functions but another
random stream (a new background, a new repeat family and new motif instances), so nothing
the model is evaluated on is seen in training. Each window's targets are a function of the
motifs planted in it, plus noise:

    effect of an instance = EFFECT[motif] * (0.5 + 0.5 * q), q = clip((score-500)/500, 0, 1)
    counts                = 0.5 + sum of the effects in the window + N(0, 0.1^2)
    GATA, EBOX, ...       = sum of the effects of that motif's instances + N(0, 0.05^2)

(score: make_genome's relative PWM score of the sampled site, 0-1000.) Motifs that appear
by chance in the background have no effect.

Held-out data. The genome of `make_genome.py --min-motif-score 850` (seed 0, scale 1) is
made in a temporary directory; windows of INPUT_LENGTH bp on chr3, centred on its peaks'
summits (or on isolated motif instances), without N, inside the chromosome and overlapping
no chosen window by more than half, are written to

    heldout.fa          records named chr3:START-END (0-based, half-open genome coordinates)
    heldout_motifs.bed  BED6, one line per planted motif instance overlapping a window, with
                        the window's record name as chrom and START/END relative to the
                        window (clipped to it): record, start, end, motif, score, strand

Model (TorchScript, eval mode, about 120 kB): one-hot (N, 4, L) in A, C, G, T order ->
(N, 6). BPNet's trunk: a 21-bp convolution with 128 filters and ReLU, a 1x1 convolution to
32 channels, four dilated residual convolutions (kernel 3, dilations 2, 4, 8, 16, ReLU,
h + relu(conv(h))), then the sum over positions (times 0.01) and one linear layer. Columns:
`counts` (log counts of the window, all motifs), then GATA, EBOX, AP1, CTCF, SP1 (each
motif's share). Fully convolutional; trained for L = 1000 (seqattr_bpnet.json: input length,
alphabet, target names).

Training (Adam, one-cycle learning rate, batches of 64 fresh windows, random reverse
complement). Learning motifs from a pooled count is slow for narrow, randomly started
networks; this is fast on 2 cores:
  1. first layer and heads alone (no dilated layers), on 128-bp windows (3000 batches):
     many first-layer filters, so some start near each motif;
  2. the dilated residual layers added, starting near the identity (weights x 0.1), on
     256-bp (300 batches) then 1000-bp windows (500 batches), where chance matches in the
     background outnumber the motifs and the model learns to ignore them.
The loss is the mean squared error of the 6 outputs plus a penalty on the mean first-layer
activation (--sparsity, 0.3 then 1), which keeps the detectors silent on background, where
the attributions then stay small (it raised the held-out AUROC from about 0.93 to 0.945 in
our runs).
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import zipfile

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
SYNTHETIC = os.path.join(os.path.dirname(HERE), "synthetic")
sys.path.insert(0, SYNTHETIC)
import make_genome as mg  # noqa: E402

INPUT_LENGTH = 1000
MOTIF_NAMES = ["GATA", "EBOX", "AP1", "CTCF", "SP1"]
TARGETS = ["counts"] + MOTIF_NAMES
EFFECT = {"GATA": 1.0, "EBOX": 1.0, "AP1": 1.0, "CTCF": 1.2, "SP1": 1.0}
BASE_COUNTS = 0.5
HELDOUT_CHROM = "chr3"
MIN_MOTIF_SCORE = 850  # make_genome.py --min-motif-score: planted sites are strong ones
CODE = np.full(256, 4, dtype=np.uint8)  # A C G T -> 0 1 2 3, anything else -> 4 (N)
for i, c in enumerate(b"ACGT"):
    CODE[c] = CODE[c + 32] = i


class BPNet(nn.Module):
    """BPNet's trunk (a wide first convolution, then dilated residual convolutions) with
    count heads on the sum over positions. A 1x1 convolution narrows the first layer's many
    motif detectors to the trunk's width."""

    def __init__(self, first_filters: int = 128, filters: int = 32, dilations=(2, 4, 8, 16),
                 first_kernel: int = 21, n_targets: int = len(TARGETS)):
        super().__init__()
        self.iconv = nn.Conv1d(4, first_filters, first_kernel, padding=first_kernel // 2)
        self.squeeze = nn.Conv1d(first_filters, filters, 1)
        self.rconvs = nn.ModuleList(
            nn.Conv1d(filters, filters, 3, padding=d, dilation=d) for d in dilations)
        self.head = nn.Linear(filters, n_targets)

    def detect(self, x):
        """The first layer's motif detectors, (N, first_filters, L)."""
        return F.relu(self.iconv(x))

    def counts(self, d):
        h = self.squeeze(d)
        for conv in self.rconvs:
            h = h + F.relu(conv(h))
        return self.head(h.sum(dim=-1) * 0.01)

    def forward(self, x):
        return self.counts(self.detect(x))


# ---------------------------------------------------------------------------- data

def uppercase(seq):
    return np.where(seq >= ord("a"), seq - 32, seq).astype(np.uint8)


def background_pool(rng, n_chunks, chunk):
    """Background like the genome's: GC blocks and soft-masked repeats (uppercased)."""
    family = mg.BASES[rng.integers(0, 4, 300)]
    pool = []
    for _ in range(n_chunks):
        seq = mg.background(rng, chunk)
        seq = mg.soft_mask(rng, seq, np.ones(chunk, dtype=bool), family)
        pool.append(uppercase(seq))
    return pool


def instance_effect(name, score):
    q = min(1.0, max(0.0, (score - 500) / 500))
    return EFFECT[name] * (0.5 + 0.5 * q)


def targets_of(instances, rng):
    per_motif = np.zeros(len(MOTIF_NAMES))
    for _, _, name, score, _ in instances:
        per_motif[MOTIF_NAMES.index(name)] += instance_effect(name, score)
    counts = BASE_COUNTS + per_motif.sum() + rng.normal(0, 0.1)
    per_motif = per_motif + rng.normal(0, 0.05, len(MOTIF_NAMES))
    return np.concatenate([[counts], per_motif])


def training_windows(rng, motifs, pool, n, length):
    """n windows: background with planted motifs, as make_genome plants them (a cluster of
    1-6 around a centre, sometimes a lone instance besides; some windows have none).
    Returns base codes (n, length) uint8 and targets (n, T) float32."""
    L = length
    names = sorted(motifs)
    seqs = np.empty((n, L), dtype=np.uint8)
    ys = np.empty((n, len(TARGETS)), dtype=np.float32)
    for i in range(n):
        chunk = pool[int(rng.integers(len(pool)))]
        start = int(rng.integers(0, len(chunk) - L))
        window = mg.Chromosome("w", chunk[start:start + L].copy())
        if rng.random() < 0.85:
            theme = names[int(rng.integers(len(names)))]
            half = int(rng.integers(40, min(250, L // 2 - 10)))
            center = int(rng.integers(half, L - half))
            for _ in range(int(rng.integers(1, 7))):
                name = theme if rng.random() < 0.5 else names[int(rng.integers(len(names)))]
                width = len(motifs[name]["pfm"])
                window.plant(rng, motifs, name, center - half, center + half - width)
        if rng.random() < 0.3:
            name = names[int(rng.integers(len(names)))]
            window.plant(rng, motifs, name, 0, L)
        seqs[i] = CODE[window.seq]
        ys[i] = targets_of(window.motifs, rng)
    return seqs, ys


def one_hot(codes):
    """(N, L) codes -> (N, 4, L) float one-hot; code 4 (N) is an all-zero column."""
    x = F.one_hot(torch.as_tensor(codes, dtype=torch.long), 5)[..., :4]
    return x.permute(0, 2, 1).float().contiguous()


# ---------------------------------------------------------------------- held-out data

def read_fasta(path):
    records, name = {}, None
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line.startswith(">"):
                name = line[1:].split()[0]
                records[name] = []
            elif name:
                records[name].append(line)
    return {k: "".join(v) for k, v in records.items()}


def heldout_windows(genome_dir):
    """Windows of the held-out chromosome: one per peak summit, then one per isolated motif
    instance, skipping windows that hold N, run past the chromosome or overlap a chosen
    window by more than half."""
    seq = read_fasta(os.path.join(genome_dir, "genome.fa"))[HELDOUT_CHROM]
    L = INPUT_LENGTH
    def rows(name):
        with open(os.path.join(genome_dir, name)) as f:
            return [line.rstrip("\n").split("\t") for line in f
                    if line.startswith(HELDOUT_CHROM + "\t")]

    peaks, motifs = rows("peaks.narrowPeak"), rows("motifs.bed")
    centres = []
    for p in peaks:
        start, end, summit = int(p[1]), int(p[2]), int(p[9])
        centres.append(start + summit if summit >= 0 else (start + end) // 2)
    peak_spans = [(int(p[1]), int(p[2])) for p in peaks]
    for m in motifs:
        s, e = int(m[1]), int(m[2])
        if not any(a <= s and e <= b for a, b in peak_spans):  # isolated instance
            centres.append((s + e) // 2)
    starts = []
    for c in centres:
        s = c - L // 2
        if s < 0 or s + L > len(seq) or "N" in seq[s:s + L].upper():
            continue
        if any(abs(s - t) < L // 2 for t in starts):
            continue
        starts.append(s)
    starts.sort()
    records, bed = [], []
    for s in starts:
        name = f"{HELDOUT_CHROM}:{s}-{s + L}"
        records.append((name, seq[s:s + L]))
        for m in motifs:
            ms, me = int(m[1]), int(m[2])
            if me > s and ms < s + L:
                bed.append(f"{name}\t{max(ms, s) - s}\t{min(me, s + L) - s}\t{m[3]}\t{m[4]}\t"
                           f"{m[5]}\n")
    return records, bed


def write_heldout(out_dir):
    with tempfile.TemporaryDirectory(prefix="seqattr-genome-") as tmp:
        subprocess.run([sys.executable, os.path.join(SYNTHETIC, "make_genome.py"),
                        "--out-dir", tmp, "--min-motif-score", str(MIN_MOTIF_SCORE)],
                       check=True, capture_output=True)
        records, bed = heldout_windows(tmp)
    with open(os.path.join(out_dir, "heldout.fa"), "w") as f:
        for name, s in records:
            f.write(f">{name}\n")
            f.writelines(s[i:i + 60] + "\n" for i in range(0, len(s), 60))
    with open(os.path.join(out_dir, "heldout_motifs.bed"), "w") as f:
        f.writelines(bed)
    return records, bed


def inside_mask(records, bed):
    index = {name: i for i, (name, _) in enumerate(records)}
    mask = np.zeros((len(records), INPUT_LENGTH), dtype=bool)
    for line in bed:
        name, s, e = line.split("\t")[:3]
        mask[index[name], int(s):int(e)] = True
    return mask


def auroc(pos, neg):
    """Mann-Whitney U / (n1 n0), ties counted one half (average ranks)."""
    x = np.concatenate([pos, neg])
    order = np.argsort(x, kind="mergesort")
    ranks = np.empty(len(x))
    sx = x[order]
    i = 0
    while i < len(sx):
        j = i
        while j + 1 < len(sx) and sx[j + 1] == sx[i]:
            j += 1
        ranks[order[i:j + 1]] = (i + j) / 2 + 1
        i = j + 1
    n1, n0 = len(pos), len(neg)
    return float((ranks[:n1].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


def integrated_gradients(model, x, steps=32):
    """Captum's IG with a zero baseline, Gauss-Legendre nodes, for the `counts` column."""
    nodes, weights = np.polynomial.legendre.leggauss(steps)
    grads = torch.zeros_like(x)
    for a, w in zip((nodes + 1) / 2, weights / 2):
        xi = (x * float(a)).requires_grad_(True)
        model(xi)[:, 0].sum().backward()
        grads += float(w) * xi.grad
    return x * grads


def save_torchscript(model, path):
    """torch.jit.script(model) saved without the *.debug_pkl records (source ranges that name
    this file's absolute path), so the bytes do not depend on where the checkout is."""
    with tempfile.TemporaryDirectory() as tmp:
        full = os.path.join(tmp, os.path.basename(path))
        torch.jit.script(model).save(full)
        with zipfile.ZipFile(full) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as dst:
            for info in src.infolist():
                if not info.filename.endswith(".debug_pkl"):
                    dst.writestr(info, src.read(info.filename))


# --------------------------------------------------------------------------- main

def main():
    if os.environ.get("PYTHONHASHSEED") != "0":
        # TorchScript writes a module's constants in set order, which follows str hashing.
        os.execve(sys.executable, [sys.executable, os.path.abspath(__file__)] + sys.argv[1:],
                  dict(os.environ, PYTHONHASHSEED="0"))
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out-dir", default=HERE)
    parser.add_argument("--plain", default="128:3000",
                        help="first stage, LENGTH:STEPS: the first convolution and the heads "
                             "alone, on windows of LENGTH bp, fresh windows every batch")
    parser.add_argument("--schedule", default="256:300,1000:500",
                        help="second stage, the whole model, LENGTH:STEPS,...")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=5e-3)
    parser.add_argument("--lr2", type=float, default=1e-3)
    parser.add_argument("--sparsity", type=float, nargs=2, default=(0.3, 1.0),
                        help="weight of the mean first-layer activation in the loss, in the "
                             "first and second stage")
    parser.add_argument("--first-filters", type=int, default=128)
    parser.add_argument("--filters", type=int, default=32)
    args = parser.parse_args()
    parse = lambda text: [tuple(int(v) for v in p.split(":")) for p in text.split(",") if p]
    plain, phases = parse(args.plain), parse(args.schedule)

    t0 = time.time()
    torch.manual_seed(args.seed)
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(2)
    rng = np.random.default_rng([args.seed, 20240])
    motifs = mg.load_motifs(os.path.join(SYNTHETIC, "motifs.json"), MIN_MOTIF_SCORE)
    os.makedirs(args.out_dir, exist_ok=True)

    pool = background_pool(rng, 40, 50_000)
    val_x, val_y = training_windows(rng, motifs, pool, 500, INPUT_LENGTH)
    val_onehot = one_hot(val_x)
    records, bed = write_heldout(args.out_dir)
    print(f"{len(records)} held-out windows, {len(bed)} held-out motif instances "
          f"({time.time() - t0:.0f} s)", flush=True)

    def train(model, stages, lr, name, sparsity):
        opt = torch.optim.Adam(model.parameters(), lr=lr)
        total = sum(steps for _, steps in stages)
        sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=total,
                                                    pct_start=0.1)
        step = 0
        for length, steps in stages:
            train_x, train_y = training_windows(rng, motifs, pool, steps * args.batch_size,
                                                length)
            model.train()
            for b in range(steps):
                idx = slice(b * args.batch_size, (b + 1) * args.batch_size)
                x = one_hot(train_x[idx])
                y = torch.as_tensor(train_y[idx])
                flip = torch.rand(len(x)) < 0.5  # reverse complement: ACGT <-> TGCA
                x = torch.where(flip[:, None, None], x.flip(1).flip(2), x)
                d = model.detect(x)
                loss = F.mse_loss(model.counts(d), y) + sparsity * d.mean()
                opt.zero_grad()
                loss.backward()
                opt.step()
                sched.step()
                step += 1
                if step % 250 == 0 or step == total:
                    model.eval()
                    with torch.no_grad():
                        pred = model(val_onehot).numpy()
                    r = [np.corrcoef(pred[:, j], val_y[:, j])[0, 1]
                         for j in range(len(TARGETS))]
                    print(f"{name} step {step}/{total} (L={length}) loss {loss.item():.4f} "
                          f"val({INPUT_LENGTH}bp) mse {((pred - val_y) ** 2).mean():.4f} "
                          f"r {' '.join(f'{v:.2f}' for v in r)} ({time.time() - t0:.0f} s)",
                          flush=True)
                    model.train()

    # Stage 1: the first layer learns the motifs fast without the dilated layers.
    first = BPNet(args.first_filters, args.filters, dilations=())
    with torch.no_grad():  # start the count heads at the targets' means
        first.head.bias.copy_(torch.as_tensor(val_y.mean(axis=0)))
    train(first, plain, args.lr, "plain", args.sparsity[0])
    # Stage 2: dilated residual layers added, starting close to the identity.
    model = BPNet(args.first_filters, args.filters)
    with torch.no_grad():
        for conv in model.rconvs:
            conv.weight.mul_(0.1)
            conv.bias.zero_()
    keys = model.load_state_dict(first.state_dict(), strict=False)
    assert not keys.unexpected_keys and all(k.startswith("rconvs.") for k in keys.missing_keys)
    train(model, phases, args.lr2, "full", args.sparsity[1])

    model.eval()
    x = one_hot(np.stack([CODE[np.frombuffer(s.encode(), dtype=np.uint8)] for _, s in records]))
    mask = inside_mask(records, bed)
    ig = integrated_gradients(model, x).sum(dim=1).abs().detach().numpy()
    print(f"held-out AUROC (IG, zero baseline, in torch): {auroc(ig[mask], ig[~mask]):.4f}")

    pt = os.path.join(args.out_dir, "seqattr_bpnet.pt")
    save_torchscript(model, pt)
    meta = {
        "input_length": INPUT_LENGTH,
        "alphabet": "ACGT",
        "targets": TARGETS,
        "description": "BPNet-style model (21-bp convolution, dilated residual "
                       "convolutions, count heads) trained on the synthetic genome of "
                       "models/synthetic/make_genome.py: one-hot (N, 4, L) -> (N, 6) predicted "
                       "log counts: `counts` for all planted motifs together, then one column "
                       "per motif (GATA, E-box, AP-1, CTCF core, SP1 GC box)",
        "trained_by": f"models/default/train.py --seed {args.seed}",
        "heldout": {"fasta": "heldout.fa", "motifs": "heldout_motifs.bed",
                    "chromosome": HELDOUT_CHROM,
                    "genome": "models/synthetic/make_genome.py --seed 0 --scale 1 "
                              f"--min-motif-score {MIN_MOTIF_SCORE}"},
    }
    with open(os.path.join(args.out_dir, "seqattr_bpnet.json"), "w") as f:
        json.dump(meta, f, indent=2)
        f.write("\n")
    print(f"wrote {pt} ({os.path.getsize(pt)} bytes) in {time.time() - t0:.0f} s")


if __name__ == "__main__":
    main()
