"""Every preset in configs/ runs: `seqattr --config PRESET attribute` with only a model, an
input and an output (and --method when the preset leaves it open) succeeds, and the preset's
values reach the output's parameters.

A preset that names a target runs on a model whose MODEL.json has that target: the default
model (counts and one head per motif) or mini_bpnet (counts and profile, like a chrombpnet
model), given a MODEL.json here."""
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
        """(model, fasta, targets) for each model a preset may run on."""
        with open(os.path.splitext(DEFAULT_MODEL)[0] + ".json") as f:
            default_targets = json.load(f)["targets"]
        bpnet = self.path("mini_bpnet.pt")
        shutil.copy(data("mini_bpnet.pt"), bpnet)
        self.write("mini_bpnet.json", json.dumps(
            {"input_length": 160, "alphabet": "ACGT", "targets": ["counts", "profile"]}))
        return [(DEFAULT_MODEL, self.few_records(HELDOUT, "default.fa"), default_targets),
                (bpnet, self.few_records(data("mini_bpnet.fa"), "bpnet.fa"), ["counts", "profile"])]

    def test_each_preset_runs(self):
        presets = sorted(glob.glob(os.path.join(CONFIGS, "*.toml")))
        self.assertGreaterEqual(len(presets), 5)
        models = self.models()
        for preset in presets:
            values = preset_values(preset)
            with self.subTest(preset=os.path.basename(preset)):
                runs = [(model, fasta) for model, fasta, targets in models
                        if str(values.get("target", targets[0])) in targets]
                self.assertTrue(runs, "no model has the preset's target")
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
        targets = {preset_values(path).get("target")
                   for path in glob.glob(os.path.join(CONFIGS, "chrombpnet-deepshap*.toml"))}
        self.assertEqual(targets, {"counts", "profile"})
        for path in glob.glob(os.path.join(CONFIGS, "chrombpnet-deepshap*.toml")):
            values = preset_values(path)
            self.assertEqual((values["method"], values["n-shuffles"], values["seed"],
                              values["format"]), ("deeplift_shap", 20, 0, "chrombpnet"))


if __name__ == "__main__":
    unittest.main()
