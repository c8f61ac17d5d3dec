#!/usr/bin/env python3
"""Makes a synthetic genome with planted transcription-factor motifs, and peaks over them.

    /usr/bin/python3 models/synthetic/make_genome.py --out-dir OUT [--seed 0] [--scale 1]
                                                     [--bgzip] [--min-motif-score 0]

Numpy only; the same arguments give the same bytes. At --scale 1 (about 3.1 Mb) it runs in
a few seconds; tests use a small --scale (0.05 gives about 160 kb).

OUT/genome.fa         chr1 1.5 Mb, chr2 1.0 Mb, chr3 0.6 Mb, chrM 16.6 kb (times --scale;
                      chrM at least 2 kb, the others at least 20 kb), 60 bases a line.
                      Background of varying GC content (blocks of 35-62% GC); runs of N:
                      telomere-like caps (chr1 both ends, chr2 its start only, chr3 and chrM
                      none) and a few internal gaps; about 12% soft-masked (lowercase):
                      tandem repeats, copies of an interspersed repeat family, plain stretches.
OUT/genome.fa.fai     its samtools faidx index
OUT/peaks.narrowPeak  ENCODE narrowPeak (BED6+4): chrom, start, end, name, score (0-1000),
                      strand '.', signalValue, pValue, qValue, summit offset (-1: none), over
                      the planted motif clusters; sorted by chromosome (FASTA order), then
                      start. Includes peaks within a few hundred bp of a chromosome end (a
                      1-2 kb window around them runs past it), peaks next to an N gap,
                      overlapping pairs, and summits of -1.
OUT/motifs.bed        every planted motif instance, BED6: chrom, start, end, motif name,
                      score (relative PWM score of the sampled sequence, 0-1000), strand;
                      sorted like the peaks. Instances in peaks and isolated ones between.
OUT/genome.fa.gz      with --bgzip: BGZF-compressed copy (the `bgzip` tool when on PATH,
                      which also writes genome.fa.gz.gzi; a built-in BGZF writer otherwise)

Motifs come from models/synthetic/motifs.json (--motifs): each instance is sampled from
the position frequency matrix, on either strand, in uppercase. With --min-motif-score S,
an instance whose score (motifs.bed's, 0-1000) is below S is drawn again until it is not:
planted sites are then strong ones (S = 0, the default, never redraws, and gives the same
bytes as before the option existed).
"""
import argparse
import json
import os
import shutil
import struct
import subprocess
import zlib

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
BASES = np.frombuffer(b"ACGT", dtype=np.uint8)
COMPLEMENT = np.zeros(256, dtype=np.uint8)
for a, b in zip(b"ACGTNacgtn", b"TGCANtgcan"):
    COMPLEMENT[a] = b

# name, length at scale 1, N cap at the start, N cap at the end, internal N gaps
CHROMOSOMES = [
    ("chr1", 1_500_000, True, True, 3),
    ("chr2", 1_000_000, True, False, 2),
    ("chr3", 600_000, False, False, 1),
    ("chrM", 16_569, False, False, 0),
]
CAP = 10_000          # telomere-like N run, at scale 1
PEAK_SPACING = 10_000  # about one motif cluster (peak) per this many bp
ISOLATED_SPACING = 20_000  # about one isolated motif instance per this many bp
LINE = 60


def load_motifs(path, min_score=0):
    """{name: PFM and its log-odds}; sample_motif redraws sites that score below min_score."""
    with open(path) as f:
        motifs = json.load(f)["motifs"]
    out = {}
    for name, m in motifs.items():
        pfm = np.asarray(m["pfm"], dtype=np.float64)
        assert pfm.ndim == 2 and pfm.shape[1] == 4, name
        pfm = pfm / pfm.sum(axis=1, keepdims=True)
        logodds = np.log2(np.maximum(pfm, 1e-4) / 0.25)
        out[name] = dict(pfm=pfm, cum=np.cumsum(pfm, axis=1), logodds=logodds,
                         min=logodds.min(axis=1).sum(), max=logodds.max(axis=1).sum(),
                         min_score=min_score)
    return out


def sample_motif(rng, motif):
    """A sequence drawn from the PFM (forward strand, uppercase ASCII) and its 0-1000 score,
    drawn again while the score is below motif["min_score"]."""
    while True:
        u = rng.random(len(motif["pfm"]))
        idx = np.minimum((u[:, None] > motif["cum"]).sum(axis=1), 3)
        score = motif["logodds"][np.arange(len(idx)), idx].sum()
        rel = int(round(1000 * (score - motif["min"]) / (motif["max"] - motif["min"])))
        if rel >= motif.get("min_score", 0):
            return BASES[idx], rel


def reverse_complement(seq):
    return COMPLEMENT[seq[::-1]]


def background(rng, length):
    """Uppercase ACGT with GC content constant over blocks of 2-60 kb, 35-62% GC."""
    gc = np.empty(length)
    pos = 0
    while pos < length:
        block = int(rng.integers(2_000, 60_000))
        gc[pos:pos + block] = rng.uniform(0.35, 0.62)
        pos += block
    u = rng.random(length)
    half = gc / 2
    seq = np.where(u < half, ord("C"),
                   np.where(u < gc, ord("G"),
                            np.where(u < gc + (1 - gc) / 2, ord("A"), ord("T"))))
    return seq.astype(np.uint8)


def soft_mask(rng, seq, free, repeat_family, fraction=0.12):
    """Lowercases about `fraction` of the free sequence: tandem repeats, mutated copies of an
    interspersed repeat family, and plain stretches."""
    length = len(seq)
    target = int(fraction * length)
    masked = 0
    tries = 0
    while masked < target and tries < 10 * max(1, target // 300):
        tries += 1
        kind = rng.integers(3)
        size = int(rng.integers(60, 400)) if kind == 0 else (
            len(repeat_family) if kind == 1 else int(rng.integers(100, 3000)))
        size = min(size, max(20, length // 20))
        start = int(rng.integers(0, max(1, length - size)))
        end = min(length, start + size)
        if not free[start:end].all():
            continue
        if kind == 0:  # microsatellite: (unit)n with a few point changes
            unit = BASES[rng.integers(0, 4, int(rng.integers(1, 7)))]
            piece = np.resize(unit, end - start)
        elif kind == 1:  # copy of the repeat family, ~10% diverged, either strand
            piece = repeat_family[:end - start].copy()
            if rng.random() < 0.5:
                piece = reverse_complement(piece)
        else:
            piece = seq[start:end].copy()
        if kind != 2:
            mutate = rng.random(len(piece)) < (0.03 if kind == 0 else 0.10)
            piece[mutate] = BASES[rng.integers(0, 4, int(mutate.sum()))]
        seq[start:end] = piece + 32  # lowercase
        free[start:end] = False
        masked += end - start
    return seq


def place_n(rng, seq, cap_start, cap_end, gaps, scale):
    """Writes N runs; returns them as (start, end) pairs."""
    length = len(seq)
    runs = []
    cap = max(200, int(CAP * scale))
    if cap_start:
        runs.append((0, cap))
    if cap_end:
        runs.append((length - cap, length))
    for _ in range(gaps):
        for _ in range(100):
            size = max(100, int(rng.integers(1_000, 50_000) * scale))
            start = int(rng.integers(length // 10, length - length // 10 - size))
            if all(start + size + 5_000 * scale < s or start > e + 5_000 * scale
                   for s, e in runs):
                runs.append((start, start + size))
                break
    for s, e in runs:
        seq[s:e] = ord("N")
    return sorted(runs)


class Chromosome:
    def __init__(self, name, seq):
        self.name = name
        self.seq = seq
        self.free = seq != ord("N")  # where motifs may go: not N, not already planted
        self.motifs = []  # (start, end, name, score, strand)
        self.peaks = []   # (start, end, summit offset, number of motifs)

    def plant(self, rng, motifs, name, lo, hi):
        """Plants one instance of motif `name` starting in [lo, hi); False if no room."""
        motif = motifs[name]
        width = len(motif["pfm"])
        lo, hi = max(0, lo), min(len(self.seq) - width, hi)
        for _ in range(20):
            if hi <= lo:
                return False
            start = int(rng.integers(lo, hi))
            if self.free[start:start + width].all():
                site, score = sample_motif(rng, motif)
                strand = "+" if rng.random() < 0.5 else "-"
                if strand == "-":
                    site = reverse_complement(site)
                self.seq[start:start + width] = site
                self.free[max(0, start - 2):start + width + 2] = False
                self.motifs.append((start, start + width, name, score, strand))
                return True
        return False

    def cluster(self, rng, motifs, center, half_width):
        """A peak over 2-5 motifs planted within half_width of center."""
        names = sorted(motifs)
        theme = names[int(rng.integers(len(names)))]
        planted = 0
        for _ in range(int(rng.integers(2, 6))):
            name = theme if rng.random() < 0.5 else names[int(rng.integers(len(names)))]
            width = len(motifs[name]["pfm"])
            planted += self.plant(rng, motifs, name, center - half_width,
                                  center + half_width - width)
        if planted == 0:
            return None
        peak_half = half_width + int(rng.integers(20, 150))
        start, end = max(0, center - peak_half), min(len(self.seq), center + peak_half)
        peak = (start, end, center - start, planted)
        self.peaks.append(peak)
        return peak

    def overlapping_peak(self, rng, peak):
        """A second peak of the same width, shifted by 15-50% of it, that still holds one
        of the first one's motifs."""
        start, end, summit, planted = peak
        width = end - start
        inside = [m for m in self.motifs if start <= m[0] and m[1] <= end]
        for _ in range(20):
            shift = int(width * rng.uniform(0.15, 0.5)) * (1 if rng.random() < 0.5 else -1)
            s = max(0, min(len(self.seq) - width, start + shift))
            if s != start and any(s <= m[0] and m[1] <= s + width for m in inside):
                self.peaks.append((s, s + width, int(rng.integers(width // 4, 3 * width // 4)),
                                   planted))
                return

    def window_free(self, center, flank):
        lo, hi = center - flank, center + flank
        return lo >= 0 and hi <= len(self.seq) and self.free[lo:hi].all()


def make_chromosome(rng, motifs, spec, scale, repeat_family):
    name, length, cap_start, cap_end, gaps = spec
    length = max(2_000 if name == "chrM" else 20_000, int(round(length * scale)))
    seq = background(rng, length)
    runs = place_n(rng, seq, cap_start, cap_end, gaps, scale)
    seq = soft_mask(rng, seq, seq != ord("N"), repeat_family)
    chrom = Chromosome(name, seq)

    # Peaks at the chromosome's ends where no N cap is there: a 1-2 kb window runs past.
    if not cap_start:
        chrom.cluster(rng, motifs, int(rng.integers(200, 450)), 150)
    if not cap_end:
        chrom.cluster(rng, motifs, length - int(rng.integers(250, 600)), 150)
    # A peak next to each internal N gap: its window holds Ns.
    for s, e in runs:
        if 0 < s and e < length:
            chrom.cluster(rng, motifs, e + int(rng.integers(250, 500)), 150)

    # Motif clusters (peaks) spread over the rest, kept 3 kb apart and away from N.
    n_peaks = max(1, length // PEAK_SPACING)
    centers = [p[0] + p[2] for p in chrom.peaks]
    margin = min(1_000, length // 5)
    regular = []
    for _ in range(n_peaks):
        for _ in range(50):
            center = int(rng.integers(margin, length - margin))
            if (chrom.window_free(center, margin)
                    and all(abs(center - c) > 3_000 for c in centers)):
                break
        else:
            continue
        half = int(rng.integers(60, 250))
        peak = chrom.cluster(rng, motifs, center, half)
        if peak is None:
            continue
        # An overlapping second peak: over the first cluster, and 8% of the others.
        if rng.random() < 0.08 or not regular:
            chrom.overlapping_peak(rng, peak)
        centers.append(center)
        regular.append(center)

    # Isolated instances between peaks, at least 2 kb from any peak centre.
    for _ in range(max(1, length // ISOLATED_SPACING)):
        name_ = sorted(motifs)[int(rng.integers(len(motifs)))]
        for _ in range(50):
            pos = int(rng.integers(0, length - 50))
            if all(abs(pos - c) > 2_000 for c in centers):
                if chrom.plant(rng, motifs, name_, pos, pos + 1):
                    break
    return chrom


def peak_rows(rng, chrom, counter):
    rows = []
    for start, end, summit, planted in sorted(chrom.peaks):
        counter[0] += 1
        signal = round(float(rng.gamma(2.0 + planted, 3.0)), 5)
        pvalue = round(float(signal * rng.uniform(1.5, 3.0)), 5)
        qvalue = round(float(max(0.0, pvalue - rng.uniform(0.5, 2.0))), 5)
        score = min(1000, int(round(signal * 40)))
        if counter[0] % 15 == 3:  # about 7% of peaks, spread over the chromosomes
            summit = -1
        rows.append(f"{chrom.name}\t{start}\t{end}\tpeak_{counter[0]:05d}\t{score}\t.\t"
                    f"{signal}\t{pvalue}\t{qvalue}\t{summit}\n")
    return rows


def write_fasta(path, chroms):
    """Writes 60-column FASTA and its .fai."""
    fai = []
    offset = 0
    with open(path, "wb") as f:
        for chrom in chroms:
            header = f">{chrom.name}\n".encode()
            f.write(header)
            offset += len(header)
            fai.append(f"{chrom.name}\t{len(chrom.seq)}\t{offset}\t{LINE}\t{LINE + 1}\n")
            seq = chrom.seq.tobytes()
            body = b"".join(seq[i:i + LINE] + b"\n" for i in range(0, len(seq), LINE))
            f.write(body)
            offset += len(body)
    with open(path + ".fai", "w") as f:
        f.writelines(fai)


def bgzf_compress(src, dst):
    """BGZF (blocked gzip, as bgzip writes it): gzip members of at most 64 KiB of input
    with the BC extra field, then the empty end-of-file block."""
    eof = bytes.fromhex("1f8b08040000000000ff0600424302001b0003000000000000000000")
    with open(src, "rb") as fin, open(dst, "wb") as fout:
        while True:
            data = fin.read(0xff00)
            if not data:
                break
            comp = zlib.compressobj(6, zlib.DEFLATED, -15)
            deflated = comp.compress(data) + comp.flush()
            bsize = len(deflated) + 25  # total block size - 1
            fout.write(struct.pack("<4BI2BH2BHH", 0x1f, 0x8b, 8, 4, 0, 0, 0xff, 6,
                                   ord("B"), ord("C"), 2, bsize))
            fout.write(deflated)
            fout.write(struct.pack("<II", zlib.crc32(data) & 0xffffffff, len(data)))
        fout.write(eof)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out-dir", required=True)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--scale", type=float, default=1.0,
                        help="multiplies every chromosome's length (default 1: about 3.1 Mb)")
    parser.add_argument("--motifs", default=os.path.join(HERE, "motifs.json"))
    parser.add_argument("--bgzip", action="store_true",
                        help="also write genome.fa.gz (BGZF)")
    parser.add_argument("--min-motif-score", type=int, default=0,
                        help="redraw planted instances scoring below this (0-950; default 0: "
                             "every draw is kept)")
    args = parser.parse_args()
    if args.scale <= 0:
        parser.error("--scale must be positive")
    if not 0 <= args.min_motif_score <= 950:
        parser.error("--min-motif-score must be in 0..950")

    motifs = load_motifs(args.motifs, args.min_motif_score)
    os.makedirs(args.out_dir, exist_ok=True)
    root = np.random.SeedSequence(args.seed)
    family_rng = np.random.default_rng(root.spawn(1)[0])
    repeat_family = BASES[family_rng.integers(0, 4, 300)]
    chroms = []
    for i, spec in enumerate(CHROMOSOMES):
        rng = np.random.default_rng([args.seed, i, int(round(args.scale * 1e6))])
        chroms.append(make_chromosome(rng, motifs, spec, args.scale, repeat_family))

    fasta = os.path.join(args.out_dir, "genome.fa")
    write_fasta(fasta, chroms)
    counter = [0]
    with open(os.path.join(args.out_dir, "peaks.narrowPeak"), "w") as f:
        for i, chrom in enumerate(chroms):
            f.writelines(peak_rows(np.random.default_rng([args.seed, i, 7]), chrom, counter))
    with open(os.path.join(args.out_dir, "motifs.bed"), "w") as f:
        for chrom in chroms:
            for start, end, name, score, strand in sorted(chrom.motifs):
                f.write(f"{chrom.name}\t{start}\t{end}\t{name}\t{score}\t{strand}\n")

    if args.bgzip:
        gz = fasta + ".gz"
        tool = shutil.which("bgzip")
        if tool:
            with open(gz, "wb") as out:
                subprocess.run([tool, "-c", "-i", "-I", gz + ".gzi", fasta], stdout=out,
                               check=True)
        else:
            bgzf_compress(fasta, gz)

    total = sum(len(c.seq) for c in chroms)
    print(f"make_genome: {len(chroms)} chromosomes, {total} bp, {counter[0]} peaks, "
          f"{sum(len(c.motifs) for c in chroms)} motif instances -> {args.out_dir}")


if __name__ == "__main__":
    main()
