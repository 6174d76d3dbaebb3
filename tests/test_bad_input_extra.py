"""Bad-input suite, the entry points the first tables left out (issue 10): the 2-D compressive-sensing API
(partial_fourier, partial_dct2, the mask generators, wavelet_synthesis2d, TreeSparse2D, BlockSparse2D),
nn.Graph / nn.Sequential and their layers, and the plotting functions of structsparse.plots. One row per
case; shared assertion in ``_bad_input``.
"""

import os
import sys
import tempfile

import matplotlib

matplotlib.use("Agg")  # noqa: E402 - the test process only; the package never switches the backend
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from structsparse import cs, nn  # noqa: E402
from structsparse.exceptions import ParameterError, ShapeError, StructureError  # noqa: E402
from structsparse.plots import cs as pcs  # noqa: E402
from structsparse.plots import nn as pnn  # noqa: E402
from structsparse.plots import sysid as psys  # noqa: E402

sys.path.insert(0, os.path.dirname(__file__))
from _bad_input import OK, Case, assert_case  # noqa: E402

TMP = tempfile.mkdtemp(prefix="bad_input_extra_")
CASES = []


def add(id, category, call, expect, names=(), check=None):
    CASES.append(Case(id, category, call, expect, names, check))


def closing(fn):
    """Run a plotting call and close every figure it made (the row's outcome is the call's)."""
    def run():
        try:
            return fn()
        finally:
            plt.close("all")
    return run


# ----------------------------------------------------------------------------- 2-D compressive sensing
S = (16, 16)
MASK = cs.mask_radial(S, 6)
DMASK = cs.mask_variable_density(S, 60, rng=0, layout="dct")
PF = cs.partial_fourier(S, MASK)
PD = cs.partial_dct2(S, DMASK)
img = np.random.default_rng(0).standard_normal(S[0] * S[1])

# products with an argument of the wrong length: ShapeError naming it (scipy's own check says only "dimension mismatch")
_W = cs.wavelet_synthesis2d(S, "db2")
for _name, _op in (("partial_fourier", PF), ("partial_dct2", PD), ("wavelet_synthesis2d", _W),
                   ("gaussian", cs.gaussian(8, 20, rng=0)), ("partial_dct", cs.partial_dct(8, 32, rng=0))):
    _m, _n = _op.shape
    add(f"{_name}-matvec-wrong-length", "sizes", lambda op=_op, n=_n: op.matvec(np.ones(n + 1)), ShapeError, "x")
    add(f"{_name}-rmatvec-wrong-length", "sizes", lambda op=_op, m=_m: op.rmatvec(np.ones(m - 1)), ShapeError, "r")
    add(f"{_name}-matmul-wrong-length", "sizes", lambda op=_op, n=_n: op @ np.ones((n - 1, 2)), ShapeError, "X")

add("partial_fourier-shape-3d", "arguments", lambda: cs.partial_fourier((4, 4, 4), MASK), ParameterError, "shape")
add("partial_fourier-shape-text", "data types", lambda: cs.partial_fourier(("a", 8), MASK), ParameterError, "shape")
add("partial_fourier-shape-zero", "empty", lambda: cs.partial_fourier((0, 16), np.zeros((0, 16), bool)), ParameterError, "shape")
add("partial_fourier-mask-wrong-shape", "sizes", lambda: cs.partial_fourier(S, MASK[:8]), ShapeError, "mask")
add("partial_fourier-mask-int", "data types", lambda: cs.partial_fourier(S, MASK.astype(int)), (ParameterError, TypeError), "mask")
add("partial_fourier-mask-float", "data types", lambda: cs.partial_fourier(S, MASK.astype(float)), (ParameterError, TypeError), "mask")
add("partial_fourier-mask-empty", "empty", lambda: cs.partial_fourier(S, np.zeros(S, bool)), ParameterError, "mask")
add("partial_fourier-mask-none", "data types", lambda: cs.partial_fourier(S, None), (ParameterError, TypeError), "mask")
add("partial_fourier-matvec-complex", "data types", lambda: PF @ (img + 1j), TypeError, "x")
add("partial_fourier-rmatvec-complex", "data types", lambda: PF.T @ (np.ones(PF.shape[0]) + 1j), TypeError, "y")
add("partial_fourier-non-square-ok", "arguments", lambda: cs.partial_fourier((8, 16), cs.mask_radial((8, 16), 4)), OK,
    check=lambda A: cs.dottest(A, rng=0) is not False and A.shape[1] == 128)
add("partial_dct2-shape-1d", "arguments", lambda: cs.partial_dct2((256,), DMASK), ParameterError, "shape")
add("partial_dct2-mask-wrong-shape", "sizes", lambda: cs.partial_dct2(S, DMASK.T[:, :8]), ShapeError, "mask")
add("partial_dct2-mask-int", "data types", lambda: cs.partial_dct2(S, DMASK.astype(np.int8)), (ParameterError, TypeError), "mask")
add("partial_dct2-mask-empty", "empty", lambda: cs.partial_dct2(S, np.zeros(S, bool)), ParameterError, "mask")
add("partial_dct2-matvec-complex", "data types", lambda: PD @ (img * 1j), TypeError, "x")
add("partial_dct2-rmatvec-complex", "data types", lambda: PD.T @ (np.ones(PD.shape[0]) * 1j), TypeError, "y")
add("mask_variable_density-m-0", "arguments", lambda: cs.mask_variable_density(S, 0, rng=0), ParameterError, "m")
add("mask_variable_density-m-above-n", "sizes", lambda: cs.mask_variable_density(S, 257, rng=0), ParameterError, "m")
add("mask_variable_density-m-float", "data types", lambda: cs.mask_variable_density(S, 2.5, rng=0), (ParameterError, TypeError), "m")
add("mask_variable_density-decay-negative", "arguments", lambda: cs.mask_variable_density(S, 40, rng=0, decay=-1), ParameterError, "decay")
add("mask_variable_density-decay-nan", "arguments", lambda: cs.mask_variable_density(S, 40, rng=0, decay=np.nan), ParameterError, "decay")
add("mask_variable_density-center-above-1", "arguments", lambda: cs.mask_variable_density(S, 40, rng=0, center_fraction=1.5), ParameterError, "center_fraction")
add("mask_variable_density-layout", "arguments", lambda: cs.mask_variable_density(S, 40, rng=0, layout="wavelet"), ParameterError, "layout")
add("mask_variable_density-rng-text", "data types", lambda: cs.mask_variable_density(S, 40, rng="seed"), (ParameterError, TypeError), "rng")
add("mask_variable_density-m-n-ok", "arguments", lambda: cs.mask_variable_density((4, 4), 16, rng=0), OK,
    check=lambda mk: mk.dtype == bool and mk.all())
add("mask_radial-n_lines-0", "arguments", lambda: cs.mask_radial(S, 0), ParameterError, "n_lines")
add("mask_radial-n_lines-text", "data types", lambda: cs.mask_radial(S, "3"), (ParameterError, TypeError), "n_lines")
add("mask_radial-shape-negative", "arguments", lambda: cs.mask_radial((-4, 4), 2), ParameterError, "shape")
add("mask_cartesian-n_lines-above-rows", "sizes", lambda: cs.mask_cartesian(S, 17, rng=0), ParameterError, "n_lines")
add("mask_cartesian-center-above-lines", "arguments", lambda: cs.mask_cartesian(S, 4, rng=0, center_lines=5), ParameterError, "center_lines")
add("mask_cartesian-decay-negative", "arguments", lambda: cs.mask_cartesian(S, 4, rng=0, decay=-2), ParameterError, "decay")
add("mask_cartesian-n_lines-0", "arguments", lambda: cs.mask_cartesian(S, 0, rng=0), ParameterError, "n_lines")
add("wavelet_synthesis2d-odd-side", "sizes", lambda: cs.wavelet_synthesis2d((15, 16), "haar"), (ParameterError, ShapeError), "shape")
add("wavelet_synthesis2d-level-too-deep", "sizes", lambda: cs.wavelet_synthesis2d(S, "haar", level=9), ParameterError, "level")
add("wavelet_synthesis2d-level-0", "arguments", lambda: cs.wavelet_synthesis2d(S, "haar", level=0), ParameterError, "level")
add("wavelet_synthesis2d-level-float", "data types", lambda: cs.wavelet_synthesis2d(S, "haar", level=1.5), (ParameterError, TypeError), "level")
add("wavelet_synthesis2d-unknown-wavelet", "arguments", lambda: cs.wavelet_synthesis2d(S, "db99x"), ParameterError, "wavelet")
add("wavelet_synthesis2d-biorthogonal", "arguments", lambda: cs.wavelet_synthesis2d(S, "bior2.2"), ParameterError, "wavelet")
add("wavelet_synthesis2d-2x2-db4-ok", "sizes", lambda: cs.wavelet_synthesis2d((2, 2), "db4", level=1), OK,
    check=lambda W: np.allclose(cs.as_matrix(W).T @ cs.as_matrix(W), np.eye(4)))
add("wavelet_synthesis2d-matvec-complex", "data types", lambda: cs.wavelet_synthesis2d(S, "haar") @ (img + 1j), TypeError, "c")
add("wavelet_synthesis2d-non-power-of-two-ok", "arguments", lambda: cs.wavelet_synthesis2d((12, 20), "haar", level=2), OK,
    check=lambda W: np.allclose(W.T @ (W @ np.arange(240.0)), np.arange(240.0)))
T2 = cs.TreeSparse2D(S, 20, "haar", level=3)
B2 = cs.BlockSparse2D(S, (4, 4), 3)
add("TreeSparse2D-k-0", "arguments", lambda: cs.TreeSparse2D(S, 0, "haar", level=3), ParameterError, "k")
add("TreeSparse2D-k-above-n", "sizes", lambda: cs.TreeSparse2D(S, 257, "haar", level=3), ParameterError, "k")
add("TreeSparse2D-level-too-deep", "sizes", lambda: cs.TreeSparse2D(S, 20, "haar", level=8), ParameterError, "level")
add("TreeSparse2D-projection", "arguments", lambda: cs.TreeSparse2D(S, 20, "haar", level=3, projection="greedy!"), ParameterError, "projection")
add("TreeSparse2D-odd-shape", "sizes", lambda: cs.TreeSparse2D((9, 16), 20, "haar", level=2), (ParameterError, ShapeError), "shape")
add("TreeSparse2D-approx_support-wrong-length", "sizes", lambda: T2.approx_support(img[:100]), ShapeError, "x")
add("TreeSparse2D-approx_support-image-shape", "sizes", lambda: T2.approx_support(img.reshape(S)), (ShapeError, OK), "x",)
add("TreeSparse2D-approx_support-nan", "numerical extremes", lambda: T2.approx_support(np.where(img > 1, np.nan, img)), (ParameterError, ShapeError), "x")
add("TreeSparse2D-approx_support-complex", "data types", lambda: T2.approx_support(img + 1j), (TypeError, ParameterError, ShapeError), "x")
add("TreeSparse2D-approx_support-k-big", "sizes", lambda: T2.approx_support(img, k=500), ParameterError, "k")
add("TreeSparse2D-sample-kind", "arguments", lambda: T2.sample(rng=0, kind="photo"), ParameterError, "kind")
add("BlockSparse2D-block-not-dividing", "arguments", lambda: cs.BlockSparse2D(S, (3, 4), 2), ParameterError, "block_shape")
add("BlockSparse2D-k_blocks-0", "arguments", lambda: cs.BlockSparse2D(S, (4, 4), 0), ParameterError, "k_blocks")
add("BlockSparse2D-k_blocks-above", "sizes", lambda: cs.BlockSparse2D(S, (4, 4), 17), ParameterError, "k_blocks")
add("BlockSparse2D-block-zero", "arguments", lambda: cs.BlockSparse2D(S, (0, 4), 2), ParameterError, "block_shape")
add("BlockSparse2D-block-larger-than-image", "sizes", lambda: cs.BlockSparse2D(S, (32, 32), 1), ParameterError, "block_shape")
add("BlockSparse2D-approx_support-wrong-length", "sizes", lambda: B2.approx_support(img[:-1]), ShapeError, "x")
add("BlockSparse2D-approx_support-nan", "numerical extremes", lambda: B2.approx_support(np.full(256, np.nan)), (ParameterError, ShapeError), "x")
add("BlockSparse2D-approx_support-complex", "data types", lambda: B2.approx_support(img * 1j), (TypeError, ParameterError, ShapeError), "x")
add("BlockSparse2D-block_norms-wrong-length", "sizes", lambda: B2.block_norms(img[:10]), ShapeError, "x")
add("BlockSparse2D-with_k-clamped-ok", "sizes", lambda: B2.with_k(99), OK, check=lambda m: m.k == m.n_blocks == 16)

# ----------------------------------------------------------------------------- nn.Graph / nn.Sequential
NET = nn.Sequential([nn.Dense(5), nn.ReLU(), nn.Dense(3)], (4,), rng=0)
CNET = nn.Sequential([nn.Conv2D(2, 3), nn.ReLU(), nn.Flatten(), nn.Dense(3)], (6, 6, 1), rng=0)
Xv = np.random.default_rng(1).standard_normal((7, 4)).astype(np.float32)


def _backward_bad(shape):
    net = NET.copy()
    net.forward(Xv, train=True)
    return net.backward(np.ones(shape, np.float32))


add("Graph-input_shape-text", "data types", lambda: nn.Graph("abc"), ShapeError, "input_shape")
add("Graph-input_shape-zero", "empty", lambda: nn.Graph((0,)), ShapeError, "input_shape")
add("Graph-add-not-layer", "data types", lambda: nn.Graph((4,)).add("dense"), (ParameterError, TypeError), "layer")
add("Graph-add-unknown-input", "arguments", lambda: nn.Graph((4,)).add(nn.Dense(2), inputs="nope"), ParameterError, "nope")
add("Graph-add-duplicate-name", "arguments", lambda: (lambda g: (g.add(nn.Dense(2), name="a"), g.add(nn.Dense(2), name="a")))(nn.Graph((4,))), ParameterError, "a")
add("Graph-add-two-inputs-to-dense", "arguments", lambda: nn.Graph((4,)).add(nn.Dense(2), inputs=["input", "input"]), ShapeError, "Dense")
add("Graph-node-unknown", "arguments", lambda: NET.node("nope"), ParameterError, "nope")
add("Graph-shape_of-unknown", "arguments", lambda: NET.shape_of("nope"), ParameterError, "nope")
add("Graph-forward-wrong-features", "sizes", lambda: NET.forward(Xv[:, :3]), ShapeError, "X")
add("Graph-forward-1d", "sizes", lambda: NET.forward(Xv[0]), ShapeError, "X")
add("Graph-forward-nan", "numerical extremes", lambda: NET.forward(np.where(Xv > 1, np.nan, Xv)), (ParameterError, ShapeError), "X")
add("Graph-forward-complex", "data types", lambda: NET.forward(Xv + 1j), (TypeError, ParameterError, ShapeError), "X")
add("Graph-forward-strings", "data types", lambda: NET.forward(np.array([["a"] * 4])), (TypeError, ParameterError, ShapeError), "X")
add("Graph-forward-empty-batch-ok", "empty", lambda: NET.forward(np.zeros((0, 4), np.float32)), OK,
    check=lambda out: out.shape == (0, 3))
add("Graph-forward-float64-ok", "data types", lambda: NET.forward(Xv.astype(np.float64)), OK,
    check=lambda out: np.allclose(out, NET.forward(Xv), atol=1e-5))
add("Graph-forward-image-wrong-channels", "sizes", lambda: CNET.forward(np.zeros((2, 6, 6, 3), np.float32)), ShapeError, "X")
add("Graph-backward-wrong-shape", "sizes", lambda: _backward_bad((7, 4)), ShapeError, "dout")
add("Graph-backward-wrong-batch", "sizes", lambda: _backward_bad((6, 3)), ShapeError, "dout")
add("Graph-backward-before-forward", "arguments", lambda: NET.copy().backward(np.ones((7, 3), np.float32)), ParameterError, "forward")
add("Graph-predict-wrong-shape", "sizes", lambda: NET.predict(Xv[:, :2]), ShapeError, "X")
add("Graph-score-y-length", "sizes", lambda: NET.score(Xv, np.zeros(5)), ShapeError, "y")
add("Graph-astype-int", "data types", lambda: NET.astype(np.int32), (ParameterError, TypeError), "dtype")
add("Sequential-layers-not-layer", "data types", lambda: nn.Sequential([nn.Dense(3), "relu"], (4,)), (ParameterError, TypeError), "layer")
add("Sequential-layers-not-list", "data types", lambda: nn.Sequential(nn.Dense(3), (4,)), (ParameterError, TypeError), "layers")
add("Sequential-conv-on-vectors", "sizes", lambda: nn.Sequential([nn.Conv2D(2, 3)], (4,)), ShapeError, ("input", "Conv2D"))
add("Sequential-kernel-larger-than-image", "sizes", lambda: nn.Sequential([nn.Conv2D(2, 7)], (4, 4, 1)), ShapeError, ("kernel_size", "Conv2D"))
add("Dense-units-0", "arguments", lambda: nn.Dense(0), ParameterError, "units")
add("Dense-units-text", "data types", lambda: nn.Dense("3"), (ParameterError, TypeError), "units")
add("Conv2D-filters-0", "arguments", lambda: nn.Conv2D(0, 3), ParameterError, "filters")
add("Conv2D-stride-0", "arguments", lambda: nn.Conv2D(2, 3, stride=0), ParameterError, "stride")
add("Conv2D-padding-negative", "arguments", lambda: nn.Conv2D(2, 3, padding=-1), ParameterError, "padding")
add("MaxPool2D-size-0", "arguments", lambda: nn.MaxPool2D(0), ParameterError, "size")
add("BatchNorm-momentum-2", "arguments", lambda: nn.BatchNorm(momentum=2.0), ParameterError, "momentum")
add("BatchNorm-eps-negative", "arguments", lambda: nn.BatchNorm(eps=-1.0), ParameterError, "eps")

IMG = nn.Graph((6, 6, 2), rng=0)
_c1 = IMG.add(nn.Conv2D(2, 3, padding=1), name="c1")
_c2 = IMG.add(nn.Conv2D(3, 3), inputs="input", name="c2")  # 4 x 4: does not line up with c1's 6 x 6
add("Concat-mismatched-spatial", "sizes", lambda: IMG.copy().add(nn.Concat(), inputs=["c1", "c2"]), ShapeError, ("Concat", "c1", "shape"))
add("Add-mismatched-shapes", "sizes", lambda: IMG.copy().add(nn.Add(), inputs=["c1", "c2"]), ShapeError, ("Add", "c1", "shape"))
add("Add-same-shapes-ok", "sizes", lambda: IMG.copy().add(nn.Add(), inputs=["c1", "input"]), OK,
    check=lambda name: isinstance(name, str))
add("SqueezeExcite-hidden-0", "arguments", lambda: nn.SqueezeExcite(hidden=0), ParameterError, "hidden")
add("SqueezeExcite-on-vectors", "sizes", lambda: nn.Sequential([nn.SqueezeExcite(2)], (8,)), ShapeError, "SqueezeExcite")
add("AvgPool2D-size-0", "arguments", lambda: nn.AvgPool2D(0), ParameterError, "size")
add("MaxPool2D-larger-than-image", "sizes", lambda: nn.Sequential([nn.MaxPool2D(8)], (4, 4, 1)), ShapeError, ("size", "MaxPool2D"))
add("GlobalAvgPool2D-on-vectors", "sizes", lambda: nn.Sequential([nn.GlobalAvgPool2D()], (8,)), ShapeError, "GlobalAvgPool2D")
add("Flatten-then-conv", "sizes", lambda: nn.Sequential([nn.Flatten(), nn.Conv2D(2, 3)], (4, 4, 1)), ShapeError, "Conv2D")
add("inception-unknown-input", "arguments", lambda: nn.inception(nn.Graph((6, 6, 2)), "nope", [[nn.Conv2D(2, 1)]]), ParameterError, "nope")
add("inception-empty-branch", "empty", lambda: nn.inception(nn.Graph((6, 6, 2)), "input", [[nn.Conv2D(2, 1)], []]), ParameterError, "branch")
add("dense_block-n_layers-0", "arguments", lambda: nn.dense_block(nn.Graph((6, 6, 2)), "input", 0, 2), ParameterError, "n_layers")
add("dense_block-growth-0", "arguments", lambda: nn.dense_block(nn.Graph((6, 6, 2)), "input", 2, 0), ParameterError, "growth")
add("Graph-forward-chunk-ok", "arguments", lambda: NET.forward(np.repeat(Xv, 50, axis=0), chunk=64), OK,
    check=lambda out: np.allclose(out, NET.forward(np.repeat(Xv, 50, axis=0)), atol=1e-5))

# ----------------------------------------------------------------------------- plots
xt = cs.BlockSparse(32, 4, 2).sample(rng=0)
add("plot_recovery-length-mismatch", "sizes", closing(lambda: pcs.plot_recovery(xt, xt[:-1])), ShapeError, "x_rec")
add("plot_recovery-2d", "sizes", closing(lambda: pcs.plot_recovery(xt.reshape(4, 8), xt.reshape(4, 8))), ShapeError, "x_true")
add("plot_recovery-model-text", "data types", closing(lambda: pcs.plot_recovery(xt, xt, model="block")), TypeError, "model")
add("plot_recovery-model-size", "sizes", closing(lambda: pcs.plot_recovery(xt, xt, model=cs.BlockSparse(64, 4, 2))), ShapeError, "model")
add("plot_recovery-fig-text", "data types", closing(lambda: pcs.plot_recovery(xt, xt, fig="fig")), TypeError, "fig")
add("plot_recovery-complex", "data types", closing(lambda: pcs.plot_recovery(xt + 1j, xt)), (TypeError, ParameterError, ShapeError), "x_true")
add("plot_phase_transition-table-text", "data types", closing(lambda: pcs.plot_phase_transition("table")), (TypeError, ParameterError), "table")
add("plot_rip-estimates-number", "data types", closing(lambda: pcs.plot_rip(0.3)), TypeError, "estimates")
TAB = [{"method": "l1", "m": 20, "success": True}, {"method": "l1", "m": 30, "success": False}]
add("plot_phase_transition-ok", "arguments", closing(lambda: pcs.plot_phase_transition(TAB)), OK, check=lambda fig: len(fig.axes) == 1)
add("plot_phase_transition-empty", "empty", closing(lambda: pcs.plot_phase_transition([])), ParameterError, "table")
add("plot_phase_transition-predictions-list", "data types", closing(lambda: pcs.plot_phase_transition(TAB, predictions=[30])), TypeError, "predictions")
add("plot_phase_transition-predictions-text", "data types", closing(lambda: pcs.plot_phase_transition(TAB, predictions={"l1": "x"})), (TypeError, ParameterError), "predictions")
add("plot_phase_transition-fig-text", "data types", closing(lambda: pcs.plot_phase_transition(TAB, fig="f")), TypeError, "fig")
add("plot_phase_transition-model-text", "data types", closing(lambda: pcs.plot_phase_transition(TAB, model="block")), TypeError, "model")
RIP = cs.rip_estimate(cs.gaussian(12, 32, rng=0), cs.BlockSparse(32, 4, 2), n_samples=5, rng=0)
add("plot_rip-labels-count", "sizes", closing(lambda: pcs.plot_rip([RIP, RIP], labels=["a"])), ShapeError, "labels")
add("plot_rip-fig-text", "data types", closing(lambda: pcs.plot_rip(RIP, fig=1)), TypeError, "fig")
add("plot_recovery-path-missing-folder", "output paths", closing(lambda: pcs.plot_recovery(xt, xt, path=os.path.join(TMP, "none", "r.png"))), OSError, "none")
add("save_figure-cs-missing-folder", "output paths", closing(lambda: pcs.save_figure(plt.figure(), os.path.join(TMP, "none", "a.png"))), OSError, "none")
add("save_figure-sysid-missing-folder", "output paths", closing(lambda: psys.save_figure(plt.figure(), os.path.join(TMP, "none", "a.png"))), OSError, "none")
add("plot_real_recovery-shape", "sizes", closing(lambda: pcs.plot_real_recovery(np.zeros((4, 4)), np.zeros((4, 4)), np.zeros((4, 5)))), ShapeError, "recovered")
add("plot_real_recovery-ax-count", "arguments", closing(lambda: pcs.plot_real_recovery(np.zeros(8), np.zeros(8), np.zeros(8), ax=plt.subplots(1, 2)[1])), ParameterError, "ax")
add("plot_real_recovery-ax-text", "data types", closing(lambda: pcs.plot_real_recovery(np.zeros(8), np.zeros(8), np.zeros(8), ax="abc")), TypeError, "ax")
add("plot_real_recovery-complex", "data types", closing(lambda: pcs.plot_real_recovery(np.zeros(8) + 1j, np.zeros(8), np.zeros(8))), (TypeError, ParameterError, ShapeError), "original")
PAT = {"A": np.eye(3), "B": np.ones((3, 1))}
add("plot_patterns-unknown-matrix", "arguments", closing(lambda: psys.plot_patterns(PAT, PAT, matrices=("A", "Q"))), ParameterError, "Q")
add("plot_patterns-shape-mismatch", "sizes", closing(lambda: psys.plot_patterns(PAT, {"A": np.eye(4), "B": np.ones((4, 1))})), ShapeError, "found")
add("plot_patterns-true-text", "data types", closing(lambda: psys.plot_patterns("pattern", PAT)), TypeError, "true")
add("plot_patterns-matrices-empty", "empty", closing(lambda: psys.plot_patterns(PAT, PAT, matrices=())), ParameterError, "matrices")
Y = np.random.default_rng(2).standard_normal((50, 2))
add("plot_outputs-length-mismatch", "sizes", closing(lambda: psys.plot_outputs(Y, Y[:40])), ShapeError, "y_sim")
add("plot_outputs-outputs-mismatch", "sizes", closing(lambda: psys.plot_outputs(Y, Y[:, :1])), ShapeError, "y_sim")
add("plot_outputs-names-short", "sizes", closing(lambda: psys.plot_outputs(Y, Y, names=["a"])), ShapeError, "names")
add("plot_outputs-fit-short", "sizes", closing(lambda: psys.plot_outputs(Y, Y, fit=[90.0])), ShapeError, "fit")
add("plot_outputs-dt-0", "arguments", closing(lambda: psys.plot_outputs(Y, Y, dt=0)), ParameterError, "dt")
add("plot_outputs-max_samples-0", "arguments", closing(lambda: psys.plot_outputs(Y, Y, max_samples=0)), ParameterError, "max_samples")
add("plot_outputs-empty", "empty", closing(lambda: psys.plot_outputs(np.zeros((0, 2)), np.zeros((0, 2)))), ShapeError, "y")
add("plot_poles-empty", "empty", closing(lambda: psys.plot_poles([])), ParameterError, "poles")
add("plot_poles-labels-count", "sizes", closing(lambda: psys.plot_poles([[0.5, 0.2j], [0.1]], labels=["a"])), ShapeError, "labels")
add("plot_poles-ax-text", "data types", closing(lambda: psys.plot_poles([0.5], ax="ax")), TypeError, "ax")
add("plot_poles-strings", "data types", closing(lambda: psys.plot_poles(["a", "b"])), (TypeError, ParameterError), "poles")
add("plot_poles-complex-ok", "data types", closing(lambda: psys.plot_poles(np.array([0.5 + 0.5j, 0.5 - 0.5j]))), OK,
    check=lambda fig: len(fig.axes) == 1)


class _Prof:
    runtime = "numpy"
    times = {1: np.array([1e-3, 2e-3])}
    p50 = {1: 1.5e-3}
    p99 = {1: 2e-3}


add("latency_distribution-kind", "arguments", closing(lambda: pnn.latency_distribution({"a": _Prof()}, kind="box")), ParameterError, "kind")
add("latency_distribution-batch-missing", "arguments", closing(lambda: pnn.latency_distribution({"a": _Prof()}, batch=8)), ParameterError, "batch")
add("latency_distribution-profiles-list", "data types", closing(lambda: pnn.latency_distribution([_Prof()])), TypeError, "profiles")
add("latency_distribution-profiles-empty", "empty", closing(lambda: pnn.latency_distribution({})), ParameterError, "profiles")
add("latency_distribution-ax-text", "data types", closing(lambda: pnn.latency_distribution({"a": _Prof()}, ax=3)), TypeError, "ax")
RES = {"path": [{"flops": 10, "lam": 0.1, "val_acc": 0.9}], "lam": 0.1, "budget": 10, "dense_flops": 20}
add("accuracy_delta-result-list", "data types", closing(lambda: pnn.accuracy_delta([1, 2], 0.9)), TypeError, "result")
add("accuracy_delta-result-missing-key", "arguments", closing(lambda: pnn.accuracy_delta({"path": []}, 0.9)), ParameterError, "result")
add("accuracy_delta-dense_acc-text", "data types", closing(lambda: pnn.accuracy_delta(RES, "high")), (TypeError, ParameterError), "dense_acc")
add("accuracy_delta-ax-text", "data types", closing(lambda: pnn.accuracy_delta(RES, 0.9, ax="ax")), TypeError, "ax")
add("pruning_dashboard-result-list", "data types", closing(lambda: pnn.pruning_dashboard([], {}, {}, {}, os.path.join(TMP, "d.png"))), TypeError, "result")
add("pruning_dashboard-result-missing-key", "arguments", closing(lambda: pnn.pruning_dashboard(RES, {}, {}, {}, os.path.join(TMP, "d.png"))), ParameterError, "result")
add("pruning_dashboard-speed-missing-key", "arguments", closing(lambda: pnn.pruning_dashboard(dict(RES, flops=10, net=None), {"batch": 1}, {}, {}, os.path.join(TMP, "d.png"))), ParameterError, "speed")
add("pruning_dashboard-memory-text", "data types", closing(lambda: pnn.pruning_dashboard(dict(RES, flops=10, net=None), dict.fromkeys(("batch", "efficiency", "realized", "theoretical", "csr_realized", "csr_time", "dense_time", "pruned_time"), 1.0), "mem", {}, os.path.join(TMP, "d.png"))), TypeError, "dense_memory")
add("pixel_mask_figure-out-of-range", "arguments", closing(lambda: pnn.pixel_mask_figure([3, 70], os.path.join(TMP, "p.png"))), ParameterError, "kept_pixels")
add("pixel_mask_figure-example-size", "sizes", closing(lambda: pnn.pixel_mask_figure([3], os.path.join(TMP, "p.png"), example=np.zeros(10))), ShapeError, "example")
add("pixel_mask_figure-missing-folder", "output paths", closing(lambda: pnn.pixel_mask_figure([3], os.path.join(TMP, "none", "p.png"))), (OSError, ParameterError), "none")


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input_extra(case):
    assert_case(case)
