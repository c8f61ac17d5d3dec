"""The models users hold: bpnet-lite's BPNet and ChromBPNet, traced as users trace them, with
tuple outputs (profile logits, log counts), control-track inputs and (N, L, 4) twins.

Fixtures and expected arrays: tests/data/make_bpnetlite_fixtures.py (bpnet-lite 1.1.0,
tangermeme 1.4.0, Captum 0.9.0; tests/data/bpnetlite/). Agreement is max |a - b| / max |b|.
bpnet-lite's profile rule (z * softmax(z) rescaled as one nonlinearity) is ill-conditioned in
the activations, as Captum's softmax rule is: tangermeme in float32 is 2e-4 from the same
definition evaluated in float64, so seqattr (which computes such rules in float64) is judged
against tangermeme run in float64. Fast ISM is judged against naive ISM in float64, computed
here from the traced model itself.
"""
import json
import os

import numpy as np
import torch

from seqattr_cli import (DATA, TempDirTest, attribute, expect_cli_error, max_relative_error,
                         read, run)

FIXTURES = os.path.join(DATA, "bpnetlite")
FASTA = os.path.join(FIXTURES, "seqs.fa")
GOLDEN = os.path.join(FIXTURES, "bpnetlite.h5")
TOLERANCE = 1e-4  # agreement with the peers' float32 answers
EXACT = 1e-5      # agreement with a float64 evaluation of the same definition
SUMMATION = 1e-5  # |convergence delta| over the largest |f(x) - f(r)|


def model(name):
    return os.path.join(FIXTURES, name)


def expected(name):
    import h5py
    with h5py.File(GOLDEN, "r") as f:
        return f["expected/" + name][()]


def one_hot():
    import h5py
    with h5py.File(GOLDEN, "r") as f:
        return torch.tensor(f["one_hot"][()], dtype=torch.float64)


def head_value(traced, x, head, reduce="none", track=None, extra=None):
    """What seqattr explains, computed here in torch (float64 when x is): the head, reduced."""
    out = traced(x, *([] if extra is None else [extra(x)]))[head]
    if reduce == "none":
        return out[:, 0]
    z = out[:, track] if track is not None else out.flatten(1)
    z = z - z.mean(-1, keepdim=True)
    return (z * torch.softmax(z, -1)).sum(-1)


# Positions ISM is checked at: both edges (padding) and the middle.
ISM_POSITIONS = list(range(0, 16)) + list(range(142, 158)) + list(range(284, 300))


def naive_ism_float64(name, x, **head):
    """f(mutant) - f(input) for every substitution at ISM_POSITIONS, in float64: (N, 4, P),
    0 at the observed base; and the largest |f| (the magnitude naive float32 ISM rounds at)."""
    traced = torch.jit.load(model(name)).double().eval()
    positions = ISM_POSITIONS
    deltas = torch.zeros(x.shape[0], 4, len(positions), dtype=x.dtype)
    largest = 0.0
    with torch.no_grad():
        for n in range(x.shape[0]):
            mutants = x[n].repeat(4 * len(positions), 1, 1)
            for b in range(4):
                for i, p in enumerate(positions):
                    mutants[b * len(positions) + i, :, p] = 0
                    mutants[b * len(positions) + i, b, p] = 1
            f = head_value(traced, mutants, **head).reshape(4, len(positions))
            f0 = head_value(traced, torch.cat([x[n:n + 1], x[n:n + 1]]), **head)[0]
            deltas[n] = (f - f0) * (1 - x[n][:, positions])
            largest = max(largest, float(f.abs().max()), float(f0.abs()))
    return deltas.numpy(), largest


class SummationMixin:
    def assert_sums_to_delta(self, arrays, traced_name, head_args):
        """|delta| <= SUMMATION of the largest |f(x) - f(r)|, f computed here in float64."""
        import h5py
        traced = torch.jit.load(model(traced_name)).double().eval()
        with h5py.File(GOLDEN, "r") as f:
            refs = torch.tensor(f["references"][()], dtype=torch.float64)
        n, r = refs.shape[:2]
        with torch.no_grad():
            f_r = head_value(traced, refs.reshape(n * r, 4, -1), **head_args).reshape(n, r)
            f_x = head_value(traced, one_hot(), **head_args)
        scale = float((f_x[:, None] - f_r).abs().max())
        ulps = 8 * np.finfo(np.float32).eps * float(max(f_x.abs().max(), f_r.abs().max()))
        self.assertLessEqual(np.abs(arrays["convergence_delta"]).max(), SUMMATION * scale + ulps)


class Heads(TempDirTest, SummationMixin):
    def dls(self, name, *extra):
        out = self.path("dls.h5")
        attribute(model(name), FASTA, "deeplift_shap", out, "--references", GOLDEN, *extra)
        return read(out)

    def test_counts_head_deeplift_shap_equals_bpnetlite(self):
        # bpnet.json names the heads: --head counts; the index works as well.
        for head in ("counts", "1"):
            with self.subTest(head=head):
                arrays, attrs = self.dls("bpnet.pt", "--head", head)
                error = max_relative_error(arrays["hypothetical_attributions"],
                                           expected("bpnet_counts_dls"))
                self.assertLess(error, TOLERANCE)
                parameters = json.loads(attrs["parameters"])
                self.assertEqual((parameters["head_used"], parameters["reduce_used"]),
                                 ("counts", "none"))
                traced = torch.jit.load(model("bpnet.pt")).eval()
                with torch.no_grad():
                    counts = traced(one_hot().float())[1].numpy()
                np.testing.assert_allclose(arrays["predictions"], counts, rtol=1e-5, atol=1e-6)

    def test_counts_head_integrated_gradients_equals_captum(self):
        out = self.path("ig.h5")
        attribute(model("bpnet.pt"), FASTA, "integrated_gradients", out, "--head", "counts")
        totals = read(out)[0]["attributions"].sum(axis=1)
        self.assertLess(max_relative_error(totals, expected("bpnet_counts_ig")), TOLERANCE)

    def test_profile_with_bpnet_lites_rule(self):
        arrays, attrs = self.dls("bpnet.pt", "--head", "profile", "--reduce", "bpnet-lite-profile")
        parameters = json.loads(attrs["parameters"])
        self.assertEqual(parameters["deeplift_dtype"], "float64")
        self.assertEqual(parameters["profile_track"], "all")
        self.assertEqual(arrays["predictions"].shape, (8, 1))
        hypothetical = arrays["hypothetical_attributions"]
        self.assertLess(max_relative_error(hypothetical, expected("bpnet_profile_dls_float64")),
                        EXACT)
        # bpnet-lite's float32 answer is this far from its own float64 one, and so from ours.
        peer_error = max_relative_error(expected("bpnet_profile_dls"),
                                        expected("bpnet_profile_dls_float64"))
        self.assertLess(max_relative_error(hypothetical, expected("bpnet_profile_dls")),
                        peer_error + EXACT)
        self.assert_sums_to_delta(arrays, "bpnet.pt", {"head": 0, "reduce": "profile"})

    def test_profile_with_chrombpnets_detached_softmax(self):
        arrays, attrs = self.dls("bpnet.pt", "--head", "profile", "--reduce", "chrombpnet-profile")
        hypothetical = arrays["hypothetical_attributions"]
        self.assertEqual(json.loads(attrs["parameters"])["deeplift_dtype"], "float32")
        self.assertLess(max_relative_error(hypothetical, expected("bpnet_chrombpnet_profile_dls")),
                        TOLERANCE)
        self.assertLess(max_relative_error(
            hypothetical, expected("bpnet_chrombpnet_profile_dls_float64")), TOLERANCE)
        traced = torch.jit.load(model("bpnet.pt")).double().eval()
        with torch.no_grad():
            value = head_value(traced, one_hot(), 0, "profile").numpy()
        np.testing.assert_allclose(arrays["predictions"][:, 0], value, rtol=1e-5, atol=1e-6)

    def test_profile_track(self):
        arrays, attrs = self.dls("bpnet.pt", "--head", "profile", "--reduce", "chrombpnet-profile",
                                 "--target", "1")
        self.assertEqual(json.loads(attrs["parameters"])["profile_track"], 1)
        traced = torch.jit.load(model("bpnet.pt")).double().eval()
        with torch.no_grad():
            value = head_value(traced, one_hot(), 0, "profile", track=1).numpy()
        np.testing.assert_allclose(arrays["predictions"][:, 0], value, rtol=1e-5, atol=1e-6)

    def test_chrombpnet_counts_equals_bpnetlite(self):
        # counts = log(exp(accessibility) + exp(bias)): exp and log get the rescale rule, as
        # bpnet-lite registers _Exp and _Log. No MODEL.json: (profile, counts) by shape.
        arrays, _ = self.dls("chrombpnet.pt", "--head", "counts")
        self.assertLess(max_relative_error(arrays["hypothetical_attributions"],
                                           expected("chrombpnet_counts_dls")), TOLERANCE)
        self.assert_sums_to_delta(arrays, "chrombpnet.pt", {"head": 1})

    def test_channel_last_twin_equals_the_model(self):
        for method, extra in [("deeplift_shap", ["--references", GOLDEN]), ("ism", []),
                              ("integrated_gradients", ["--n-steps", "8"])]:
            with self.subTest(method=method):
                ncl, nlc = self.path("ncl.h5"), self.path("nlc.h5")
                attribute(model("bpnet.pt"), FASTA, method, ncl, "--head", "1", *extra)
                attribute(model("bpnet_nlc.pt"), FASTA, method, nlc, "--head", "1",
                          "--input-layout", "nlc", *extra)
                a, b = read(ncl)[0], read(nlc)[0]
                self.assertEqual(b["hypothetical_attributions"].shape, (8, 4, 300))
                np.testing.assert_allclose(b["hypothetical_attributions"],
                                           a["hypothetical_attributions"], rtol=1e-5, atol=1e-7)

    def test_control_tracks_get_zeros(self):
        out = self.path("ctl.h5")
        attribute(model("bpnet_ctl.pt"), FASTA, "deeplift_shap", out, "--references", GOLDEN,
                  "--head", "1", "--extra-inputs", "zeros")
        arrays, attrs = read(out)
        self.assertEqual(json.loads(attrs["parameters"])["extra_inputs_used"], ["X_ctl"])
        traced = torch.jit.load(model("bpnet_ctl.pt")).eval()
        x = one_hot().float()
        with torch.no_grad():
            counts = traced(x, torch.zeros(x.shape[0], 2, x.shape[2]))[1].numpy()
        np.testing.assert_allclose(arrays["predictions"], counts, rtol=1e-5, atol=1e-6)


class Outputs(TempDirTest):
    def scripted(self, name, module):
        path = self.path(name)
        torch.jit.script(module.eval()).save(path)
        return path

    def test_dict_and_list_outputs(self):
        from typing import Dict, List

        class Net(torch.nn.Module):
            def __init__(self):
                super().__init__()
                torch.manual_seed(3)
                self.conv = torch.nn.Conv1d(4, 3, 5, padding=2)

        class DictNet(Net):
            def forward(self, x) -> Dict[str, torch.Tensor]:
                h = self.conv(x)
                return {"profile": h, "counts": h.sum(-1)[:, :1]}

        class ListNet(Net):
            def forward(self, x) -> List[torch.Tensor]:
                h = self.conv(x)
                return [h, h.sum(-1)[:, :1]]

        x = one_hot().float()
        for name, net, head in [("dict.pt", DictNet(), "counts"), ("list.pt", ListNet(), "1")]:
            with self.subTest(output=name):
                path = self.scripted(name, net)
                out = self.path(name + ".h5")
                attribute(path, FASTA, "gradient", out, "--head", head)
                with torch.no_grad():
                    expected_counts = net(x)["counts" if head == "counts" else 1].numpy()
                np.testing.assert_allclose(read(out)[0]["predictions"], expected_counts,
                                           rtol=1e-5, atol=1e-5)
                other = "profile" if head == "counts" else "0"
                attribute(path, FASTA, "gradient", out, "--head", other, "--reduce", "mean")
                with torch.no_grad():
                    mean = net(x)["profile" if head == "counts" else 0].mean(-1).numpy()
                np.testing.assert_allclose(read(out)[0]["predictions"], mean, rtol=1e-5, atol=1e-5)

    def test_defaults_from_model_json(self):
        import shutil
        path = self.path("bpnet.pt")
        shutil.copy(model("bpnet.pt"), path)
        self.write("bpnet.json", json.dumps({"input_length": 300, "heads": ["profile", "counts"],
                                             "default_head": "profile",
                                             "default_reduce": "chrombpnet-profile"}))
        out = self.path("default.h5")
        attribute(path, FASTA, "gradient", out)
        parameters = json.loads(read(out)[1]["parameters"])
        self.assertEqual((parameters["head_used"], parameters["reduce_used"]),
                         ("profile", "chrombpnet-profile"))
        # default_reduce belongs to default_head: another head is not reduced.
        attribute(path, FASTA, "gradient", out, "--head", "counts")
        parameters = json.loads(read(out)[1]["parameters"])
        self.assertEqual((parameters["head_used"], parameters["reduce_used"]), ("counts", "none"))
        # input_layout from MODEL.json
        nlc = self.path("nlc.pt")
        shutil.copy(model("bpnet_nlc.pt"), nlc)
        self.write("nlc.json", json.dumps({"input_length": 300, "input_layout": "nlc"}))
        attribute(nlc, FASTA, "gradient", out, "--head", "counts")
        self.assertEqual(json.loads(read(out)[1]["parameters"])["input_layout_used"], "nlc")


class FastIsmOnTracedModels(TempDirTest):
    CASES = [("bpnet.pt", ["--head", "counts"], {"head": 1}),
             ("bpnet.pt", ["--head", "profile", "--reduce", "bpnet-lite-profile"],
              {"head": 0, "reduce": "profile"}),
             ("chrombpnet.pt", ["--head", "counts"], {"head": 1}),
             ("chrombpnet.pt", ["--head", "profile", "--reduce", "chrombpnet-profile",
                                "--target", "0"], {"head": 0, "reduce": "profile", "track": 0}),
             ("bpnet_nlc.pt", ["--head", "1", "--input-layout", "nlc"], None),
             ("bpnet_ctl.pt", ["--head", "1", "--extra-inputs", "zeros"],
              {"head": 1, "extra": lambda x: torch.zeros(x.shape[0], 2, x.shape[2],
                                                         dtype=x.dtype)})]

    def test_fast_ism_applies_and_is_within_1e5_of_exact(self):
        x = one_hot()[:1]
        with open(FASTA) as f:
            fasta = self.write("one.fa", "".join(f.read().splitlines(True)[:2]))
        for name, flags, head in self.CASES:
            with self.subTest(model=name, flags=flags):
                out = self.path("ism.h5")
                attribute(model(name), fasta, "ism", out, "--ism-mode", "fast", *flags)
                arrays, attrs = read(out)
                self.assertEqual(json.loads(attrs["parameters"])["ism_mode_used"], "fast")
                if head is None:  # the (N, L, 4) twin: the same deltas as the model
                    twin = self.path("twin.h5")
                    attribute(model("bpnet.pt"), fasta, "ism", twin, "--head", "1")
                    np.testing.assert_allclose(arrays["ism_delta"], read(twin)[0]["ism_delta"],
                                               rtol=0, atol=1e-9)
                    continue
                exact, largest = naive_ism_float64(name, x, **head)
                ulps = 8 * np.finfo(np.float32).eps * largest
                # The fast pass's own rounding is at the change, not at |f|: no ulp floor of
                # f is needed unless the deltas themselves vanish.
                tolerance = EXACT * np.abs(exact).max() + (ulps if np.abs(exact).max() < 1e-6 else 0)
                fast = arrays["ism_delta"][:, :, ISM_POSITIONS]
                self.assertLessEqual(np.abs(fast - exact).max(), tolerance)


class Errors(TempDirTest):
    def test_several_heads_and_no_head(self):
        out = self.path("x.h5")
        error = expect_cli_error(self, ["attribute", "--model", model("chrombpnet.pt"), "--fasta",
                                        FASTA, "--method", "gradient", "--output", out],
                                 "returns 2 outputs", "0 'profile' (N, 1, 146)", "1 'counts' (N, 1)",
                                 "--head", outputs=[out])
        self.assertIn("chrombpnet.pt", error)

    def test_unknown_head(self):
        out = self.path("x.h5")
        expect_cli_error(self, ["attribute", "--model", model("bpnet.pt"), "--fasta", FASTA,
                                "--method", "gradient", "--output", out, "--head", "shape"],
                         "--head 'shape'", "profile", "counts", outputs=[out])

    def test_profile_without_reduction(self):
        out = self.path("x.h5")
        expect_cli_error(self, ["attribute", "--model", model("bpnet.pt"), "--fasta", FASTA,
                                "--method", "gradient", "--output", out, "--head", "profile"],
                         "head 'profile' has shape (N, 2, 146)", "--reduce", outputs=[out])

    def test_track_out_of_range(self):
        out = self.path("x.h5")
        expect_cli_error(self, ["attribute", "--model", model("bpnet.pt"), "--fasta", FASTA,
                                "--method", "gradient", "--output", out, "--head", "profile",
                                "--reduce", "chrombpnet-profile", "--target", "2"],
                         "--target 2", "2 track(s)", outputs=[out])

    def test_extra_inputs_are_named(self):
        out = self.path("x.h5")
        expect_cli_error(self, ["attribute", "--model", model("bpnet_ctl.pt"), "--fasta", FASTA,
                                "--method", "gradient", "--output", out, "--head", "1"],
                         "X_ctl", "--extra-inputs zeros", outputs=[out])

    def test_channel_last_model_without_layout(self):
        out = self.path("x.h5")
        expect_cli_error(self, ["attribute", "--model", model("bpnet_nlc.pt"), "--fasta", FASTA,
                                "--method", "gradient", "--output", out],
                         "forward failed", "--input-layout nlc", outputs=[out])

    def test_unknown_reduction_and_layout(self):
        out = self.path("x.h5")
        for flag, value in [("--reduce", "max"), ("--input-layout", "lnc"),
                            ("--extra-inputs", "ones")]:
            with self.subTest(flag=flag):
                proc = run("attribute", "--model", model("bpnet.pt"), "--fasta", FASTA,
                           "--method", "gradient", "--output", out, flag, value, check=False)
                self.assertNotEqual(proc.returncode, 0)
                self.assertIn(flag, proc.stderr)
                self.assertFalse(os.path.exists(out))


class Bench(TempDirTest):
    def test_bench_takes_head_and_reduce(self):
        proc = run("bench", "--model", model("bpnet.pt"), "--head", "profile", "--reduce",
                   "bpnet-lite-profile", "--methods", "ism,deeplift_shap", "--sequences", "1",
                   "-r", "1", "--warmup", "0", "--n-shuffles", "2", "--ism-window", "10",
                   "-o", "json")
        rows = json.loads(proc.stdout)
        self.assertEqual(len(rows), 2)


class Inspect(TempDirTest):
    def inspect(self, *args):
        return json.loads(run("inspect", *args, "--json").stdout)

    def test_traced_bpnet(self):
        report = self.inspect("--model", model("bpnet.pt"), "--head", "counts")
        self.assertEqual(report["input"]["shape"], "(N, 4, 300)")  # length from bpnet.json
        self.assertEqual([(h["name"], h["shape"], h["explained"]) for h in report["heads"]],
                         [("profile", "(N, 2, 146)", False), ("counts", "(N, 1)", True)])
        # 2 x multiply-accumulates of the count path: iconv 16x4x21, four 16x16x3 dilated
        # convolutions (300 positions each), the 16 -> 1 linear layer. The profile head's
        # convolution is not run for the counts head.
        self.assertEqual(report["forward_flops"]["per_sequence"],
                         2 * (300 * (16 * 4 * 21 + 4 * 16 * 16 * 3) + 16))
        # BPNet's receptive field: 21 + 2 (2 + 4 + 8 + 16); the mean over length mixes it all.
        self.assertEqual(report["receptive_field"], {"known": True, "bases": 81,
                                                     "whole_input": True, "mixing_op": "aten::mean"})
        self.assertEqual(report["deeplift"]["rules"]["aten::relu"], "rescale")
        self.assertEqual(report["deeplift"]["without_rule"], [])
        self.assertTrue(report["fast_ism"]["applies"])
        text = run("inspect", "--model", model("bpnet.pt"), "--head", "counts").stdout
        for fragment in ["1 'counts' (N, 1)  <- explained", "81 bp", "fast ISM:   applies"]:
            self.assertIn(fragment, text)

    def test_profile_head_and_its_rules(self):
        report = self.inspect("--model", model("chrombpnet.pt"), "--length", "300", "--head",
                              "profile", "--reduce", "bpnet-lite-profile")
        self.assertEqual(report["deeplift"]["rules"]["seqattr::profile_logit_scaling"],
                         "rescale (bpnet-lite's profile rule)")
        self.assertEqual(report["deeplift"]["dtype"], "float64")
        # The profile adds the 75-bp output convolution: 81 + 74.
        self.assertEqual(report["receptive_field"]["bases"], 155)
        report = self.inspect("--model", model("bpnet_ctl.pt"), "--length", "300", "--head", "0",
                              "--reduce", "chrombpnet-profile", "--extra-inputs", "zeros")
        self.assertEqual(report["input"]["extra_inputs_zeros"], ["X_ctl"])
        self.assertEqual(report["deeplift"]["rules"]["aten::softmax"], "none needed (detached)")

    def test_where_fast_ism_does_not_apply(self):
        report = self.inspect("--model", os.path.join(DATA, "..", "..", "models", "fixtures",
                                                      "dense_first.pt"), "--length", "100")
        self.assertFalse(report["fast_ism"]["applies"])
        self.assertIn("aten::flatten", report["fast_ism"]["reason"])

    def test_errors_as_attribute_gives_them(self):
        expect_cli_error(self, ["inspect", "--model", model("chrombpnet.pt"), "--length", "300"],
                         "returns 2 outputs", "--head")
        expect_cli_error(self, ["inspect", "--model", model("chrombpnet.pt")], "--length")
