#!/usr/bin/env python3
"""The best speed-up fast ISM can reach over naive ISM, counted in FLOPs, for conv-pool-dense
(Basset) shapes.

    /usr/bin/python3 bench/ism_flop_bound.py

Naive ISM runs the whole model for each mutant. Fast ISM recomputes, per layer, only the
outputs a single-base change can reach (the receptive window, as src/methods/fast_ism does),
and runs the dense head in full. On a CPU, where convolution time follows FLOPs, the ratio of
the two counts bounds the speed-up; real runs sit below it because small windowed
convolutions use the cores less well than full ones. Averaged over every position of the
sequence (windows are clipped at the edges and vary with the pooling phase).

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


def flops(layers, length, position=None):
    """Multiply-adds x 2 of one forward; with `position`, only of the outputs a change at
    that input position reaches ('same' convolutions, pools with stride = kernel)."""
    total = 0
    lo, hi = (0, length) if position is None else (position, position + 1)
    for layer in layers:
        if layer[0] == "conv":
            _, c_in, c_out, k = layer
            half = k // 2
            lo, hi = max(0, lo - half), min(length, hi + half)
            total += 2 * c_in * c_out * k * (hi - lo)
        elif layer[0] == "pool":
            k = layer[1]
            length //= k
            lo, hi = lo // k, min(length, -(-hi // k))
        else:
            _, n_in, n_out = layer
            total += 2 * n_in * n_out
    return total


def main():
    print("| shape | full forward (MFLOP) | fast ISM per mutant (MFLOP, mean) | bound |")
    print("| --- | --- | --- | --- |")
    for name, (length, layers) in SHAPES.items():
        full = flops(layers, length)
        fast = sum(flops(layers, length, p) for p in range(length)) / length
        print(f"| {name} | {full / 1e6:.1f} | {fast / 1e6:.2f} | {full / fast:.1f}x |")


if __name__ == "__main__":
    main()
