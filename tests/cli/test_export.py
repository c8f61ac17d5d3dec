"""seqattr export-bigwig and export-modisco, on output files made here with h5py.

The inputs follow the output contract: /attributions (projected = hypothetical x one-hot),
/hypothetical_attributions, /one_hot, /names and, for genomic runs, /regions. The expected
track is computed by brute force: every base looks at every window covering it and takes
the one whose centre is nearest, a tie going to the smaller start, then to the earlier row.
"""
import os
from xml.etree import ElementTree
import zipfile

import h5py
import numpy as np
import pyBigWig

from seqattr_cli import TempDirTest, expect_cli_error, run

L = 40
# Chromosome-sizes order (not sorted by name): the track must keep it.
SIZES = [("chrB", 120), ("chrA", 300), ("chrD", 90), ("chrC", 50)]
# (chrom, start) of each window, all L wide. chrA: an overlapping cluster with a repeated
# start (27), windows that abut (100, 140), a centre tie (180, 183: a + b odd), a gap, and
# windows hanging over both ends; chrB: over both ends; chrD: apart; chrC: none.
REGIONS = [("chrA", s) for s in (10, 25, 27, 27, 60, 100, 140, 180, 183, 230, -15, 280)] + \
          [("chrB", s) for s in (-5, 50, 100)] + \
          [("chrD", s) for s in (0, 45, 49)]


def make_input(path, regions, length, dtype, seed=0, with_regions=True, chunk_rows=4,
               sizes=SIZES):
    """Writes a genomic seqattr output for `regions` (file order as given)."""
    rng = np.random.default_rng(seed)
    n = len(regions)
    one_hot = np.zeros((n, 4, length), np.uint8)
    base = rng.integers(0, 4, (n, length))
    one_hot[np.arange(n)[:, None], base, np.arange(length)[None, :]] = 1
    one_hot *= (rng.random((n, 1, length)) >= 0.05).astype(np.uint8)  # N: all-zero columns
    sizes = dict(sizes)
    for i, (chrom, start) in enumerate(regions):  # bases off the chromosome are N
        pos = start + np.arange(length)
        one_hot[i, :, (pos < 0) | (pos >= sizes.get(chrom, 1 << 40))] = 0
    hypothetical = rng.normal(size=(n, 4, length)).astype(dtype)
    projected = (hypothetical * one_hot).astype(dtype)
    with h5py.File(path, "w") as f:
        chunks = (min(chunk_rows, n), 4, length)
        for name, data in [("attributions", projected), ("hypothetical_attributions", hypothetical),
                           ("one_hot", one_hot)]:
            f.create_dataset(name, data=data, chunks=chunks, compression="gzip",
                             compression_opts=1, shuffle=True)
        text = h5py.string_dtype()
        f.create_dataset("names", data=[f"r{i}" for i in range(n)], dtype=text)
        if with_regions:
            g = f.create_group("regions")
            starts = np.array([s for _, s in regions], np.int64)
            g.create_dataset("chrom", data=[c for c, _ in regions], dtype=text)
            g.create_dataset("start", data=starts)
            g.create_dataset("end", data=starts + length)
            g.create_dataset("name", data=[f"r{i}" for i in range(n)], dtype=text)
            g.create_dataset("summit", data=np.full(n, -1, np.int64))
    return projected, hypothetical, one_hot


def expected_track(regions, projected, length, sizes):
    """chrom -> per-base float32 values (nan where no window covers), by the midpoint rule."""
    per_base = projected.astype(np.float32).sum(axis=1)
    track = {}
    for chrom, size in sizes:
        values = np.full(size, np.nan, np.float32)
        best = np.full(size, np.iinfo(np.int64).max)
        # Increasing (start, row) and a strict comparison: ties keep the earlier window.
        for row in sorted((i for i, r in enumerate(regions) if r[0] == chrom),
                          key=lambda i: (regions[i][1], i)):
            start = regions[row][1]
            lo, hi = max(start, 0), min(start + length, size)
            if lo >= hi:
                continue
            x = np.arange(lo, hi)
            distance = np.abs(2 * x + 1 - 2 * start - length)  # twice |base - centre|
            better = distance < best[lo:hi]
            best[lo:hi][better] = distance[better]
            values[lo:hi][better] = per_base[row, x - start][better]
        track[chrom] = values
    return track


def read_stats(stdout):
    return {key: float(value) for key, value in (line.split("\t") for line in stdout.splitlines())}


class ExportTest(TempDirTest):
    def sizes_file(self, sizes=SIZES):
        return self.write("chrom.sizes", "".join(f"{c}\t{n}\n" for c, n in sizes))

    def no_partials(self, directory):
        self.assertEqual([f for f in os.listdir(directory) if ".partial" in f], [])

    def expect_error(self, args, *fragments, outputs=()):
        error = expect_cli_error(self, args, *fragments, outputs=outputs)
        self.no_partials(self.tmp)
        return error


class ExportBigWig(ExportTest):
    def check_track(self, bw_path, track, sizes=SIZES):
        with pyBigWig.open(bw_path) as bw:
            self.assertEqual(list(bw.chroms().items()), list(sizes))
            for chrom, size in sizes:
                want = track[chrom]
                got = np.array(bw.values(chrom, 0, size), np.float64)
                np.testing.assert_array_equal(got, want.astype(np.float64), err_msg=chrom)
                # Every covered base is its own entry; uncovered bases have none.
                intervals = bw.intervals(chrom) or ()
                covered = np.zeros(size, bool)
                for start, end, _ in intervals:
                    covered[start:end] = True
                np.testing.assert_array_equal(covered, ~np.isnan(want), err_msg=chrom)

    def test_track_matches_the_midpoint_rule(self):
        for dtype in (np.float32, np.float16):
            with self.subTest(dtype=dtype.__name__):
                # File order is not genomic order.
                order = np.random.default_rng(1).permutation(len(REGIONS))
                regions = [REGIONS[i] for i in order]
                h5 = self.path(f"in_{dtype.__name__}.h5")
                projected, _, _ = make_input(h5, regions, L, dtype)
                out = self.path(f"track_{dtype.__name__}.bw")
                run("export-bigwig", h5, "--output", out, "--chrom-sizes", self.sizes_file())
                track = expected_track(regions, projected, L, SIZES)
                self.check_track(out, track)
                self.no_partials(self.tmp)

    def test_rules_by_hand(self):
        # L = 40: centres at 180 + 20 and 183 + 20; base 201 (at 201.5) is 1.5 from both.
        track = expected_track(REGIONS, np.ones((len(REGIONS), 4, L), np.float32) *
                               np.arange(len(REGIONS))[:, None, None], L, SIZES)
        chr_a = track["chrA"]
        row = {start: REGIONS.index(("chrA", start)) * 4.0 for start in (180, 183, 27, -15, 280)}
        self.assertEqual(chr_a[201], row[180])  # the tie goes to the left window
        self.assertEqual(chr_a[202], row[183])
        self.assertEqual(chr_a[50], row[27])  # a repeated start: the first row
        self.assertEqual(chr_a[0], row[-15])
        self.assertEqual(chr_a[299], row[280])
        self.assertTrue(np.isnan(track["chrC"]).all())

    def test_stats(self):
        h5 = self.path("in.h5")
        projected, _, _ = make_input(h5, REGIONS, L, np.float32, seed=3)
        out = self.path("track.bw")
        proc = run("export-bigwig", h5, "-o", out, "--chrom-sizes", self.sizes_file(), "--stats")
        stats = read_stats(proc.stdout)
        track = expected_track(REGIONS, projected, L, SIZES)
        values = np.concatenate([v[~np.isnan(v)] for v in track.values()]).astype(np.float64)
        self.assertEqual(stats["bases"], values.size)
        # Written values are float32, printed with 9 digits: they read back exactly.
        self.assertEqual(np.float32(stats["min"]), np.float32(values.min()))
        self.assertEqual(np.float32(stats["max"]), np.float32(values.max()))
        self.assertAlmostEqual(stats["mean"], values.mean(), delta=1e-7 * np.abs(values).max())
        for q in (1, 5, 25, 50, 75, 95, 99):
            # Exact order statistics, interpolated like numpy; printed with 9 digits.
            want = np.quantile(values, q / 100)
            self.assertAlmostEqual(stats[f"q{q}"], want, delta=1e-8 * max(1, abs(want)),
                                   msg=f"q{q}")
        self.check_track(out, track)

    def test_zoom_levels(self):
        h5 = self.path("in.h5")
        projected, _, _ = make_input(h5, REGIONS, L, np.float32)
        track = expected_track(REGIONS, projected, L, SIZES)
        for levels, expect_zoom in (("0", False), ("10", True)):
            with self.subTest(levels=levels):
                out = self.path(f"track{levels}.bw")
                run("export-bigwig", h5, "-o", out, "--chrom-sizes", self.sizes_file(),
                    "--zoom-levels", levels)
                with pyBigWig.open(out) as bw:
                    self.assertEqual(bw.header()["nLevels"] > 0, expect_zoom)
                self.check_track(out, track)

    def test_genome_fai_gives_the_sizes(self):
        fasta = self.write("genome.fa", "".join(f">{c}\n{'ACGT' * (n // 4)}{'A' * (n % 4)}\n"
                                                 for c, n in SIZES))
        h5 = self.path("in.h5")
        projected, _, _ = make_input(h5, REGIONS, L, np.float32)
        out = self.path("track.bw")
        run("export-bigwig", h5, "-o", out, "--genome", fasta)
        self.assertTrue(os.path.exists(fasta + ".fai"), "the .fai was not built")
        self.check_track(out, expected_track(REGIONS, projected, L, SIZES))

    def test_igv_session(self):
        fasta = self.write("genome.fa", "".join(f">{c}\n{'ACGT' * (n // 4)}{'A' * (n % 4)}\n"
                                                 for c, n in SIZES))
        h5 = self.path("in.h5")
        projected, _, _ = make_input(h5, REGIONS, L, np.float32, seed=3)
        os.mkdir(self.path("igv"))
        out, session = self.path("track.bw"), self.path("igv/session.xml")
        seqlets = self.write("seqlets.bed", "chrA\t10\t20\tGATA\t1.5\t+\n")
        proc = run("export-bigwig", h5, "-o", out, "--genome", fasta, "--igv-session", session,
                   "--seqlets", seqlets)
        self.assertEqual(proc.stdout, "", "--stats was not asked for")
        root = ElementTree.parse(session).getroot()
        here = os.path.dirname(session)
        # Paths relative to the session's directory, as IGV resolves them.
        self.assertEqual(os.path.realpath(os.path.join(here, root.get("genome"))), os.path.realpath(fasta))
        resources = [os.path.realpath(os.path.join(here, r.get("path"))) for r in root.iter("Resource")]
        self.assertEqual(resources, [os.path.realpath(out), os.path.realpath(seqlets)])
        first = sorted(REGIONS, key=lambda r: ([c for c, _ in SIZES].index(r[0]), r[1]))[0]
        self.assertEqual(root.get("locus"), f"{first[0]}:{first[1] + 1}-{first[1] + L}")
        # The track's range: its 1st and 99th percentiles, not autoscaled.
        track = expected_track(REGIONS, projected, L, SIZES)
        values = np.concatenate([v[~np.isnan(v)] for v in track.values()]).astype(np.float64)
        data_track = next(t for t in root.iter("Track") if t.get("clazz").endswith("DataSourceTrack"))
        self.assertEqual(data_track.get("autoScale"), "false")
        data_range = data_track.find("DataRange")
        self.assertAlmostEqual(float(data_range.get("minimum")), np.quantile(values, 0.01), delta=1e-6)
        self.assertAlmostEqual(float(data_range.get("maximum")), np.quantile(values, 0.99), delta=1e-6)
        self.assertEqual(sum(1 for t in root.iter("Track")), 2)
        # Without --genome the session has no genome to name: an error, nothing written.
        self.expect_error(["export-bigwig", h5, "-o", self.path("t2.bw"), "--chrom-sizes",
                           self.sizes_file(), "--igv-session", self.path("s2.xml")],
                          "--igv-session", "--genome", outputs=[self.path("t2.bw"), self.path("s2.xml")])

    def test_many_blocks_of_long_windows(self):
        # 32 MiB blocks hold 256 rows of 8192 bp: 300 tiles take two blocks.
        length, step = 8192, 2000
        sizes = [("chrA", 350_000), ("chrB", 260_000)]
        regions = [(c, s) for c, n in sizes for s in range(-1000, n, step)][:300]
        order = np.random.default_rng(2).permutation(len(regions))
        regions = [regions[i] for i in order]
        h5 = self.path("big.h5")
        projected, _, _ = make_input(h5, regions, length, np.float16, chunk_rows=64, sizes=sizes)
        self.assertGreater(np.count_nonzero(projected), projected.size // 5)
        out = self.path("big.bw")
        run("export-bigwig", h5, "-o", out, "--chrom-sizes", self.sizes_file(sizes))
        self.check_track(out, expected_track(regions, projected, length, sizes), sizes)

    # -- errors ---------------------------------------------------------------------------
    def test_missing_input(self):
        missing = self.path("nope.h5")
        out = self.path("out.bw")
        self.expect_error(["export-bigwig", missing, "-o", out, "--chrom-sizes",
                           self.sizes_file()], missing, outputs=[out])

    def test_no_regions(self):
        h5 = self.path("fasta_run.h5")
        make_input(h5, REGIONS, L, np.float32, with_regions=False)
        out = self.path("out.bw")
        self.expect_error(["export-bigwig", h5, "-o", out, "--chrom-sizes", self.sizes_file()],
                          h5, "/regions", "--bed", "--tile", outputs=[out])

    def test_unknown_chromosome(self):
        h5 = self.path("in.h5")
        make_input(h5, REGIONS + [("chrZ", 5)], L, np.float32)
        out = self.path("out.bw")
        sizes = self.sizes_file()
        self.expect_error(["export-bigwig", h5, "-o", out, "--chrom-sizes", sizes],
                          "chrZ", sizes, outputs=[out])

    def test_nothing_to_write(self):
        h5 = self.path("in.h5")
        make_input(h5, [("chrB", 500)], L, np.float32)  # past the end of chrB (120 bp)
        out = self.path("out.bw")
        self.expect_error(["export-bigwig", h5, "-o", out, "--chrom-sizes", self.sizes_file()],
                          h5, "empty", outputs=[out])

    def test_exactly_one_source_of_sizes(self):
        h5 = self.path("in.h5")
        make_input(h5, REGIONS, L, np.float32)
        out = self.path("out.bw")
        fasta = self.write("genome.fa", ">chrA\nACGT\n")
        self.expect_error(["export-bigwig", h5, "-o", out], "--genome", "--chrom-sizes",
                          outputs=[out])
        self.expect_error(["export-bigwig", h5, "-o", out, "--genome", fasta, "--chrom-sizes",
                           self.sizes_file()], "--genome", "--chrom-sizes", outputs=[out])

    def test_bad_sizes(self):
        h5 = self.path("in.h5")
        make_input(h5, REGIONS, L, np.float32)
        out = self.path("out.bw")
        bad = self.write("bad.sizes", "chrA\t300\nchrB\tlots\n")
        self.expect_error(["export-bigwig", h5, "-o", out, "--chrom-sizes", bad],
                          bad, "line 2", outputs=[out])
        missing = self.path("missing.fa")
        self.expect_error(["export-bigwig", h5, "-o", out, "--genome", missing],
                          "--genome", missing, outputs=[out])


class ExportModisco(ExportTest):
    def check_npz(self, path, want):
        with zipfile.ZipFile(path) as z:
            infos = z.infolist()
            self.assertEqual([i.filename for i in infos], ["arr_0.npy"])
            self.assertEqual(infos[0].compress_type, zipfile.ZIP_DEFLATED)
            header = z.open("arr_0.npy").read(10)
            self.assertEqual(header[:8], b"\x93NUMPY\x01\x00")
            self.assertEqual((10 + int.from_bytes(header[8:10], "little")) % 64, 0)
        with np.load(path) as npz:
            self.assertEqual(npz.files, ["arr_0"])
            got = npz["arr_0"]
        self.assertEqual(got.dtype, np.float32)
        self.assertEqual(got.shape, want.shape)
        np.testing.assert_array_equal(got, want.astype(np.float32))

    def test_npz_hold_one_hot_and_hypothetical(self):
        for dtype in (np.float32, np.float16):
            with self.subTest(dtype=dtype.__name__):
                h5 = self.path(f"in_{dtype.__name__}.h5")
                _, hypothetical, one_hot = make_input(h5, REGIONS, L, dtype)
                out_dir = self.path(f"modisco_{dtype.__name__}/nested")  # created
                run("export-modisco", h5, "--output-dir", out_dir)
                self.assertEqual(sorted(os.listdir(out_dir)), ["attr.npz", "ohe.npz"])
                self.check_npz(os.path.join(out_dir, "ohe.npz"), one_hot)
                self.check_npz(os.path.join(out_dir, "attr.npz"), hypothetical)

    def test_without_regions_and_in_many_blocks(self):
        # Rows of 4 x 8192 float32 stream in 32 MiB blocks of 256 rows: 300 rows, 2 blocks.
        regions = [("chrA", 0)] * 300
        h5 = self.path("big.h5")
        _, hypothetical, one_hot = make_input(h5, regions, 8192, np.float16, with_regions=False,
                                              chunk_rows=64, sizes=[("chrA", 8192)])
        out_dir = self.path("modisco")
        run("export-modisco", h5, "-o", out_dir)
        self.check_npz(os.path.join(out_dir, "ohe.npz"), one_hot)
        self.check_npz(os.path.join(out_dir, "attr.npz"), hypothetical)

    def test_errors(self):
        out_dir = self.path("modisco")
        outputs = [os.path.join(out_dir, f) for f in ("ohe.npz", "attr.npz")]
        missing = self.path("nope.h5")
        self.expect_error(["export-modisco", missing, "--output-dir", out_dir], missing,
                          outputs=outputs)
        h5 = self.path("in.h5")
        make_input(h5, REGIONS, L, np.float32)
        with h5py.File(h5, "a") as f:
            del f["hypothetical_attributions"]
        self.expect_error(["export-modisco", h5, "--output-dir", out_dir], h5,
                          "/hypothetical_attributions", outputs=outputs)
