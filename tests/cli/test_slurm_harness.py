"""The one-node Slurm of local_slurm.py, and configs/slurm/{submit.sh,seqattr-array.sbatch}
run on it with a fake seqattr. Skipped where the cluster cannot start (no slurm-wlm or
munge, not root)."""
import os
import stat
import subprocess
import time
import unittest

from local_slurm import read_logs, start_or_skip
from seqattr_cli import CONFIGS, TempDirTest

SUBMIT = os.path.join(CONFIGS, "slurm", "submit.sh")

ARRAY_TASK = """#!/bin/bash
echo "$SLURM_ARRAY_TASK_ID $SLURM_ARRAY_TASK_COUNT $SLURM_ARRAY_TASK_MIN" \\
  > "$OUT/task_$SLURM_ARRAY_TASK_ID.txt"
"""

CONCAT = """#!/bin/bash
cat "$OUT"/task_*.txt > "$OUT/all.txt"
"""

# Records each call (arguments one a line, then the array variables) and makes the file
# --output names; `merge` fails unless every input exists. FAIL_TASK makes that task fail.
FAKE_SEQATTR = r"""#!/bin/bash
set -eu
log="$OUTDIR/calls/$1.${SLURM_ARRAY_TASK_ID:-x}.$$"
mkdir -p "$OUTDIR/calls"
printf '%s\n' "$@" > "$log"
echo "ENV ${SLURM_ARRAY_TASK_ID:-} ${SLURM_ARRAY_TASK_COUNT:-} ${SLURM_ARRAY_TASK_MIN:-}" >> "$log"
if [[ "${SLURM_ARRAY_TASK_ID:-}" == "${FAIL_TASK:-none}" ]]; then exit 3; fi
output=
prev=
for a in "$@"; do
  if [[ "$prev" == --output ]]; then output=$a; fi
  if [[ "$1" == merge && "$a" == *.h5 && "$prev" != --output && ! -f "$a" ]]; then
    echo "missing $a" >&2; exit 4
  fi
  prev=$a
done
echo "$1" > "$output"
"""


class SlurmTest(TempDirTest):
    """Starts a fresh cluster for each test."""

    def setUp(self):
        super().setUp()
        self.slurm = start_or_skip(self)

    def script(self, name, text):
        path = self.write(name, text)
        os.chmod(path, os.stat(path).st_mode | stat.S_IXUSR)
        return path


class HarnessTest(SlurmTest):
    def test_array_then_dependent_job(self):
        start = time.monotonic()
        out = self.path("out")
        os.mkdir(out)
        env = dict(self.slurm.env, OUT=out)
        common = ["--output", os.path.join(out, "slurm-%A_%a.log"), "--chdir", self.tmp]
        array = self.slurm.sbatch("--array=0-2", *common, self.script("task.sh", ARRAY_TASK),
                                  env=env)
        concat = self.slurm.sbatch(f"--dependency=afterok:{array}", *common,
                                   self.script("concat.sh", CONCAT), env=env)
        states = self.slurm.wait_for_jobs([array, concat], timeout=45)
        self.assertEqual(states, {f"{array}_0": "COMPLETED", f"{array}_1": "COMPLETED",
                                  f"{array}_2": "COMPLETED", str(concat): "COMPLETED"})
        for i in range(3):
            with open(os.path.join(out, f"task_{i}.txt")) as f:
                self.assertEqual(f.read(), f"{i} 3 0\n")
        with open(os.path.join(out, "all.txt")) as f:
            self.assertEqual(f.read(), "0 3 0\n1 3 0\n2 3 0\n")
        self.assertLess(time.monotonic() - start, 45)


class SubmitScriptTest(SlurmTest):
    """configs/slurm/submit.sh: an array of `seqattr attribute`, then merge and export."""

    def submit(self, tasks, **env):
        fake = self.script("fake-seqattr", FAKE_SEQATTR)
        self.outdir = self.path("run")
        env = dict(self.slurm.env, SEQATTR=fake, MODEL="/models/m.pt", PEAKS="/data/p.bed",
                   GENOME="/data/g.fa", LENGTH="1000", METHOD="integrated_gradients",
                   PRESET="/configs/preset.toml", OUTDIR=self.outdir,
                   # the script asks for a GPU, 8 CPUs and 32G: this node has none of them
                   SBATCH_EXTRA="--gres=none --cpus-per-task=1 --mem=100M --time=10",
                   **env)
        proc = subprocess.run(["bash", SUBMIT, str(tasks)], env=env, cwd=self.tmp,
                              capture_output=True, text=True, timeout=60)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        array, merge = map(int, proc.stdout.split())
        return array, merge

    def logs(self):
        return read_logs(os.path.join(self.outdir, "logs"))

    def calls(self, command):
        """{array task id or 'x': argument list} of the fake's calls of `command`."""
        calls = {}
        directory = os.path.join(self.outdir, "calls")
        for name in sorted(os.listdir(directory)):
            if name.startswith(command + "."):
                with open(os.path.join(directory, name)) as f:
                    calls[name.split(".")[1]] = f.read().splitlines()
        return calls

    def test_array_merge_export(self):
        array, merge = self.submit(3)
        states = self.slurm.wait_for_jobs([array, merge], timeout=45)
        if set(states.values()) != {"COMPLETED"}:
            self.fail(f"{states}\n{self.logs()}")
        self.assertEqual(len(states), 4)

        attribute = self.calls("attribute")
        self.assertEqual(sorted(attribute), ["0", "1", "2"])
        for i, args in attribute.items():
            self.assertEqual(args, [
                "attribute", "--config", "/configs/preset.toml", "--model", "/models/m.pt",
                "--bed", "/data/p.bed", "--genome", "/data/g.fa", "--length", "1000",
                "--method", "integrated_gradients",
                "--output", os.path.join(self.outdir, f"shard_{i}.h5"), "--resume",
                f"ENV {i} 3 0"])
            self.assertTrue(os.path.exists(os.path.join(self.outdir, f"shard_{i}.h5")))

        shards = [os.path.join(self.outdir, f"shard_{i}.h5") for i in range(3)]
        final = os.path.join(self.outdir, "attributions.h5")
        self.assertEqual(self.calls("merge"),
                         {"x": ["merge", *shards, "--output", final, "ENV   "]})
        self.assertEqual(self.calls("export-bigwig"), {"x": [
            "export-bigwig", final, "--genome", "/data/g.fa",
            "--output", os.path.join(self.outdir, "attributions.bw"), "ENV   "]})
        self.assertTrue(os.path.exists(os.path.join(self.outdir, "attributions.bw")))

    def test_failed_task_cancels_merge(self):
        array, merge = self.submit(3, FAIL_TASK="1")
        states = self.slurm.wait_for_jobs([array, merge], timeout=45)
        self.assertEqual(states[f"{array}_1"], "FAILED")
        self.assertEqual(states[str(merge)], "CANCELLED")
        self.assertEqual(self.calls("merge"), {})
        self.assertFalse(os.path.exists(os.path.join(self.outdir, "attributions.h5")))

    def test_refuses_old_shards(self):
        os.makedirs(self.path("run"))
        self.write("run/shard_7.h5", "old")
        env = dict(self.slurm.env, MODEL="m", PEAKS="p", GENOME="g", OUTDIR=self.path("run"))
        proc = subprocess.run(["bash", SUBMIT, "2"], env=env, cwd=self.tmp,
                              capture_output=True, text=True, timeout=60)
        self.assertNotEqual(proc.returncode, 0)
        self.assertIn("shard_7.h5", proc.stderr)
        self.assertEqual(self.slurm.run("squeue", "-h").stdout, "")


if __name__ == "__main__":
    unittest.main()
