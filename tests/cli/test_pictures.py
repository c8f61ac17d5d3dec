"""seqattr logo and report, on outputs that `seqattr attribute` makes here with mini_bpnet.

Logos are checked as geometry (every letter's height is its attribution times one scale,
positives stacked up from the axis and negatives down, smallest nearest it) and as pixels:
rsvg-convert renders the SVG to PNG, decoded here in pure Python (zlib), and the picture must
hold the bases' colours above and below the axis.
"""
import os
import re
import shutil
import struct
import subprocess
import tempfile
import unittest
import xml.etree.ElementTree as ET
import zlib

import h5py
import numpy as np

from seqattr_cli import TempDirTest, attribute, data, expect_cli_error, run

SVG = "{http://www.w3.org/2000/svg}"
XLINK_HREF = "{http://www.w3.org/1999/xlink}href"
COLOURS = {"A": (0x10, 0x96, 0x48), "C": (0x25, 0x5c, 0x99), "G": (0xf7, 0xb3, 0x2b),
           "T": (0xd6, 0x28, 0x39)}
BASES = "ACGT"
L = 160  # mini_bpnet's input length
MODEL = data("mini_bpnet.pt")
FASTA = data("mini_bpnet.fa")
# A tiny genome and peaks for a genomic run: (chrom, start, end, name) centred and resized
# to L; the last one runs off the start of chr2 (N-padded, window start -70).
CHROMS = [("chr1", 1200), ("chr2", 800)]
PEAKS = [("chr1", 100, 300, "peakA"), ("chr2", 500, 600, "peakB"), ("chr1", 900, 1000, "peakC"),
         ("chr2", 0, 20, "peakD")]


# ---- PNG ------------------------------------------------------------------------------

def _paeth(a, b, c):
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    return a if pa <= pb and pa <= pc else (b if pb <= pc else c)


def read_png(path):
    """The pixels of an 8-bit, non-interlaced PNG (what rsvg-convert writes) as an
    (height, width, channels) uint8 array."""
    with open(path, "rb") as f:
        blob = f.read()
    assert blob[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, header = 8, [], None
    while pos < len(blob):
        length, kind = struct.unpack(">I4s", blob[pos:pos + 8])
        body = blob[pos + 8:pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat.append(body)
        elif kind == b"IEND":
            break
    width, height, depth, colour_type, _, _, interlace = header
    assert depth == 8 and interlace == 0 and colour_type in (0, 2, 4, 6), header
    channels = {0: 1, 2: 3, 4: 2, 6: 4}[colour_type]
    stride = width * channels
    raw = np.frombuffer(zlib.decompress(b"".join(idat)), np.uint8).reshape(height, stride + 1)
    out = np.zeros((height, stride), np.uint8)
    previous = np.zeros(stride, np.int64)
    for y in range(height):
        kind, line = raw[y, 0], raw[y, 1:].astype(np.int64)
        if kind == 0:
            row = line
        elif kind == 1:  # sub: a running sum per channel
            row = np.zeros(stride, np.int64)
            for c in range(channels):
                row[c::channels] = np.cumsum(line[c::channels]) % 256
        elif kind == 2:
            row = (line + previous) % 256
        else:  # average, paeth: each byte depends on the one before it
            row = [0] * stride
            line, up = line.tolist(), previous.tolist()
            for i in range(stride):
                left = row[i - channels] if i >= channels else 0
                upper_left = up[i - channels] if i >= channels else 0
                predictor = (left + up[i]) // 2 if kind == 3 else _paeth(left, up[i], upper_left)
                row[i] = (line[i] + predictor) % 256
            row = np.array(row, np.int64)
        out[y] = row
        previous = row
    return out.reshape(height, width, channels)


def render(svg_path):
    png_path = svg_path[:-4] + ".png"
    subprocess.run(["rsvg-convert", svg_path, "-o", png_path], check=True, capture_output=True)
    return png_path


# ---- logo geometry ---------------------------------------------------------------------

def parse_matrix(transform):
    m = re.fullmatch(r"matrix\(([^)]*)\)", transform)
    sx, _, _, sy, tx, ty = map(float, m.group(1).split())
    return sx, sy, tx, ty


def letters_of(root):
    """Every drawn letter: (base, x, top, height) in pixels."""
    out = []
    for use in root.iter(SVG + "use"):
        href = use.get(XLINK_HREF) or use.get("href")
        _, sy, tx, ty = parse_matrix(use.get("transform"))
        out.append((href[-1], tx, ty, sy * 100))
    return out


def zero_line(root):
    line = [l for l in root.iter(SVG + "line") if l.get("class") == "zero"]
    assert len(line) == 1
    line = line[0]
    return float(line.get("x1")), float(line.get("x2")), float(line.get("y1"))


def texts(root, group_class):
    group = [g for g in root.iter(SVG + "g") if g.get("class") == group_class][0]
    return [t.text for t in group.iter(SVG + "text")]


class Inputs:
    """The outputs of `seqattr attribute` the tests draw, made once for the module."""


def setUpModule():
    Inputs.tmp = tempfile.TemporaryDirectory(prefix="seqattr-pictures-")
    d = Inputs.tmp.name
    Inputs.ig = os.path.join(d, "ig.h5")
    attribute(MODEL, FASTA, "integrated_gradients", Inputs.ig, "--n-steps", 10)
    Inputs.half = os.path.join(d, "half.h5")
    attribute(MODEL, FASTA, "integrated_gradients", Inputs.half, "--n-steps", 10,
              "--dtype", "float16")
    Inputs.gradient = os.path.join(d, "gradient.h5")
    attribute(MODEL, FASTA, "gradient", Inputs.gradient)
    rng = np.random.default_rng(3)
    genome = os.path.join(d, "genome.fa")
    with open(genome, "w") as f:
        for chrom, size in CHROMS:
            seq = "".join(rng.choice(list(BASES), size))
            f.write(f">{chrom}\n" + "".join(seq[i:i + 60] + "\n" for i in range(0, size, 60)))
    bed = os.path.join(d, "peaks.bed")
    with open(bed, "w") as f:
        f.writelines(f"{c}\t{s}\t{e}\t{n}\n" for c, s, e, n in PEAKS)
    Inputs.genomic = os.path.join(d, "genomic.h5")
    run("attribute", "--quiet", "--model", MODEL, "--bed", bed, "--genome", genome,
        "--length", L, "--method", "deeplift_shap", "--n-shuffles", 4, "--output", Inputs.genomic)


def tearDownModule():
    Inputs.tmp.cleanup()


def read_text(path):
    with open(path) as f:
        return f.read()


class PictureTest(TempDirTest):
    def setUp(self):
        super().setUp()
        self.ig, self.half, self.gradient, self.genomic = (
            Inputs.ig, Inputs.half, Inputs.gradient, Inputs.genomic)

    def expect_error(self, args, *fragments, output):
        return expect_cli_error(self, args, *fragments, outputs=[output])


class Logo(PictureTest):
    def logo(self, source, *extra, name="logo.svg"):
        out = self.path(name)
        run("logo", source, "--output", out, *extra)
        return out, ET.parse(out).getroot()

    def check_letters(self, root, values):
        """Every letter's height is |value| x one scale; positives stacked up from the axis,
        negatives down, smallest magnitude nearest it; only letters under 0.05 px missing."""
        x1, x2, zero_y = zero_line(root)
        width = values.shape[1]
        column_width = (x2 - x1) / width
        letters = letters_of(root)
        self.assertGreater(len(letters), 0)
        by_cell = {}
        for base, x, top, height in letters:
            column = int((x - x1) // column_width)
            key = (BASES.index(base), column)
            self.assertNotIn(key, by_cell, "one letter per base and position")
            by_cell[key] = (top, height)
        biggest = max(by_cell, key=lambda k: abs(values[k]))
        scale = by_cell[biggest][1] / abs(values[biggest])
        for p in range(width):
            column = values[:, p].astype(np.float64)
            order = sorted(range(4), key=lambda b: (abs(column[b]), b))
            above = below = 0.0
            for b in order:
                v = column[b] * scale
                if v > 0:
                    want_top, want_height = zero_y - above - v, v
                    above += v
                elif v < 0:
                    want_top, want_height = zero_y + below, -v
                    below -= v
                else:
                    want_height = 0
                if want_height < 0.05:
                    continue
                self.assertIn((b, p), by_cell, f"{BASES[b]} at {p} ({column[b]}) not drawn")
                top, height = by_cell.pop((b, p))
                self.assertAlmostEqual(height, want_height, delta=0.02 + 1e-3 * want_height)
                self.assertAlmostEqual(top, want_top, delta=0.05)
        # Whatever else was drawn is too thin to see.
        for key, (_, height) in by_cell.items():
            self.assertLess(height, 0.1, key)
        return zero_y

    def check_pixels(self, svg, zero_y, colours=BASES):
        """The PNG rendering holds each base's colour, and coloured pixels above and below
        the axis."""
        pixels = read_png(render(svg))
        self.assertIn(pixels.shape[2], (3, 4))  # rsvg-convert leaves out alpha when opaque
        if pixels.shape[2] == 4:
            self.assertTrue((pixels[..., 3] == 255).all(), "the background must be opaque")
        rgb = pixels[..., :3].astype(np.int64)
        for base in colours:
            exact = (np.abs(rgb - COLOURS[base]).max(axis=2) <= 8).sum()
            self.assertGreater(exact, 30, f"{base}: too few pixels of its colour")
        coloured = (rgb.max(axis=2) - rgb.min(axis=2)) > 80
        row = int(round(zero_y))
        self.assertGreater(coloured[:row - 1].sum(), 40, "nothing above the axis")
        self.assertGreater(coloured[row + 2:].sum(), 40, "nothing below the axis")
        background = (rgb.min(axis=2) >= 250).mean()
        self.assertGreater(background, 0.3)
        self.assertLess(background, 0.99, "blank picture")

    def pick(self, values, width=60):
        """The row and window around the largest positive attribution (mini_bpnet's are
        mostly negative), so that there are letters of both signs."""
        row, _, position = np.unravel_index(np.argmax(values), values.shape)
        start = int(min(max(position - width // 2, 0), values.shape[2] - width))
        return int(row), start, start + width

    def test_attribution_logo(self):
        with h5py.File(self.ig, "r") as f:
            values = f["attributions"][()]
            name_of = [n.decode() for n in f["names"][()]]
        row, start, end = self.pick(values)
        svg, root = self.logo(self.ig, "--index", row, "--start", start, "--end", end)
        self.assertTrue(root.tag.endswith("svg"))
        text = read_text(svg)
        for colour in COLOURS.values():
            self.assertIn("#%02x%02x%02x" % colour, text)
        zero_y = self.check_letters(root, values[row, :, start:end])
        # One letter per position at most: only the observed base is non-zero.
        self.assertLessEqual(len(letters_of(root)), end - start)
        self.assertIn(name_of[row], root.find(SVG + "title").text)
        self.check_pixels(svg, zero_y)
        # Positions in the sequence label the axis: 0-based, inside the window.
        labels = [int(t) for t in texts(root, "x-labels")]
        self.assertGreaterEqual(len(labels), 3)
        self.assertTrue(all(start <= p < end for p in labels), labels)
        self.assertEqual(len({p % (labels[1] - labels[0]) for p in labels}), 1)

    def test_whole_sequence_by_default(self):
        with h5py.File(self.ig, "r") as f:
            values = f["attributions"][0]
        _, root = self.logo(self.ig)
        self.check_letters(root, values)
        x1, x2, _ = zero_line(root)
        _, root_half = self.logo(self.ig, "--end", L // 2, name="half.svg")
        h1, h2, _ = zero_line(root_half)
        self.assertAlmostEqual((x2 - x1) / (h2 - h1), 2.0, places=6, msg="width ~ positions")

    def test_hypothetical_logo(self):
        with h5py.File(self.ig, "r") as f:
            values = f["hypothetical_attributions"][()]
        row, start, end = self.pick(values)
        svg, root = self.logo(self.ig, "--index", row, "--start", start, "--end", end,
                              "--hypothetical")
        zero_y = self.check_letters(root, values[row, :, start:end])
        self.assertGreater(len(letters_of(root)), 2 * (end - start))
        self.assertIn("hypothetical", read_text(svg))
        self.check_pixels(svg, zero_y)

    def test_float16_input(self):
        with h5py.File(self.half, "r") as f:
            self.assertEqual(f["attributions"].dtype, np.float16)
            values = f["hypothetical_attributions"][5].astype(np.float32)
        svg, root = self.logo(self.half, "--index", 5, "--hypothetical")
        zero_y = self.check_letters(root, values)
        self.check_pixels(svg, zero_y)

    def test_genomic_axis(self):
        with h5py.File(self.genomic, "r") as f:
            values = f["attributions"][()]
            chroms = [c.decode() for c in f["regions/chrom"][()]]
            starts = f["regions/start"][()]
        start, end = 40, 100
        for row in (1, 3):  # peakB, and peakD hanging off the start of chr2
            with self.subTest(row=row):
                svg, root = self.logo(self.genomic, "--index", row, "--start", start, "--end", end,
                                      name=f"g{row}.svg")
                self.check_letters(root, values[row, :, start:end])
                self.assertEqual(root.find(SVG + "title").text, PEAKS[row][3])
                labels = texts(root, "x-labels")
                self.assertGreaterEqual(len(labels), 3)
                x1, x2, _ = zero_line(root)
                column_width = (x2 - x1) / (end - start)
                ticks = [t for t in root.iter(SVG + "text")
                         if t.text in labels and t.get("x") is not None]
                for tick in ticks:
                    chrom, number = tick.text.rsplit(":", 1)
                    self.assertEqual(chrom, chroms[row])
                    # 1-based genomic position of the base under the tick.
                    offset = int(number) - 1 - starts[row]
                    self.assertTrue(start <= offset < end, tick.text)
                    centre = x1 + (offset - start + 0.5) * column_width
                    self.assertAlmostEqual(float(tick.get("x")), centre, delta=0.01)
                self.assertIn(f"position on {chroms[row]} (1-based)", read_text(svg))
        g1 = self.path("g1.svg")
        self.check_pixels(g1, zero_line(ET.parse(g1).getroot())[2], colours="")

    def test_errors(self):
        out = self.path("bad.svg")
        n = 12
        for index in (n, -1, 1000):
            with self.subTest(index=index):
                self.expect_error(["logo", self.ig, "--index", index, "--output", out],
                                  f"--index {index}", f"{n} sequences", output=out)
        for window in [(100, 200), (-5, 10), (50, 50), (60, 40), (L, -1)]:
            with self.subTest(window=window):
                self.expect_error(["logo", self.ig, "--start", window[0], "--end", window[1],
                                   "--output", out], f"--start {window[0]}", f"{L} bp",
                                  output=out)
        missing = self.path("missing.h5")
        self.expect_error(["logo", missing, "--output", out], missing, "no such file", output=out)
        junk = self.write("junk.h5", "not hdf5\n")
        self.expect_error(["logo", junk, "--output", out], junk, "not an HDF5 file", output=out)
        no_hyp = self.path("no_hyp.h5")
        shutil.copy(self.ig, no_hyp)
        with h5py.File(no_hyp, "a") as f:
            del f["hypothetical_attributions"]
        self.expect_error(["logo", no_hyp, "--hypothetical", "--output", out],
                          "/hypothetical_attributions", output=out)
        nowhere = self.path("no/such/dir/logo.svg")
        self.expect_error(["logo", self.ig, "--output", nowhere], "--output", output=nowhere)


class Report(PictureTest):
    def report(self, source, *extra):
        out = self.path("report.html")
        run("report", source, "--output", out, *extra)
        self.assertEqual(sorted(os.listdir(self.tmp)), ["report.html"], "one file, nothing else")
        with open(out) as f:
            return f.read()

    def check_self_contained(self, html):
        for pattern in [r"https?://", r"\bsrc\s*=", r"<script", r"<link", r"url\(", r"@import",
                        r"<iframe", r"<img", r"<object"]:
            self.assertIsNone(re.search(pattern, html, re.I), pattern)
        self.assertTrue(html.startswith("<!DOCTYPE html>"))
        self.assertIn("<style>", html)

    def svgs(self, html, kind):
        """The inline SVG figures of one class, parsed as XML."""
        found = re.findall(r'<svg class="%s".*?</svg>' % kind, html, re.S)
        return [ET.fromstring(s) for s in found]

    def top_rows(self, html):
        row = r'<tr><td class="num">\d+</td><td class="num">(\d+)</td>'
        return [int(r) for r in re.findall(row, html)]

    def test_report(self):
        with h5py.File(self.ig, "r") as f:
            totals = f["attributions"][()].astype(np.float64).sum(axis=(1, 2))
            per_position = np.abs(f["attributions"][()].astype(np.float64).sum(axis=1))
            deltas = np.abs(f["convergence_delta"][()].astype(np.float64))
            predictions = f["predictions"][()][:, int(f.attrs["target"])]
            names = [n.decode() for n in f["names"][()]]
        window = 50
        html = self.report(self.ig, "--top", 3, "--window", window)
        self.check_self_contained(html)
        # Run parameters: the JSON attribute, one row each.
        for key, value in [("method", "integrated_gradients"), ("n_steps", "10"),
                           ("ig_rule", "gausslegendre"), ("target", "0"), ("fasta", FASTA)]:
            row = rf"<tr><th>{key}</th><td[^>]*>{re.escape(value)}</td></tr>"
            self.assertTrue(re.search(row, html), row)
        # Prediction histogram: one bar per bin holding values, all N counted.
        histograms = self.svgs(html, "histogram")
        self.assertGreaterEqual(len(histograms), 2)
        bars = [r for r in histograms[0].iter("rect") if r.find("title") is not None]
        counts = [int(r.find("title").text.rsplit(": ", 1)[1]) for r in bars]
        self.assertEqual(sum(counts), len(predictions))
        self.assertIn("%.6g" % predictions.max(), html)
        # Top sequences by |total attribution|, either sign, each with a logo (its own title
        # only: no second heading).
        want = list(np.argsort(-np.abs(totals), kind="stable")[:3])
        self.assertNotIn("<h3>", html)
        self.assertEqual(self.top_rows(html), want)
        logos = self.svgs(html, "logo")
        self.assertEqual(len(logos), 3)
        for row, logo in zip(want, logos):
            self.assertEqual(logo.find("title").text, names[row])
            labels = [int(t.text) for g in logo.iter("g") if g.get("class") == "x-labels"
                      for t in g.iter("text")]
            peak = int(np.argmax(per_position[row]))
            first = min(max(peak - window // 2, 0), L - window)
            self.assertTrue(all(first <= p < first + window for p in labels), labels)
            self.assertIn(f"{first}-{first + window}", html)
            uses = list(logo.iter("use"))
            self.assertTrue(uses and all(u.get("href", "").startswith("#") for u in uses))
        self.assertIn(f"window of {window} of the {L} bp", html)
        # Glyph ids are unique in the document.
        ids = re.findall(r'id="([^"]+)"', html)
        self.assertEqual(len(ids), len(set(ids)))
        # Convergence delta summary.
        section = html[html.index("<h2>Convergence delta</h2>"):]
        self.assertIn("<th>sequences</th><td>12</td>", section)
        self.assertIn("<th>max |delta|</th><td>%.6g</td>" % deltas.max(), section)
        self.assertIn("<th>mean |delta|</th><td>%.6g</td>" % deltas.mean(), section)
        self.assertIn("<th>50%% quantile of |delta|</th><td>%.6g</td>" % np.quantile(deltas, 0.5),
                      section)

    def test_genomic_report(self):
        html = self.report(self.genomic, "--top", 10, "--window", 0)
        self.check_self_contained(html)
        with h5py.File(self.genomic, "r") as f:
            totals = f["attributions"][()].astype(np.float64).sum(axis=(1, 2))
            starts = f["regions/start"][()]
        self.assertEqual(self.top_rows(html), list(np.argsort(-np.abs(totals), kind="stable")))
        # deeplift_shap's options are the run's settings; integrated gradients' and ISM's are
        # set apart as not used.
        settings, unused = html.split("<details>")[0], html.split("<details>")[1].split("</details>")[0]
        self.assertIn("<th>n_shuffles</th>", settings)
        for key in ("n_steps", "ig_rule", "ism_mode"):
            self.assertNotIn(f"<th>{key}</th>", settings)
            self.assertIn(f"<th>{key}</th>", unused)
        for (chrom, *_), start in zip(PEAKS, starts):
            self.assertIn(f"{chrom}:{start}-{start + L}", html)
        self.assertEqual(len(self.svgs(html, "logo")), len(PEAKS))
        self.assertIn("Each logo shows the whole sequence", html)
        self.assertIn("chr2:471", html)  # peakB's first base, 1-based, on its logo's axis
        self.assertIn("deeplift_shap", html)
        self.assertIn("above --delta-warning", html)

    def test_method_without_delta(self):
        html = self.report(self.gradient, "--top", 0)
        self.check_self_contained(html)
        self.assertIn("records no convergence delta", html)
        self.assertEqual(self.svgs(html, "logo"), [])

    def test_float16_report(self):
        html = self.report(self.half, "--top", 2)
        with h5py.File(self.half, "r") as f:
            totals = f["attributions"][()].astype(np.float64).sum(axis=(1, 2))
        self.assertEqual(self.top_rows(html), list(np.argsort(-np.abs(totals), kind="stable")[:2]))
        self.assertIn("float16", html)

    def test_many_blocks(self):
        """More rows than one read block (8 MiB: 3276 rows of 4 x 160 float32), written here
        with h5py in the output layout, float32 and float16."""
        n = 7000
        rng = np.random.default_rng(5)
        attributions = rng.normal(size=(n, 4, L)).astype(np.float32)
        attributions[4321] += 0.5  # the top sequence, in the second block
        predictions = rng.normal(size=(n, 3)).astype(np.float32)
        deltas = rng.normal(scale=1e-4, size=n).astype(np.float32)
        for dtype in (np.float32, np.float16):
            with self.subTest(dtype=dtype.__name__):
                source = os.path.join(Inputs.tmp.name, f"many_{dtype.__name__}.h5")
                with h5py.File(source, "w") as f:
                    f.create_dataset("attributions", data=attributions.astype(dtype),
                                     chunks=(64, 4, L))
                    f["predictions"] = predictions
                    f["convergence_delta"] = deltas
                    f.create_dataset("names", data=[f"s{i}" for i in range(n)],
                                     dtype=h5py.string_dtype())
                    f.attrs["method"] = "deeplift"
                    f.attrs["target"] = np.int64(2)
                    f.attrs["parameters"] = '{"method": "deeplift", "delta_warning": 0.0001}'
                html = self.report(source, "--top", 4)
                os.remove(self.path("report.html"))
                stored = attributions.astype(dtype).astype(np.float64)
                totals = stored.sum(axis=(1, 2))
                top = self.top_rows(html)
                self.assertEqual(top[0], 4321)
                self.assertEqual(top, list(np.argsort(-np.abs(totals), kind="stable")[:4]))
                bars = [r for r in self.svgs(html, "histogram")[0].iter("rect")
                        if r.find("title") is not None]
                self.assertEqual(sum(int(r.find("title").text.rsplit(": ", 1)[1]) for r in bars), n)
                self.assertIn("Model output column 2 of 3", html)
                self.assertIn("<th>max</th><td>%.6g</td>" % predictions[:, 2].max(), html)
                above = int((np.abs(deltas.astype(np.float64)) > 1e-4).sum())
                self.assertIn(f"<th>above --delta-warning 0.0001</th><td>{above}</td>", html)

    def test_errors(self):
        out = self.path("report.html")
        missing = self.path("missing.h5")
        self.expect_error(["report", missing, "--output", out], missing, "no such file",
                          output=out)
        not_seqattr = self.path("other.h5")
        with h5py.File(not_seqattr, "w") as f:
            f["x"] = np.zeros(3)
        self.expect_error(["report", not_seqattr, "--output", out], "/attributions", output=out)
        nowhere = self.path("no/such/dir/report.html")
        self.expect_error(["report", self.ig, "--output", nowhere], "--output", output=nowhere)
        proc = run("report", self.ig, "--output", out, "--top", -1, check=False)
        self.assertNotEqual(proc.returncode, 0)
        self.assertFalse(os.path.exists(out))


if __name__ == "__main__":
    unittest.main()
