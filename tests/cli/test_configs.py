"""Every preset in configs/ runs: `seqattr --config PRESET attribute` with only a model, an
input and an output (and --method when the preset leaves it open) succeeds, and the preset's
values reach the output's parameters.

A preset that names a target runs on a model whose MODEL.json has that target: the default
model (counts and one head per motif) or mini_bpnet (counts and profile, like a chrombpnet
model), given a MODEL.json here. A preset that names a head (the chrombpnet presets) runs
on a raw, traced bpnet-lite BPNet, whose (profile, counts) output needs no MODEL.json."""
import glob
import json
import os
import shutil
import tomllib
import unittest

from seqattr_cli import CONFIGS, MODELS, TempDirTest, data, read, run

DEFAULT_MODEL = os.path.join(MODELS, "default", "seqattr_bpnet.pt")
HELDOUT = os.path.join(MODELS, "default", "heldout.fa")


def preset_values(path):
    with open(path, "rb") as f:
        return tomllib.load(f)["attribute"]


class Presets(TempDirTest):
    def few_records(self, fasta, name, count=3):
        with open(fasta) as f:
            records = f.read().split(">")[1:count + 1]
        return self.write(name, "".join(">" + record for record in records))

    def models(self):
        """(model, fasta, targets, heads) for each model a preset may run on."""
        with open(os.path.splitext(DEFAULT_MODEL)[0] + ".json") as f:
            default_targets = json.load(f)["targets"]
        bpnet = self.path("mini_bpnet.pt")
        shutil.copy(data("mini_bpnet.pt"), bpnet)
        self.write("mini_bpnet.json", json.dumps(
            {"input_length": 160, "alphabet": "ACGT", "targets": ["counts", "profile"]}))
        raw = self.path("bpnetlite.pt")  # without the fixture's MODEL.json
        shutil.copy(data(os.path.join("bpnetlite", "bpnet.pt")), raw)
        return [(DEFAULT_MODEL, self.few_records(HELDOUT, "default.fa"), default_targets, []),
                (bpnet, self.few_records(data("mini_bpnet.fa"), "bpnet.fa"), ["counts", "profile"], []),
                (raw, self.few_records(data(os.path.join("bpnetlite", "seqs.fa")), "raw.fa"), [],
                 ["profile", "counts"])]

    @staticmethod
    def runs_on(values, targets, heads):
        if "head" in values:
            return values["head"] in heads
        return str(values.get("target", targets[0] if targets else "0")) in targets

    def test_each_preset_runs(self):
        presets = sorted(glob.glob(os.path.join(CONFIGS, "*.toml")))
        self.assertGreaterEqual(len(presets), 5)
        models = self.models()
        for preset in presets:
            values = preset_values(preset)
            with self.subTest(preset=os.path.basename(preset)):
                runs = [(model, fasta) for model, fasta, targets, heads in models
                        if self.runs_on(values, targets, heads)]
                self.assertTrue(runs, "no model has the preset's target or head")
                model, fasta = runs[0]
                out = self.path(os.path.basename(preset) + ".h5")
                extra = [] if "method" in values else ["--method", "integrated_gradients"]
                run("--config", preset, "attribute", "--quiet", "--model", model,
                    "--fasta", fasta, "--output", out, *extra)
                _, attrs = read(out)
                parameters = json.loads(attrs["parameters"])
                for key, value in values.items():
                    self.assertEqual(parameters[key.replace("-", "_")], value, key)

    def test_chrombpnet_presets_cover_counts_and_profile(self):
        presets = {preset_values(path).get("head"): preset_values(path)
                   for path in glob.glob(os.path.join(CONFIGS, "chrombpnet-deepshap*.toml"))}
        self.assertEqual(set(presets), {"counts", "profile"})
        self.assertEqual(presets["profile"]["reduce"], "chrombpnet-profile")
        for path in glob.glob(os.path.join(CONFIGS, "chrombpnet-deepshap*.toml")):
            values = preset_values(path)
            self.assertEqual((values["method"], values["n-shuffles"], values["seed"],
                              values["format"]), ("deeplift_shap", 20, 0, "chrombpnet"))


if __name__ == "__main__":
    unittest.main()
