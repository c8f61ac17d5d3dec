#!/usr/bin/env python3
"""The best speed-up fast ISM can reach over naive ISM, counted in FLOPs, for conv-pool-dense
(Basset) shapes.

    /usr/bin/python3 bench/ism_flop_bound.py

Naive ISM runs the whole model for each mutant. Fast ISM recomputes, per layer, only what a
single-base change can reach, and on a CPU, where convolution time follows FLOPs, the ratio of
the two counts bounds the speed-up (real runs sit below it: small products use the cores less
well, and the pointwise work between them costs time too). Two ways to count a convolution of
a change confined to a window of W input positions:
  - sliding: every output the window reaches (W + k - 1 of them), each reading k inputs
    (C_in x k multiply-adds an output channel), the zero padding around the window included.
    This is fastISM's way, and seqattr's before 2026-11-26.
  - scattered: each of the W changed input columns sent through all k taps (one product of
    the W columns with the (C_in, k x C_out) weight), then the k shifted results summed
    (src/methods/ism/rules_windowed.cpp, scatter_conv). W / (W + k - 1) of the sliding count.
The first dense layer after the last pool is counted in full (as fastISM does) and, in the
scattered column, on the window's positions only (rule_windowed_linear).
Averaged over every position of the sequence (windows are clipped at the edges and vary with
the pooling phase).

Shapes: models/fixtures/basset_600.pt (seqattr's Basset-shaped fixture) and Basset itself
(Kelley et al. 2016: 300x19, 200x11, 200x7 convolutions, pools 3/4/4, two 1000-unit layers).
"""


def conv(c_in, c_out, k):
    return ("conv", c_in, c_out, k)


def pool(k):
    return ("pool", k)


def dense(n_in, n_out):
    return ("dense", n_in, n_out)


SHAPES = {
    "basset_600 fixture": (600, [conv(4, 128, 19), pool(3), conv(128, 128, 11), pool(4),
                                 conv(128, 128, 7), pool(4), dense(128 * 12, 256),
                                 dense(256, 8)]),
    "Basset (Kelley 2016)": (600, [conv(4, 300, 19), pool(3), conv(300, 200, 11), pool(4),
                                   conv(200, 200, 7), pool(4), dense(200 * 12, 1000),
                                   dense(1000, 1000), dense(1000, 164)]),
}


def flops(layers, length, position=None, scattered=False):
    """Multiply-adds x 2 of one forward; with `position`, only of the outputs a change at
    that input position reaches ('same' convolutions, pools with stride = kernel)."""
    total = 0
    lo, hi = (0, length) if position is None else (position, position + 1)
    first_dense = True
    for layer in layers:
        if layer[0] == "conv":
            _, c_in, c_out, k = layer
            half = k // 2
            changed_inputs = hi - lo
            lo, hi = max(0, lo - half), min(length, hi + half)
            columns = changed_inputs if scattered and position is not None else hi - lo
            total += 2 * c_in * c_out * k * columns
        elif layer[0] == "pool":
            k = layer[1]
            length //= k
            lo, hi = lo // k, min(length, -(-hi // k))
        else:
            _, n_in, n_out = layer
            if first_dense and scattered and position is not None:
                n_in = n_in // length * (hi - lo)  # the window's positions, all channels
            first_dense = False
            total += 2 * n_in * n_out
    return total


def main():
    print("| shape | full forward (MFLOP) | fast ISM a mutant, sliding (MFLOP) | bound "
          "| scattered (MFLOP) | bound |")
    print("| --- | --- | --- | --- | --- | --- |")
    for name, (length, layers) in SHAPES.items():
        full = flops(layers, length)
        sliding = sum(flops(layers, length, p) for p in range(length)) / length
        scattered = sum(flops(layers, length, p, True) for p in range(length)) / length
        print(f"| {name} | {full / 1e6:.1f} | {sliding / 1e6:.2f} | {full / sliding:.1f}x "
              f"| {scattered / 1e6:.2f} | {full / scattered:.1f}x |")


if __name__ == "__main__":
    main()
