#!/usr/bin/env python3
"""`seqattr variants` against tangermeme's substitution_effect on the same model and windows,
and its memory as the number of variants grows.

    python bench/variants_peers.py --seqattr build/seqattr --model models/default/seqattr_bpnet.pt \
        [--snvs 2000] [--threads 2] [--repeat 3] [--memory 1000,10000,100000]

A synthetic genome (models/synthetic/make_genome.py, seed 11) gets --snvs random SNVs. seqattr
runs them as a user would (whole process, `--target 0`), with --ism-mode fast (the default
where the graph qualifies: a batch of ref windows' activations from one pass, each SNV's alt
predictions from its window's) and --ism-mode naive (forward passes on ref and alt windows).
Every side runs --repeat times (default 3); its median time is reported. tangermeme (1.4, the venv of bench/peers.py) gets the ref
windows seqattr wrote (/ref/one_hot) and the substitutions at L // 2; its time is the call alone
and the whole process (imports and model load included), both reported. Agreement first: every
side's score against the model run in float64 on the same windows, max |a - exact| / max |exact|.

--memory runs seqattr on that many SNVs (predictions only) and reports the peak RSS of each:
flat in the number of variants when only a part is held at a time.
"""
import argparse
import os
import random
import resource
import subprocess
import sys
import tempfile
import time

import h5py
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))


def read_fasta(path):
    seqs, name = {}, None
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line.startswith(">"):
                name = line[1:].split()[0]
                seqs[name] = []
            elif name:
                seqs[name].append(line)
    return {k: "".join(v) for k, v in seqs.items()}


def write_snvs(genome, count, path, seed=0):
    rng = random.Random(seed)
    chroms = [c for c in genome if len(genome[c]) > 5000]
    lines = ["##fileformat=VCFv4.2", "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO"]
    while len(lines) - 2 < count:
        c = rng.choice(chroms)
        p = rng.randint(1, len(genome[c]))
        b = genome[c][p - 1].upper()
        if b in "ACGT":
            a = rng.choice([x for x in "ACGT" if x != b])
            lines.append(f"{c}\t{p}\tv{len(lines) - 2}\t{b}\t{a}\t.\t.\t.")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


def timed(command):
    start = time.time()
    proc = subprocess.run(command, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"failed: {' '.join(command)}\n{proc.stderr}")
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.time() - start, usage.ru_maxrss


TANGERMEME = """
import sys, time, h5py, torch
start = time.time()
from tangermeme.variant_effect import substitution_effect
torch.set_num_threads({threads})
model = torch.jit.load("{model}").eval()
with h5py.File("{output}") as f:
    X = torch.from_numpy(f["ref/one_hot"][()]).float()
    alt = torch.from_numpy(f["alt/one_hot"][()][:, :, {centre}].argmax(1))
subs = torch.stack([torch.arange(len(X)), torch.full((len(X),), {centre}), alt], 1)
call = time.time()
with torch.no_grad():
    result = substitution_effect(model, X, subs, batch_size={batch}, device="cpu", verbose=False)
end = time.time()
score = (result.y_after - result.y_before)[:, 0].numpy()
import numpy as np
np.save("{scores}", score)
print(end - call, end - start)
"""


def exact_scores(model_path, output):
    import torch
    model = torch.jit.load(model_path).double().eval()
    with h5py.File(output) as f:
        ref = torch.from_numpy(f["ref/one_hot"][()]).double()
        alt = torch.from_numpy(f["alt/one_hot"][()]).double()
    with torch.no_grad():
        out = []
        for i in range(0, len(ref), 64):
            out.append((model(alt[i:i + 64]) - model(ref[i:i + 64]))[:, 0])
    return torch.cat(out).numpy()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seqattr", required=True)
    parser.add_argument("--model", required=True)
    parser.add_argument("--snvs", type=int, default=2000)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--peer-python", default="/tmp/tvenv/bin/python")
    parser.add_argument("--memory", default="")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([sys.executable, os.path.join(HERE, "..", "models", "synthetic", "make_genome.py"),
                        "--out-dir", tmp, "--scale", "0.2", "--seed", "11"], check=True,
                       capture_output=True)
        genome_path = os.path.join(tmp, "genome.fa")
        genome = read_fasta(genome_path)
        vcf = os.path.join(tmp, "snvs.vcf")
        write_snvs(genome, args.snvs, vcf)
        base = [args.seqattr, "variants", "--quiet", "--model", args.model, "--vcf", vcf,
                "--genome", genome_path, "--target", "0", "--threads", str(args.threads),
                "--batch-size", str(args.batch)]
        seconds, outputs = {}, {}
        for mode in ("fast", "naive"):
            outputs[mode] = os.path.join(tmp, f"{mode}.h5")
            seconds[mode] = float(np.median([timed(base + ["--output", outputs[mode], "--ism-mode", mode])[0]
                                             for _ in range(args.repeat)]))
        with h5py.File(outputs["naive"]) as f:
            length = f["ref/one_hot"].shape[2]
        scores = os.path.join(tmp, "tangermeme.npy")
        script = TANGERMEME.format(threads=args.threads, model=args.model, output=outputs["naive"],
                                   centre=length // 2, batch=args.batch, scores=scores)
        wholes, calls = [], []
        for _ in range(args.repeat):
            start = time.time()
            proc = subprocess.run([args.peer_python, "-c", script], capture_output=True, text=True)
            if proc.returncode != 0:
                sys.exit(proc.stderr)
            wholes.append(time.time() - start)
            calls.append(float(proc.stdout.split()[0]))
        peer_whole, peer_call = float(np.median(wholes)), float(np.median(calls))
        exact = exact_scores(args.model, outputs["naive"])
        scale = np.abs(exact).max()
        print(f"{args.snvs} SNVs, windows of {length} bp, {args.threads} threads, batch {args.batch}")
        print("| side | seconds (whole process) | SNVs/s | max |score - exact| / max |exact| |")
        print("| --- | --- | --- | --- |")
        for mode in ("fast", "naive"):
            with h5py.File(outputs[mode]) as f:
                error = np.abs(f["score"][()] - exact).max() / scale
            print(f"| seqattr --ism-mode {mode} | {seconds[mode]:.2f} | {args.snvs / seconds[mode]:.0f} | {error:.1e} |")
        error = np.abs(np.load(scores) - exact).max() / scale
        print(f"| tangermeme substitution_effect | {peer_whole:.2f} (call alone {peer_call:.2f}) | "
              f"{args.snvs / peer_whole:.0f} | {error:.1e} |")
        for mode in ("fast", "naive"):
            print(f"tangermeme / seqattr --ism-mode {mode}, whole processes: {peer_whole / seconds[mode]:.2f}x; "
                  f"tangermeme's call alone / seqattr's whole process: {peer_call / seconds[mode]:.2f}x")
        for count in [int(c) for c in args.memory.split(",") if c]:
            many = os.path.join(tmp, f"many{count}.vcf")
            write_snvs(genome, count, many, seed=count)
            out = os.path.join(tmp, f"many{count}.h5")
            proc = subprocess.run(["/usr/bin/time", "-f", "%e %M"] + base[:6] + [many] + base[7:] +
                                  ["--output", out], capture_output=True, text=True)
            wall, rss = proc.stderr.strip().splitlines()[-1].split()
            print(f"memory: {count} SNVs: {float(wall):.1f} s, peak RSS {int(rss) / 1024:.0f} MB")
            os.remove(out)


if __name__ == "__main__":
    main()
