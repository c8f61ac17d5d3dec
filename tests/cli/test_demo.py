"""scripts/demo, as a newcomer runs it (with this build's binary and a temporary output
directory): it explains the default model on its held-out regions, writes attributions, a
bigWig, a report and a logo, says where they are, and the attributions point at the planted
motifs. Its Python scripts import nothing that scripts/setup's base packages (the ones
scripts/demo installs) do not provide."""
import ast
import importlib.util
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET

import h5py
import numpy as np
import pyBigWig

from seqattr_cli import BIN, MODELS, TempDirTest, read_fasta

ROOT = os.path.dirname(os.path.abspath(MODELS))
DEMO = os.path.join(ROOT, "scripts", "demo")
SETUP = os.path.join(ROOT, "scripts", "setup")
HELDOUT = os.path.join(MODELS, "default", "heldout.fa")
MOTIFS = os.path.join(MODELS, "default", "heldout_motifs.bed")


class Demo(TempDirTest):
    def test_demo_writes_its_outputs_and_finds_the_first_motif(self):
        out = self.path("demo")
        proc = subprocess.run([DEMO], capture_output=True, text=True, timeout=900,
                              env={**os.environ, "SEQATTR": BIN, "DEMO_OUT": out})
        self.assertEqual(proc.returncode, 0, proc.stderr)
        names = ["attributions.h5", "attributions.bw", "report.html", "logo.svg"]
        for name in names:
            self.assertIn(os.path.join(out, name), proc.stdout)
            self.assertGreater(os.path.getsize(os.path.join(out, name)), 0, name)

        records = list(read_fasta(HELDOUT))
        with h5py.File(os.path.join(out, "attributions.h5"), "r") as f:
            attributions = f["attributions"][()]
            chroms = [c.decode() if isinstance(c, bytes) else c for c in f["regions/chrom"][()]]
            starts = f["regions/start"][()]
        self.assertEqual(attributions.shape, (len(records), 4, 1000))
        self.assertEqual([f"{c}:{s}-{s + 1000}" for c, s in zip(chroms, starts)], records)

        # The first window's largest |attribution| lies in its planted motif.
        first = [line.split("\t") for line in open(MOTIFS) if line.startswith(records[0] + "\t")]
        per_base = np.abs(attributions[0].sum(axis=0))
        peak = int(per_base.argmax())
        self.assertTrue(any(int(m[1]) <= peak < int(m[2]) for m in first), (peak, first))

        # The bigWig carries the same per-base attribution at that region.
        with pyBigWig.open(os.path.join(out, "attributions.bw")) as bw:
            track = np.array(bw.values(chroms[0], int(starts[0]), int(starts[0]) + 1000))
        np.testing.assert_allclose(track, attributions[0].sum(axis=0), rtol=1e-5, atol=1e-6)

        ET.parse(os.path.join(out, "logo.svg"))
        with open(os.path.join(out, "report.html")) as f:
            report = f.read()
        self.assertIn("<svg", report)
        self.assertIn("deeplift_shap", report)


def imported_modules(script):
    """Top-level names of the modules a script imports, following the scripts of this
    repository it imports (those beside it or on a path it inserts)."""
    seen, pending, modules = set(), [os.path.abspath(script)], set()
    while pending:
        path = pending.pop()
        if path in seen:
            continue
        seen.add(path)
        for node in ast.walk(ast.parse(open(path).read(), path)):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                local = [os.path.join(d, top + ".py") for d in local_dirs(path)]
                found = [p for p in local if os.path.exists(p)]
                if found:
                    pending.append(found[0])
                else:
                    modules.add(top)
    return modules


def local_dirs(script):
    """The script's own directory and the repository's directories it may put on sys.path."""
    here = os.path.dirname(script)
    return [here] + [os.path.join(ROOT, "models", d) for d in ("synthetic", "default")]


def debian_package_of(module):
    """The Debian package whose file provides `module`, or None."""
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.origin or not os.path.isabs(spec.origin):
        return None
    owner = subprocess.run(["dpkg", "-S", os.path.realpath(spec.origin)], capture_output=True,
                           text=True)
    if owner.returncode != 0:
        owner = subprocess.run(["dpkg", "-S", spec.origin], capture_output=True, text=True)
    return owner.stdout.split(":")[0] if owner.returncode == 0 else None


class DemoImports(TempDirTest):
    def test_demo_scripts_import_only_what_the_base_setup_installs(self):
        base = subprocess.run([SETUP, "--list-packages"], capture_output=True, text=True,
                              check=True).stdout.split()
        demo = open(DEMO).read()
        scripts = re.findall(r"python3\s+(\S+\.py)", demo)
        self.assertTrue(scripts, "scripts/demo runs no Python script: update this test")
        self.assertIn("python3", base)
        for script in scripts:
            for module in sorted(imported_modules(os.path.join(ROOT, script))):
                if module in sys.stdlib_module_names:
                    continue
                with self.subTest(script=script, module=module):
                    package = debian_package_of(module)
                    self.assertIsNotNone(package, f"{script} imports {module}, which no Debian "
                                         "package provides here")
                    self.assertIn(package, base, f"{script} imports {module} ({package}), which "
                                  "scripts/setup installs only with --with-tests")
