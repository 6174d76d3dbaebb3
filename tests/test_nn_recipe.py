"""Versioned pruning recipes: exact reproduction without retraining, refusal of foreign or malformed recipes."""

import base64
import json

import numpy as np
import pytest

import structsparse.nn as nn
from structsparse.cli import main
from structsparse.nn.recipe import RECIPE_VERSION


class _Run(tuple):
    pass


@pytest.fixture(scope="module")
def run():
    X_tr, X_te, y_tr, y_te = nn.load_digits_split(n_samples=300, rng=0)
    net = nn.small_cnn((6, 8), rng=0)
    nn.train(net, X_tr, y_tr, epochs=3, lr=0.05, rng=0, progress=False)
    res = nn.prune_to_budget(net, X_tr, y_tr, flops=0.4, lam0=0.5, grow=3.0, epochs=2, fine_tune_epochs=2,
                             max_trials=4, X_val=X_te, y_val=y_te, rng=0)
    out = _Run((net, res, X_te))
    out.train = (X_tr, y_tr)
    return out


def test_recipe_holds_what_the_issue_asks(run):
    net, res, _ = run
    r = res.recipe
    assert r["format"] == "structsparse.nn.recipe" and r["version"] == RECIPE_VERSION
    assert r["package"]["version"]
    assert r["source"]["hash"] == nn.model_hash(net)
    X_tr, y_tr = run.train
    assert r["data"]["train"] == nn.data_fingerprint(X_tr, y_tr)
    assert r["data"]["train"]["X_shape"] == list(X_tr.shape) and len(r["data"]["train"]["X_sha256"]) == 64
    for key in ("flops", "lr", "epochs", "fine_tune_epochs", "lam0", "chosen_lam", "min_keep", "by"):
        assert key in r["hyperparameters"]
    assert r["metrics"]["flops"] == nn.flops(res.net) and r["metrics"]["val_acc"] is not None
    # per layer kept indices: as many as the pruned layer's width
    for n in res.net.nodes:
        assert len(r["pruning"]["keep"][n.name]) == res.net.shape_of(n.name)[-1]
    json.dumps(r, allow_nan=False)  # strict JSON


def test_apply_recipe_reproduces_exactly(run, tmp_path):
    net, res, X = run
    path = res.recipe.save(tmp_path / "r.json")
    again = nn.apply_recipe(net.copy(), path)
    np.testing.assert_allclose(again.forward(X), res.net.forward(X), atol=1e-6, rtol=0)
    assert nn.model_hash(again) == nn.model_hash(res.net)
    assert nn.flops(again) == nn.flops(res.net)
    # masks only: the source cut to the recorded channels (not fine-tuned), with the same shapes
    masks = dict(res.recipe, weights=None)
    cut = nn.apply_recipe(net, masks)
    assert [cut.shape_of(n.name) for n in cut.nodes] == [res.net.shape_of(n.name) for n in res.net.nodes]
    # the cut keeps the source's weights on the kept channels
    first = cut.nodes[0].name
    keep = res.recipe["pruning"]["keep"][first]
    np.testing.assert_array_equal(cut.node(first).layer.params["W"], net.node(first).layer.params["W"][..., keep])


def test_apply_recipe_refuses_other_model_and_bad_recipes(run, tmp_path):
    net, res, _ = run
    other = net.copy()
    other.nodes[0].layer.params["W"][0, 0, 0, 0] += 1e-3
    path = res.recipe.save(tmp_path / "r.json")
    with pytest.raises(nn.RecipeError, match="r.json.*different source model"):
        nn.apply_recipe(other, path)
    with pytest.raises(nn.RecipeError, match="'recipe' argument.*different source"):
        nn.apply_recipe(other, res.recipe)
    bad = dict(res.recipe)
    del bad["pruning"]
    with pytest.raises(nn.RecipeError, match="lacks the keys \\['pruning'\\]"):
        nn.apply_recipe(net, bad)
    with pytest.raises(nn.RecipeError, match="recipe version 99"):
        nn.apply_recipe(net, dict(res.recipe, version=99))
    with pytest.raises(nn.RecipeError, match="not a structsparse.nn pruning recipe"):
        nn.apply_recipe(net, dict(res.recipe, format="other"))
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(nn.RecipeError, match="bad.json.*not valid JSON"):
        nn.Recipe.load(tmp_path / "bad.json")
    edited = json.loads(json.dumps(res.recipe))
    key = next(iter(edited["weights"]["arrays"]))
    arr = edited["weights"]["arrays"][key]
    vals = np.frombuffer(base64.b64decode(arr["data"]), dtype=arr["dtype"]).copy()
    vals[0] += 1.0
    edited["weights"]["arrays"][key] = dict(arr, data=base64.b64encode(vals.tobytes()).decode())
    with pytest.raises(nn.RecipeError, match="does not hash to its recorded result"):
        nn.apply_recipe(net, edited)
    with pytest.raises(TypeError, match="'net'"):
        nn.apply_recipe("net", res.recipe)
    assert isinstance(nn.RecipeError("x"), ValueError)


def test_recipe_composes_a_chain_of_prunings(run):
    """Pruning a pruned network again: the recipe's indices still refer to the first source."""
    net, res, X = run
    pruned = res.net.copy()
    # zero the second conv layer's first kept filter and prune again
    name = [n.name for n in pruned.nodes if n.layer.kind == "conv2d"][1]
    lay = pruned.node(name).layer
    lay.params["W"][..., 0] = 0
    lay.params["b"][0] = 0
    bn = pruned.nodes[[n.name for n in pruned.nodes].index(name) + 1].layer
    for v in bn.params.values():
        v[0] = 0  # gamma = beta = 0: the channel is dead
    twice = nn.prune(pruned)
    rec = nn.make_recipe(net, twice)
    again = nn.apply_recipe(net, rec)
    np.testing.assert_allclose(again.forward(X), twice.forward(X), atol=1e-6, rtol=0)
    assert rec["pruning"]["keep"][name] == res.recipe["pruning"]["keep"][name][1:]


def test_cli_prune_recipe_and_apply_recipe(tmp_path, capsys):
    rec, dense, out = tmp_path / "r.json", tmp_path / "dense.npz", tmp_path / "pruned.npz"
    assert main(["prune", "--quick", "--budget-flops", "0.5", "--recipe", str(rec), "--dense-out", str(dense),
                 "--out", str(out)]) == 0
    r = nn.Recipe.load(rec)
    assert r["metrics"]["pruned_test_acc"] > 0 and "test" in r["data"]
    again = tmp_path / "again.npz"
    assert main(["apply-recipe", str(rec), "--model", str(dense), "--out", str(again)]) == 0
    X = np.random.default_rng(0).random((5, 8, 8, 1)).astype(np.float32)
    np.testing.assert_allclose(nn.Graph.load(again).forward(X), nn.Graph.load(out).forward(X), atol=1e-6, rtol=0)
    # a different source is refused with a one-line error naming the recipe file
    other = nn.small_cnn((8, 16), rng=5)
    other.save(tmp_path / "other.npz")
    capsys.readouterr()
    assert main(["apply-recipe", str(rec), "--model", str(tmp_path / "other.npz"), "--out",
                 str(tmp_path / "x.npz")]) == 2
    assert "r.json" in capsys.readouterr().err


def test_cli_apply_recipe_on_onnx(run, tmp_path):
    ort = pytest.importorskip("onnxruntime")
    net = run[0]
    src = tmp_path / "src.onnx"
    nn.to_onnx(net, src, softmax=True)
    X_tr, X_te, y_tr, y_te = nn.load_digits_split(n_samples=400, rng=1)
    data = tmp_path / "d.npz"
    np.savez(data, X=np.concatenate([X_tr, X_te]).transpose(0, 3, 1, 2), y=np.concatenate([y_tr, y_te]))
    rec, out = tmp_path / "r.json", tmp_path / "p.onnx"
    assert main(["prune", "--model", str(src), "--data", str(data), "--out", str(out), "--recipe", str(rec),
                 "--epochs", "2", "--fine-tune-epochs", "1", "--budget-flops", "0.6", "--lam0", "2",
                 "--grow", "3", "--max-trials", "4"]) == 0
    assert nn.Recipe.load(rec)["source"]["hash"] == nn.model_hash(nn.from_onnx(src))
    again = tmp_path / "again.onnx"
    assert main(["apply-recipe", str(rec), "--model", str(src), "--out", str(again)]) == 0
    s1 = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    s2 = ort.InferenceSession(str(again), providers=["CPUExecutionProvider"])
    x = np.ascontiguousarray(X_te.transpose(0, 3, 1, 2))
    np.testing.assert_allclose(s2.run(None, {"input": x})[0], s1.run(None, {"input": x})[0], atol=1e-6, rtol=0)
