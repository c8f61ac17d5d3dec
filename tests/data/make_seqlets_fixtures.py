#!/usr/bin/env python3
"""Makes tests/data/seqlets/: attributions with planted stretches of both signs, and the
seqlets tangermeme's recursive_seqlets calls on them (tests/cli/test_seqlets.py).

Peer (the venv of bench/peers.py, with tangermeme's seqlet dependencies):
    /tmp/tvenv/bin/pip install --no-deps tangermeme==1.4.0; /tmp/tvenv/bin/pip install scikit-learn numba
    /tmp/tvenv/bin/python tests/data/make_seqlets_fixtures.py

seqlets.h5, laid out as a seqattr output (FASTA input): /one_hot (40, 4, 300) uint8, /names,
/attributions (40, 4, 300) float32 holding each position's value on its observed base (so the
channel sum is the value), and under expected/: positive (K, 5) and negative (K, 5) float64
rows (example_idx, start, end, attribution, p-value) from recursive_seqlets(X) and
recursive_seqlets(-X) with its defaults (threshold 0.01, lengths 4 to 25, no flank, 1000 bins).
"""
import os

import h5py
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROWS, LENGTH = 40, 300


def main():
    from tangermeme.seqlet import recursive_seqlets
    rng = np.random.default_rng(3)
    x = rng.laplace(0, 0.02, (ROWS, LENGTH)).astype(np.float32)
    for i in range(ROWS):
        for _ in range(rng.integers(1, 4)):
            width = int(rng.integers(5, 20))
            start = int(rng.integers(0, LENGTH - width))
            sign = 1 if rng.random() < 0.7 else -1
            x[i, start:start + width] += sign * rng.uniform(0.05, 0.3, width).astype(np.float32)
    bases = rng.integers(0, 4, (ROWS, LENGTH))
    one_hot = np.eye(4, dtype=np.uint8)[bases].transpose(0, 2, 1)
    attributions = one_hot.astype(np.float32) * x[:, None, :]
    positive = recursive_seqlets(x).to_numpy(dtype=np.float64)
    negative = recursive_seqlets(-x).to_numpy(dtype=np.float64)
    os.makedirs(os.path.join(HERE, "seqlets"), exist_ok=True)
    with h5py.File(os.path.join(HERE, "seqlets", "seqlets.h5"), "w") as f:
        f["one_hot"] = one_hot
        f["names"] = np.array([f"seq{i}" for i in range(ROWS)], dtype=h5py.string_dtype())
        f.create_dataset("attributions", data=attributions, compression="gzip", shuffle=True)
        f["expected/positive"] = positive
        f["expected/negative"] = negative
    print(len(positive), "positive,", len(negative), "negative seqlets")


if __name__ == "__main__":
    main()
