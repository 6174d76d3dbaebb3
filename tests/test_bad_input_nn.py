"""Bad-input suite, networks: layers, graphs, training, groups, pruning, saved networks, ONNX, and the
``prune``, ``verify`` and ``demo`` commands (issue 10). One row per case; shared assertion in ``_bad_input``.
"""

import io
import json
import os
import sys
import tempfile
import zipfile

import numpy as np
import pytest

import structsparse.nn as nn
from structsparse.exceptions import ParameterError, ShapeError, StructureError

sys.path.insert(0, os.path.dirname(__file__))
from _bad_input import CLI, OK, Case, assert_case  # noqa: E402

TMP = tempfile.mkdtemp(prefix="bad_input_nn_")
RO = os.path.join(TMP, "readonly")
os.mkdir(RO)
os.chmod(RO, 0o555)
if os.access(RO, os.W_OK):  # root writes anywhere: use a folder no one may write
    RO = "/sys/fs"
rng = np.random.default_rng(0)
NET = nn.mlp(hidden=(8,), n_classes=3, n_features=6, rng=0)
X = rng.standard_normal((30, 6)).astype(np.float32)
Yl = rng.integers(0, 3, 30)
BN_NET = nn.Sequential([nn.Dense(4), nn.BatchNorm(), nn.ReLU(), nn.Dense(3)], input_shape=(6,), rng=0)


def path(name):
    return os.path.join(TMP, name)


GOOD = str(BN_NET.save(path("good.npz")))


def rewrite(name, mutate):
    """Copy the saved network with its arrays changed by ``mutate(dict)``."""
    with np.load(GOOD, allow_pickle=False) as data:
        arrays = {k: data[k] for k in data.files}
    mutate(arrays)
    with open(path(name), "wb") as fh:
        np.savez(fh, **arrays)
    return path(name)


def _key(arrays, part):
    return next(k for k in arrays if part in k)


def _neg_var(a):
    k = _key(a, "/var")
    a[k] = -np.abs(a[k]) - 1


def _int_weights(a):
    k = _key(a, "param/")
    a[k] = np.round(a[k] * 10).astype(np.int64)


def _nan(a):
    k = _key(a, "param/")
    a[k] = a[k] * np.nan


def _drop(a):
    del a[_key(a, "param/")]


def _meta_text(a):
    k = next(k for k in a if a[k].dtype.kind == "U")
    a[k] = np.array("{not json")


def _tamper(a):
    k = _key(a, "param/")
    a[k] = a[k] + 1.0  # the weights change but the description inside does not


def _complex(a):
    k = _key(a, "param/")
    a[k] = a[k] + 1j


FILES = {
    "negative_bn_variance": rewrite("negvar.npz", _neg_var),
    "integer_weights": rewrite("intw.npz", _int_weights),
    "complex_weights": rewrite("complexw.npz", _complex),
    "nan_weights": rewrite("nanw.npz", _nan),
    "missing_array": rewrite("missing.npz", _drop),
    "description_not_json": rewrite("metatext.npz", _meta_text),
    "weights_changed": rewrite("tampered.npz", _tamper),
}
with open(path("truncated.npz"), "wb") as fh:
    fh.write(open(GOOD, "rb").read()[:300])
FILES["truncated"] = path("truncated.npz")
with open(path("text.npz"), "w") as fh:
    fh.write("weights: 1 2 3\n")
FILES["text"] = path("text.npz")
np.save(path("array.npy"), np.ones(3))
FILES["npy"] = path("array.npy")
np.savez(path("foreign.npz"), a=np.ones(3))
FILES["foreign_npz"] = path("foreign.npz")
with open(path("empty.npz"), "wb"):
    pass
FILES["empty"] = path("empty.npz")
np.savez(path("data_good.npz"), X=X, y=Yl)
np.savez(path("data_noy.npz"), X=X)
np.savez(path("data_len.npz"), X=X, y=Yl[:-2])
with open(path("model.onnx"), "w") as fh:
    fh.write("not an onnx model")

CASES = []


def add(id, category, call, expect, names=(), **kw):
    CASES.append(Case(id, category, call, expect, names, **kw))


# ---- layers and graphs
add("Dense-units-0", "arguments", lambda: nn.Dense(0), ParameterError, "units")
add("Dense-units-float", "data types", lambda: nn.Dense(2.5), ParameterError, "units")
add("Conv2D-filters-negative", "arguments", lambda: nn.Conv2D(-1), ParameterError, "filters")
add("Conv2D-kernel-0", "arguments", lambda: nn.Conv2D(4, kernel_size=0), ParameterError, "kernel_size")
add("Conv2D-stride-0", "arguments", lambda: nn.Conv2D(4, stride=0), ParameterError, "stride")
add("Conv2D-padding-negative", "arguments", lambda: nn.Conv2D(4, padding=-1), ParameterError, "padding")
add("MaxPool2D-size-0", "arguments", lambda: nn.MaxPool2D(0), ParameterError, "size")
add("BatchNorm-eps-0", "arguments", lambda: nn.BatchNorm(eps=0.0), ParameterError, "eps")
add("BatchNorm-momentum-2", "arguments", lambda: nn.BatchNorm(momentum=2.0), ParameterError, "momentum")
add("SqueezeExcite-hidden-0", "arguments", lambda: nn.SqueezeExcite(hidden=0), ParameterError, "hidden")
add("Sequential-input_shape-empty", "empty", lambda: nn.Sequential([nn.Dense(3)], input_shape=()), (ParameterError, ShapeError, StructureError), "input_shape")
add("Sequential-input_shape-0", "empty", lambda: nn.Sequential([nn.Dense(3)], input_shape=(0,)), (ParameterError, ShapeError, StructureError), "input_shape")
add("Sequential-conv-on-vector", "arguments", lambda: nn.Sequential([nn.Conv2D(4)], input_shape=(6,)), (ShapeError, StructureError), ("Conv2D", "input", "shape"))
add("Sequential-kernel-larger-than-image", "sizes", lambda: nn.Sequential([nn.Conv2D(4, kernel_size=9)], input_shape=(8, 8, 1)), (ShapeError, StructureError), ("kernel", "shape", "input"))
add("Sequential-layers-not-layers", "data types", lambda: nn.Sequential([3], input_shape=(6,)), (StructureError, ParameterError, TypeError), ("layer",))
add("mlp-hidden-0", "arguments", lambda: nn.mlp(hidden=(0,)), ParameterError, ("hidden", "units"))
add("mlp-n_classes-0", "arguments", lambda: nn.mlp(n_classes=0), ParameterError, ("n_classes", "units"))
add("small_cnn-input_shape-2d", "arguments", lambda: nn.small_cnn(input_shape=(8, 8)), (ParameterError, ShapeError, StructureError), ("input_shape", "(H, W, C)"))
add("forward-X-wrong-width", "arguments", lambda: NET.forward(np.ones((3, 5), np.float32)), ShapeError, ("X", "input", "shape"))
add("forward-X-complex", "data types", lambda: NET.forward(np.ones((3, 6)) + 1j), ShapeError, ("X", "input"))

# ---- training
add("train-X-empty", "empty", lambda: nn.train(NET, X[:0], Yl[:0], epochs=1, progress=False), (ShapeError, ParameterError), ("X", "sample"))
add("train-y-length", "arguments", lambda: nn.train(NET, X, Yl[:-1], epochs=1, progress=False), ShapeError, "y")
add("train-y-float-labels", "data types", lambda: nn.train(NET, X, Yl + 0.5, epochs=1, progress=False), (ParameterError, ShapeError), "y")
add("train-y-label-out-of-range", "arguments", lambda: nn.train(NET, X, Yl + 5, epochs=1, progress=False), (ParameterError, ShapeError), "y")
add("train-y-negative-label", "arguments", lambda: nn.train(NET, X, Yl - 1, epochs=1, progress=False), (ParameterError, ShapeError), "y")
add("train-X-nan", "data types", lambda: nn.train(NET, X * np.nan, Yl, epochs=1, progress=False), ShapeError, "X")
add("train-X-complex", "data types", lambda: nn.train(NET, X + 1j, Yl, epochs=1, progress=False), ShapeError, "X")
add("train-X-text", "data types", lambda: nn.train(NET, X.astype(str), Yl, epochs=1, progress=False), ShapeError, "X")
add("train-epochs-negative", "arguments", lambda: nn.train(NET, X, Yl, epochs=-1, progress=False), ParameterError, "epochs")
add("train-lr-0", "arguments", lambda: nn.train(NET, X, Yl, epochs=1, lr=0.0, progress=False), ParameterError, "lr")
add("train-batch_size-0", "arguments", lambda: nn.train(NET, X, Yl, epochs=1, batch_size=0, progress=False), ParameterError, "batch_size")
add("train-optimizer-unknown", "arguments", lambda: nn.train(NET, X, Yl, epochs=1, optimizer="lbfgs", progress=False), ParameterError, "optimizer")
add("train-threads-0", "arguments", lambda: nn.train(NET, X, Yl, epochs=1, threads=0, progress=False), ParameterError, "threads")
add("train-X_val-without-y_val", "arguments", lambda: nn.train(NET, X, Yl, epochs=1, X_val=X, progress=False), ParameterError, ("y_val", "X_val"))
add("train-momentum-2", "arguments", lambda: nn.train(NET, X, Yl, epochs=1, momentum=2.0, progress=False), ParameterError, "momentum")
add("train-single-sample", "empty", lambda: nn.train(nn.mlp(hidden=(4,), n_classes=3, n_features=6, rng=0), X[:1], Yl[:1], epochs=1, progress=False),
    OK, check=lambda r: True)
add("accuracy-y-length", "arguments", lambda: nn.accuracy(NET, X, Yl[:-3]), ShapeError, "y")

# ---- groups, penalties, pruning
add("groups-by-unknown", "arguments", lambda: nn.groups(NET, by="rows"), ParameterError, "by")
add("groups-layers-unknown", "arguments", lambda: nn.groups(NET, by="neurons", layers=["nope"]), (ParameterError, StructureError), ("layers", "nope"))
add("groups-weights-unknown", "arguments", lambda: nn.groups(NET, by="neurons", weights="cube"), ParameterError, "weights")
add("penalty-kind-unknown", "arguments", lambda: nn.penalty(NET, by="neurons", kind="l7"), ParameterError, "kind")
add("penalty-lam-negative", "arguments", lambda: nn.penalty(NET, by="neurons", lam=-1.0), ParameterError, "lam")
add("prune-tol-negative", "arguments", lambda: nn.prune(NET, tol=-1.0), ParameterError, "tol")
add("prune-min_keep-0", "arguments", lambda: nn.prune(NET, min_keep=0), ParameterError, "min_keep")
add("prune_to_budget-flops-negative", "arguments", lambda: nn.prune_to_budget(NET, X, Yl, flops=-0.5, by="neurons"), ParameterError, "flops")
add("prune_to_budget-flops-0", "arguments", lambda: nn.prune_to_budget(NET, X, Yl, flops=0.0, by="neurons"), ParameterError, "flops")
add("prune_to_budget-grow-1", "arguments", lambda: nn.prune_to_budget(NET, X, Yl, by="neurons", grow=1.0), ParameterError, "grow")
add("prune_to_budget-max_trials-0", "arguments", lambda: nn.prune_to_budget(NET, X, Yl, by="neurons", max_trials=0), ParameterError, "max_trials")
add("prune_to_budget-y-length", "arguments", lambda: nn.prune_to_budget(NET, X, Yl[:-1], by="neurons"), ShapeError, "y")
add("prune_to_budget-below-min_flops", "sizes", lambda: nn.prune_to_budget(NET, X, Yl, flops=2, by="neurons", epochs=1, fine_tune_epochs=1), ParameterError, ("flops", "budget"))
add("flops-input_shape-bad", "arguments", lambda: nn.flops(NET, input_shape=(5,)), (ShapeError, StructureError), "input_shape")
add("memory-batch-0", "arguments", lambda: nn.memory(NET, batch=0), ParameterError, "batch")
add("speedup-repeats-0", "arguments", lambda: nn.speedup(NET, NET, repeats=0), ParameterError, "repeats")
add("speedup-different-inputs", "arguments", lambda: nn.speedup(NET, nn.mlp(n_features=5, rng=0), batch=4, repeats=1), (ShapeError, StructureError, ParameterError), ("input", "pruned_net"))
add("sensitivity-ratios-above-1", "arguments", lambda: nn.sensitivity(NET, X, Yl, ratios=(1.5,)), ParameterError, "ratios")
add("gate_statistics-no-gate", "arguments", lambda: nn.gate_statistics(NET, X), ParameterError, ("SqueezeExcite", "gate"))
add("augment_images-max_angle-negative", "arguments", lambda: nn.augment_images(np.ones((2, 8, 8, 1)), max_angle=-1.0), ParameterError, "max_angle")
add("augment_images-X-2d", "arguments", lambda: nn.augment_images(np.ones((8, 8))), ShapeError, "X")
add("load_digits_split-test_size-1", "arguments", lambda: nn.load_digits_split(test_size=1.0), ParameterError, "test_size")
add("load_digits_splits-sizes-sum", "arguments", lambda: nn.load_digits_splits(val_size=0.6, test_size=0.6), ParameterError, ("val_size", "test_size"))
add("load_digits_split-n_samples-0", "empty", lambda: nn.load_digits_split(n_samples=0), ParameterError, "n_samples")
add("lam_warmup-n_steps-negative", "arguments", lambda: nn.lam_warmup(0.1, -2), ParameterError, "n_steps")

# ---- saved networks
for name, f in FILES.items():
    add(f"load-{name}", "files", lambda f=f: nn.load(f), (StructureError, ParameterError, OSError), os.path.basename(f))
add("load-missing", "files", lambda: nn.load(path("absent.npz")), (StructureError, OSError), "absent.npz")
add("load-folder", "files", lambda: nn.load(TMP), (StructureError, OSError), os.path.basename(TMP))
add("save-missing-folder", "output paths", lambda: nn.save(NET, path("nodir/n.npz")), (StructureError, OSError), "nodir")
add("save-readonly-folder", "output paths", lambda: nn.save(NET, os.path.join(RO, "n.npz")), OSError, RO)
add("save-not-network", "data types", lambda: nn.save({"w": 1}, path("x.npz")), (StructureError, TypeError), "net")
add("save-load-roundtrip", "files", lambda: nn.load(nn.save(BN_NET, path("again.npz"))), OK,
    check=lambda net: np.allclose(net.forward(X), BN_NET.forward(X)))
add("from_onnx-missing", "files", lambda: nn.from_onnx(path("absent.onnx")), (ParameterError, OSError), "absent.onnx")
add("from_onnx-not-onnx", "files", lambda: nn.from_onnx(path("model.onnx")), ParameterError, "model.onnx")
add("from_onnx-npz", "files", lambda: nn.from_onnx(GOOD), ParameterError, "good.npz")
add("from_onnx-number", "data types", lambda: nn.from_onnx(3), (ParameterError, TypeError), "path_or_model")
add("to_onnx-readonly", "output paths", lambda: nn.to_onnx(NET, os.path.join(RO, "m.onnx")), OSError, RO)
add("to_onnx-opset-low", "arguments", lambda: nn.to_onnx(NET, opset=3), ParameterError, "opset")
add("prune_onnx-data-missing-y", "files", lambda: nn.prune_onnx(nn.to_onnx(NET), path("data_noy.npz"), path("o.onnx")), ParameterError, ("data_noy.npz", "'y'"))
add("prune_onnx-data-lengths", "files", lambda: nn.prune_onnx(nn.to_onnx(NET), path("data_len.npz"), path("o.onnx")), (ParameterError, ShapeError), ("data_len.npz", "y"))
add("prune_onnx-data-text", "files", lambda: nn.prune_onnx(nn.to_onnx(NET), FILES["text"], path("o.onnx")), ParameterError, "text.npz")
add("prune_onnx-out-readonly", "output paths", lambda: nn.prune_onnx(nn.to_onnx(NET), path("data_good.npz"), os.path.join(RO, "o.onnx")), (OSError, ParameterError), RO)
add("prune_onnx-budget-0", "arguments", lambda: nn.prune_onnx(nn.to_onnx(NET), path("data_good.npz"), path("o.onnx"), budget=0.0), ParameterError, "budget")
add("prune_onnx-val_fraction-1", "arguments", lambda: nn.prune_onnx(nn.to_onnx(NET), path("data_good.npz"), path("o.onnx"), val_fraction=1.0), ParameterError, "val_fraction")

# ---- CLI: prune, verify, demo
add("cli-prune-out-readonly", "output paths", ["prune", "--quick", "--arch", "mlp", "--out", os.path.join(RO, "p.npz")], CLI, (RO, "--out"))
add("cli-prune-out-file-as-folder", "output paths", ["prune", "--quick", "--arch", "mlp", "--out", os.path.join(GOOD, "p.npz")], CLI, ("good.npz", "--out"))
add("cli-prune-plot-readonly", "output paths", ["prune", "--quick", "--arch", "mlp", "--plot", os.path.join(RO, "d.png")], CLI, (RO, "--plot"))
add("cli-prune-budget-negative", "arguments", ["prune", "--quick", "--budget-flops", "-1"], CLI, ("budget", "flops"))
add("cli-prune-budget-0", "arguments", ["prune", "--quick", "--budget-flops", "0"], CLI, ("budget", "flops"))
add("cli-prune-min-keep-0", "arguments", ["prune", "--quick", "--min-keep", "0"], CLI, "min")
add("cli-prune-arch-unknown", "arguments", ["prune", "--arch", "resnet"], CLI, "arch")
add("cli-prune-by-mlp-filters", "arguments", ["prune", "--quick", "--arch", "mlp", "--by", "filters"], CLI, ("--by", "filters"))
add("cli-prune-layers-unknown", "arguments", ["prune", "--quick", "--layers", "nope"], CLI, ("layers", "nope"))
add("cli-prune-model-missing", "files", ["prune", "--model", path("absent.onnx"), "--data", path("data_good.npz"), "--out", path("o.onnx")], CLI, "absent.onnx")
add("cli-prune-model-not-onnx", "files", ["prune", "--model", path("model.onnx"), "--data", path("data_good.npz"), "--out", path("o.onnx")], CLI, "model.onnx")
add("cli-prune-model-without-data", "arguments", ["prune", "--model", path("model.onnx"), "--out", path("o.onnx")], CLI, "--data")
add("cli-prune-model-without-out", "arguments", ["prune", "--model", path("model.onnx"), "--data", path("data_good.npz")], CLI, "--out")
add("cli-prune-data-truncated", "files", ["prune", "--model", path("model.onnx"), "--data", FILES["truncated"], "--out", path("o.onnx")], CLI, ("truncated.npz", "model.onnx"))
add("cli-prune-epochs-negative", "arguments", ["prune", "--model", path("model.onnx"), "--data", path("data_good.npz"), "--out", path("o.onnx"), "--epochs", "-1"], CLI, ("epochs", "model.onnx"))
add("cli-verify-penalty-unknown", "arguments", ["verify", "--penalties", "l7"], CLI, ("l7", "penalt"))
add("cli-verify-datafit-unknown", "arguments", ["verify", "--datafits", "hinge"], CLI, ("hinge", "datafit"))
add("cli-verify-solver-unknown", "arguments", ["verify", "--solvers", "magic"], CLI, ("magic", "solver"))
add("cli-verify-tol-negative", "arguments", ["verify", "--tol", "-1"], CLI, "tol")
add("cli-verify-n-problems-0", "arguments", ["verify", "--n-problems", "0"], CLI, ("n-problems", "n_problems"))
add("cli-verify-max-features-1", "sizes", ["verify", "--max-features", "1"], CLI, ("max-features", "max_features"))
add("cli-verify-time-limit-0", "arguments", ["verify", "--time-limit", "0"], CLI, ("time-limit", "time_limit"))
add("cli-verify-json-readonly", "output paths", ["verify", "--penalties", "l1", "--datafits", "least_squares", "--solvers", "fista", "--json", os.path.join(RO, "v.json")], CLI, (RO, "--json"))
add("cli-verify-rng-negative", "arguments", ["verify", "--rng", "-4"], CLI, ("rng", "seed"))
add("cli-demo-parts-unknown", "arguments", ["demo", "--parts", "quantum", "--out", path("demo")], CLI, ("parts", "quantum"))
add("cli-demo-out-readonly", "output paths", ["demo", "--parts", "solvers", "--out", os.path.join(RO, "demo")], CLI, (RO, "--out"))
add("cli-demo-out-is-file", "output paths", ["demo", "--parts", "solvers", "--out", GOOD], CLI, ("good.npz", "--out"))
add("cli-demo-seed-negative", "arguments", ["demo", "--parts", "solvers", "--seed", "-1", "--out", path("demo2")], CLI, ("seed", "rng"))
add("cli-no-command", "arguments", [], CLI, ("command", "usage"))
add("cli-unknown-command", "arguments", ["frobnicate"], CLI, ("frobnicate", "command"))


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input_nn(case):
    assert_case(case)
