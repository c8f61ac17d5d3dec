#!/usr/bin/env python3
"""bench/peers.py over model shapes: seqattr against Captum (IG) and tangermeme (DeepLIFT-SHAP,
ISM) on bpnet-lite BPNets of several sizes and the Basset-like fixture, one table.

    /tmp/tvenv/bin/python bench/shape_sweep.py [--shapes basset,32x6,64x8,512x8:4]
        [--methods ig,deeplift_shap,ism] [--threads 2] [--sequences 24] [--repeats 3]
        [--warmup 1] [--ism-window 100] [--ig-batch 128] [--out results.md]

A shape is FxN (a BPNet, below) or `basset` (models/fixtures/basset_600.pt, 600 bp: convolutions,
batch norm, max-pools, dense layers); `:S` after it gives that shape its own number of
sequences (the ChromBPNet-sized 512x8 takes minutes a method: `512x8:4`). --repeats and
--warmup go to peers.py: 512x8 at one repeat and no warm-up is ~20 minutes on 2 cores; give it
--ig-batch 32 there (Captum holds a pass's activations: 14 GB at 128 rows).

Each shape FxN is bpnet-lite's own BPNet(n_filters=F, n_layers=N, n_control_tracks=0) with random
weights (torch seed 0), traced on a 2,114-bp input with its counts head as the output (the
peers take one output tensor), saved to a temporary TorchScript file. bench/peers.py then runs
both sides on it: same inputs, threads and references, agreement checked before any ratio;
both the compute stage and the whole process are timed (peers.py says how, each side). Larger shapes
take long: give fewer --sequences for them.

tangermeme needs the model as nn.Modules: peers.py --bpnetlite FxN gives it bpnet-lite's own
BPNet with the traced model's weights (checked equal on the inputs first).
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

TRACE = """
import sys, torch
from bpnetlite.bpnet import BPNet
torch.manual_seed(0)
filters, layers, path = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
# A BPNet whose forward returns the counts head: its modules keep bpnet-lite's names, which
# peers.py needs to rebuild it as an nn.Module for tangermeme's hooks.
class CountsBPNet(BPNet):
    def forward(self, X):
        return super().forward(X)[1]
net = CountsBPNet(n_filters=filters, n_layers=layers, n_control_tracks=0, verbose=False).eval()
torch.jit.trace(net, torch.zeros(1, 4, 2114)).save(path)
"""


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--shapes", default="32x6,64x8")
    p.add_argument("--methods", default="ig,deeplift_shap")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--sequences", type=int, default=8, help="sequences per shape without :S")
    p.add_argument("--repeats", type=int, default=3, help="timed runs a side (peers.py -r)")
    p.add_argument("--warmup", type=int, default=1, help="untimed runs a side (peers.py --warmup)")
    p.add_argument("--ism-window", type=int, default=100, help="ISM positions (peers.py)")
    p.add_argument("--ig-batch", type=int, default=128,
                   help="IG model rows a pass, both sides (peers.py; Captum's memory grows with it)")
    p.add_argument("--out", default="")
    args = p.parse_args()
    rows, failed = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for item in args.shapes.split(","):
            shape, _, count = item.partition(":")
            sequences = int(count) if count else args.sequences
            results = os.path.join(tmp, f"{shape}.json")
            if shape == "basset":
                model_args = ["--model", os.path.join(ROOT, "models", "fixtures", "basset_600.pt"),
                              "--length", "600"]
            else:
                filters, layers = shape.split("x")
                model = os.path.join(tmp, f"bpnet_{shape}.pt")
                subprocess.run([sys.executable, "-c", TRACE, filters, layers, model], check=True)
                model_args = ["--model", model, "--bpnetlite", shape]
            proc = subprocess.run([sys.executable, os.path.join(HERE, "peers.py"), *model_args,
                                   "--methods", args.methods, "--threads", str(args.threads),
                                   "--sequences", str(sequences), "--json", results,
                                   "-r", str(args.repeats), "--warmup", str(args.warmup),
                                   "--ism-window", str(args.ism_window),
                                   "--ig-batch", str(args.ig_batch)],
                                  capture_output=True, text=True)
            print(proc.stdout, file=sys.stderr)
            if proc.returncode:
                print(proc.stderr[-3000:], file=sys.stderr)
                failed.append(f"{shape}: peers.py exited {proc.returncode} (a disagreement or "
                              "an error; its stderr is above)")
            if os.path.exists(results):
                with open(results) as f:
                    for r in json.load(f)["rows"]:
                        rows.append((shape, r))
                        if r["peer_seconds"] is None:
                            failed.append(f"{shape} {r['method']}: {r.get('note', 'peer skipped')}")
            write_table(rows, args.out)  # after each shape: a long sweep shows its progress
    # A sweep with a peer missing or a disagreement is not a comparison: say so, exit 1.
    for line in failed:
        print("shape_sweep: " + line, file=sys.stderr)
    if failed:
        sys.exit(1)


def write_table(rows, out):
    lines = ["| model (BPNet filters x layers) | method | N | compute: peer s | seqattr s | seqattr / peer "
             "| whole process: peer s | seqattr s | seqattr / peer | agreement |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for shape, r in rows:
        ratio = lambda v: f"{v:.2f}x" if v else "-"
        error = "-" if r.get("error") is None else f"{r['error']:.1e}"
        seconds = lambda v: "-" if v is None else f"{v:.2f}"
        lines.append(f"| {shape} | {r['method']} | {r['sequences']} | {seconds(r['peer_seconds'])} | "
                     f"{seconds(r['seqattr_seconds'])} | {ratio(r.get('ratio'))} | "
                     f"{seconds(r.get('peer_whole_seconds'))} | {seconds(r.get('seqattr_whole_seconds'))} | "
                     f"{ratio(r.get('whole_ratio'))} | {error} |")
    text = "\n".join(lines) + "\n"
    print(text, flush=True)
    if out:
        with open(out, "w") as f:
            f.write(text)


if __name__ == "__main__":
    main()
