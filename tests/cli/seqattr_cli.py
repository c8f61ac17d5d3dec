"""Runs build/seqattr the way a user does, for the command-line tests.

ctest sets SEQATTR_BIN, SEQATTR_TEST_DATA, SEQATTR_MODELS and SEQATTR_CONFIGS.
"""
import os
import subprocess
import sys
import tempfile
import unittest

import h5py
import numpy as np

BIN = os.environ["SEQATTR_BIN"]
DATA = os.environ["SEQATTR_TEST_DATA"]
MODELS = os.environ["SEQATTR_MODELS"]
CONFIGS = os.environ["SEQATTR_CONFIGS"]
GOLDEN = ["conv_dense", "mini_basset", "mini_bpnet"]


def data(name):
    return os.path.join(DATA, name)


def fixture(name):
    """A fixture model made by models/make_fixtures.py."""
    return os.path.join(MODELS, "fixtures", name + ".pt")


def expected(case, name):
    """An array of a golden case's .h5 file."""
    with h5py.File(data(case + ".h5"), "r") as f:
        return f[name][()]


def golden_target(case):
    with h5py.File(data(case + ".h5"), "r") as f:
        return int(f.attrs["target"])


def run(*args, check=True, timeout=300):
    """Runs `seqattr ARGS`; returns the CompletedProcess. Raises on failure if check."""
    proc = subprocess.run([BIN, *map(str, args)], capture_output=True, text=True,
                          timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(f"seqattr {' '.join(map(str, args))} failed "
                             f"({proc.returncode}):\n{proc.stderr}")
    return proc


def attribute(model, fasta, method, output, *extra):
    return run("attribute", "--quiet", "--model", model, "--fasta", fasta, "--method", method,
               "--output", output, *extra)


def read(path):
    """Every dataset of an output file as numpy arrays, and its root attributes."""
    with h5py.File(path, "r") as f:
        arrays = {name: f[name][()] for name in f.keys() if isinstance(f[name], h5py.Dataset)}
        return arrays, dict(f.attrs)


class TempDirTest(unittest.TestCase):
    """A test case with a fresh temporary directory in self.tmp."""

    def setUp(self):
        self._tmp = tempfile.TemporaryDirectory(prefix="seqattr-cli-")
        self.tmp = self._tmp.name

    def tearDown(self):
        self._tmp.cleanup()

    def path(self, name):
        return os.path.join(self.tmp, name)

    def write(self, name, content, mode="w"):
        path = self.path(name)
        with open(path, mode) as f:
            f.write(content)
        return path


def expect_cli_error(test, args, *fragments, outputs=()):
    """Runs `seqattr ARGS`, which must fail with exactly one `error: ...` line on stderr, as
    its last line, containing every fragment; none of `outputs` may exist afterwards, nor any
    `.partial` file beside them. Returns the error line."""
    proc = run(*args, check=False)
    test.assertNotEqual(proc.returncode, 0, f"{args} succeeded")
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("error: ")]
    test.assertEqual(len(errors), 1, proc.stderr)
    test.assertEqual(lines[-1], errors[0], "the error must be the last line")
    for fragment in fragments:
        test.assertIn(str(fragment), errors[0])
    for output in outputs:
        test.assertFalse(os.path.exists(output), f"{output} left behind")
        directory = os.path.dirname(output) or "."
        if os.path.isdir(directory):
            test.assertEqual([f for f in os.listdir(directory) if ".partial" in f], [])
    return errors[0]


def max_relative_error(actual, expected):
    """max |actual - expected| over the largest |expected|: the golden tests' measure."""
    return float(np.abs(actual - expected).max() / np.abs(expected).max())


def all_datasets(path):
    """Every dataset of a file, groups included, as {"/g/name": numpy array}."""
    out = {}
    with h5py.File(path, "r") as f:
        f.visititems(lambda name, obj: out.__setitem__(name, obj[()])
                     if isinstance(obj, h5py.Dataset) else None)
    return out


def assert_identical_outputs(test, a, b, ignore_attributes=("command_line",)):
    """Same datasets, dtypes, shapes and bits; same root attributes but the ignored ones."""
    x, y = all_datasets(a), all_datasets(b)
    test.assertEqual(sorted(x), sorted(y))
    for name in x:
        test.assertEqual((x[name].dtype, x[name].shape), (y[name].dtype, y[name].shape), name)
        if x[name].dtype == object:
            test.assertEqual(list(x[name]), list(y[name]), name)
        else:
            test.assertEqual(x[name].tobytes(), y[name].tobytes(), name)
    with h5py.File(a, "r") as fa, h5py.File(b, "r") as fb:
        keep = lambda attrs: {k: v for k, v in attrs.items() if k not in ignore_attributes}
        test.assertEqual(keep(fa.attrs), keep(fb.attrs))


def make_genome(directory, scale=0.1, seed=0):
    """The synthetic genome of models/synthetic/make_genome.py, written into `directory`."""
    subprocess.run([sys.executable, os.path.join(MODELS, "synthetic", "make_genome.py"),
                    "--out-dir", directory, "--scale", str(scale), "--seed", str(seed)],
                   check=True, capture_output=True)
    return os.path.join(directory, "genome.fa"), os.path.join(directory, "peaks.narrowPeak")


def read_fasta(path):
    """{name: sequence} of a plain FASTA file."""
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
