"""Training, group maps and the proximal step."""

import numpy as np
import pytest

import structsparse as ss
import structsparse.nn as nn
from structsparse.exceptions import ParameterError, ShapeError


@pytest.fixture(scope="module")
def digits_small():
    return nn.load_digits_split(n_samples=400, rng=0)


def test_softmax_cross_entropy_gradient():
    rng = np.random.default_rng(0)
    z = rng.standard_normal((5, 4))
    y = np.array([0, 3, 1, 1, 2])
    loss, g = nn.softmax_cross_entropy(z, y)
    p = np.exp(z) / np.exp(z).sum(1, keepdims=True)
    assert loss == pytest.approx(-np.mean(np.log(p[np.arange(5), y])))
    eps = 1e-6
    z2 = z.copy()
    z2[2, 1] += eps
    assert (nn.softmax_cross_entropy(z2, y)[0] - loss) / eps == pytest.approx(g[2, 1], abs=1e-5)


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_training_learns_digits(digits_small, optimizer):
    X_tr, X_te, y_tr, y_te = digits_small
    net = nn.small_cnn((6, 8), rng=0)
    before = net.score(X_te, y_te)
    hist = nn.train(net, X_tr, y_tr, epochs=4, lr=0.05 if optimizer == "sgd" else 0.005, optimizer=optimizer,
                    rng=0, progress=False)
    assert hist.loss[-1] < hist.loss[0]
    assert net.score(X_te, y_te) > max(0.6, before + 0.3)


def test_group_maps_cover_the_right_parameters():
    net = nn.small_cnn((4, 6), rng=0)
    f = nn.groups(net, by="filters")
    assert [m.name for m in f] == ["filters:conv2d1", "filters:conv2d2"]
    # conv1 filter: 3*3*1 weights + bias + gamma + beta
    assert np.all(np.diff(f[0].groups.ptr) == 9 + 3)
    assert f[0].groups.is_disjoint and np.all(f[0].groups.covered)
    ch = nn.groups(net, by="channels", layers=["dense1"])[0]
    assert ch.groups.n_groups == 6          # one per channel of the flattened 4x4x6 map
    assert np.all(np.diff(ch.groups.ptr) == 16 * 10)
    mlp = nn.mlp((5,), n_features=4)
    neurons = nn.groups(mlp, by="neurons")
    assert len(neurons) == 1 and neurons[0].groups.n_groups == 5   # the output layer is not grouped
    with pytest.raises(ParameterError):
        nn.groups(net, by="pixels")
    with pytest.raises(Exception, match="branches"):
        nn.groups(net, by="branches")


def test_gather_scatter_roundtrip():
    rng = np.random.default_rng(1)
    net = nn.block_net(8, rng=0)
    for by in nn.GROUP_KINDS:
        if by == "neurons":
            continue
        for m in nn.groups(net, by=by):
            v = rng.standard_normal(m.groups.n_features)
            m.scatter(net, v)
            np.testing.assert_allclose(m.gather(net), v.astype(np.float32), rtol=1e-6)


@pytest.mark.parametrize("kind", ["group_lasso", "sparse_group_lasso", "group_nuclear"])
def test_prox_step_is_the_solver_layer_prox(kind):
    rng = np.random.default_rng(2)
    net = nn.small_cnn((4, 6), rng=0)
    pen = nn.penalty(net, by="filters", kind=kind, lam=0.3)
    m = pen.maps[1]
    v = m.gather(net)
    if kind == "group_lasso":
        expected = ss.prox.group_soft_threshold(v, m.groups, 0.1 * 0.3)
    elif kind == "sparse_group_lasso":
        expected = ss.SparseGroupLasso(m.groups, 0.3, 0.5).prox(v, 0.1)
    else:
        expected = ss.GroupNuclear(m.groups, 0.3, 0.5, m.shapes).prox(v, 0.1)
    pen.prox_step(net, 0.1)
    np.testing.assert_allclose(m.gather(net), expected, rtol=1e-5, atol=1e-7)
    assert rng is not None


def test_penalized_training_zeroes_whole_groups(digits_small):
    X_tr, _, y_tr, _ = digits_small
    net = nn.small_cnn((6, 8), rng=0)
    pen = nn.penalty(net, by="filters", lam=10.0, weights="flops")
    hist = nn.train(net, X_tr, y_tr, epochs=3, lr=0.05, penalty=pen, schedule=nn.lam_warmup(10.0, 10),
                    rng=0, progress=False)
    norms = np.concatenate([m.group_norms(net) for m in pen.maps])
    assert np.any(norms == 0.0)                        # exact zeros from the prox, not small numbers
    assert hist.zero_groups[-1] == pytest.approx(np.mean(norms == 0))
    assert hist.lam[-1] == pytest.approx(10.0)


def test_lam_warmup_is_the_solver_layer_schedule():
    assert nn.lam_warmup is ss.lam_warmup
    s = nn.lam_warmup(1.0, 11, start_fraction=1e-2)
    assert s(0) == pytest.approx(1e-2)
    assert s(5) == pytest.approx(1e-1)
    assert s(10) == s(100) == 1.0
    with pytest.raises(ParameterError):
        nn.lam_warmup(-1.0, 10)


def test_flops_weights_price_units():
    net = nn.small_cnn((4, 6), rng=0)
    from structsparse.nn.groups import unit_flops

    saved = unit_flops(net)
    pruned_net = net.copy()
    for m in nn.groups(pruned_net, by="filters", layers=["conv2d1"]):
        v = m.gather(pruned_net)
        v[m.groups.indices[m.groups.ptr[0]:m.groups.ptr[1]]] = 0
        m.scatter(pruned_net, v)
    # removing one unit saves what unit_flops says
    assert nn.flops(net) - nn.flops(nn.prune(pruned_net)) == pytest.approx(saved[("conv2d1", 0)])


def test_bad_training_input(digits_small):
    X_tr, _, y_tr, _ = digits_small
    net = nn.small_cnn((4, 6), rng=0)
    with pytest.raises(ParameterError, match="labels in"):
        nn.train(net, X_tr, y_tr + 10, epochs=1, progress=False)
    with pytest.raises(ShapeError, match="y"):
        nn.train(net, X_tr, y_tr[:-1], epochs=1, progress=False)
    with pytest.raises(ShapeError, match="X"):
        nn.train(net, X_tr.reshape(len(X_tr), -1), y_tr, epochs=1, progress=False)
    with pytest.raises(ShapeError, match="finite"):
        bad = X_tr.copy()
        bad[0, 0, 0, 0] = np.nan
        nn.train(net, bad, y_tr, epochs=1, progress=False)
    net.nodes[0].layer.params["W"][0, 0, 0, 0] = np.nan
    with pytest.raises(ParameterError, match="NaN"):
        nn.train(net, X_tr, y_tr, epochs=1, progress=False)


def test_penalty_value_matches_group_norms():
    net = nn.small_cnn((4, 6), rng=0)
    pen = nn.penalty(net, by="filters", lam=0.5)
    expected = 0.5 * sum(float(m.groups.weights @ m.group_norms(net)) for m in pen.maps)
    assert pen.value(net) == pytest.approx(expected)
    assert pen.value(net, lam=1.0) == pytest.approx(2 * expected)
