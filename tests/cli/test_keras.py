"""Keras HDF5 models as chrombpnet writes them, read natively: `--model chrombpnet_nobias.h5`.

Fixtures: tests/data/make_keras_fixtures.py (chrombpnet 1.0.1's own model code, TensorFlow
2.15.1, bpnet-lite 1.1.0; tests/data/keras/): the bias, no-bias and full models with random
weights, TensorFlow's and bpnet-lite's predictions, and bpnet-lite's conversion of the no-bias
model, traced. Agreement is max |a - b| / max |b|.
"""
import json
import os
import shutil

import h5py
import numpy as np
import torch

from seqattr_cli import (CONFIGS, DATA, TempDirTest, attribute, expect_cli_error,
                         make_genome, max_relative_error, read, run)

FIXTURES = os.path.join(DATA, "keras")
FASTA = os.path.join(FIXTURES, "seqs.fa")
EXPECTED = os.path.join(FIXTURES, "keras.h5")
FILES = {"bias": "bias_model_scaled.h5", "nobias": "chrombpnet_nobias.h5",
         "chrombpnet": "chrombpnet.h5"}
TWIN = os.path.join(FIXTURES, "nobias_bpnetlite.pt")  # bpnet-lite's conversion, traced
PEERS = 1e-5  # the bar for predictions against TensorFlow and bpnet-lite
TWINS = 1e-6  # and for attributions against the bpnet-lite twin


def model(name):
    return os.path.join(FIXTURES, FILES[name])


def expected(peer, name, head):
    with h5py.File(EXPECTED, "r") as f:
        return f[f"{peer}/{name}/{head}"][()]


def one_hot():
    with h5py.File(EXPECTED, "r") as f:
        return torch.from_numpy(f["one_hot"][()]).float()


class Agreement(TempDirTest):
    def convert(self, name):
        output = self.path(name + ".pt")
        run("convert", "--model", model(name), "--output", output)
        return output

    def test_predictions_equal_tensorflow_and_bpnetlite(self):
        x = one_hot()
        for name in FILES:
            converted = torch.jit.load(self.convert(name))
            with torch.no_grad():
                profile, counts = converted(x)
            for head, value in (("profile", profile), ("counts", counts)):
                for peer in ("tensorflow", "bpnetlite"):
                    error = max_relative_error(value.numpy(), expected(peer, name, head))
                    self.assertLessEqual(error, PEERS, f"{name} {head} vs {peer}")

    def test_converted_file_and_metadata(self):
        output = self.convert("chrombpnet")
        with open(self.path("chrombpnet.json")) as f:
            metadata = json.load(f)
        self.assertEqual(metadata["heads"], ["profile", "counts"])
        self.assertEqual(metadata["input_length"], 300)
        self.assertEqual(metadata["input_layout"], "ncl")
        # The same numbers from the .h5 and from the .pt written from it.
        attribute(model("chrombpnet"), FASTA, "deeplift", self.path("h5.h5"), "--head", "counts")
        attribute(output, FASTA, "deeplift", self.path("pt.h5"), "--head", "counts")
        a, _ = read(self.path("h5.h5"))
        b, _ = read(self.path("pt.h5"))
        np.testing.assert_array_equal(a["attributions"], b["attributions"])

    def dls(self, model_file, output, *head):
        attribute(model_file, FASTA, "deeplift_shap", self.path(output), "--n-shuffles", "4",
                  "--seed", "0", "--delta-warning", "10", *head)
        return read(self.path(output))[0]

    def test_deeplift_shap_equals_the_bpnetlite_twin(self):
        for head in (["--head", "counts"], ["--head", "profile", "--reduce", "chrombpnet-profile"]):
            ours = self.dls(model("nobias"), "h5.h5", *head)
            twin = self.dls(TWIN, "twin.h5", *head)
            for name in ("hypothetical_attributions", "attributions", "predictions"):
                error = max_relative_error(ours[name], twin[name])
                self.assertLessEqual(error, TWINS, f"{head} {name}")

    def test_fast_ism_applies_and_equals_the_twin(self):
        proc = run("inspect", "--model", model("chrombpnet"), "--head", "counts", "--json")
        report = json.loads(proc.stdout)
        self.assertEqual(report["input"]["length"], 300)
        self.assertTrue(report["fast_ism"]["applies"], report["fast_ism"])
        attribute(model("nobias"), FASTA, "ism", self.path("h5.h5"), "--head", "counts")
        attribute(TWIN, FASTA, "ism", self.path("twin.h5"), "--head", "counts")
        ours, twin = read(self.path("h5.h5"))[0], read(self.path("twin.h5"))[0]
        self.assertLessEqual(max_relative_error(ours["attributions"], twin["attributions"]), TWINS)

    def test_chrombpnet_preset(self):
        output = self.path("counts.h5")
        run("attribute", "--quiet", "--config", os.path.join(CONFIGS, "chrombpnet-deepshap.toml"),
            "--model", model("chrombpnet"), "--fasta", FASTA, "--n-shuffles", "2",
            "--output", output)
        with h5py.File(output, "r") as f:
            self.assertEqual(f["shap/seq"].shape, (6, 4, 300))



class Workflow(TempDirTest):
    def test_peaks_to_bigwig_with_the_files_input_length(self):
        genome, peaks = make_genome(self.tmp, scale=0.02)
        output = self.path("counts.h5")
        # No --length: 300, from the Keras file.
        run("attribute", "--quiet", "--config", os.path.join(CONFIGS, "chrombpnet-deepshap.toml"),
            "--model", model("nobias"), "--bed", peaks, "--genome", genome, "--n-shuffles", "2",
            "--output", output)
        with h5py.File(output, "r") as f:
            self.assertEqual(f["attributions"].shape[1:], (4, 300))
        run("export-bigwig", output, "--genome", genome, "--output", self.path("counts.bw"))
        self.assertGreater(os.path.getsize(self.path("counts.bw")), 0)


class Errors(TempDirTest):
    def copy(self, name):
        path = self.path(os.path.basename(model(name)))
        shutil.copy(model(name), path)
        return path

    def edit_config(self, name, edit):
        path = self.copy(name)
        with h5py.File(path, "r+") as f:
            config = json.loads(f.attrs["model_config"])
            edit(config)
            f.attrs["model_config"] = json.dumps(config)
        return path

    def expect(self, model_file, *fragments):
        output = self.path("out.h5")
        expect_cli_error(self, ["attribute", "--model", model_file, "--fasta", FASTA,
                                "--method", "gradient", "--head", "counts", "--output", output],
                         model_file, *fragments, outputs=[output])
        converted = self.path("converted.pt")
        expect_cli_error(self, ["convert", "--model", model_file, "--output", converted],
                         model_file, *fragments, outputs=[converted, self.path("converted.json")])

    def test_unsupported_layer_is_named(self):
        self.expect(os.path.join(FIXTURES, "unsupported.h5"), "layer 'norm'",
                    "BatchNormalization")

    def test_truncated_file(self):
        path = self.path("truncated.h5")
        with open(model("nobias"), "rb") as f:
            data = f.read()
        with open(path, "wb") as f:
            f.write(data[:len(data) // 2])
        self.expect(path, "not a readable HDF5 file")

    def test_hdf5_without_a_model(self):
        self.expect(EXPECTED, "without a Keras model_config")

    def test_other_lambda(self):
        def edit(config):
            for layer in config["config"]["layers"]:
                if layer["class_name"] == "Lambda":
                    layer["config"]["function"][0] = "cmVkdWNlX21heCBrZWVwZGltcw==\n"
        self.expect(self.edit_config("chrombpnet", edit), "Lambda", "reduce_logsumexp")

    def test_other_activation(self):
        def edit(config):
            config["config"]["layers"][1]["config"]["activation"] = "sigmoid"
        self.expect(self.edit_config("nobias", edit), "activation 'sigmoid'")

    def test_missing_weight(self):
        path = self.copy("nobias")
        with h5py.File(path, "r+") as f:
            group = f["model_weights/wo_bias_bpnet_2conv"]
            group.attrs["weight_names"] = [b"wo_bias_bpnet_2conv/kernel:0"]
        self.expect(path, "layer 'wo_bias_bpnet_2conv'", "bias:0")

    def test_convert_refuses_torchscript_and_json_outputs(self):
        expect_cli_error(self, ["convert", "--model", TWIN, "--output", self.path("x.pt")],
                         "not a Keras HDF5 model", outputs=[self.path("x.pt")])
        expect_cli_error(self, ["convert", "--model", model("bias"), "--output",
                                self.path("x.json")], "--output", ".json",
                         outputs=[self.path("x.json")])
