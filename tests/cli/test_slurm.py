"""seqattr on a real (one-node) Slurm: configs/slurm/submit.sh runs a 3-task array of
`seqattr attribute` over the peaks of the synthetic genome, then the dependent job merges
the shards and exports a bigWig; the merged file must equal the unsharded run bit for bit.

Skipped, saying why, only where the local cluster of local_slurm.py cannot start (no
slurm-wlm or munge, not root, a daemon that will not come up)."""
import os
import subprocess
import time
import unittest

import h5py
import numpy as np
import pyBigWig

from local_slurm import read_logs, start_or_skip
from seqattr_cli import BIN, CONFIGS, MODELS, TempDirTest, data

SUBMIT = os.path.join(CONFIGS, "slurm", "submit.sh")
MAKE_GENOME = os.path.join(MODELS, "synthetic", "make_genome.py")
PYTHON = "/usr/bin/python3"  # Debian's, with numpy (make_genome.py needs it)

TASKS = 3
SCALE = "0.6"   # about 1.9 Mb and 218 peaks: 4 parts of 64, so shards of 2, 1 and 1 parts
LENGTH = "500"
METHOD = "deeplift_shap"
# Options after the ones seqattr-array.sbatch builds; the reference run gets the same ones.
EXTRA = ["--batch-size", "64", "--n-shuffles", "3", "--quiet"]
PART = 64       # sequences per part at --batch-size 64 (src/pipeline/sharding.cpp part_size)


def shard_rows(sequences, part, index, count):
    """Rows [first, end) of shard index/count: whole parts, dealt out as evenly as possible,
    the earlier shards taking one more (src/pipeline/sharding.cpp shard_range)."""
    parts = -(-sequences // part)
    base, extra = divmod(parts, count)
    first_part = index * base + min(index, extra)
    end_part = first_part + base + (1 if index < extra else 0)
    return min(sequences, first_part * part), min(sequences, end_part * part)


def walk(f):
    """{path: h5py object} of every group and dataset under the root."""
    objects = {}
    f.visititems(lambda name, obj: objects.__setitem__(name, obj))
    return objects


def same_value(a, b):
    """Attribute values equal in type and, for arrays, dtype, shape and bytes."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        if not (isinstance(a, np.ndarray) and isinstance(b, np.ndarray)):
            return False
        if a.dtype != b.dtype or a.shape != b.shape:
            return False
        if a.dtype.kind == "O":
            return a.tolist() == b.tolist()
        return a.tobytes() == b.tobytes()
    return type(a) is type(b) and a == b


def dataset_differences(name, a, b, rows=None):
    """How dataset b differs from a (or from a's rows [first, end) when rows is given)."""
    expected = a[()] if rows is None else a[rows[0]:rows[1]]
    actual = b[()]
    if a.dtype != b.dtype:
        return [f"{name}: dtype {b.dtype} != {a.dtype}"]
    if h5py.check_string_dtype(a.dtype) != h5py.check_string_dtype(b.dtype):
        return [f"{name}: string type {h5py.check_string_dtype(b.dtype)} != "
                f"{h5py.check_string_dtype(a.dtype)}"]
    if actual.shape != expected.shape:
        return [f"{name}: shape {actual.shape} != {expected.shape}"]
    if a.dtype.kind == "O":  # variable-length strings: compare the values, not the pointers
        if actual.tolist() != expected.tolist():
            bad = [i for i, (x, y) in enumerate(zip(actual.tolist(), expected.tolist()))
                   if x != y]
            return [f"{name}: {len(bad)} values differ, first at row {bad[0]}: "
                    f"{actual[bad[0]]!r} != {expected[bad[0]]!r}"]
        return []
    if actual.tobytes() != expected.tobytes():
        flat_a = np.frombuffer(actual.tobytes(), dtype=np.uint8)
        flat_e = np.frombuffer(expected.tobytes(), dtype=np.uint8)
        first = int(np.argmax(flat_a != flat_e)) // max(1, actual.dtype.itemsize)
        detail = ""
        if actual.dtype.kind in "fiu":
            diff = np.abs(actual.astype(np.float64) - expected.astype(np.float64))
            detail = f", max |difference| {diff.max():.3g}"
        return [f"{name}: bytes differ, first at flat element {first}{detail}"]
    return []


def file_differences(reference, other, rows=None, ignore_root=("command_line",),
                     root_attributes=True):
    """Every way the file `other` differs from `reference`: the set of groups and datasets,
    each dataset's dtype, shape and bytes (vlen strings by value), the attributes of every
    object, and the root attributes but those in ignore_root. With rows=(first, end), the
    datasets of `other` are compared with those rows of the reference's."""
    out = []
    with h5py.File(reference, "r") as a, h5py.File(other, "r") as b:
        objects_a, objects_b = walk(a), walk(b)
        if sorted(objects_a) != sorted(objects_b):
            out.append(f"objects: {sorted(objects_b)} != {sorted(objects_a)}")
        for name in sorted(set(objects_a) & set(objects_b)):
            oa, ob = objects_a[name], objects_b[name]
            if isinstance(oa, h5py.Dataset) != isinstance(ob, h5py.Dataset):
                out.append(f"{name}: a {type(ob).__name__}, not a {type(oa).__name__}")
                continue
            if isinstance(oa, h5py.Dataset):
                out += dataset_differences(name, oa, ob, rows)
            attrs_a, attrs_b = dict(oa.attrs), dict(ob.attrs)
            if sorted(attrs_a) != sorted(attrs_b) or not all(
                    same_value(attrs_a[k], attrs_b[k]) for k in attrs_a):
                out.append(f"{name}: attributes {attrs_b} != {attrs_a}")
        if root_attributes:
            attrs_a = {k: v for k, v in a.attrs.items() if k not in ignore_root}
            attrs_b = {k: v for k, v in b.attrs.items() if k not in ignore_root}
            for key in sorted(set(attrs_a) | set(attrs_b)):
                if key not in attrs_b:
                    out.append(f"root attribute {key}: missing")
                elif key not in attrs_a:
                    out.append(f"root attribute {key}: not in the reference "
                               f"({attrs_b[key]!r})")
                elif not same_value(attrs_a[key], attrs_b[key]):
                    out.append(f"root attribute {key}: {attrs_b[key]!r} != {attrs_a[key]!r}")
    return out


class SlurmArrayTest(TempDirTest):
    def setUp(self):
        super().setUp()
        self.slurm = start_or_skip(self)

    def logs(self):
        return read_logs(os.path.join(self.outdir, "logs"))

    def test_array_merge_equals_unsharded(self):
        start = time.monotonic()
        genome_dir = self.path("genome")
        subprocess.run([PYTHON, MAKE_GENOME, "--out-dir", genome_dir, "--scale", SCALE],
                       check=True, capture_output=True, timeout=60)
        genome = os.path.join(genome_dir, "genome.fa")
        peaks = os.path.join(genome_dir, "peaks.narrowPeak")
        model = data("mini_bpnet.pt")
        with open(peaks) as f:
            sequences = sum(1 for line in f if line.strip())
        ranges = [shard_rows(sequences, PART, i, TASKS) for i in range(TASKS)]
        # Every shard must have rows, and one more than the others (uneven split).
        self.assertTrue(all(end > first for first, end in ranges), (sequences, ranges))
        self.assertGreater(-(-sequences // PART), TASKS, (sequences, ranges))

        # The array and the merge job, through the user-facing script.
        self.outdir = self.path("run")
        env = dict(self.slurm.env, SEQATTR=BIN, MODEL=model, PEAKS=peaks, GENOME=genome,
                   LENGTH=LENGTH, METHOD=METHOD, OUTDIR=self.outdir,
                   SEQATTR_ARGS=" ".join(EXTRA),
                   # the scripts ask for a GPU, 8 (merge: 2) CPUs and 32G (16G): this node
                   # has no GPU and the harness gives it 2 GB
                   SBATCH_EXTRA="--gres=none --cpus-per-task=1 --mem=500M --time=10")
        proc = subprocess.run(["bash", SUBMIT, str(TASKS)], env=env, cwd=self.tmp,
                              capture_output=True, text=True, timeout=60)
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        array, merge = map(int, proc.stdout.split())

        # The unsharded reference, run directly while the jobs run: the same arguments as
        # seqattr-array.sbatch gives, without the Slurm array.
        reference = self.path("reference.h5")
        ref_env = {k: v for k, v in os.environ.items() if not k.startswith("SLURM_")}
        ref = subprocess.run(
            [BIN, "attribute", "--model", model, "--bed", peaks, "--genome", genome,
             "--length", LENGTH, "--method", METHOD, "--output", reference, *EXTRA],
            env=ref_env, capture_output=True, text=True, timeout=120)
        self.assertEqual(ref.returncode, 0, ref.stderr)

        states = self.slurm.wait_for_jobs([array, merge], timeout=120)
        tasks = {f"{array}_{i}" for i in range(TASKS)}
        self.assertEqual(set(states), tasks | {str(merge)}, states)
        if any(states[t] != "COMPLETED" for t in tasks):
            self.fail(f"array tasks did not all complete: {states}\n{self.logs()}")

        # Each shard: its part of the run, rows equal to the reference's rows.
        for i, (first, end) in enumerate(ranges):
            shard = os.path.join(self.outdir, f"shard_{i}.h5")
            with h5py.File(shard, "r") as f, h5py.File(reference, "r") as r:
                attrs = dict(f.attrs)
                self.assertEqual(attrs.get("shard"), f"{i}/{TASKS}", shard)
                self.assertEqual(int(attrs["shard_first"]), first, shard)
                self.assertEqual(int(attrs["shard_end"]), end, shard)
                self.assertEqual(int(attrs["run_sequences"]), sequences, shard)
                self.assertEqual(attrs["run_id"], r.attrs["run_id"], shard)
                self.assertEqual(f["attributions"].shape[0], end - first, shard)
            diffs = file_differences(reference, shard, rows=(first, end),
                                     root_attributes=False)
            self.assertEqual(diffs, [], f"shard {i}/{TASKS} differs from rows "
                                        f"[{first}, {end}) of the unsharded run")

        # The merged file: bit for bit the unsharded run.
        merged = os.path.join(self.outdir, "attributions.h5")
        if not os.path.exists(merged):
            self.fail(f"no merged file: merge job {states[str(merge)]}\n{self.logs()}")
        with h5py.File(merged, "r") as f:
            self.assertEqual(f["attributions"].shape[0], sequences)
            for key in ("shard", "shard_first", "shard_end", "run_sequences"):
                self.assertNotIn(key, f.attrs)
        self.assertEqual(file_differences(reference, merged), [],
                         "the merged file differs from the unsharded run")

        # The bigWig of the merge job.
        if states[str(merge)] != "COMPLETED":
            logs = self.logs()
            hint = ("`seqattr export-bigwig` is not implemented yet in this binary; "
                    if "not implemented" in logs else "")
            self.fail(f"{hint}merge/export job {states[str(merge)]}\n{logs}")
        bigwig = os.path.join(self.outdir, "attributions.bw")
        self.assertTrue(os.path.exists(bigwig), self.logs())
        with open(genome + ".fai") as f:
            chroms = {line.split("\t")[0]: int(line.split("\t")[1]) for line in f}
        with pyBigWig.open(bigwig) as bw:
            self.assertEqual(bw.chroms(), chroms, f"chromosomes of {bigwig}")
        self.assertLess(time.monotonic() - start, 60)


if __name__ == "__main__":
    unittest.main()
