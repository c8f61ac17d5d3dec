"""`seqattr seqlets`: tangermeme's recursive seqlets, streamed over an output file.

Fixture: tests/data/make_seqlets_fixtures.py (tangermeme 1.4 recursive_seqlets on attributions
with planted stretches of both signs; tests/data/seqlets/)."""
import os

import h5py
import numpy as np

from seqattr_cli import DATA, TempDirTest, expect_cli_error, run

FIXTURE = os.path.join(DATA, "seqlets", "seqlets.h5")


def read_bed(path):
    with open(path) as f:
        lines = f.read().splitlines()
    return lines[0], [line.split("\t") for line in lines[1:]]


class Seqlets(TempDirTest):
    def test_same_seqlets_as_tangermeme(self):
        out = self.path("seqlets.bed")
        run("seqlets", FIXTURE, "--output", out)
        header, rows = read_bed(out)
        self.assertEqual(header, "#chrom\tstart\tend\tname\tscore\tstrand\tp_value\t"
                                 "motif_p_value\tmotif_q_value\tsequence")
        with h5py.File(FIXTURE, "r") as f:
            expected = {"+": f["expected/positive"][()], "-": f["expected/negative"][()]}
            one_hot = f["one_hot"][()]
        for sign, peer in expected.items():
            ours = sorted((int(r[0][3:]), int(r[1]), int(r[2]), float(r[4]), float(r[6]))
                          for r in rows if (float(r[4]) < 0) == (sign == "-"))
            theirs = sorted((int(e[0]), int(e[1]), int(e[2]), (1 if sign == "+" else -1) * e[3], e[4])
                            for e in peer)
            self.assertEqual([o[:3] for o in ours], [t[:3] for t in theirs], sign)
            np.testing.assert_allclose([o[3] for o in ours], [t[3] for t in theirs], rtol=1e-5)
            np.testing.assert_allclose([o[4] for o in ours], [t[4] for t in theirs], rtol=1e-5)
        row = rows[0]
        i, start, end = int(row[0][3:]), int(row[1]), int(row[2])
        letters = "".join("ACGT"[one_hot[i, :, j].argmax()] for j in range(start, end))
        self.assertEqual(row[9], letters)

    def test_errors(self):
        out = self.path("s.bed")
        expect_cli_error(self, ["seqlets", FIXTURE, "--output", out, "--max-length", "2"],
                         "--max-length", outputs=[out])
        expect_cli_error(self, ["seqlets", FIXTURE, "--output", out, "--attributions", "nope"],
                         "no 'nope' dataset", outputs=[out])
        expect_cli_error(self, ["seqlets", self.write("x.h5", "not hdf5"), "--output", out],
                         "cannot open as HDF5", outputs=[out])
