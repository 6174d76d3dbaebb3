"""The nn front end speaks the package's dialect (docs/conventions.rst): frozen dataclass results with a short
repr, one callback signature, ``rng=None`` defaults, penalty kinds by ``penalty.name``, unknown keywords refused,
``Graph.save`` / ``Graph.load`` refusing other kinds' files; the old forms still work one release, with a
DeprecationWarning."""

import dataclasses
import inspect
import json
import warnings

import numpy as np
import pytest

import structsparse.nn as nn
from structsparse.exceptions import ParameterError
from structsparse.nn.experiment import pixel_selection, train_early_stopping


# a price search that meets the budgets below on this small MLP
SEARCH = dict(by="neurons", lam0=0.5, grow=4.0, epochs=2, lr=0.1, max_trials=6, rng=0)


@pytest.fixture(scope="module")
def data():
    return nn.load_digits_split(n_samples=240, rng=0, image=False)


@pytest.fixture(scope="module")
def pruned(data):
    X_tr, X_te, y_tr, y_te = data
    net = nn.mlp((12,), rng=0)
    nn.train(net, X_tr, y_tr, epochs=3, lr=0.1, rng=0, progress=False)
    res = nn.prune_to_budget(net, X_tr, y_tr, flops=0.8, fine_tune_epochs=2, X_val=X_te, y_val=y_te, **SEARCH)
    return net, res


# ---------------------------------------------------------------- results are frozen dataclasses

def test_prune_result_is_a_frozen_dataclass_with_a_one_line_repr(pruned):
    net, res = pruned
    assert isinstance(res, nn.PruneResult) and dataclasses.is_dataclass(res)
    with pytest.raises(dataclasses.FrozenInstanceError):
        res.lam = 1.0
    text = repr(res)
    assert "\n" not in text and len(text) < 200 and text.startswith("PruneResult(")
    assert f"flops={res.flops}" in text
    assert res.flops == nn.flops(res.net) and res.flops_fraction == res.flops / res.dense_flops
    assert res.chosen["lam"] == res.lam and res.chosen["flops"] == nn.flops(res.net)
    assert isinstance(res.history, nn.TrainHistory) and res.history.epochs == 2
    assert res.history.best_epoch == res.best_epoch
    assert res.epochs_run == len(res.path) * 2 + 2
    assert res.final_acc is None


def test_train_history_arrays_are_read_only_and_summarised(data):
    X_tr, X_te, y_tr, y_te = data
    net = nn.mlp((8,), rng=1)
    hist = nn.train(net, X_tr, y_tr, epochs=3, lr=0.1, rng=0, progress=False, X_val=X_te, y_val=y_te)
    assert isinstance(hist, nn.TrainHistory) and hist.epochs == len(hist) == 3 and not hist.stopped
    assert hist.val_acc[-1] == pytest.approx(net.score(X_te, y_te))
    with pytest.raises(ValueError):
        hist.loss[0] = 0.0
    assert repr(hist).startswith("TrainHistory(epochs=3, loss=") and "\n" not in repr(hist)


def test_speedup_and_memory_results(pruned):
    net, res = pruned
    s = nn.speedup(net, res.net, batch=8, repeats=1, runtime="numpy", rng=0)
    assert isinstance(s, nn.SpeedupResult) and s.ort_dense_time is None
    assert s.theoretical == pytest.approx(nn.flops(net) / nn.flops(res.net))
    assert s.realized == pytest.approx(s.dense_time / s.pruned_time)
    assert "SpeedupResult(numpy, batch=8" in repr(s) and "\n" not in repr(s)
    m = nn.memory(net, batch=2)
    assert isinstance(m, nn.MemoryReport) and m.total == m.params + m.state + m.peak_activations
    assert m.params == 4 * nn.count_params(net) and m.batch == 2


@pytest.mark.parametrize("make", ["prune", "history", "speed", "memory"])
def test_dict_style_access_warns_and_still_works(pruned, make):
    net, res = pruned
    obj, key, absent = {
        "prune": (res, "lam", "final_acc"),
        "history": (res.history, "loss", None),
        "speed": (nn.speedup(net, res.net, batch=4, repeats=1, runtime="numpy", rng=0), "efficiency",
                  "ort_dense_time"),
        "memory": (nn.memory(net), "total", None),
    }[make]
    with pytest.warns(DeprecationWarning, match=rf"res\.{key}"):
        value = obj[key]
    assert value is getattr(obj, key)
    with pytest.warns(DeprecationWarning):
        assert obj.get(key) is getattr(obj, key)
    with pytest.warns(DeprecationWarning):
        assert obj.get("no_such_key", 7) == 7
    with pytest.warns(DeprecationWarning):
        assert key in obj and "no_such_key" not in obj
    with pytest.warns(DeprecationWarning):
        keys = obj.keys()
    assert key in keys and set(keys) <= {f.name for f in dataclasses.fields(obj)}
    if absent is not None:  # a field the old dict did not hold when it was None
        with pytest.warns(DeprecationWarning):
            assert absent not in obj
    with pytest.warns(DeprecationWarning), pytest.raises(KeyError):
        obj["no_such_key"]


def test_the_package_reads_its_results_by_attribute(data):
    """The package's own code never triggers the dict-access warning (the whole prune -> measure -> plot chain)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    X_tr, X_te, y_tr, y_te = data
    net = nn.mlp((8,), rng=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        train_early_stopping(net, X_tr, y_tr, X_te, y_te, epochs=2, lr=0.1, rng=0)
        res = nn.prune_progressive(net, X_tr, y_tr, budgets=(0.8,), epochs_per_step=1, X_val=X_te, y_val=y_te,
                                   by="neurons", lam0=0.5, grow=4.0, max_trials=6, lr=0.1, rng=0)
        assert isinstance(res, nn.ProgressiveResult) and res.steps[0]["flops"] <= 0.8 * res.dense_flops
        s = nn.speedup(net, res.net, batch=4, repeats=1, runtime="numpy", rng=0)
        one = nn.prune_to_budget(net, X_tr, y_tr, flops=0.8, fine_tune_epochs=1, X_val=X_te, y_val=y_te, **SEARCH)
        fig = nn.plots.pruning_dashboard(one, s, nn.memory(net), nn.memory(one.net), dense_acc=0.9)
    plt.close(fig)


# ---------------------------------------------------------------- one callback signature

def test_callback_k_x_info_can_stop_training(data):
    X_tr, X_te, y_tr, y_te = data
    net = nn.mlp((8,), rng=0)
    seen = []

    def cb(k, x, info):
        seen.append((k, x, info["loss"], info["val_acc"], len(info["history"]["loss"])))
        return k == 1

    hist = nn.train(net, X_tr, y_tr, epochs=5, lr=0.1, rng=0, progress=False, X_val=X_te, y_val=y_te, callback=cb)
    assert [s[0] for s in seen] == [0, 1] and all(s[1] is net for s in seen)
    assert [s[4] for s in seen] == [1, 2]                       # the history so far
    assert hist.stopped and hist.epochs == 2
    assert [s[2] for s in seen] == list(hist.loss) and [s[3] for s in seen] == list(hist.val_acc)


def test_old_two_argument_callback_warns_and_still_stops(data):
    X_tr, _, y_tr, _ = data
    net = nn.mlp((8,), rng=0)
    calls = []

    def old(epoch, history):
        calls.append((epoch, list(history["loss"])))
        return epoch == 2

    with pytest.warns(DeprecationWarning, match="callback"):
        hist = nn.train(net, X_tr, y_tr, epochs=6, lr=0.1, rng=0, progress=False, callback=old)
    assert hist.epochs == 3 and hist.stopped and [c[0] for c in calls] == [0, 1, 2]
    assert calls[-1][1] == list(hist.loss)
    with pytest.raises(TypeError, match="callback"):
        nn.train(net, X_tr, y_tr, epochs=1, progress=False, callback=lambda: True)
    with pytest.raises(TypeError, match="callback"):
        nn.train(net, X_tr, y_tr, epochs=1, progress=False, callback="stop")


# ---------------------------------------------------------------- randomness is rng, default None

@pytest.mark.parametrize("fn", [nn.small_cnn, nn.mlp, nn.block_net, nn.load_digits_split, nn.load_digits_splits,
                                nn.prune_to_budget, nn.prune_progressive, nn.prune_onnx, nn.speedup, nn.profile,
                                nn.train, train_early_stopping, pixel_selection,
                                __import__("structsparse.nn.experiment", fromlist=["x"]).digits_pruning,
                                __import__("structsparse.nn.baselines", fromlist=["x"]).compare_at_budget])
def test_rng_defaults_to_fresh_entropy(fn):
    assert inspect.signature(fn).parameters["rng"].default is None


def test_rng_none_draws_and_an_int_repeats():
    a, b = nn.mlp((6,), rng=None), nn.mlp((6,), rng=None)
    assert not np.array_equal(a.nodes[0].layer.params["W"], b.nodes[0].layer.params["W"])
    c, d = nn.mlp((6,), rng=3), nn.mlp((6,), rng=np.random.default_rng(3))
    np.testing.assert_array_equal(c.nodes[0].layer.params["W"], nn.mlp((6,), rng=3).nodes[0].layer.params["W"])
    np.testing.assert_array_equal(c.nodes[0].layer.params["W"], d.nodes[0].layer.params["W"])
    s1, s2 = nn.load_digits_split(n_samples=100, rng=5), nn.load_digits_split(n_samples=100, rng=5)
    np.testing.assert_array_equal(s1[2], s2[2])
    draws = [nn.load_digits_split(n_samples=100)[2] for _ in range(3)]
    assert not all(np.array_equal(draws[0], d) for d in draws[1:])
    g1 = nn.load_digits_split(n_samples=100, rng=np.random.default_rng(9))[2]
    g2 = nn.load_digits_split(n_samples=100, rng=np.random.default_rng(9))[2]
    np.testing.assert_array_equal(g1, g2)                          # a Generator works too (scikit-learn gets a seed)


def test_seed_is_a_deprecated_name_of_rng(data):
    X_tr, X_te, y_tr, y_te = data
    a, b = nn.mlp((8,), rng=0), nn.mlp((8,), rng=0)
    ref = train_early_stopping(a, X_tr, y_tr, X_te, y_te, epochs=2, lr=0.1, rng=4)
    with pytest.warns(DeprecationWarning, match="seed"):
        old = train_early_stopping(b, X_tr, y_tr, X_te, y_te, epochs=2, lr=0.1, seed=4)
    np.testing.assert_array_equal(old.loss, ref.loss)
    assert old.best_epoch == ref.best_epoch
    with pytest.raises(ParameterError, match="rng"):
        train_early_stopping(b, X_tr, y_tr, X_te, y_te, epochs=1, lr=0.1, rng=1, seed=1)
    kw = dict(lam=0.05, hidden=8, epochs=1, fine_tune=1, n_samples=200)
    with pytest.warns(DeprecationWarning, match="seed"):
        old = pixel_selection(seed=2, **kw)
    new = pixel_selection(rng=2, **kw)
    assert old.rng == new.rng == 2 and old.accuracy == new.accuracy
    np.testing.assert_array_equal(old.kept_pixels, new.kept_pixels)
    assert "PixelSelectionResult(kept" in repr(new)
    drawn = pixel_selection(**kw)
    assert isinstance(drawn.rng, int)  # the seed it drew is recorded, so the run can be repeated
    again = pixel_selection(rng=drawn.rng, **kw)
    assert again.accuracy == drawn.accuracy


# ---------------------------------------------------------------- penalty kinds by name, unknown keywords

def test_penalty_kinds_by_penalty_name():
    net = nn.mlp((6,), rng=0)
    pen = nn.penalty(net, by="neurons", kind="sparse_group_lasso", lam=0.1, l1_ratio=0.3)
    assert pen.name == pen.kind == "sparse_group_lasso" == pen.penalties[0].name
    with pytest.warns(DeprecationWarning, match="sparse_group_lasso"):
        old = nn.penalty(net, by="neurons", kind="sparse_group", lam=0.1, l1_ratio=0.3)
    assert old.kind == "sparse_group_lasso" and old.value(net) == pytest.approx(pen.value(net))
    with pytest.warns(DeprecationWarning):
        assert nn.NetworkPenalty(nn.groups(net, by="neurons"), kind="sparse_group").name == "sparse_group_lasso"
    assert nn.penalty(net, by="neurons").name == "group_lasso"
    assert set(nn.PENALTY_KINDS) == {"group_lasso", "sparse_group_lasso", "group_nuclear"}
    with pytest.raises(ParameterError, match="'kind'.*sparse_group_lasso"):
        nn.penalty(net, kind="group")


def test_prune_to_budget_takes_the_new_kind_and_warns_on_the_old(data):
    X_tr, _, y_tr, _ = data
    net = nn.mlp((8,), rng=0)
    with pytest.raises(ParameterError, match="'penalty'"):
        nn.prune_to_budget(net, X_tr, y_tr, penalty="group")
    with pytest.warns(DeprecationWarning, match="sparse_group"):
        res = nn.prune_to_budget(net, X_tr, y_tr, flops=0.9, penalty="sparse_group", fine_tune_epochs=0, **SEARCH)
    assert res.net.pruning["penalty"] == "sparse_group_lasso" and res.history.epochs == 0


def test_unknown_keywords_are_refused_by_name(data):
    X_tr, X_te, y_tr, y_te = data
    net = nn.mlp((6,), rng=0)
    with pytest.raises(ParameterError, match="'l1ratio'"):
        nn.penalty(net, by="neurons", l1ratio=0.5)
    with pytest.raises(ParameterError, match="'optimiser'"):
        train_early_stopping(net, X_tr, y_tr, X_te, y_te, epochs=1, lr=0.1, optimiser="adam")
    with pytest.raises(ParameterError, match="'lr0'"):
        nn.prune_progressive(net, X_tr, y_tr, budgets=(0.5,), lr0=0.1)


# ---------------------------------------------------------------- one save/load pattern

def test_graph_save_load_round_trip_and_deprecated_functions(tmp_path):
    net = nn.block_net(4, rng=0)
    path = net.save(tmp_path / "net", metrics={"acc": 0.5})
    assert path.suffix == ".npz"
    back = nn.Graph.load(path)
    X = np.random.default_rng(0).random((3, 8, 8, 1), dtype=np.float32)
    np.testing.assert_array_equal(back.forward(X), net.forward(X))
    assert back.metrics == {"acc": 0.5}
    meta = json.loads(path.with_suffix(".json").read_text())
    assert meta["kind"] == "structsparse.nn.Graph" and meta["version"] == 1
    with pytest.warns(DeprecationWarning, match="net.save"):
        old = nn.save(net, tmp_path / "old.npz")
    with pytest.warns(DeprecationWarning, match="Graph.load"):
        again = nn.load(old)
    np.testing.assert_array_equal(again.forward(X), net.forward(X))


def test_load_refuses_other_kinds_saying_what_the_file_holds(tmp_path, pruned):
    from structsparse.sysid import StateSpace

    model = StateSpace(np.eye(2) * 0.5, np.ones((2, 1)), np.ones((1, 2)))
    npz = model.save(tmp_path / "ss.npz")
    with pytest.raises(ParameterError, match="state-space|StateSpace"):
        nn.Graph.load(npz)
    js = model.save(tmp_path / "ss.json")
    with pytest.raises(ParameterError, match="structsparse.sysid.StateSpace"):
        nn.Graph.load(js)
    recipe = pruned[1].recipe.save(tmp_path / "recipe.json")
    with pytest.raises(ParameterError, match="recipe"):
        nn.Graph.load(recipe)
    desc = pruned[1].net.save(tmp_path / "net.npz").with_suffix(".json")
    with pytest.raises(ParameterError, match="description"):
        nn.Graph.load(desc)
    # a network file whose header names another kind
    path = tmp_path / "net.npz"
    with np.load(path) as z:
        arrays = {k: z[k] for k in z.files}
    meta = json.loads(str(arrays["__structsparse__"]))
    arrays["__structsparse__"] = np.array(json.dumps(dict(meta, kind="structsparse.nn.QuantizedNet")))
    np.savez(tmp_path / "other.npz", **arrays)
    with pytest.raises(ParameterError, match="QuantizedNet"):
        nn.Graph.load(tmp_path / "other.npz")


def test_files_written_before_the_shared_header_still_load(tmp_path):
    net = nn.mlp((5,), rng=0)
    path = net.save(tmp_path / "new.npz")
    with np.load(path) as z:
        arrays = {k: z[k] for k in z.files}
    assert str(arrays.pop("format")) == "structsparse.nn.Graph" and int(arrays.pop("version")) == 1
    meta = json.loads(str(arrays["__structsparse__"]))
    meta.pop("kind")
    arrays["__structsparse__"] = np.array(json.dumps(dict(meta, format="structsparse.nn")))  # as 0.1 wrote it
    np.savez(tmp_path / "old.npz", **arrays)
    X = np.random.default_rng(0).random((4, 64), dtype=np.float32)
    np.testing.assert_array_equal(nn.Graph.load(tmp_path / "old.npz").forward(X), net.forward(X))


def test_digits_pruning_and_demo_take_rng_and_warn_on_seed(tmp_path):
    from structsparse.nn.demo import demo_part
    from structsparse.nn.experiment import digits_pruning

    with pytest.raises(ParameterError, match="rng"):
        digits_pruning(rng=1, seed=1)
    # the alias is read first (warning), then the arguments are checked: no training needed to see both
    with pytest.warns(DeprecationWarning, match="seed"), pytest.raises(ParameterError, match="arch"):
        digits_pruning(arch="resnet", seed=0)
    with pytest.raises(ParameterError, match="rng"):
        demo_part(tmp_path, 1, seed=1)
    assert list(inspect.signature(demo_part).parameters)[:2] == ["out_dir", "rng"]  # `structsparse demo` passes it
