#!/usr/bin/env python3
"""seqattr against its peers, side by side: one invocation, one machine, one model file, the
same inputs, threads and device, and a check that both sides computed the same answer before
any speed ratio is reported.

- ig: Captum IntegratedGradients (50 steps, gausslegendre, zero baseline) against
  seqattr integrated_gradients --n-steps 50 --ig-rule gausslegendre;
- deeplift_shap: tangermeme deep_lift_shap with R dinucleotide shuffles against seqattr
  deeplift_shap --references (the same shuffles);
- ism: tangermeme saturation_mutagenesis(start, end, raw_outputs=True) against seqattr ism
  --ism-mode fast (the default) and --ism-mode naive, on the same window.

Inputs: random one-hot sequences (torch seed --seed). ISM scores a window of --ism-window
positions in the middle of the sequence on both sides. References: tangermeme's
dinucleotide_shuffle(X, n=--shuffles, random_state=--seed), written to an HDF5 `/references`
(N,R,4,L) uint8 file that seqattr reads with --references.

Batch sizes (--ig-batch, --dls-batch, --ism-batch) are the same number on both sides: IG model
rows per pass (Captum's internal_batch_size: it splits the N × steps rows by steps, N inputs ×
batch//N steps a pass), DeepLIFT-SHAP (sequence, reference) pairs per pass (tangermeme's
batch_size; 32 is its default), ISM mutants per pass.

Agreement (before any ratio): max|seqattr - peer| / max|peer| must be <= --tolerance (1e-4).
IG: per-position totals (Captum's attributions summed over the 4 channels against seqattr's
/attributions summed over channels; Captum puts negative mass on the baseline's channel, the
totals are the genomics convention). DeepLIFT-SHAP: tangermeme's attributions against
/attributions, and its hypothetical=True output against /hypothetical_attributions (the larger
error counts). ISM: raw deltas, f(mutant) - f(input) from raw_outputs=True, against /ism_delta
in the window. A method that disagrees is reported with its error and no ratio, and the script
exits 1 (after the other methods).

ISM also computes the deltas in float64 here (the model in double precision: the exact
function, to ~1e-13) and reports both sides' distance from them. A delta is a difference of two
outputs near f(input); where max|delta| is small against |f(input)| (bpnet_2114's count head:
|f| 8.8, max|delta| 0.01), float32 rounding inside the model puts every float32 ISM a few
1e-4 of max|delta| from the exact deltas, and two float32 implementations that sum in
different orders (fast ISM's windows against full convolutions) differ by as much. There the
1e-4 rule cannot tell right from wrong, so ISM passes when seqattr is within --tolerance of the
peer OR no farther from the exact deltas than the peer is.

IG and DeepLIFT-SHAP likewise, when the two sides disagree: the peer runs again in float64
(Captum on the model in double; tangermeme with its module and the references in double) and
seqattr passes if its typical (RMS) error from that is within --tolerance, or no larger than
the peer's float32 one (both worst errors are reported too). Two float32 implementations that agree to 1e-7 are
usually running the same kernels in the same order (seqattr with --convolutions aten and
Captum, both on oneDNN); with other kernels each flips a different few ReLU kinks or max-pool
near-ties along an IG path, ~4e-4 of max|attribution| on BPNet 32 x 6 for each side (all
three float32 runs at the same worst position), ~1e-3 on the Basset-like fixture. On the Basset-like fixture one sequence in 24 has a max-pool window
whose argmax position barely changes while its maximum does; the rule divides by that change,
and float32 rounding moves each side a different way (bench/dls_basset_float64.py).

Timing: --warmup untimed runs, then --repeats timed runs of each side; the table shows the best
(--stat best, default) or the mean (--stat mean). Peer times are the library call alone, in this
process, on tensors already built (the model is loaded once; with cuda, synchronized). seqattr
runs as its own process each time, so its process start, LibTorch and model loading, FASTA and
reference reading and HDF5 writing must be left out to compare like with like: seqattr's
--verbose prints `seconds by stage: ... compute S, ...`, the wall time of the method's passes
(forward and backward rows, DeepLIFT rules, ISM's windows, attributions to host memory), and
that is the seqattr time used. It is chosen over "N sequences minus 1 sequence" because it is
one measurement (a difference of two noisy ones is noisier) and it does not hide costs that
scale with the input. It does include the TorchScript executor's first-pass optimisation inside
each fresh process, which the peer's warm-up removes from the peer's time; on bpnet_2114 that is
within noise (1, 4 and 8 sequences of IG took 2.55, 2.55 and 2.58 s a sequence in one
measurement), and it counts against seqattr if anything. seqattr's warm-up run only warms
the page cache.
DeepLIFT-SHAP's peer warm-up is tangermeme's hypothetical=True call (the same work); the timed
calls use its default (attributions).

tangermeme hooks nn.Modules; on a TorchScript module its hooks do not attach and it silently
returns gradient-times-difference (0.61 relative error on the golden mini_bpnet). So for
DeepLIFT-SHAP the model is rebuilt as an eager module with the same weights when it has the
BPNet shape of bench/data/bpnet_2114.pt (iconv, rconvs, rrelus, fconv, linear, trim) or is
models/fixtures/basset_600.pt (Basset's shape: convolutions, batch norm, max-pools, dense
layers), checked against the TorchScript outputs; another model skips DeepLIFT-SHAP with a
message. Captum IG
and tangermeme ISM run on the TorchScript module itself.

Setup once on Debian 12 (Debian's python3-torch; tangermeme's compiled dependencies from
Debian, not PyPI):
    apt-get install python3-torch python3-h5py python3-venv python3-numba python3-pandas python3-matplotlib
    /usr/bin/python3 -m venv --system-site-packages /tmp/tvenv
    /tmp/tvenv/bin/pip install --no-deps captum==0.9.0 tangermeme==1.4.0 bpnet-lite==1.1.0 tqdm
A peer that is not installed is skipped with a message (seqattr's time is still shown).
Run:
    /tmp/tvenv/bin/python bench/peers.py [--methods ig,deeplift_shap,ism] [--threads 2]
        [--ig-sequences 16] [--dls-sequences 8] [--ism-sequences 4] [--ism-window 100]
        [-r 3] [--model bench/data/bpnet_2114.pt --length 2114] [--device cpu] [--json OUT]
"""
import argparse
import copy
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
import warnings

import h5py
import numpy as np
import torch
import torch.nn as nn

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_MODEL = os.path.join(ROOT, "bench", "data", "bpnet_2114.pt")
INSTALL = ("/usr/bin/python3 -m venv --system-site-packages /tmp/tvenv && "
           "/tmp/tvenv/bin/pip install --no-deps captum==0.9.0 tangermeme==1.4.0 bpnet-lite==1.1.0 tqdm "
           "(tangermeme also needs apt-get install python3-numba python3-pandas, captum python3-matplotlib)")


class EagerBPNet(nn.Module):
    """The forward of a BPNet-shaped TorchScript model (bench/data/bpnet_2114.pt) as an
    eager module with its weights, so that tangermeme's module hooks attach."""

    def __init__(self, scripted):
        super().__init__()
        self.trim = scripted.trim

        def conv(s):
            w = s.weight
            c = nn.Conv1d(w.shape[1], w.shape[0], w.shape[2], padding=s.padding,
                          dilation=s.dilation)
            c.load_state_dict({"weight": w, "bias": s.bias})
            return c

        layers = len(list(scripted.rconvs.children()))
        self.iconv = conv(scripted.iconv)
        self.irelu = nn.ReLU()
        self.rconvs = nn.ModuleList(conv(getattr(scripted.rconvs, str(i))) for i in range(layers))
        self.rrelus = nn.ModuleList(nn.ReLU() for _ in range(layers))
        self.fconv = conv(scripted.fconv)
        self.linear = nn.Linear(scripted.linear.weight.shape[1], scripted.linear.weight.shape[0])
        self.linear.load_state_dict({"weight": scripted.linear.weight,
                                     "bias": scripted.linear.bias})

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


class BpnetLiteCounts(nn.Module):
    """bpnet-lite's own BPNet (no control tracks) answering its counts head, with the weights of
    a traced one (bench/shape_sweep.py): tangermeme's hooks attach to its modules."""

    def __init__(self, scripted, filters, layers):
        super().__init__()
        from bpnetlite.bpnet import BPNet
        self.net = BPNet(n_filters=filters, n_layers=layers, n_control_tracks=0, verbose=False)
        self.net.load_state_dict(scripted.state_dict())

    def forward(self, x):
        return self.net(x)[1]


def basset_600_module(scripted):
    """models/fixtures/basset_600.pt as the nn.Module it was made from (models/make_fixtures.py
    Basset600: a module for every ReLU and max-pool, so that tangermeme's hooks attach)."""
    sys.path.insert(0, os.path.join(ROOT, "models"))
    from make_fixtures import Basset600
    eager = Basset600()
    eager.load_state_dict(scripted.state_dict())
    return eager.eval()


def eager_copy(scripted, X, bpnetlite=""):
    """An eager module computing what `scripted` computes, or (None, why)."""
    if all(hasattr(scripted, n) for n in ("c1", "c2", "c3", "bn1", "fc1", "fc2")):
        try:
            eager = basset_600_module(scripted).to(X.device)
            with torch.no_grad():
                if torch.allclose(eager(X[:2]), scripted(X[:2]), rtol=1e-5, atol=1e-5):
                    return eager, ""
        except Exception as e:  # another model with these names
            return None, f"rebuilding it as Basset600 failed: {e}"
        return None, "the Basset600 rebuild's outputs differ from the TorchScript model's"
    if bpnetlite:
        filters, layers = (int(v) for v in bpnetlite.split("x"))
        eager = BpnetLiteCounts(scripted, filters, layers).eval().to(X.device)
        with torch.no_grad():
            if not torch.allclose(eager(X[:2]), scripted(X[:2]), rtol=1e-5, atol=1e-5):
                return None, "bpnet-lite's BPNet with these weights differs from the TorchScript model"
        return eager, ""
    names = ("iconv", "rconvs", "rrelus", "fconv", "linear", "trim")
    if not all(hasattr(scripted, n) for n in names):
        return None, "the model is not BPNet-shaped (iconv, rconvs, rrelus, fconv, linear, trim)"
    try:
        eager = EagerBPNet(scripted).eval().to(X.device)
        with torch.no_grad():
            same = torch.allclose(eager(X[:2]), scripted(X[:2]), rtol=1e-5, atol=1e-5)
    except Exception as e:  # a different forward, shapes or attributes
        return None, f"rebuilding it as an eager module failed: {e}"
    if not same:
        return None, "the eager rebuild's outputs differ from the TorchScript model's"
    return eager, ""


def machine():
    cpu = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return cpu


def linked_libtorch(binary):
    # `seqattr` runs the methods through seqattr-engine beside it, which links LibTorch.
    engine = os.path.join(os.path.dirname(binary), "seqattr-engine")
    try:
        out = subprocess.run(["ldd", engine if os.path.exists(engine) else binary],
                             capture_output=True, text=True).stdout
        m = re.search(r"(libtorch_cpu\.so[^\s]*) => (\S+)", out)
        return m.group(2) if m else "?"
    except OSError:
        return "?"


def one_hot(bases):
    return torch.nn.functional.one_hot(bases, 4).permute(0, 2, 1).float()


def write_fasta(path, bases):
    with open(path, "w") as f:
        for i, row in enumerate(bases.tolist()):
            f.write(f">s{i}\n{''.join('ACGT'[b] for b in row)}\n")


def relative_rms(got, expected):
    """Root mean square of got - expected over max|expected|: the typical error, where
    relative_error is the worst one (one argmax or ReLU kink that float32 rounding flips)."""
    got, expected = np.asarray(got, np.float64), np.asarray(expected, np.float64)
    scale = np.abs(expected).max()
    rms = np.sqrt(np.mean((got - expected) ** 2))
    return float(rms / scale if scale > 0 else rms)


def relative_error(got, expected):
    got, expected = np.asarray(got, np.float64), np.asarray(expected, np.float64)
    scale = np.abs(expected).max()
    diff = np.abs(got - expected).max()
    return float(diff / scale if scale > 0 else diff)


def exact_ism(model_path, X, start, end, target, batch):
    """(N, 4, end - start) f(mutant) - f(input) in float64 for every substitution in the
    window, 0 at the observed base: the function both float32 sides approximate."""
    model = torch.jit.load(model_path, map_location="cpu").eval().double()
    X = X.cpu().double()
    out = np.zeros((X.shape[0], 4, end - start))
    with torch.no_grad():
        for i in range(X.shape[0]):
            mutants = X[i].repeat(4 * (end - start), 1, 1)
            rows = torch.arange(mutants.shape[0])
            positions = start + rows // 4
            mutants[rows, :, positions] = 0
            mutants[rows, rows % 4, positions] = 1
            f0 = model(X[i:i + 1])[0, target]
            f = torch.cat([model(mutants[b:b + batch])[:, target]
                           for b in range(0, mutants.shape[0], batch)])
            out[i] = (f - f0).numpy().reshape(end - start, 4).T
    out[X[:, :, start:end].numpy().astype(bool)] = 0
    return out


def sync(device):
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def time_peer(call, warmup_calls, repeats, device):
    """Runs each warm-up callable untimed, then `call` `repeats` times; returns (times, last)."""
    for w in warmup_calls:
        w()
    sync(device)
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = call()
        sync(device)
        times.append(time.perf_counter() - start)
    return times, result


def time_seqattr(args, extra, fasta, out, warmup, repeats):
    """seqattr's `compute` stage seconds (--verbose) and whole-process seconds, as pairs, over
    `repeats` runs after `warmup`."""
    command = [args.seqattr, "attribute", "--model", args.model, "--fasta", fasta,
               "--target", str(args.target), "--threads", str(args.threads),
               "--device", args.device, "--output", out, "--verbose"] + extra
    times = []
    for i in range(warmup + repeats):
        if os.path.exists(out):
            os.remove(out)
        start = time.perf_counter()
        proc = subprocess.run(command, capture_output=True, text=True)
        process = time.perf_counter() - start
        if proc.returncode != 0:
            raise RuntimeError(f"seqattr failed ({proc.returncode}): {' '.join(command)}\n"
                               f"{proc.stderr.strip()}")
        m = re.search(r"seconds by stage:.*compute ([0-9.eE+-]+)", proc.stderr)
        if not m:
            raise RuntimeError("seqattr --verbose printed no 'seconds by stage' line:\n"
                               + proc.stderr)
        if i >= warmup:
            times.append((float(m.group(1)), process))
    return times


def peer_start(args, imports):
    """Seconds a user's Python process takes before the peer's call: interpreter start, torch
    and the peer's imports, loading the model (the best of 3 fresh processes). A peer's whole
    process is this plus its call."""
    code = (f"import torch; torch.set_num_threads({args.threads}); {imports}; "
            f"torch.jit.load({args.model!r})")
    times = []
    for _ in range(3):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return min(times)


def summary(times, stat):
    if not times:
        return None
    return min(times) if stat == "best" else sum(times) / len(times)


class Bench:
    def __init__(self, args):
        self.args = args
        self.rows = []
        self.failed = False
        self.tmp = tempfile.mkdtemp(prefix="seqattr-peers-")

    def inputs(self, count, seed_offset=0):
        g = torch.Generator().manual_seed(self.args.seed + seed_offset)
        bases = torch.randint(0, 4, (count, self.args.length), generator=g)
        return bases, one_hot(bases)

    def add(self, method, peer, count, peer_times, seqattr_runs, error, note="", extra=None,
            exact_errors=None, start=None):
        a = self.args
        seqattr_times = [compute for compute, _ in seqattr_runs]
        process_times = [process for _, process in seqattr_runs]
        row = {"method": method, "peer": peer, "sequences": count, "peer_times": peer_times,
               "seqattr_times": seqattr_times, "seqattr_process_times": process_times,
               "peer_start": start, "error": error, "note": note}
        p, s = summary(peer_times, a.stat), summary(seqattr_times, a.stat)
        whole = summary(process_times, a.stat)
        row["peer_whole_seconds"] = p + start if (p and start is not None) else None
        row["seqattr_whole_seconds"] = whole
        row["peer_seconds"], row["seqattr_seconds"] = p, s
        row["peer_per_second"] = count / p if p else None
        row["seqattr_per_second"] = count / s if s else None
        agree = bool(error is not None and error <= a.tolerance)
        if error is not None and exact_errors is not None:
            seqattr_exact, peer_exact = exact_errors
            agree = agree or seqattr_exact <= max(a.tolerance, peer_exact)
        row["agree"] = agree if error is not None else None
        row["ratio"] = p / s if (p and s and agree) else None
        row["whole_ratio"] = (row["peer_whole_seconds"] / whole
                              if (row["peer_whole_seconds"] and whole and agree) else None)
        if error is not None and not agree:
            self.failed = True
            print(f"error: {method}: seqattr and {peer} disagree: max|seqattr - peer| / "
                  f"max|peer| = {error:.3e} > {a.tolerance:g}"
                  + ("" if exact_errors is None else
                     f", and seqattr is farther from the float64 answer ({exact_errors[0]:.2e}) than "
                     f"the peer ({exact_errors[1]:.2e})")
                  + "; no speed ratio reported", file=sys.stderr)
        row.update(extra or {})
        self.rows.append(row)

    def skip(self, method, peer, count, why, seqattr_call=None, short=None):
        print(f"skipping {peer} ({method}): {why}", file=sys.stderr)
        times = []
        if seqattr_call is not None:
            times = seqattr_call()
        self.add(method, peer, count, [], times, None, note="peer skipped: " + (short or why))

    def scripted(self):
        model = torch.jit.load(self.args.model, map_location=self.args.device).eval()
        return model

    def ig(self):
        a = self.args
        n = a.ig_sequences
        bases, X = self.inputs(n)
        fasta, out = os.path.join(self.tmp, "ig.fa"), os.path.join(self.tmp, "ig.h5")
        write_fasta(fasta, bases)
        flags = ["--method", "integrated_gradients", "--n-steps", str(a.n_steps), "--ig-rule",
                 "gausslegendre", "--baseline", "zeros", "--batch-size", str(a.ig_batch)]
        run_seqattr = lambda: time_seqattr(a, flags, fasta, out, a.warmup, a.repeats)
        peer = f"Captum {self.versions.get('captum', '')} IntegratedGradients".replace("  ", " ")
        try:
            from captum.attr import IntegratedGradients
        except ImportError as e:
            return self.skip("ig", "Captum IntegratedGradients", n,
                             f"captum is not importable ({e}); install: {INSTALL}", run_seqattr,
                             short=f"{e}; see stderr")
        model = self.scripted()
        X = X.to(a.device)
        ig = IntegratedGradients(model)
        call = lambda: ig.attribute(X, target=a.target, n_steps=a.n_steps,
                                    method="gausslegendre",
                                    internal_batch_size=a.ig_batch).detach()
        peer_times, attr = time_peer(call, [call] * a.warmup, a.repeats, a.device)
        seqattr_times = run_seqattr()
        with h5py.File(out, "r") as f:
            got = f["attributions"][()].sum(axis=1)
        peer_totals = attr.cpu().numpy().sum(axis=1)
        error = relative_error(got, peer_totals)
        exact_errors, exact_note = None, ""
        if error > a.tolerance:
            # Both sides against Captum in float64 (the exact definition): an IG path crosses
            # ReLU kinks and max-pool near-ties, where float32 rounding flips a step's gradient
            # (each float32 implementation at its own few positions). Judged by the typical
            # (RMS) error; the worst is reported too.
            model64 = self.scripted().double()
            exact = IntegratedGradients(model64).attribute(
                X.double(), target=a.target, n_steps=a.n_steps, method="gausslegendre",
                internal_batch_size=a.ig_batch).detach().cpu().numpy().sum(axis=1)
            exact_errors = (relative_rms(got, exact), relative_rms(peer_totals, exact))
            exact_note = (f"; from Captum in float64, RMS (max): seqattr {exact_errors[0]:.1e} "
                          f"({relative_error(got, exact):.1e}), peer {exact_errors[1]:.1e} "
                          f"({relative_error(peer_totals, exact):.1e})")
        self.add("ig", peer, n, peer_times, seqattr_times, error, exact_errors=exact_errors,
                 start=peer_start(a, "from captum.attr import IntegratedGradients"),
                 note=f"{a.n_steps} steps gausslegendre, zero baseline; per-position totals; "
                      f"{a.ig_batch} rows a pass" + exact_note,
                 extra={"seqattr_from_exact": exact_errors and exact_errors[0],
                        "peer_from_exact": exact_errors and exact_errors[1]})

    def deeplift_shap(self):
        a = self.args
        n = a.dls_sequences
        bases, X = self.inputs(n)
        fasta, out = os.path.join(self.tmp, "dls.fa"), os.path.join(self.tmp, "dls.h5")
        refs_path = os.path.join(self.tmp, "refs.h5")
        write_fasta(fasta, bases)
        flags = ["--method", "deeplift_shap", "--references", refs_path,
                 "--batch-size", str(a.dls_batch)]
        run_seqattr = lambda: time_seqattr(a, flags, fasta, out, a.warmup, a.repeats)
        peer = f"tangermeme {self.versions.get('tangermeme', '')} deep_lift_shap"
        try:
            from tangermeme.deep_lift_shap import deep_lift_shap
            from tangermeme.ersatz import dinucleotide_shuffle
        except ImportError as e:
            # seqattr alone, with its own shuffles (the same amount of work)
            flags[flags.index("--references"):flags.index("--references") + 2] = [
                "--n-shuffles", str(a.shuffles), "--seed", str(a.seed)]
            return self.skip("deeplift_shap", "tangermeme deep_lift_shap", n,
                             f"tangermeme is not importable ({e}); install: {INSTALL}",
                             run_seqattr, short=f"{e}; see stderr")
        references = dinucleotide_shuffle(X, n=a.shuffles, random_state=a.seed)
        with h5py.File(refs_path, "w") as f:
            f["references"] = references.numpy().astype(np.uint8)
        eager, why = eager_copy(self.scripted(), X.to(a.device), a.bpnetlite)
        if eager is None:
            return self.skip("deeplift_shap", peer, n,
                             why + "; tangermeme's hooks need nn.Modules", run_seqattr)
        kwargs = dict(references=references, target=a.target, batch_size=a.dls_batch,
                      device=a.device)
        hypothetical = []
        warm = [lambda: hypothetical.append(deep_lift_shap(eager, X, hypothetical=True,
                                                           **kwargs))]
        warm += [lambda: deep_lift_shap(eager, X, **kwargs)] * max(0, a.warmup - 1)
        with warnings.catch_warnings():
            warnings.simplefilter("once")
            peer_times, attr = time_peer(lambda: deep_lift_shap(eager, X, **kwargs), warm,
                                         a.repeats, a.device)
        seqattr_times = run_seqattr()
        with h5py.File(out, "r") as f:
            got_attr = f["attributions"][()]
            got_hyp = f["hypothetical_attributions"][()]
        error_attr = relative_error(got_attr, attr.numpy())
        error_hyp = relative_error(got_hyp, hypothetical[0].numpy())
        exact_errors, exact_note = None, ""
        if max(error_attr, error_hyp) > a.tolerance:
            # Judge both float32 sides against tangermeme in float64 (the same definition,
            # exact to ~1e-12): where a rule divides by a tiny change (max-pool's argmax
            # position), float32 rounding moves either side far from it.
            eager64 = copy.deepcopy(eager).double()
            kwargs64 = dict(kwargs, references=references.double())
            attr64 = deep_lift_shap(eager64, X.double(), **kwargs64).numpy()
            hyp64 = deep_lift_shap(eager64, X.double(), hypothetical=True, **kwargs64).numpy()
            exact_errors = (max(relative_rms(got_attr, attr64), relative_rms(got_hyp, hyp64)),
                            max(relative_rms(attr.numpy(), attr64),
                                relative_rms(hypothetical[0].numpy(), hyp64)))
            exact_note = (f"; from tangermeme in float64, RMS (max): seqattr {exact_errors[0]:.1e} "
                          f"({relative_error(got_attr, attr64):.1e}), peer {exact_errors[1]:.1e} "
                          f"({relative_error(attr.numpy(), attr64):.1e})")
        self.add("deeplift_shap", peer, n, peer_times, seqattr_times, max(error_attr, error_hyp),
                 start=peer_start(a, "from tangermeme.deep_lift_shap import deep_lift_shap"),
                 note=f"{a.shuffles} dinucleotide-shuffled references; attributions "
                      f"{error_attr:.1e}, hypothetical {error_hyp:.1e}; "
                      f"{a.dls_batch} pairs a pass" + exact_note,
                 extra={"error_attributions": error_attr, "error_hypothetical": error_hyp,
                        "seqattr_from_exact": exact_errors and exact_errors[0],
                        "peer_from_exact": exact_errors and exact_errors[1]},
                 exact_errors=exact_errors)

    def ism(self):
        a = self.args
        n = a.ism_sequences
        bases, X = self.inputs(n)
        window = a.ism_window if a.ism_window > 0 else a.length
        start = (a.length - window) // 2
        end = start + window
        fasta = os.path.join(self.tmp, "ism.fa")
        write_fasta(fasta, bases)

        def flags(mode):
            return ["--method", "ism", "--ism-mode", mode, "--ism-start", str(start),
                    "--ism-end", str(end), "--batch-size", str(a.ism_batch)]

        outs = {m: os.path.join(self.tmp, f"ism_{m}.h5") for m in a.ism_modes}
        runs = {m: (lambda m=m: time_seqattr(a, flags(m), fasta, outs[m], a.warmup, a.repeats))
                for m in a.ism_modes}
        where = f"window {start}..{end} ({window} positions, {3 * window} substitutions a sequence)"
        peer = f"tangermeme {self.versions.get('tangermeme', '')} saturation_mutagenesis"
        try:
            from tangermeme.saturation_mutagenesis import saturation_mutagenesis
        except ImportError as e:
            for m in a.ism_modes:
                self.skip(f"ism ({m})", "tangermeme saturation_mutagenesis", n,
                          f"tangermeme is not importable ({e}); install: {INSTALL}", runs[m],
                          short=f"{e}; see stderr")
            return
        model = self.scripted()
        call = lambda: saturation_mutagenesis(model, X, start=start, end=end,
                                              batch_size=a.ism_batch, device=a.device,
                                              raw_outputs=True)
        peer_times, raw = time_peer(call, [call] * a.warmup, a.repeats, a.device)
        y0, y_hat = raw[0], raw[1]
        expected = (y_hat[..., a.target] - y0[:, None, None, a.target]).numpy()
        # A delta is the difference of two float32 outputs near f(input): its rounding alone
        # is ulp(|f(input)|)/2, which can be a large part of max|delta| when deltas are small.
        resolution = float(np.spacing(np.abs(y0[:, a.target].numpy()).max().astype(np.float32))
                           / 2 / max(np.abs(expected).max(), 1e-30))
        exact = exact_ism(a.model, X, start, end, a.target, a.ism_batch)
        peer_exact = relative_error(expected, exact)
        start_seconds = peer_start(
            a, "from tangermeme.saturation_mutagenesis import saturation_mutagenesis")
        for m in a.ism_modes:
            seqattr_times = runs[m]()
            with h5py.File(outs[m], "r") as f:
                got = f["ism_delta"][()][:, :, start:end]
            seqattr_exact = relative_error(got, exact)
            self.add(f"ism ({m})", peer, n, peer_times, seqattr_times,
                     relative_error(got, expected),
                     note=f"{where}; raw deltas; {a.ism_batch} mutants a pass; from float64 "
                          f"ISM: seqattr {seqattr_exact:.1e}, peer {peer_exact:.1e}; float32 "
                          f"resolution ulp(max|f(x)|)/2/max|delta| = {resolution:.1e}",
                     extra={"float32_resolution": resolution, "seqattr_from_exact":
                            seqattr_exact, "peer_from_exact": peer_exact},
                     exact_errors=(seqattr_exact, peer_exact), start=start_seconds)


def fmt(x, spec):
    return "—" if x is None else format(x, spec)


def table(rows, stat):
    head = (f"| method | peer | N | peer s ({stat}) | seqattr s ({stat}) | peer seq/s | "
            f"seqattr seq/s | seqattr/peer speed | peer whole process s | seqattr whole "
            f"process s | whole-process speed | max rel. diff | notes |")
    lines = [head, "| " + " | ".join(["---"] * 13) + " |"]
    for r in rows:
        if r["error"] is None:
            ratio = "—"
        elif r["agree"]:
            ratio = f"**{r['ratio']:.2f}×**"
        else:
            ratio = "DISAGREE"
        lines.append(" | ".join([
            "| " + r["method"], r["peer"], str(r["sequences"]), fmt(r["peer_seconds"], ".2f"),
            fmt(r["seqattr_seconds"], ".2f"), fmt(r["peer_per_second"], ".3f"),
            fmt(r["seqattr_per_second"], ".3f"), ratio, fmt(r["peer_whole_seconds"], ".2f"),
            fmt(r["seqattr_whole_seconds"], ".2f"),
            "—" if r.get("whole_ratio") is None else f"**{r['whole_ratio']:.2f}×**",
            fmt(r["error"], ".1e"), r["note"]]) + " |")
    return "\n".join(lines)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--methods", default="ig,deeplift_shap,ism",
                   help="comma-separated: ig, deeplift_shap, ism")
    p.add_argument("--model", default=DEFAULT_MODEL)
    p.add_argument("--length", type=int, default=2114, help="sequence length the model takes")
    p.add_argument("--target", type=int, default=0)
    p.add_argument("--threads", type=int, default=2,
                   help="torch.set_num_threads here and seqattr --threads")
    p.add_argument("--device", default="cpu", help="cpu or cuda[:N], both sides")
    p.add_argument("--sequences", type=int, help="sets --ig/--dls/--ism-sequences at once")
    p.add_argument("--ig-sequences", type=int, default=16)
    p.add_argument("--dls-sequences", type=int, default=8)
    p.add_argument("--ism-sequences", type=int, default=4)
    p.add_argument("--n-steps", type=int, default=50, help="IG steps")
    p.add_argument("--shuffles", type=int, default=20, help="DeepLIFT-SHAP references")
    p.add_argument("--ism-window", type=int, default=100,
                   help="ISM positions in the middle of the sequence (0: all)")
    p.add_argument("--ism-modes", default="fast,naive", help="seqattr ISM modes to run")
    p.add_argument("--ig-batch", type=int, default=128, help="IG model rows a pass")
    p.add_argument("--dls-batch", type=int, default=32, help="DeepLIFT-SHAP pairs a pass")
    p.add_argument("--ism-batch", type=int, default=64, help="ISM mutants a pass")
    p.add_argument("-r", "--repeats", type=int, default=3)
    p.add_argument("--warmup", type=int, default=1)
    p.add_argument("--stat", choices=["best", "mean"], default="best")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--tolerance", type=float, default=1e-4,
                   help="largest max|seqattr - peer| / max|peer| that counts as agreement")
    p.add_argument("--seqattr", default=os.path.join(ROOT, "build", "seqattr"))
    p.add_argument("--json", help="also write the results as JSON here")
    p.add_argument("--bpnetlite", default="",
                   help="FxN: the model is a traced bpnet-lite BPNet(F filters, N layers) "
                        "answering its counts head (bench/shape_sweep.py); tangermeme gets "
                        "bpnet-lite's own module with its weights")
    args = p.parse_args()
    if args.sequences is not None:
        args.ig_sequences = args.dls_sequences = args.ism_sequences = args.sequences
    args.model = os.path.abspath(args.model)
    args.ism_modes = [m for m in args.ism_modes.split(",") if m]
    methods = [m for m in args.methods.split(",") if m]
    unknown = set(methods) - {"ig", "deeplift_shap", "ism"}
    if unknown or args.repeats < 1:
        p.error(f"unknown methods {sorted(unknown)}" if unknown else "--repeats must be >= 1")
    if not os.access(args.seqattr, os.X_OK):
        p.error(f"no seqattr binary at {args.seqattr} (build it: cmake --build build)")

    torch.set_num_threads(args.threads)
    versions = {"torch": torch.__version__}
    for name in ("captum", "tangermeme"):
        try:
            versions[name] = __import__(name).__version__
        except Exception:
            pass
    seqattr_version = subprocess.run([args.seqattr, "--version"], capture_output=True,
                                     text=True).stdout.strip()
    info = {"cpu": machine(), "cores": os.cpu_count(), "threads": args.threads,
            "device": args.device, "python": platform.python_version(),
            "torch": torch.__version__, "captum": versions.get("captum"),
            "tangermeme": versions.get("tangermeme"), "seqattr": seqattr_version,
            "seqattr_libtorch": linked_libtorch(args.seqattr),
            "model": os.path.relpath(args.model, ROOT), "length": args.length,
            "target": args.target, "repeats": args.repeats, "warmup": args.warmup,
            "stat": args.stat, "load_before": os.getloadavg()}
    if args.device.startswith("cuda") and torch.cuda.is_available():
        info["gpu"] = torch.cuda.get_device_name(torch.device(args.device))

    bench = Bench(args)
    bench.versions = versions
    for m in methods:
        getattr(bench, m)()
    info["load_after"] = os.getloadavg()

    print(f"## seqattr vs peers: {info['model']} ({args.length} bp), target {args.target}, "
          f"{args.device}")
    print()
    print(f"- machine: {info['cpu']}, {info['cores']} cores; {args.threads} threads each side"
          + (f"; GPU {info['gpu']}" if "gpu" in info else ""))
    print(f"- Python torch {info['torch']}, Captum {info['captum'] or 'absent'}, tangermeme "
          f"{info['tangermeme'] or 'absent'}; {info['seqattr']} linked to "
          f"{info['seqattr_libtorch']}")
    print(f"- timing: {args.warmup} warm-up + {args.repeats} timed runs a side, {args.stat}; "
          f"seqattr = its `compute` stage (--verbose), no process start, model load or I/O; "
          f"whole process: seqattr's run as a user runs it, the peer's call plus a fresh Python "
          f"process's start, imports and model load")
    print(f"- load average before {info['load_before'][0]:.2f}, after "
          f"{info['load_after'][0]:.2f} (1 min)")
    print(f"- agreement: max|seqattr - peer| / max|peer| <= {args.tolerance:g} (ISM: or seqattr no "
          "farther than the peer from ISM in float64), else no ratio")
    print()
    print(table(bench.rows, args.stat))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"machine": info, "rows": bench.rows}, f, indent=1)
    shutil.rmtree(bench.tmp, ignore_errors=True)
    sys.exit(1 if bench.failed else 0)


if __name__ == "__main__":
    main()
