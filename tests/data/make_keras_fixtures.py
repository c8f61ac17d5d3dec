#!/usr/bin/env python3
"""Makes tests/data/keras/: small ChromBPNet models built by chrombpnet's own model code,
saved by Keras in the legacy HDF5 format chrombpnet writes, with what TensorFlow and
bpnet-lite predict on them.

Peers, from PyPI, in a venv over Debian's python3-torch (1.13) and h5py. chrombpnet pins
tensorflow 2.8, which has no wheel for Python 3.11, so it goes in with --no-deps:
    python3 -m venv --system-site-packages /tmp/tfvenv
    /tmp/tfvenv/bin/pip install tensorflow-cpu==2.15.1 tf-keras==2.15.1 tensorflow-probability==0.23.0
    /tmp/tfvenv/bin/pip install --no-deps chrombpnet==1.0.1 bpnet-lite==1.1.0 tqdm
    /tmp/tfvenv/bin/python tests/data/make_keras_fixtures.py
    /tmp/tfvenv/bin/python tests/data/make_keras_fixtures.py --full-size DIR   # for timing

Models (random weights; chrombpnet's kernel widths 21 and 75, input 300 bases, output 178):
  bias_model_scaled.h5  chrombpnet.training.models.bpnet_model (filters 4, n_dil_layers 2):
                        the bias model; its profile (194) is cropped to 178 by Keras.
  chrombpnet.h5         chrombpnet.training.models.chrombpnet_with_bias_model (filters 8,
                        n_dil_layers 3) over the bias model: nested models, profile logits
                        added, counts combined by a Lambda (reduce_logsumexp).
  chrombpnet_nobias.h5  chrombpnet's save_model_without_bias of chrombpnet.h5.
  unsupported.h5        a Conv1D followed by BatchNormalization (a layer chrombpnet does not
                        build) and GlobalAvgPool1D + Dense.
  nobias_bpnetlite.pt   bpnet-lite's BPNet.from_chrombpnet(chrombpnet_nobias.h5), traced on
                        (2, 4, 300); nobias_bpnetlite.json names its heads (profile, counts).
  seqs.fa               the sequences of one_hot.

Data (keras.h5): one_hot (6, 4, 300) uint8 and, per model M in bias, chrombpnet, nobias:
  tensorflow/M/profile (6, 178), tensorflow/M/counts (6, 1)   Keras model.predict
  bpnetlite/M/profile (6, 178), bpnetlite/M/counts (6, 1)     bpnet-lite's conversion:
      BPNet.from_chrombpnet for bias and nobias (the bias profile centre-cropped from 194
      to 178, as ChromBPNet crops it), ChromBPNet(bias, nobias) for chrombpnet.
bpnet-lite reads the files chrombpnet wrote as they are (model_weights/<layer>/<layer>/
kernel:0): no rewriting was needed for Keras 2.15's legacy HDF5 format.
"""
import argparse
import os
import shutil

import h5py
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "keras")
LENGTH, OUTPUT, SEQUENCES = 300, 178, 6


def randomize(model, rng):
    """Random weights of a trained model's scale: kernels N(0, 1.5/sqrt(fan_in)) so the
    ReLUs switch, biases N(0, 0.1)."""
    for layer in model.layers:
        weights = layer.get_weights()
        if not weights:
            continue
        kernel, bias = weights
        fan_in = int(np.prod(kernel.shape[:-1]))
        layer.set_weights([
            rng.normal(0, 1.5 / np.sqrt(fan_in), kernel.shape).astype(np.float32),
            rng.normal(0, 0.1, bias.shape).astype(np.float32)])


def build_chrombpnet(directory, bias_size, accessibility_size, length, output, rng):
    """The bias model, then the full model over it and its no-bias part, as chrombpnet's
    pipeline builds and saves them; sizes are (filters, n_dil_layers)."""
    import tensorflow as tf
    from chrombpnet.training.models import bpnet_model, chrombpnet_with_bias_model
    args = argparse.Namespace(seed=0, learning_rate=1e-3)
    params = {"filters": bias_size[0], "n_dil_layers": bias_size[1], "counts_loss_weight": 1.0,
              "inputlen": length, "outputlen": output}
    bias = bpnet_model.getModelGivenModelOptionsAndWeightInits(args, params)
    randomize(bias, rng)
    bias_path = os.path.join(directory, "bias_model_scaled.h5")
    bias.save(bias_path, save_format="h5")
    # chrombpnet trains the bias model in another process: a fresh session, so that layer
    # names (add, add_1, ...) restart as they do there; bpnet-lite counts layers by them.
    tf.keras.backend.clear_session()
    params = dict(params, filters=accessibility_size[0], n_dil_layers=accessibility_size[1],
                  bias_model_path=bias_path)
    full = chrombpnet_with_bias_model.getModelGivenModelOptionsAndWeightInits(args, params)
    randomize(full.get_layer("model_wo_bias"), rng)
    full.save(os.path.join(directory, "chrombpnet.h5"), save_format="h5")
    chrombpnet_with_bias_model.save_model_without_bias(full, os.path.join(directory, "chrombpnet"))


def build_models():
    import tensorflow as tf
    build_chrombpnet(OUT, (4, 2), (8, 3), LENGTH, OUTPUT, np.random.default_rng(0))
    tf.keras.backend.clear_session()
    inp = tf.keras.layers.Input(shape=(LENGTH, 4), name="sequence")
    x = tf.keras.layers.Conv1D(4, 5, activation="relu", name="conv")(inp)
    x = tf.keras.layers.BatchNormalization(name="norm")(x)
    x = tf.keras.layers.GlobalAvgPool1D(name="gap")(x)
    out = tf.keras.layers.Dense(1, name="counts")(x)
    tf.keras.Model(inputs=[inp], outputs=[out]).save(os.path.join(OUT, "unsupported.h5"),
                                                     save_format="h5")


def tensorflow_predictions(one_hot):
    import tensorflow as tf
    from chrombpnet.training.utils.losses import multinomial_nll
    x = one_hot.transpose(0, 2, 1).astype(np.float32)  # Keras takes (N, L, 4)
    predictions = {}
    for name, file in (("bias", "bias_model_scaled.h5"), ("chrombpnet", "chrombpnet.h5"),
                       ("nobias", "chrombpnet_nobias.h5")):
        model = tf.keras.models.load_model(os.path.join(OUT, file), compile=False,
                                           custom_objects={"multinomial_nll": multinomial_nll,
                                                           "tf": tf})
        profile, counts = model.predict(x, verbose=0)
        predictions[name] = (profile, counts)
    return predictions


def bpnetlite_predictions(one_hot):
    import torch
    from bpnetlite.bpnet import BPNet
    from bpnetlite.chrombpnet import ChromBPNet
    bias = BPNet.from_chrombpnet(os.path.join(OUT, "bias_model_scaled.h5")).eval()
    nobias = BPNet.from_chrombpnet(os.path.join(OUT, "chrombpnet_nobias.h5")).eval()
    full = ChromBPNet(bias, nobias).eval()
    x = torch.from_numpy(one_hot).float()
    predictions = {}
    with torch.no_grad():
        for name, model in (("bias", bias), ("nobias", nobias), ("chrombpnet", full)):
            profile, counts = model(x)
            profile = profile[:, 0, :]
            trim = (profile.shape[-1] - OUTPUT) // 2
            predictions[name] = (profile[:, trim:trim + OUTPUT].numpy(), counts.numpy())
        traced = torch.jit.trace(nobias, (torch.zeros(2, 4, LENGTH),), check_trace=False)
    traced.save(os.path.join(OUT, "nobias_bpnetlite.pt"))
    with open(os.path.join(OUT, "nobias_bpnetlite.json"), "w") as f:
        f.write('{"input_length": 300, "alphabet": "ACGT", "heads": ["profile", "counts"]}\n')
    return predictions


def full_size(directory):
    """chrombpnet's published size (512 filters, 8 dilated layers, 2,114 -> 1,000; bias 128
    filters, 4 layers), random weights, for timing start-up (README, "ChromBPNet and BPNet
    Keras files"); not committed."""
    os.makedirs(directory, exist_ok=True)
    build_chrombpnet(directory, (128, 4), (512, 8), 2114, 1000, np.random.default_rng(0))


def main():
    if len(os.sys.argv) == 3 and os.sys.argv[1] == "--full-size":
        return full_size(os.sys.argv[2])
    shutil.rmtree(OUT, ignore_errors=True)
    os.makedirs(OUT)
    build_models()
    rng = np.random.default_rng(1)
    bases = rng.integers(0, 4, (SEQUENCES, LENGTH))
    one_hot = np.eye(4, dtype=np.uint8)[bases].transpose(0, 2, 1)
    with open(os.path.join(OUT, "seqs.fa"), "w") as f:
        for i, row in enumerate(bases.tolist()):
            f.write(f">seq{i}\n{''.join('ACGT'[b] for b in row)}\n")
    tensorflow = tensorflow_predictions(one_hot)
    bpnetlite = bpnetlite_predictions(one_hot)
    with h5py.File(os.path.join(OUT, "keras.h5"), "w") as f:
        f["one_hot"] = one_hot
        for peer, predictions in (("tensorflow", tensorflow), ("bpnetlite", bpnetlite)):
            for name, (profile, counts) in predictions.items():
                f[f"{peer}/{name}/profile"] = profile.astype(np.float32)
                f[f"{peer}/{name}/counts"] = counts.astype(np.float32)
    for name in tensorflow:
        for head in (0, 1):
            a, b = tensorflow[name][head], bpnetlite[name][head]
            print(name, ("profile", "counts")[head], "max |tf - bpnet-lite| / max |tf|:",
                  np.abs(a - b).max() / np.abs(a).max())


if __name__ == "__main__":
    main()
