"""FISTA: agreement with cvxpy, stopping rules, operator types and bad input."""

import warnings

import cvxpy as cp
import numpy as np
import pytest
import scipy.sparse as sp
from scipy.sparse.linalg import aslinearoperator

import structsparse as ss
from structsparse.exceptions import ConvergenceWarning, ParameterError, ShapeError


def _problem(rng, n=40, p=60, k=None):
    A = rng.standard_normal((n, p))
    y = rng.standard_normal(n) if k is None else rng.standard_normal((n, k))
    return A, y


def _cvxpy_objective(A, y, penalty):
    x = cp.Variable((A.shape[1],) + y.shape[1:])
    prob = cp.Problem(cp.Minimize(0.5 * cp.sum_squares(A @ x - y) + penalty.cvxpy(x)))
    prob.solve(solver=cp.CLARABEL)
    return prob.value, x.value


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("k", [None, 3])
def test_group_lasso_matches_cvxpy(seed, k):
    rng = np.random.default_rng(seed)
    A, y = _problem(rng, k=k)
    groups = ss.Groups.from_sizes([5, 10, 3, 12, 30], weights=rng.uniform(0.5, 2, 5))
    loss = ss.LeastSquares(A, y)
    lam = 0.3 * groups_lambda_max(A, y, groups)
    res = ss.fista(loss, ss.GroupLasso(groups, lam))
    ref, _ = _cvxpy_objective(A, y, ss.GroupLasso(groups, lam))
    assert res.converged and res.gap is not None and res.gap >= 0
    assert abs(res.objective - ref) <= 1e-6 * abs(ref)


def groups_lambda_max(A, y, groups):
    g = A.T @ y
    g = g.reshape(g.shape[0], -1)
    return max(np.linalg.norm(g[idx]) / w for idx, w in zip(groups, groups.weights))


@pytest.mark.parametrize("kind", ["dense", "sparse", "operator"])
def test_operator_types_agree(kind):
    rng = np.random.default_rng(1)
    A, y = _problem(rng)
    A[np.abs(A) < 0.5] = 0.0
    op = {"dense": A, "sparse": sp.csr_matrix(A), "operator": aslinearoperator(A)}[kind]
    pen = ss.L1(0.2 * np.abs(A.T @ y).max())
    res = ss.fista(ss.LeastSquares(op, y), pen)
    ref, xref = _cvxpy_objective(A, y, pen)
    assert res.converged
    assert abs(res.objective - ref) <= 1e-6 * ref
    assert np.max(np.abs(res.x - xref)) < 1e-3


def test_gap_is_a_valid_bound():
    """The reported gap must bound the true suboptimality from above."""
    rng = np.random.default_rng(2)
    A, y = _problem(rng)
    groups = ss.Groups.contiguous(60, 6)
    pen = ss.GroupLasso(groups, 0.1 * groups_lambda_max(A, y, groups))
    ref, _ = _cvxpy_objective(A, y, pen)
    res = ss.fista(ss.LeastSquares(A, y), pen, tol=1e-3, gap_freq=1)
    assert res.objective - ref <= res.gap * (1 + 1e-6) + 1e-9


def test_max_iter_warns_and_says_so():
    rng = np.random.default_rng(3)
    A, y = _problem(rng)
    pen = ss.L1(1e-3)
    with pytest.warns(ConvergenceWarning, match="max_iter"):
        res = ss.fista(ss.LeastSquares(A, y), pen, max_iter=3)
    assert not res.converged and res.n_iter == 3 and "max_iter" in res.message


def test_callback_stops():
    rng = np.random.default_rng(4)
    A, y = _problem(rng)
    seen = []

    def cb(k, x, info):
        seen.append(info["objective"])
        return k >= 5

    res = ss.fista(ss.LeastSquares(A, y), ss.L1(0.01), callback=cb)
    assert res.n_iter == 5 and not res.converged and "callback" in res.message
    assert len(seen) == 5


def test_backtracking_recovers_from_a_too_long_step():
    rng = np.random.default_rng(5)
    A, y = _problem(rng)
    pen = ss.L1(0.5)
    loss = ss.LeastSquares(A, y)
    res = ss.fista(loss, pen, step=100.0 / loss.lipschitz)
    ref, _ = _cvxpy_objective(A, y, pen)
    assert res.converged and abs(res.objective - ref) <= 1e-6 * ref
    assert res.history["step"][-1] < 100.0 / loss.lipschitz


def test_objective_decreases_monotonically_with_restart():
    rng = np.random.default_rng(6)
    A, y = _problem(rng, n=80, p=40)
    res = ss.fista(ss.LeastSquares(A, y), ss.L1(0.05), tol=1e-10)
    obj = np.array(res.history["objective"])
    # FISTA is not monotone, but with restarts the final value must be the best seen up to rounding
    assert res.objective <= obj.min() + 1e-9 * abs(obj.min())


def test_gap_certifies_with_unpenalized_features():
    """Features in no group are free: the dual point is projected onto A_F^T theta = 0 and the gap still bounds."""
    rng = np.random.default_rng(7)
    A, y = _problem(rng, n=50, p=20)
    groups = ss.Groups.from_lists([[0, 1, 2], [3, 4, 5, 6]], n_features=20)
    pen = ss.GroupLasso(groups, 5.0)
    fit = ss.LeastSquares(A, y)
    res = ss.fista(fit, pen, tol=1e-10)
    ref, _ = _cvxpy_objective(A, y, pen)
    assert res.converged and res.message.startswith("duality gap")
    assert res.gap is not None and res.gap <= 1e-10 * res.objective
    assert abs(res.objective - ref) <= 1e-6 * ref
    # away from the optimum the projected gap is still an upper bound on the suboptimality
    for x in (np.zeros(20), rng.standard_normal(20)):
        gap = ss.duality_gap(fit, pen, x)
        assert gap is not None and gap >= fit.value(x) + pen(x) - ref - 1e-8 * ref


def test_stalled_gap_falls_back_to_fixed_point_residual():
    """A latent norm evaluated by an inner solver limits the gap near 1e-9: FISTA stops on its residual and says so."""
    rng = np.random.default_rng(11)
    A, y = _problem(rng, n=30, p=8)
    groups = ss.Groups.from_lists([[0, 1, 2], [2, 3, 4], [6, 7]], n_features=8)  # feature 5 is free
    pen = ss.LatentGroupLasso(groups, 1.0)
    fit = ss.LeastSquares(A, y)
    res = ss.fista(fit, pen, tol=1e-12, max_iter=5000)
    ref = ss.solve_cvxpy(fit, pen)
    assert res.converged and "stalled" in res.message
    assert res.objective <= ref.objective + 1e-7 * abs(ref.objective)


def test_fixed_point_stopping_without_gap():
    """With lam = 0 there is no dual bound; FISTA stops on the fixed-point residual."""
    rng = np.random.default_rng(7)
    A, y = _problem(rng, n=50, p=20)
    fit = ss.LeastSquares(A, y)
    res = ss.fista(fit, ss.L1(0.0), tol=1e-10)
    assert res.converged and res.message.startswith("fixed-point")
    x_ls = np.linalg.lstsq(A, y, rcond=None)[0]
    np.testing.assert_allclose(res.x, x_ls, atol=1e-6)


def test_inputs_not_modified():
    rng = np.random.default_rng(8)
    A, y = _problem(rng)
    x0 = rng.standard_normal(60)
    copies = [a.copy() for a in (A, y, x0)]
    ss.fista(ss.LeastSquares(A, y), ss.L1(0.1), x0=x0)
    for a, c in zip((A, y, x0), copies):
        np.testing.assert_array_equal(a, c)


def test_bad_input():
    rng = np.random.default_rng(9)
    A, y = _problem(rng)
    loss = ss.LeastSquares(A, y)
    with pytest.raises(ShapeError, match="x0"):
        ss.fista(loss, ss.L1(0.1), x0=np.zeros(5))
    with pytest.raises(ShapeError, match="penalty"):
        ss.fista(loss, ss.GroupLasso(ss.Groups.contiguous(10, 2), 1.0))
    with pytest.raises(ParameterError, match="tol"):
        ss.fista(loss, ss.L1(0.1), tol=-1)
    with pytest.raises(ParameterError, match="max_iter"):
        ss.fista(loss, ss.L1(0.1), max_iter=0)
    with pytest.raises(TypeError, match="penalty"):
        ss.fista(loss, lambda x: 0.0)
    with pytest.raises(TypeError, match="loss"):
        ss.fista(A, ss.L1(0.1))
    with pytest.raises(ShapeError, match="'y'"):
        ss.LeastSquares(A, y[:-1])
    with pytest.raises(ShapeError, match="finite"):
        ss.LeastSquares(A, np.full_like(y, np.nan))
    with pytest.raises(ShapeError, match="'A'"):
        ss.LeastSquares(np.ones(5), np.ones(5))
    with pytest.raises(ParameterError, match="lipschitz"):
        ss.LeastSquares(A, y, lipschitz=-1.0)


@pytest.mark.parametrize("exact", [True, False])
def test_backtracking_terminates_when_the_objective_is_near_zero(exact):
    """Rounding near a zero objective used to fail the sufficient-decrease test forever (L -> inf, inf * 0 = NaN)."""
    rng = np.random.default_rng(11)
    A = rng.standard_normal((30, 60))
    x_true = np.zeros(60)
    x_true[:3] = [1.0, -2.0, 0.5]
    y = np.zeros(30) if exact else A @ x_true
    loss = ss.LeastSquares(A, y)
    with _no_warning():
        res = ss.fista(loss, ss.L1(1e-14), max_iter=300, tol=1e-15)
    assert np.all(np.isfinite(res.x)) and res.n_iter <= 300
    if not exact:  # a gap of 1e-29 is below rounding: it stalls, and the fixed-point residual (<= 1e-15) stops
        assert res.converged and "stalled" in res.message
    assert res.history["step"][-1] >= 1e-6 / loss.lipschitz
    assert res.objective <= 1e-8 * (1 + float(y @ y))


class _no_warning:
    """Turns a ConvergenceWarning into an error inside the block."""

    def __enter__(self):
        self._ctx = warnings.catch_warnings()
        self._ctx.__enter__()
        warnings.simplefilter("error", ConvergenceWarning)
        return self

    def __exit__(self, *exc):
        return self._ctx.__exit__(*exc)


def test_an_inexact_iterative_prox_is_reported_once_against_the_certificate(monkeypatch):
    """A latent prox (iterative) that warns it stopped short: fista holds the per-call warnings back and says in
    its message how many calls were inexact; the duality gap still certifies the result (objective = cvxpy's)."""
    import warnings

    from structsparse.exceptions import ConvergenceWarning

    rng = np.random.default_rng(31)
    A = rng.standard_normal((30, 12))
    y = rng.standard_normal(30)
    pen = ss.LatentGroupLasso([[0, 1, 2, 3], [3, 4, 5, 6], [6, 7, 8, 9, 10, 11]], 2.0)
    assert "prox" not in pen.capabilities and "dual_norm" in pen.capabilities
    real = type(pen).prox

    def warning_prox(self, v, step):
        warnings.warn("prox is approximate (test)", ConvergenceWarning)
        return real(self, v, step)

    monkeypatch.setattr(type(pen), "prox", warning_prox)
    loss = ss.LeastSquares(A, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        res = ss.fista(loss, pen, tol=1e-8)
    assert res.converged and "stopped short of its inner tolerance in" in res.message
    assert "duality gap certifies" in res.message
    assert res.objective == pytest.approx(ss.solve_cvxpy(loss, pen).objective, rel=1e-6)
