"""Budgets, measured speed, save/load, the CLI and the demo part."""

import json

import numpy as np
import pytest

import structsparse.nn as nn
from structsparse.exceptions import ParameterError, StructureError


@pytest.fixture(scope="module")
def trained():
    X_tr, X_te, y_tr, y_te = nn.load_digits_split(n_samples=400, rng=0)
    net = nn.small_cnn((6, 8), rng=0)
    nn.train(net, X_tr, y_tr, epochs=4, lr=0.05, rng=0, progress=False)
    return net, X_tr, X_te, y_tr, y_te


def test_prune_to_budget_meets_budget(trained):
    net, X_tr, X_te, y_tr, y_te = trained
    res = nn.prune_to_budget(net, X_tr, y_tr, flops=0.35, lam0=0.5, grow=3.0, epochs=2, fine_tune_epochs=1,
                             max_trials=5, X_val=X_te, y_val=y_te, rng=0)
    assert res.flops <= 0.35 * res.dense_flops
    assert res.flops == nn.flops(res.net)
    lams = [e["lam"] for e in res.path]
    assert lams == sorted(lams)
    # the chosen trial is the one that met the budget most closely
    feasible = [e for e in res.path if e["flops"] <= res.budget]
    assert res.lam in [e["lam"] for e in feasible]
    assert nn.flops(res.net) == max(e["flops"] for e in feasible)
    assert res.net.pruning["budget"] == pytest.approx(0.35 * res.dense_flops)


def test_budget_below_min_keep_is_an_error(trained):
    net, X_tr, _, y_tr, _ = trained
    floor = nn.min_flops(net, "filters", min_keep=3)
    with pytest.raises(ParameterError, match="min_keep"):
        nn.prune_to_budget(net, X_tr, y_tr, flops=floor - 1, min_keep=3)
    with pytest.raises(ParameterError, match="flops"):
        nn.prune_to_budget(net, X_tr, y_tr, flops=-1)


@pytest.mark.filterwarnings("ignore:speedup. efficiency:RuntimeWarning")  # timing noise on tiny batches may flag one
def test_speedup_reports_consistent_figures(trained):
    net, *_ = trained
    small = net.copy()
    m = nn.groups(small, by="filters", layers=["conv2d1"])[0]
    v = m.gather(small)
    v[m.groups.indices[m.groups.ptr[0]:m.groups.ptr[3]]] = 0
    m.scatter(small, v)
    pruned = nn.prune(small)
    s = nn.speedup(small, pruned, batch=64, repeats=2)
    # the FLOPs of the networks timed (batch norms folded)
    assert s.theoretical == pytest.approx(nn.flops(nn.fold_batchnorm(net)) / nn.flops(nn.fold_batchnorm(pruned)))
    assert s.efficiency == pytest.approx(s.realized / s.theoretical)
    assert s.max_abs_diff < 1e-4            # same function, measured in the same run
    assert 0 < s.density < 1
    assert s.csr_time > 0 and s.csr_efficiency == pytest.approx(s.csr_realized * s.density)
    assert s.warm is True and nn.speedup(small, pruned, batch=16, repeats=1, warm=False).warm is False


def test_time_forward_interleaves_and_warms_each_timed_call():
    from structsparse.nn.speed import time_forward

    log = []
    fns = [lambda x, k=k: log.append(k) for k in range(3)]
    time_forward(fns, None, repeats=2, warmup=1, warm=True)
    # one warm-up round, then per round each function twice in a row (untimed, timed), in turn
    assert log == [0, 1, 2] + [0, 0, 1, 1, 2, 2] * 2
    log.clear()
    time_forward(fns, None, repeats=2, warmup=1, warm=False)
    assert log == [0, 1, 2] * 3


def test_fold_batchnorm_keeps_the_function(trained):
    net, _, X_te, _, _ = trained
    from structsparse.nn.speed import csr_forward, fold_batchnorm, _magnitude_csr

    folded = fold_batchnorm(net)
    assert not any(n.layer.kind == "batchnorm" for n in folded.nodes)
    np.testing.assert_allclose(folded.forward(X_te[:20]), net.forward(X_te[:20]), atol=1e-4)
    # CSR at full density is the dense network
    full = csr_forward(net, _magnitude_csr(net, 1.0))
    np.testing.assert_allclose(full(X_te[:20]), net.forward(X_te[:20]), atol=1e-4)


def test_save_load_roundtrip(tmp_path, trained):
    net, _, X_te, _, _ = trained
    g = nn.block_net(8, rng=0)
    small = nn.prune(net)
    for model in (net, g, small):
        path = model.save(tmp_path / "m", metrics={"acc": 0.5})
        assert path.suffix == ".npz" and path.with_suffix(".json").exists()
        back = nn.Graph.load(path)
        X = X_te[:7]
        np.testing.assert_array_equal(back.forward(X), model.forward(X))
        assert back.metrics == {"acc": 0.5}
        assert back.blocks == json.loads(json.dumps(model.blocks))
    meta = json.loads(path.with_suffix(".json").read_text())
    assert meta["pruning"]["kept"]["conv2d1"] == small.pruning["kept"]["conv2d1"]
    assert not list(tmp_path.glob(".*.tmp"))             # atomic writes leave no temporaries


def test_load_rejects_corrupt_and_mismatched_files(tmp_path, trained):
    net, *_ = trained
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"not a zip file")
    with pytest.raises(StructureError, match="not a readable"):
        nn.Graph.load(bad)
    with pytest.raises(StructureError, match="does not exist"):
        nn.Graph.load(tmp_path / "missing.npz")
    np.savez(tmp_path / "plain.npz", a=np.zeros(3))
    with pytest.raises(ParameterError, match=r"holds the arrays \['a'\]"):
        nn.Graph.load(tmp_path / "plain.npz")
    path = net.save(tmp_path / "ok.npz")
    with np.load(path) as data:
        arrays = {k: data[k] for k in data.files}
    arrays["param/conv2d1/W"] = arrays["param/conv2d1/W"][..., :3]
    np.savez(tmp_path / "mismatch.npz", **arrays)
    with pytest.raises(StructureError, match="shape"):
        nn.Graph.load(tmp_path / "mismatch.npz")
    del arrays["param/conv2d1/W"]
    np.savez(tmp_path / "lacking.npz", **arrays)
    with pytest.raises(StructureError, match="lacks"):
        nn.Graph.load(tmp_path / "lacking.npz")
    nan_net = net.copy()
    nan_net.nodes[0].layer.params["b"][0] = np.nan
    with pytest.raises(StructureError, match="NaN"):
        nan_net.save(tmp_path / "nan.npz")


def test_cli_prune_quick(tmp_path, capsys):
    import matplotlib.pyplot as plt

    from structsparse.cli import main

    before = set(plt.get_fignums())
    out = tmp_path / "model.npz"
    code = main(["prune", "--dataset", "digits", "--arch", "cnn", "--budget-flops", "0.3", "--quick",
                 "--out", str(out), "--plot", str(tmp_path / "dash.png")])
    text = capsys.readouterr().out
    assert code == 0
    assert "kept units per layer" in text and "FLOPs/sample" in text and "realized" in text
    assert (tmp_path / "dash.png").stat().st_size > 10_000
    assert set(plt.get_fignums()) == before           # the CLI closes the figure it only saved
    back = nn.Graph.load(out)
    assert back.pruning["flops"] <= 0.3 * back.pruning["dense_flops"]


def test_cli_rejects_bad_budget(capsys):
    from structsparse.cli import main

    assert main(["prune", "--quick", "--budget-flops", "-1"]) == 2
    assert "budget" in capsys.readouterr().err


def test_demo_part(tmp_path):
    import matplotlib.pyplot as plt

    from structsparse.nn.demo import demo_part

    before = set(plt.get_fignums())
    assert demo_part(tmp_path, 0) is True
    assert (tmp_path / "nn_prune_dashboard.png").exists()
    assert set(plt.get_fignums()) == before


def test_save_load_pruned_graph_with_selections(tmp_path):
    rng = np.random.default_rng(9)
    net = nn.block_net(8, rng=0)
    for _, _, p in net.parameters():
        p[...] = rng.standard_normal(p.shape) * 0.3
    conn = [m for m in nn.groups(net, by="connections") if m.name.endswith("l1.conv")][0]
    v = conn.gather(net)
    v[conn.groups.indices[conn.groups.ptr[0]:conn.groups.ptr[1]]] = 0
    conn.scatter(net, v)
    small = nn.prune(net)
    back = nn.Graph.load(small.save(tmp_path / "g.npz"))
    X = rng.random((5, 8, 8, 1)).astype(np.float32)
    np.testing.assert_array_equal(back.forward(X), small.forward(X))
    np.testing.assert_allclose(back.forward(X), net.forward(X), atol=1e-5)
    assert nn.connection_graph(back) == nn.connection_graph(small)
