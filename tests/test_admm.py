"""Consensus ADMM: against cvxpy on overlapping structures, x-update paths, residual balancing, bad input."""

import zlib

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.sparse.linalg import aslinearoperator

import structsparse as ss
from structsparse.exceptions import ConvergenceWarning, ParameterError, ShapeError
from structsparse.solvers.admm import copy_structure

pytestmark = pytest.mark.filterwarnings("ignore:Solution may be inaccurate:UserWarning")


def chain(p, size, stride):
    return [list(range(s, min(s + size, p))) for s in range(0, p, stride) if s + size // 2 < p]


def random_overlaps(p, n_groups, rng):
    lists = [sorted(rng.choice(p, size=int(rng.integers(2, 8)), replace=False).tolist()) for _ in range(n_groups)]
    return ss.Groups.from_lists(lists, n_features=p, weights=rng.uniform(0.5, 2.0, n_groups))


def make_problem(n, p, rng, n_targets=None):
    A = rng.standard_normal((n, p))
    x = np.zeros((p,) if n_targets is None else (p, n_targets))
    x[: max(p // 5, 1)] = rng.standard_normal(x[: max(p // 5, 1)].shape)
    y = A @ x + 0.1 * rng.standard_normal(A.shape[:1] + x.shape[1:])
    return A, y


def structure(kind, p, rng):
    if kind == "chain":
        return ss.Groups.from_lists(chain(p, 8, 4), n_features=p)
    if kind == "random":
        return random_overlaps(p, p // 3, rng)
    # nested: the groups of a tree over p = 31 variables, weights by size
    tree = ss.Tree.complete(depth=4)
    g = tree.to_groups()
    return g.with_weights(np.sqrt(g.sizes))


def relative_gap(ours, ref):
    return (ours - ref) / abs(ref)


@pytest.mark.parametrize("kind", ["chain", "random", "nested"])
@pytest.mark.parametrize("shape", [(60, 31), (25, 31)])  # n > p (direct) and n < p (Woodbury)
def test_matches_cvxpy_on_overlapping_groups(kind, shape):
    rng = np.random.default_rng(zlib.crc32(repr((kind, shape)).encode()))  # hash() of a str changes per process
    n, p = shape
    A, y = make_problem(n, p, rng)
    groups = structure(kind, p, rng)
    loss = ss.LeastSquares(A, y)
    pen = ss.OverlapGroupLasso(groups, 1.0)
    pen = pen.with_lam(0.2 * ss.lambda_max(loss, pen))  # handles variables in no group
    ref = ss.solve_cvxpy(loss, pen)
    res = ss.admm(loss, pen)
    assert res.converged
    assert res.history["linear_solver"] == ("direct" if n >= p else "woodbury")
    assert abs(relative_gap(res.objective, ref.objective)) < 1e-5
    assert res.objective == pytest.approx(float(loss.value(res.x) + pen(res.x)), rel=1e-12)
    assert np.any(res.x == 0) and np.any(res.x != 0)


def test_matches_cvxpy_with_several_targets_and_free_variables():
    rng = np.random.default_rng(11)
    A, y = make_problem(40, 24, rng, n_targets=3)
    groups = ss.Groups.from_lists(chain(20, 6, 3), n_features=24)  # variables 20..23 are free
    loss = ss.LeastSquares(A, y)
    pen = ss.OverlapGroupLasso(groups, 4.0)
    ref = ss.solve_cvxpy(loss, pen)
    res = ss.admm(loss, pen)
    assert res.x.shape == (24, 3)
    assert abs(relative_gap(res.objective, ref.objective)) < 1e-5


@pytest.mark.parametrize("make_pen", [
    lambda p: ss.L1(3.0),
    lambda p: ss.GroupLasso(ss.Groups.contiguous(p, 4), 5.0),
    lambda p: ss.SparseGroupLasso(ss.Groups.contiguous(p, 4), 5.0, 0.3),
    lambda p: ss.TreeLasso(ss.Tree.complete(depth=4), 5.0),
])
def test_block_penalties_match_cvxpy(make_pen):
    rng = np.random.default_rng(12)
    A, y = make_problem(30, 31, rng)
    loss, pen = ss.LeastSquares(A, y), make_pen(31)
    ref = ss.solve_cvxpy(loss, pen)
    res = ss.admm(loss, pen)
    assert res.converged
    assert abs(relative_gap(res.objective, ref.objective)) < 1e-5
    if pen.has_dual_norm:
        assert res.gap is not None and res.gap <= 1e-4 * res.objective


@pytest.mark.parametrize("make_pen", [
    lambda p: ss.L1(3.0),
    lambda p: ss.SparseGroupLasso(ss.Groups.contiguous(p, 4), 5.0, 0.3),
    lambda p: ss.GroupLasso(ss.Groups.contiguous(p, 4), 5.0),
])
def test_several_targets_keep_entrywise_l1(make_pen):
    rng = np.random.default_rng(20)
    A, y = make_problem(30, 16, rng, n_targets=3)
    loss, pen = ss.LeastSquares(A, y), make_pen(16)
    ref = ss.solve_cvxpy(loss, pen)
    res = ss.admm(loss, pen)
    assert abs(relative_gap(res.objective, ref.objective)) < 1e-5


def test_zero_lam_is_least_squares():
    rng = np.random.default_rng(21)
    A, y = make_problem(40, 12, rng)
    res = ss.admm(ss.LeastSquares(A, y), ss.OverlapGroupLasso(chain(12, 4, 2), 0.0), tol=1e-10)
    np.testing.assert_allclose(res.x, np.linalg.lstsq(A, y, rcond=None)[0], atol=1e-7)


def test_prox_only_penalty_uses_one_identity_copy():
    rng = np.random.default_rng(13)
    A, y = make_problem(30, 12, rng, n_targets=4)
    pen = ss.NuclearNorm(8.0, (12, 4))
    assert copy_structure(pen, 12).prox is not None
    loss = ss.LeastSquares(A, y)
    ref = ss.solve_cvxpy(loss, pen)
    res = ss.admm(loss, pen)
    assert abs(relative_gap(res.objective, ref.objective)) < 1e-5
    assert np.linalg.matrix_rank(res.x, tol=1e-8) < 4


@pytest.mark.parametrize("shape", [(50, 30), (20, 30)])
@pytest.mark.parametrize("n_targets", [None, 2])
def test_linear_solver_paths_agree(shape, n_targets):
    rng = np.random.default_rng(14)
    A, y = make_problem(*shape, rng, n_targets=n_targets)
    pen = ss.OverlapGroupLasso(chain(30, 6, 3), 5.0)
    results = {}
    for name, A_in, method in [("direct", A, "direct"), ("woodbury", A, "woodbury"), ("cg", A, "cg"),
                               ("sparse-woodbury", sp.csr_matrix(A), "woodbury"),
                               ("sparse-direct", sp.csc_matrix(A), "direct"),
                               ("operator", aslinearoperator(A), "auto")]:
        res = ss.admm(ss.LeastSquares(A_in, y), pen, linear_solver=method, tol=1e-8)
        assert res.converged, name
        results[name] = res
    assert results["operator"].history["linear_solver"] == "cg"
    assert results["cg"].history["cg_iterations"] > 0
    base = results["direct"]
    for name, res in results.items():
        np.testing.assert_allclose(res.x, base.x, atol=1e-5, err_msg=name)
        assert res.objective == pytest.approx(base.objective, rel=1e-8), name


def test_residual_balancing_changes_rho_and_converges():
    rng = np.random.default_rng(15)
    A, y = make_problem(40, 30, rng)
    loss = ss.LeastSquares(A, y)
    pen = ss.OverlapGroupLasso(chain(30, 6, 2), 3.0)
    ref = ss.solve_cvxpy(loss, pen)
    for bad_rho in (1e-3, 1e4):
        adapted = ss.admm(loss, pen, rho=bad_rho)
        rhos = adapted.history["rho"]
        assert adapted.converged
        assert len(set(rhos)) > 1 and rhos[-1] != bad_rho
        assert adapted.history["n_factorizations"] == len(set(rhos)) or adapted.history["n_factorizations"] > 1
        assert abs(relative_gap(adapted.objective, ref.objective)) < 1e-5
        # balancing pays off from a poor start: with rho fixed, twice the iterations do not suffice
        with pytest.warns(ConvergenceWarning):
            fixed = ss.admm(loss, pen, rho=bad_rho, adapt_rho=False, max_iter=2 * adapted.n_iter)
        assert set(fixed.history["rho"]) == {bad_rho}
        assert fixed.history["n_factorizations"] == 1


def test_over_relaxation_converges_to_the_same_point():
    rng = np.random.default_rng(16)
    A, y = make_problem(40, 30, rng)
    loss = ss.LeastSquares(A, y)
    pen = ss.OverlapGroupLasso(chain(30, 6, 3), 3.0)
    plain = ss.admm(loss, pen, tol=1e-8, relaxation=1.0)
    relaxed = ss.admm(loss, pen, tol=1e-8)  # default over-relaxation 1.6
    assert relaxed.converged and plain.converged
    np.testing.assert_allclose(relaxed.x, plain.x, atol=1e-5)


def test_zero_solution_above_lambda_max_and_warm_start():
    rng = np.random.default_rng(17)
    A, y = make_problem(30, 20, rng)
    loss = ss.LeastSquares(A, y)
    pen = ss.OverlapGroupLasso(chain(20, 5, 2), 1.0)
    lmax = pen.lambda_max(A.T @ y)
    assert not np.any(ss.admm(loss, pen.with_lam(2 * lmax)).x)
    cold = ss.admm(loss, pen.with_lam(0.3 * lmax))
    warm = ss.admm(loss, pen.with_lam(0.3 * lmax), x0=cold.x)
    assert warm.converged and warm.n_iter <= cold.n_iter
    # disjoint groups: the dual start built from x0 is exact at the solution, so a restart stops at once
    g = ss.Groups.contiguous(20, 4)
    cold = ss.admm(loss, ss.GroupLasso(g, 5.0), tol=1e-8)
    warm = ss.admm(loss, ss.GroupLasso(g, 5.0), x0=cold.x, tol=1e-8)
    assert warm.n_iter <= 3 < cold.n_iter
    assert warm.objective == pytest.approx(cold.objective, rel=1e-9)
    assert warm.objective == pytest.approx(cold.objective, rel=1e-6)


def test_max_iter_warns_and_callback_stops():
    rng = np.random.default_rng(18)
    A, y = make_problem(30, 20, rng)
    loss = ss.LeastSquares(A, y)
    pen = ss.OverlapGroupLasso(chain(20, 5, 2), 2.0)
    with pytest.warns(ConvergenceWarning, match="max_iter=3"):
        res = ss.admm(loss, pen, max_iter=3)
    assert not res.converged and res.n_iter == 3 and "max_iter" in res.message
    seen = []
    res = ss.admm(loss, pen, callback=lambda k, x, info: seen.append(info["objective"]) or k == 5)
    assert res.n_iter == 5 and not res.converged and res.message == "stopped by callback"
    assert len(seen) == 5 and np.all(np.isfinite(seen))


def test_caller_arrays_untouched_and_bad_input():
    rng = np.random.default_rng(19)
    A, y = make_problem(20, 10, rng)
    x0 = rng.standard_normal(10)
    copies = [a.copy() for a in (A, y, x0)]
    loss = ss.LeastSquares(A, y)
    pen = ss.OverlapGroupLasso([[0, 1, 2], [2, 3, 4], [5, 6, 7, 8, 9]], 1.0)
    ss.admm(loss, pen, x0=x0)
    for a, b in zip((A, y, x0), copies):
        np.testing.assert_array_equal(a, b)

    with pytest.raises(TypeError, match="loss"):
        ss.admm((A, y), pen)
    with pytest.raises(TypeError, match="penalty"):
        ss.admm(loss, lambda x: 0.0)
    with pytest.raises(ShapeError, match="features"):
        ss.admm(loss, ss.OverlapGroupLasso([[0, 1], [1, 2]], 1.0))
    with pytest.raises(ShapeError, match="x0"):
        ss.admm(loss, pen, x0=np.ones(9))
    with pytest.raises(ShapeError, match="finite"):
        ss.admm(loss, pen, x0=np.full(10, np.nan))
    for kwargs, name in [({"tol": 0.0}, "tol"), ({"tol": np.nan}, "tol"), ({"rho": -1.0}, "rho"),
                         ({"max_iter": 0}, "max_iter"), ({"linear_solver": "qr"}, "linear_solver"),
                         ({"relaxation": 2.5}, "relaxation"), ({"tol_abs": -1.0}, "tol_abs"),
                         ({"callback": 3}, "callback"), ({"max_rho_updates": -1}, "max_rho_updates")]:
        with pytest.raises(ParameterError, match=name):
            ss.admm(loss, pen, **kwargs)
    with pytest.raises(ParameterError, match="LinearOperator"):
        ss.admm(ss.LeastSquares(aslinearoperator(A), y), pen, linear_solver="direct")


@pytest.mark.slow
def test_medium_problem_matches_cvxpy():
    """The benchmark's kind of problem, smaller: n=200, p=800, windows of 10 every 5."""
    rng = np.random.default_rng(30)
    A = rng.standard_normal((200, 800))
    groups = ss.Groups.from_lists([list(range(s, s + 10)) for s in range(0, 791, 5)], n_features=800)
    x = np.zeros(800)
    for g in rng.choice(groups.n_groups, 6, replace=False):
        x[groups[int(g)]] = rng.standard_normal(10)
    y = A @ x + 0.01 * rng.standard_normal(200)
    loss = ss.LeastSquares(A, y)
    pen = ss.OverlapGroupLasso(groups, 1.0)
    pen = pen.with_lam(0.1 * ss.lambda_max(loss, pen))
    ref = ss.solve_cvxpy(loss, pen)
    for method in ("woodbury", "cg"):
        res = ss.admm(loss, pen, linear_solver=method)
        assert res.converged
        assert abs(relative_gap(res.objective, ref.objective)) < 1e-5


def test_fused_z_update_kernels_agree():
    from structsparse.solvers._admm_kernels import z_update_numba, z_update_numpy

    rng = np.random.default_rng(31)
    ptr = np.array([0, 3, 4, 9, 12], dtype=np.int64)
    thresholds = np.array([0.5, 0.0, 2.0, 50.0])  # a free copy and a group thresholded to zero
    gx, z, u = (rng.standard_normal((12, 2)) for _ in range(3))
    a = z_update_numba(gx, z, u, ptr, thresholds, 1.6)
    b = z_update_numpy(gx, z, u, ptr, thresholds, 1.6)
    for left, right in zip(a, b):
        np.testing.assert_allclose(left, right, rtol=1e-12, atol=1e-14)
    h = 1.6 * gx - 0.6 * z + u
    assert not np.any(a[0][9:12])  # thresholded to zero
    np.testing.assert_allclose(a[0][3], h[3], atol=1e-14)  # zero threshold: the copy passes unchanged
    np.testing.assert_allclose(a[0] + a[1], h, atol=1e-14)  # z_new + u_new = h
