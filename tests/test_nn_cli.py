"""`structsparse prune` with quantization, the joint price, rounding, distillation, progressive steps and
layer-aware allocation, for digits and for an imported ONNX model; `apply-recipe` reproduces each run.

onnxruntime judges the written files; the recipes are read back and checked against the data and networks.
"""

import json

import numpy as np
import pytest

pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")

import onnx  # noqa: E402

import structsparse.nn as nn  # noqa: E402
from structsparse.cli import main  # noqa: E402
from structsparse.nn.cli import rebuild_quantized  # noqa: E402
from structsparse.nn.onnx_io import nchw, ort_session  # noqa: E402


def _run(argv, capsys):
    code = main(argv)
    text = capsys.readouterr()
    assert code == 0, text.out + text.err
    return text.out


def _quantized_bound(q):
    """The tolerance of tests/test_nn_quantize.py: one activation step at the last layer's input, times the
    largest l1 norm of a column of its weights."""
    last = q.net.nodes[-1]
    lsb = q.act_scale[q.chain[last.inputs[0]]]
    return float(lsb * np.abs(last.layer.params["W"]).sum(axis=0).max())


def _softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


@pytest.fixture(scope="module")
def digits_int8(tmp_path_factory):
    """One quick digits CNN run: joint price, int8, QDQ model, recipe and dense source written."""
    folder = tmp_path_factory.mktemp("digits_int8")
    argv = ["prune", "--quick", "--arch", "cnn", "--layers", "all", "--budget-flops", "0.5", "--quantize", "int8",
            "--price-params", "1", "--out", str(folder / "q.onnx"), "--recipe", str(folder / "r.json"),
            "--dense-out", str(folder / "dense.npz"), "--seed", "0"]
    assert main(argv) == 0
    return folder


def test_digits_int8_qdq_model_runs_in_onnxruntime_as_nn_computes_it(digits_int8):
    folder = digits_int8
    model = onnx.load(str(folder / "q.onnx"))
    ops = {n.op_type for n in model.graph.node}
    assert {"QuantizeLinear", "DequantizeLinear"} <= ops
    assert {i.data_type for i in model.graph.initializer if i.name.endswith(".W")} == {onnx.TensorProto.INT8}
    recipe = json.loads((folder / "r.json").read_text())
    dense = nn.Graph.load(folder / "dense.npz")
    pruned = nn.apply_recipe(dense, recipe)
    q = rebuild_quantized(pruned, recipe["quantization"])
    X = nn.load_digits_splits(rng=0, n_samples=600)[2]   # the test part
    got = ort_session(str(folder / "q.onnx")).run(None, {"input": nchw(X)})[0]
    ref = q.forward(X)
    assert np.abs(got - ref).max() <= _quantized_bound(q)
    assert np.mean(got.argmax(1) == ref.argmax(1)) >= 0.99
    # the pruned network meets the budget, and the int8 model stores the fewest bytes
    assert nn.flops(pruned) <= 0.5 * nn.flops(dense)
    wb = recipe["metrics"]["weight_bytes"]
    assert wb["dense"] == nn.weight_bytes(dense) and wb["pruned"] == nn.weight_bytes(pruned)
    assert wb["pruned + int8"] == nn.weight_bytes(q) < wb["pruned"] < wb["dense"]
    # the accuracy recorded for the int8 model is the one of the network the recipe rebuilds
    X_tr, X_val, X_te, y_tr, y_val, y_te = nn.load_digits_splits(rng=0, n_samples=600)
    assert recipe["metrics"]["accuracy"]["pruned + int8"]["test"] == pytest.approx(q.score(X_te, y_te))
    assert recipe["metrics"]["accuracy"]["pruned + int8"]["validation"] == pytest.approx(q.score(X_val, y_val))


def test_digits_int8_calibrates_on_the_training_part_and_records_every_setting(digits_int8):
    recipe = json.loads((digits_int8 / "r.json").read_text())
    X_tr, X_val, X_te, y_tr, y_val, y_te = nn.load_digits_splits(rng=0, n_samples=600)
    cal = recipe["quantization"]["calibration"]
    assert cal["part"] == "train"
    n = cal["samples"]
    assert cal["X_sha256"] == nn.data_fingerprint(X_tr[:n])["X_sha256"] and cal["X_shape"][0] == n
    assert recipe["data"]["train"] == nn.data_fingerprint(X_tr, y_tr)
    assert recipe["data"]["test"] == nn.data_fingerprint(X_te, y_te)
    hp = recipe["hyperparameters"]
    assert hp["quantize"] == "int8" and hp["per_channel"] is True and hp["price_params"] == 1.0
    assert hp["allocation"] == "global" and hp["budget_flops"] == 0.5 and hp["seed"] == 0
    assert hp["layers"] is None and hp["round_to"] is None and hp["distill"] is None
    # the joint price reached the search: the weights were not plain FLOPs
    assert hp["weights"] != "flops"


def test_apply_recipe_rebuilds_the_qdq_model_and_says_when_it_does_not(digits_int8, tmp_path, capsys):
    folder = digits_int8
    out = _run(["apply-recipe", str(folder / "r.json"), "--model", str(folder / "dense.npz"),
                "--out", str(tmp_path / "a.onnx")], capsys)
    assert "applied" in out
    X = np.random.default_rng(3).random((64, 1, 8, 8), dtype=np.float32) * 16
    a = ort_session(str(tmp_path / "a.onnx")).run(None, {"input": X})[0]
    b = ort_session(str(folder / "q.onnx")).run(None, {"input": X})[0]
    np.testing.assert_allclose(a, b, atol=1e-6, rtol=0)
    out = _run(["apply-recipe", str(folder / "r.json"), "--model", str(folder / "dense.npz"),
                "--out", str(tmp_path / "a.npz")], capsys)
    assert "NOT applied" in out
    # the .npz holds the float pruned network: the QDQ model's float twin
    recipe = json.loads((folder / "r.json").read_text())
    ref = nn.apply_recipe(nn.Graph.load(folder / "dense.npz"), recipe)
    Xn = X.transpose(0, 2, 3, 1)
    np.testing.assert_allclose(nn.Graph.load(tmp_path / "a.npz").forward(Xn), ref.forward(Xn), atol=1e-6)


def test_rebuild_refuses_quantization_of_other_weights(digits_int8):
    recipe = json.loads((digits_int8 / "r.json").read_text())
    pruned = nn.apply_recipe(nn.Graph.load(digits_int8 / "dense.npz"), recipe)
    other = pruned.copy()
    node = next(n for n in other.nodes if n.layer.kind == "conv2d")
    other.node(node.name).layer.params["W"] *= 1.5
    with pytest.raises(nn.RecipeError, match="not the quantization"):
        rebuild_quantized(other, recipe["quantization"])


@pytest.fixture(scope="module")
def onnx_cnn(tmp_path_factory):
    """A CNN trained briefly on digits, exported to ONNX with a softmax, and its data in NCHW."""
    folder = tmp_path_factory.mktemp("onnx_cli")
    X_tr, X_te, y_tr, y_te = nn.load_digits_split(rng=0, n_samples=400)
    net = nn.small_cnn((8, 12), rng=0)
    nn.train(net, X_tr, y_tr, epochs=3, lr=0.05, progress=False, rng=0)
    nn.to_onnx(net, folder / "net.onnx", softmax=True)
    np.savez(folder / "data.npz", X=np.concatenate([X_tr, X_te]).transpose(0, 3, 1, 2),
             y=np.concatenate([y_tr, y_te]))
    return folder


def test_onnx_model_int8_distilled_and_reproduced(onnx_cnn, tmp_path, capsys):
    folder = onnx_cnn
    out, rec = tmp_path / "q.onnx", tmp_path / "r.json"
    _run(["prune", "--model", str(folder / "net.onnx"), "--data", str(folder / "data.npz"), "--budget-flops", "0.6",
          "--epochs", "2", "--fine-tune-epochs", "1", "--lam0", "2", "--grow", "3", "--max-trials", "5",
          "--quantize", "int8",
          "--distill", "0.5", "--temperature", "2", "--out", str(out), "--recipe", str(rec)], capsys)
    recipe = json.loads(rec.read_text())
    src = nn.from_onnx(folder / "net.onnx")
    pruned = nn.apply_recipe(src, recipe)
    assert nn.flops(pruned) <= 0.6 * nn.flops(src)
    q = rebuild_quantized(pruned, recipe["quantization"])
    X = np.random.default_rng(1).random((64, 8, 8, 1), dtype=np.float32) * 16
    got = ort_session(str(out)).run(None, {"input": nchw(X)})[0]
    # softmax is 1-Lipschitz in the max norm: the logit bound holds for the probabilities
    assert np.abs(got - _softmax(q.forward(X))).max() <= _quantized_bound(q)
    hp = recipe["hyperparameters"]
    assert hp["distill"] == 0.5 and hp["temperature"] == 2.0 and hp["source"] == "onnx"
    assert hp["settings"]["epochs"] == 2 and hp["settings"]["lam0"] == 2.0
    # validation only (no test split in the user's data), and the calibration is training data
    assert set(recipe["data"]) == {"train", "validation"}
    assert recipe["quantization"]["calibration"]["part"] == "train"
    _run(["apply-recipe", str(rec), "--model", str(folder / "net.onnx"), "--out", str(tmp_path / "a.onnx")], capsys)
    a = ort_session(str(tmp_path / "a.onnx")).run(None, {"input": nchw(X)})[0]
    np.testing.assert_allclose(a, got, atol=1e-6, rtol=0)


def test_progressive_with_distillation_reproduced_exactly(tmp_path, capsys, monkeypatch):
    import structsparse.nn.budget as budget

    teachers = []
    real_train = budget.train

    def spy(*args, **kwargs):
        teachers.append((kwargs.get("teacher") is not None, kwargs.get("distill"), kwargs.get("temperature")))
        return real_train(*args, **kwargs)

    monkeypatch.setattr(budget, "train", spy)
    rec, dense_p, out = tmp_path / "r.json", tmp_path / "d.npz", tmp_path / "p.npz"
    _run(["prune", "--quick", "--arch", "mlp", "--progressive", "0.6,0.35", "--epochs-per-step", "1",
          "--distill", "0.3", "--recipe", str(rec), "--dense-out", str(dense_p), "--out", str(out)], capsys)
    recipe = json.loads(rec.read_text())
    hp = recipe["hyperparameters"]
    assert hp["progressive"] == [0.6, 0.35] and hp["budgets"] == [0.6, 0.35] and hp["epochs_per_step"] == 1
    assert hp["distill"] == 0.3 and hp["temperature"] == 4.0 and hp["budget_flops"] == 0.35
    assert len(recipe["metrics"]["steps"]) == 2
    # every trial and every fine-tuning of both steps distilled from the dense network
    assert teachers and set(teachers) == {(True, 0.3, 4.0)}
    dense = nn.Graph.load(dense_p)
    written = nn.Graph.load(out)
    assert nn.flops(written) <= 0.35 * nn.flops(dense)
    _run(["apply-recipe", str(rec), "--model", str(dense_p), "--out", str(tmp_path / "a.npz")], capsys)
    X = nn.load_digits_splits(rng=0, image=False, n_samples=600)[2]
    np.testing.assert_allclose(nn.Graph.load(tmp_path / "a.npz").forward(X), written.forward(X), atol=1e-6)


@pytest.mark.parametrize("allocation", ["uniform", "sensitivity"])
def test_allocations_meet_the_budget_and_reproduce(allocation, tmp_path, capsys):
    rec, dense_p, out = tmp_path / "r.json", tmp_path / "d.npz", tmp_path / "p.onnx"
    _run(["prune", "--quick", "--arch", "mlp", "--budget-flops", "0.4", "--allocation", allocation,
          "--recipe", str(rec), "--dense-out", str(dense_p), "--out", str(out)], capsys)
    recipe = json.loads(rec.read_text())
    assert recipe["hyperparameters"]["allocation"] == allocation
    dense = nn.Graph.load(dense_p)
    pruned = nn.apply_recipe(dense, recipe)
    assert nn.flops(pruned) <= 0.4 * nn.flops(dense)
    X = np.random.default_rng(2).random((32, 64), dtype=np.float32) * 16
    got = ort_session(str(out)).run(None, {"input": X})[0]
    np.testing.assert_allclose(got, pruned.forward(X), rtol=1e-5, atol=1e-5)


def test_round_to_keeps_multiples(tmp_path, capsys):
    rec, dense_p = tmp_path / "r.json", tmp_path / "d.npz"
    _run(["prune", "--quick", "--arch", "mlp", "--budget-flops", "0.5", "--round-to", "4", "--recipe", str(rec),
          "--dense-out", str(dense_p)], capsys)
    recipe = json.loads(rec.read_text())
    assert recipe["hyperparameters"]["round_to"] == 4
    dense = nn.Graph.load(dense_p)
    pruned = nn.apply_recipe(dense, recipe)
    assert nn.flops(pruned) <= 0.5 * nn.flops(dense)
    for layer, (k, total) in recipe["pruning"]["kept"].items():
        if layer not in ("input", dense.output):
            assert k % 4 == 0 or k == total, (layer, k, total)


@pytest.mark.parametrize("argv, flags", [
    (["--allocation", "uniform", "--progressive", "0.5,0.25"], ["--allocation", "--progressive"]),
    (["--allocation", "sensitivity", "--price-params", "1"], ["--allocation", "--price-params"]),
    (["--allocation", "uniform", "--round-to", "4"], ["--allocation", "--round-to"]),
    (["--progressive", "0.5,0.25", "--price-params", "1"], ["--progressive", "--price-params"]),
    (["--progressive", "0.5,0.6"], ["--progressive"]),
    (["--progressive", "0.5,0.3", "--budget-flops", "0.25"], ["--progressive", "--budget-flops"]),
    (["--epochs-per-step", "2"], ["--epochs-per-step", "--progressive"]),
    (["--per-tensor"], ["--per-tensor", "--quantize"]),
    (["--temperature", "2"], ["--temperature", "--distill"]),
    (["--distill", "1.5"], ["--distill"]),
    (["--price-params", "-1"], ["--price-params"]),
    (["--round-to", "0"], ["--round-to"]),
    (["--quantize", "int8", "--out", "x.npz"], ["--out", "--quantize"]),
    (["--quantize", "int8", "--plot", "d.png"], ["--plot", "--quantize"]),
    (["--by", "channels", "--round-to", "2"], ["--round-to", "--by"]),
])
def test_bad_combinations_are_argparse_errors_naming_the_flags(argv, flags, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exc:
        main(["prune", "--quick", "--arch", "mlp"] + argv)
    assert exc.value.code == 2
    err = capsys.readouterr().err
    for flag in flags:
        assert flag in err, err
    assert not list(tmp_path.iterdir())   # refused before any work


def test_unquantizable_network_refused_before_training(tmp_path, capsys):
    code = main(["prune", "--quick", "--arch", "blocks", "--quantize", "int8"])
    err = capsys.readouterr()
    assert code == 2
    assert "--quantize int8" in err.err and "dense" not in err.out   # no training started


def test_per_tensor_int8_mlp(tmp_path, capsys):
    out, rec, dense_p = tmp_path / "q.onnx", tmp_path / "r.json", tmp_path / "d.npz"
    _run(["prune", "--quick", "--arch", "mlp", "--budget-flops", "0.5", "--quantize", "int8", "--per-tensor",
          "--calibration-samples", "100", "--out", str(out), "--recipe", str(rec), "--dense-out", str(dense_p)],
         capsys)
    recipe = json.loads(rec.read_text())
    record = recipe["quantization"]
    assert record["per_channel"] is False and recipe["hyperparameters"]["per_channel"] is False
    assert record["calibration"]["samples"] == 100 and record["calibration"]["X_shape"][0] == 100
    q = rebuild_quantized(nn.apply_recipe(nn.Graph.load(dense_p), recipe), record)
    assert all(np.unique(s).size == 1 for s in q.weight_scale.values())   # one scale per layer
    X = nn.load_digits_splits(rng=0, image=False, n_samples=600)[2]
    got = ort_session(str(out)).run(None, {"input": X})[0]
    assert np.abs(got - q.forward(X)).max() <= _quantized_bound(q)


def test_collapsed_pruning_is_reported_on_stderr(capsys):
    from structsparse.nn.cli import _warn_if_collapsed

    _warn_if_collapsed(0.97, 0.10, n_classes=10)          # chance for 10 classes: a warning naming the way out
    err = capsys.readouterr().err
    assert "near chance" in err and "--budget-flops" in err
    _warn_if_collapsed(0.97, 0.90, n_classes=10)          # a working pruned network: silent
    _warn_if_collapsed(0.12, 0.11, n_classes=10)          # the dense one was no better: nothing pruning lost
    assert capsys.readouterr().err == ""
