#!/usr/bin/env python3
"""Makes tests/data/bpnetlite/: random-weight models made by bpnet-lite's own classes, traced
as users trace them, and what bpnet-lite, tangermeme and Captum compute on them.

Peers, pip-installed with --no-deps over Debian's python3-torch (1.13) into the venv of
bench/peers.py (README, Development):
    /tmp/tvenv/bin/pip install --no-deps bpnet-lite==1.1.0 tangermeme==1.4.0 captum==0.9.0 tqdm
    /tmp/tvenv/bin/python tests/data/make_bpnetlite_fixtures.py

Models (bpnet-lite 1.1.0; forward takes **kwargs-free (X, X_ctl=None), so it is traced):
  bpnet.pt        BPNet(n_filters=16, n_layers=4, n_outputs=2, n_control_tracks=0), traced on
                  (2, 4, 300): returns (profile logits (N, 2, 146), log counts (N, 1)).
                  bpnet.json names its heads (profile, counts) and input length.
  bpnet_ctl.pt    the same with n_control_tracks=2, traced on (X, X_ctl): two inputs.
  bpnet_nlc.pt    bpnet.pt's weights behind a permute: takes (N, L, 4), as a model converted
                  from Keras does.
  chrombpnet.pt   ChromBPNet(bias=BPNet(8, 2, n_outputs=1), accessibility=BPNet(16, 4,
                  n_outputs=1)), traced: (profile (N, 1, 146), counts (N, 1)) with
                  counts = log(exp(acc) + exp(bias)).

Data (bpnetlite.h5): one_hot (8, 4, 300) of seqs.fa, references (8, 4, 4, 300) uint8 from
tangermeme's dinucleotide_shuffle, and under expected/ (all hypothetical attributions,
(8, 4, 300), batch_size=1 so that Captum's softmax mean is per pair):
  bpnet_counts_dls            bpnetlite.attribute.deep_lift_shap(CountWrapper(bpnet)) (tangermeme
                              with bpnet-lite's nonlinear ops)
  bpnet_counts_ig             Captum IntegratedGradients(CountWrapper(bpnet)), zero baseline,
                              n_steps=50, gausslegendre: per-position totals (8, 300)
  bpnet_profile_dls[_float64] bpnetlite.attribute.deep_lift_shap(ProfileWrapper(bpnet)): z *
                              softmax(z) one nonlinearity (_ProfileLogitScaling: _nonlinear);
                              _float64 is the same with every tensor in float64
  bpnet_chrombpnet_profile_dls[_float64]
                              tangermeme deep_lift_shap on chrombpnet's interpret form: the
                              softmax weights held constant (detached)
  chrombpnet_counts_dls       bpnetlite.attribute.deep_lift_shap(CountWrapper(chrombpnet)): exp
                              and log get the rescale rule
"""
import os
import shutil

import h5py
import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "bpnetlite")
LENGTH, SEQUENCES, SHUFFLES = 300, 8, 4


class DetachedProfile(torch.nn.Module):
    """chrombpnet's profile target: sum(stop_gradient(softmax(z)) * z), z mean-centred
    logits, flattened over tracks."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, X):
        z = self.model(X)[0].flatten(1)
        z = z - z.mean(dim=-1, keepdim=True)
        return (torch.softmax(z, dim=-1).detach() * z).sum(dim=-1, keepdim=True)


class ChannelLast(torch.nn.Module):
    """A model that takes (N, L, 4): the permute a Keras conversion puts first."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, X):
        return self.model(X.permute(0, 2, 1))


def trace(model, *example):
    model.eval()
    with torch.no_grad():
        return torch.jit.trace(model, example, check_trace=False)


def make_models():
    from bpnetlite.bpnet import BPNet
    from bpnetlite.chrombpnet import ChromBPNet
    torch.manual_seed(0)
    bpnet = BPNet(n_filters=16, n_layers=4, n_outputs=2, n_control_tracks=0, verbose=False).eval()
    bpnet_ctl = BPNet(n_filters=16, n_layers=4, n_outputs=2, n_control_tracks=2,
                      verbose=False).eval()
    bias = BPNet(n_filters=8, n_layers=2, n_outputs=1, n_control_tracks=0, verbose=False)
    accessibility = BPNet(n_filters=16, n_layers=4, n_outputs=1, n_control_tracks=0,
                          verbose=False)
    chrombpnet = ChromBPNet(bias, accessibility).eval()
    # Random initial weights are small: scale the convolutions so that the ReLUs switch and
    # the outputs vary between sequences, as a trained model's do.
    with torch.no_grad():
        for model in (bpnet, bpnet_ctl, chrombpnet):
            for name, p in model.named_parameters():
                if name.endswith("weight"):
                    p.mul_(3.0)
    x = torch.zeros(2, 4, LENGTH)
    trace(bpnet, x).save(os.path.join(OUT, "bpnet.pt"))
    trace(bpnet_ctl, x, torch.zeros(2, 2, LENGTH)).save(os.path.join(OUT, "bpnet_ctl.pt"))
    trace(ChannelLast(bpnet), x.permute(0, 2, 1)).save(os.path.join(OUT, "bpnet_nlc.pt"))
    trace(chrombpnet, x).save(os.path.join(OUT, "chrombpnet.pt"))
    with open(os.path.join(OUT, "bpnet.json"), "w") as f:
        f.write('{"input_length": 300, "alphabet": "ACGT", "heads": ["profile", "counts"]}\n')
    return bpnet, chrombpnet


def make_data():
    from tangermeme.ersatz import dinucleotide_shuffle
    torch.manual_seed(1)
    bases = torch.randint(0, 4, (SEQUENCES, LENGTH))
    X = torch.nn.functional.one_hot(bases, 4).permute(0, 2, 1).float()
    references = dinucleotide_shuffle(X, n=SHUFFLES, random_state=2)
    with open(os.path.join(OUT, "seqs.fa"), "w") as f:
        for i, row in enumerate(bases.tolist()):
            f.write(f">seq{i}\n{''.join('ACGT'[b] for b in row)}\n")
    return X, references


def dls(function, model, X, references, dtype=torch.float32):
    model = model.to(dtype)
    out = function(model, X.to(dtype), references=references.to(dtype), target=0, batch_size=1,
                   hypothetical=True, device="cpu", warning_threshold=1e9)
    model.float()
    return out.detach().double().numpy()


def main():
    from bpnetlite.attribute import deep_lift_shap as bpnetlite_dls
    from bpnetlite.bpnet import CountWrapper, ProfileWrapper
    from captum.attr import IntegratedGradients
    from tangermeme.deep_lift_shap import deep_lift_shap as tangermeme_dls
    shutil.rmtree(OUT, ignore_errors=True)
    os.makedirs(OUT)
    bpnet, chrombpnet = make_models()
    X, references = make_data()
    expected = {
        "bpnet_counts_dls": dls(bpnetlite_dls, CountWrapper(bpnet), X, references),
        "bpnet_profile_dls": dls(bpnetlite_dls, ProfileWrapper(bpnet), X, references),
        "bpnet_profile_dls_float64": dls(bpnetlite_dls, ProfileWrapper(bpnet), X, references,
                                         torch.float64),
        "bpnet_chrombpnet_profile_dls": dls(tangermeme_dls, DetachedProfile(bpnet), X, references),
        "bpnet_chrombpnet_profile_dls_float64": dls(tangermeme_dls, DetachedProfile(bpnet), X,
                                                    references, torch.float64),
        "chrombpnet_counts_dls": dls(bpnetlite_dls, CountWrapper(chrombpnet), X, references),
    }
    ig = IntegratedGradients(CountWrapper(bpnet))
    expected["bpnet_counts_ig"] = ig.attribute(
        X, baselines=torch.zeros_like(X), target=0, n_steps=50,
        method="gausslegendre").sum(dim=1).detach().double().numpy()
    with h5py.File(os.path.join(OUT, "bpnetlite.h5"), "w") as f:
        f["one_hot"] = X.numpy().astype(np.uint8)
        f["references"] = references.numpy().astype(np.uint8)
        for name, array in expected.items():
            f.create_dataset("expected/" + name, data=array, compression="gzip", shuffle=True)


if __name__ == "__main__":
    main()
