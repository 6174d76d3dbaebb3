"""Pattern discovery with measured states stands on the solver core: one ``ss.path`` over the lam grid."""

import numpy as np
import pytest

import structsparse as ss
from structsparse import sysid
from structsparse.sysid import states


def _network_data(seed=0, n_samples=600):
    net = sysid.example_network(rng=seed)
    rng = np.random.default_rng(seed)
    u = rng.standard_normal((n_samples, net.B.shape[1]))
    x = net.simulate(u, process_noise=0.01, rng=seed + 1).x
    Z = np.hstack([x[:-1], u[:-1]])
    return net, Z, x[1:]


@pytest.mark.parametrize("kind", ["l1", "sparse_group_lasso"])
def test_discovery_runs_one_core_path_and_its_solutions_are_the_penalized_minimizers(monkeypatch, kind):
    _, Z, Y = _network_data()
    calls = []
    real_path = states.path

    def spy(loss, penalty, **kw):
        res = real_path(loss, penalty, **kw)
        calls.append((loss, penalty, kw, res))
        return res

    monkeypatch.setattr(states, "path", spy)
    M, support, info = states.discover_dynamics(Z, Y, penalty=kind, n_lams=12)
    assert len(calls) == 1  # one warm-started path over the whole grid, no loop of its own
    loss, penalty, kw, res = calls[0]
    np.testing.assert_array_equal(kw["lams"], info["lams"])
    assert info["n_iter"] == res.n_iters.tolist() and info["converged"] == res.converged.tolist()
    assert res.solver == "solve_block"  # what ss.solve picks for this (datafit, penalty) pair
    # a coefficient of the path is the minimizer of its penalized problem (checked against an independent solve)
    k = 6
    ref = ss.solve(loss, penalty.with_lam(res.lams[k]), tol=1e-12, solver="fista", max_iter=100_000)
    np.testing.assert_allclose(res.coefs[k], ref.x, atol=1e-5)
    # the returned matrix is the least-squares refit on the chosen support
    for i in range(Y.shape[1]):
        cols = np.flatnonzero(support[i])
        coef = np.linalg.lstsq(Z[:, cols], Y[:, i], rcond=None)[0]
        np.testing.assert_allclose(M[i, cols], coef, rtol=1e-8, atol=1e-10)
        assert np.all(M[i, ~support[i]] == 0)


def test_discovered_support_is_the_network_s():
    # the README's network scenario (benchmarks/bench_sysid.py), one network
    seed = 3
    net = sysid.example_network(rng=seed)
    u = np.random.default_rng(seed).standard_normal((2000, 5))
    x = net.simulate(u, process_noise=0.01, rng=seed + 1000).x
    res = sysid.identify(u, None, 20, penalty="sparse_group_lasso", x=x)
    assert sysid.support_scores(net, res.pattern)["f1"] == 1.0


def test_rowwise_least_squares_matches_lstsq_and_leaves_inputs_alone():
    rng = np.random.default_rng(0)
    Z = rng.standard_normal((50, 6))
    Y = rng.standard_normal((50, 3))
    free = rng.random((3, 6)) < 0.5
    values = rng.standard_normal((3, 6))
    Z0, Y0, f0, v0 = Z.copy(), Y.copy(), free.copy(), values.copy()
    M, rss = states.rowwise_least_squares(Z, Y, free, values)
    for i in range(3):
        fixed = np.where(free[i], 0.0, values[i])
        target = Y[:, i] - Z @ fixed
        cols = np.flatnonzero(free[i])
        coef = np.linalg.lstsq(Z[:, cols], target, rcond=None)[0]
        np.testing.assert_allclose(M[i, cols], coef, rtol=1e-10)
        np.testing.assert_array_equal(M[i, ~free[i]], values[i, ~free[i]])
        assert rss[i] == pytest.approx(float(np.sum((target - Z[:, cols] @ coef) ** 2)), rel=1e-10)
    for a, b in ((Z, Z0), (Y, Y0), (free, f0), (values, v0)):
        np.testing.assert_array_equal(a, b)
