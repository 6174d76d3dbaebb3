"""Baselines at equal FLOPs: uniform L1 / random filter pruning, re-initialisation, the comparison."""

import numpy as np
import pytest

import structsparse.nn as nn
from structsparse.exceptions import ParameterError
from structsparse.nn.baselines import compare_at_budget, reinitialize, uniform_prune


@pytest.fixture(scope="module")
def cnn():
    net = nn.small_cnn((8, 12), rng=0)
    r = np.random.default_rng(0)
    for n in net.nodes:  # distinct filter norms
        if n.layer.kind == "conv2d":
            n.layer.params["W"] *= r.random(n.layer.params["W"].shape[-1]).astype(np.float32) + 0.1
    return net


def test_uniform_prune_meets_budget(cnn):
    fractions = []
    for budget in (0.5, 0.25, 0.1):
        p = uniform_prune(cnn, budget)
        assert nn.flops(p) <= budget * nn.flops(cnn)
        kept = p.pruning["kept"]
        assert all(k <= total for k, total in kept.values())
        # the same fraction of filters in each pruned layer (up to rounding up)
        f1 = kept["conv2d1"][0] / kept["conv2d1"][1]
        f2 = kept["conv2d2"][0] / kept["conv2d2"][1]
        q = p.pruning["keep_fraction"]
        assert f1 >= q and f2 >= q and f1 - q < 1 / 8 + 1e-9 and f2 - q < 1 / 12 + 1e-9
        fractions.append(q)
    assert fractions == sorted(fractions, reverse=True)  # a lower budget keeps less
    assert nn.flops(uniform_prune(cnn, 1.0)) == nn.flops(cnn)


def test_l1_keeps_largest_filters(cnn):
    p = uniform_prune(cnn, 0.4, criterion="l1")
    w = cnn.node("conv2d1").layer.params["W"]
    norms = np.abs(w).reshape(-1, w.shape[-1]).sum(axis=0)
    k = p.pruning["kept"]["conv2d1"][0]
    kept_w = p.node("conv2d1").layer.params["W"]
    kept_norms = np.sort(np.abs(kept_w).reshape(-1, kept_w.shape[-1]).sum(axis=0))
    np.testing.assert_allclose(kept_norms, np.sort(norms)[-k:], rtol=1e-6)
    X = np.random.default_rng(1).random((3, 8, 8, 1), dtype=np.float32)
    assert p.forward(X).shape == (3, 10)


def test_random_differs_from_l1_and_depends_on_rng(cnn):
    a = uniform_prune(cnn, 0.3, criterion="random", rng=1)
    b = uniform_prune(cnn, 0.3, criterion="random", rng=1)
    np.testing.assert_array_equal(a.node("conv2d1").layer.params["W"], b.node("conv2d1").layer.params["W"])
    outs = {uniform_prune(cnn, 0.3, criterion="random", rng=s).node("conv2d1").layer.params["W"].tobytes()
            for s in range(5)}
    assert len(outs) > 1
    with pytest.raises(ParameterError, match="criterion"):
        uniform_prune(cnn, 0.3, criterion="l2")
    with pytest.raises(ParameterError, match="budget"):
        uniform_prune(cnn, 1e-6)


def test_reinitialize_keeps_architecture(cnn):
    p = uniform_prune(cnn, 0.3)
    fresh = reinitialize(p, rng=3)
    assert [n.layer.kind for n in fresh.nodes] == [n.layer.kind for n in p.nodes]
    for (na, ka, va), (nb, kb, vb) in zip(p.parameters(), fresh.parameters()):
        assert va.shape == vb.shape
    w_old, w_new = p.node("conv2d2").layer.params["W"], fresh.node("conv2d2").layer.params["W"]
    assert not np.allclose(w_old, w_new)
    assert nn.flops(fresh) == nn.flops(p)
    assert np.array_equal(p.node("conv2d2").layer.params["W"], w_old)  # the source is untouched


def test_compare_at_budget_quick():
    splits = nn.load_digits_splits(rng=0, n_samples=200)
    net = nn.small_cnn((4, 8), rng=0)
    nn.train(net, splits[0], splits[3], epochs=2, lr=0.05, progress=False)
    res = compare_at_budget(net, splits, 0.5, methods=("l1", "random", "scratch"), dense_epochs=1,
                            fine_tune_epochs=1, rng=0)
    for m, r in res.items():
        assert r.flops_fraction <= 0.5 and 0 <= r.test_acc <= 1
    assert res["l1"].flops_fraction == res["scratch"].flops_fraction  # the same architecture


@pytest.mark.slow
def test_baselines_benchmark_quick():
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_nn_baselines.py"
    spec = importlib.util.spec_from_file_location("bench_nn_baselines", path)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    table = bench.run(["cnn", "onnx"], quick=True, verbose=False)
    for model, entry in table.items():
        assert len(entry["dense"]) >= 3
        for budget, per in entry["rows"].items():
            for method, runs in per.items():
                assert len(runs) == 3
                for r in runs:
                    if r.test_acc == r.test_acc:  # met the budget
                        assert r.flops_fraction <= budget + 1e-12


def test_allocate_budget_spends_where_sensitivity_is_cheapest():
    """Sensitivity-driven allocation: the budget is met, the cut follows the allocation, and a layer whose
    units cost no accuracy is pruned before one whose units do."""
    from structsparse.nn.baselines import allocate_budget

    X_tr, X_va, X_te, y_tr, y_va, y_te = nn.load_digits_splits(rng=0, n_samples=400)
    net = nn.small_cnn((6, 8), rng=0)
    nn.train(net, X_tr, y_tr, epochs=3, lr=0.05, rng=0, progress=False)
    p = allocate_budget(net, X_va, y_va, 0.5, step=0.125)
    assert nn.flops(p) <= 0.5 * nn.flops(net)
    alloc = p.pruning["allocation"]
    assert set(alloc) == {"conv2d1", "conv2d2"}
    for name, r in alloc.items():
        total = net.shape_of(name)[-1]
        assert p.pruning["kept"][name] == [total - int(np.floor(r * total)), total]
    # make conv2d2's units nearly useless except its first: the next layer reads the rest through tiny weights
    # (not zero, so surgery alone does not remove them)
    dull = net.copy()
    dense = dull.node("dense1").layer
    W = dense.params["W"].reshape(4, 4, 8, 10)
    W[:, :, 1:, :] *= 1e-6
    q = allocate_budget(dull, X_va, y_va, 0.6, step=0.125)
    # removing conv2d2's units costs nothing on the validation split, so it goes first and furthest
    assert q.pruning["allocation"]["conv2d2"] >= q.pruning["allocation"]["conv2d1"]
    assert q.pruning["allocation"]["conv2d2"] > 0
    with pytest.raises(ParameterError, match="step"):
        allocate_budget(net, X_va, y_va, 0.5, step=0.9)
