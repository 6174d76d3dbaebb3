"""Noiseless convex recovery through the solver layer's continuation helper (issue 9 item 6, issue 13 item 3).

Judges: scipy's linear programming for basis pursuit, cvxpy (Clarabel) for group basis pursuit and the
tree-lasso program, closed forms for the certificate's ingredients.
"""

import warnings

import cvxpy as cp
import numpy as np
import pytest

import structsparse as ss
from structsparse import cs
from structsparse.exceptions import ConvergenceWarning, ParameterError
from structsparse.solvers.continuation import ContinuationResult, _gradient, continuation


def _tree_problem(n=128, m=48, seed=0):
    """A compressible (not sparse) signal in db2 wavelets: a smooth curve plus a jump."""
    model = cs.TreeSparse(n, 16, "db2")
    t = np.linspace(0, 1, n)
    signal = np.sin(6 * t) + (t > 0.6) + 0.3 * t ** 2
    coef = model.synthesis.analysis(signal)
    A = cs.as_matrix(cs.gaussian(m, n, rng=seed) @ model.synthesis)
    return A, coef, model


def test_basis_pursuit_matches_linear_programming_with_reported_gap():
    from scipy.optimize import linprog

    rng = np.random.default_rng(5)
    A = cs.as_matrix(cs.gaussian(30, 60, rng))
    y = A @ rng.standard_normal(60)  # dense x: the basis-pursuit solution is a vertex, not the signal
    res = continuation(A, y, ss.L1(1.0))
    lp = linprog(np.ones(120), A_eq=np.hstack([A, -A]), b_eq=y, bounds=(0, None), method="highs")
    assert res.converged and res.gap <= 1e-6 and res.residual <= 1e-9
    assert res.objective == pytest.approx(np.abs(res.x).sum())
    assert abs(res.objective - lp.fun) <= 1e-6 * lp.fun
    assert res.lower <= lp.fun * (1 + 1e-9)  # a true lower bound
    assert np.linalg.norm(A @ res.x - y) <= 1e-9 * np.linalg.norm(y)


def test_group_basis_pursuit_where_recovery_fails_matches_cvxpy():
    rng = np.random.default_rng(4)
    model = cs.BlockSparse(64, 4, 5)
    A = cs.as_matrix(cs.gaussian(30, 64, rng))
    x0 = model.sample(rng)
    y = A @ x0
    res = cs.recover(A, y, model, method="group_lasso")
    x = cp.Variable(64)
    prob = cp.Problem(cp.Minimize(cp.sum(cp.hstack([cp.norm(x[4 * g:4 * g + 4], 2) for g in range(16)]))),
                      [A @ x == y])
    prob.solve(solver=cp.CLARABEL)
    value = sum(np.linalg.norm(res.x[4 * g:4 * g + 4]) for g in range(16))
    assert res.converged and res.info["gap"] <= 1e-6 and res.info["residual"] <= 1e-9
    assert abs(value - prob.value) <= 1e-6 * prob.value
    assert res.info["lower_bound"] <= prob.value * (1 + 1e-7)
    assert np.linalg.norm(res.x - x.value) < 1e-3 * np.linalg.norm(x.value)
    assert res.relative_error(x0) > 1e-2  # really a failure case: the program, not the signal, is checked


def test_noiseless_tree_lasso_on_a_compressible_signal_matches_cvxpy():
    A, coef, model = _tree_problem()
    y = A @ coef
    res = cs.recover(A, y, model, method="tree_lasso")
    pen = ss.TreeLasso(model.tree(), 1.0)
    x = cp.Variable(coef.size)
    prob = cp.Problem(cp.Minimize(pen.cvxpy_omega(x)), [A @ x == y])
    prob.solve(solver=cp.CLARABEL)
    assert res.converged
    assert res.info["gap"] <= 1e-6 and res.info["residual"] <= 1e-9
    assert res.info["objective"] == pytest.approx(pen.omega(res.x), rel=1e-12)
    assert abs(res.info["objective"] - prob.value) <= 2e-6 * prob.value
    assert res.info["lower_bound"] <= prob.value * (1 + 1e-7)
    assert res.residual_norm <= 1e-8 * np.linalg.norm(y)


def test_exactly_block_sparse_signal_is_certified_and_exact():
    # well inside the success region (M = 150 for 32 nonzeros in blocks): the least-squares certificate holds
    model = cs.BlockSparse(256, 8, 4)
    A = cs.as_matrix(cs.gaussian(150, 256, rng=0))
    x0 = model.sample(rng=1)
    res = cs.recover(A, A @ x0, model, method="group_lasso")
    assert res.converged and res.info["certified"] and "certified" in res.message
    assert res.info["gap"] <= 1e-12 and res.relative_error(x0) < 1e-10
    # the certificate proves optimality: no feasible point of a smaller group norm exists (cvxpy agrees)
    x = cp.Variable(256)
    prob = cp.Problem(cp.Minimize(cp.sum(cp.hstack([cp.norm(x[8 * g:8 * g + 8], 2) for g in range(32)]))),
                      [A @ x == A @ x0])
    prob.solve(solver=cp.CLARABEL)
    assert res.info["objective"] <= prob.value * (1 + 1e-7)


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("method", ["l1", "group_lasso"])
def test_converged_point_carries_no_rounding_dust(method, seed):
    # a feasible point corrected on every column ties the sparse optimum to rounding (~1e-16 entries everywhere);
    # the returned point must be the sparse one, so that its support is the solution's
    rng = np.random.default_rng(seed)
    model = cs.BlockSparse(256, 8, 4)
    A = cs.gaussian(110, 256, rng)
    x0 = model.sample(rng)
    res = cs.recover(A, A @ x0, model, method=method)
    assert res.converged and res.relative_error(x0) < 1e-6
    nz = res.x[res.x != 0]
    assert np.all(np.abs(nz) > 1e-9 * np.max(np.abs(nz)))
    assert res.info["gap"] <= 1e-6 and res.info["residual"] <= 1e-9


@pytest.mark.parametrize("method", ["l1", "tree_lasso"])
def test_stopping_early_returns_converged_false_and_warns(method):
    A, coef, model = _tree_problem()
    y = A @ coef
    with pytest.warns(ConvergenceWarning, match="stages"):
        x, info = (cs.convex.tree_basis_pursuit(A, y, ss.TreeLasso(model.tree(), 1.0), max_stages=1)
                   if method == "tree_lasso" else
                   cs.convex.group_basis_pursuit(A, y, cs.Sparse(A.shape[1], 1).groups(), max_stages=1))
    assert info["converged"] is False and not info["certified"]
    # both tolerances of the constrained program are reported, and they say why it stopped
    assert info["gap"] > 1e-6 or info["residual"] > 1e-9
    assert np.isfinite(info["residual"]) and info["residual"] == pytest.approx(
        np.linalg.norm(A @ x - y) / np.linalg.norm(y), rel=1e-6, abs=1e-15)


def test_recover_reports_convergence_warning_through_the_public_entry_point():
    A, coef, model = _tree_problem()
    with pytest.warns(ConvergenceWarning):
        res = cs.recover(A, A @ coef, model, method="tree_lasso", max_iter=5)
    assert res.converged is False
    assert "budget" in res.message and res.info["gap"] > 0


def test_gradient_of_a_sum_of_group_norms_matches_finite_differences():
    tree = ss.Tree.from_parents([-1, 0, 0, 1, 1, 2, 2])
    pen = ss.TreeLasso(tree, 1.0)
    parts = pen.norm_groups(7)
    x = np.random.default_rng(0).standard_normal(7)
    g = _gradient(x, tuple(np.asarray(p) for p in parts))
    h = 1e-6
    fd = np.array([(pen.omega(x + h * e) - pen.omega(x - h * e)) / (2 * h) for e in np.eye(7)])
    np.testing.assert_allclose(g, fd, rtol=1e-6, atol=1e-8)
    assert g @ x == pytest.approx(pen.omega(x))  # homogeneity: the certificate's y^T u = Omega(x)


def test_continuation_does_not_modify_inputs_and_rejects_bad_arguments():
    A, coef, model = _tree_problem(n=64, m=32)
    y = A @ coef
    A0, y0 = A.copy(), y.copy()
    res = continuation(A, y, ss.TreeLasso(model.tree(), 1.0))
    assert isinstance(res, ContinuationResult) and "ContinuationResult(" in repr(res)
    np.testing.assert_array_equal(A, A0)
    np.testing.assert_array_equal(y, y0)
    with pytest.raises(ParameterError, match="gap_tol"):
        continuation(A, y, ss.L1(1.0), gap_tol=-1)
    with pytest.raises(ParameterError, match="ratio"):
        continuation(A, y, ss.L1(1.0), ratio=1.5)
    with pytest.raises(ParameterError, match="'y'"):
        continuation(A, np.c_[y, y], ss.L1(1.0))
    zero = continuation(A, np.zeros_like(y), ss.L1(1.0))
    assert zero.converged and not np.any(zero.x)


def test_no_own_solver_loop_left_in_cs_convex():
    """The front end asks the solver layer: no FISTA loop, power iteration or duality gap of its own."""
    import inspect

    src = inspect.getsource(cs.convex)
    for banned in ("_group_lasso_stage", "_power_norm_sq", "_norm_sq_bound", "np.linalg.lstsq", "reduceat",
                   "import structsparse"):
        assert banned not in src
    assert "continuation(" in src and "solve(" in src


def test_real_signal_ecg_tree_lasso_converges():
    pywt = pytest.importorskip("pywt")
    n = 256
    signal = np.asarray(pywt.data.ecg(), float)[::4]
    model = cs.TreeSparse(n, 20, "db4")
    coef = model.synthesis.analysis(signal)
    A = cs.as_matrix(cs.gaussian(80, n, rng=3) @ model.synthesis)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)  # it must finish, not warn
        res = cs.recover(A, A @ coef, model, method="tree_lasso")
    assert res.converged and res.info["gap"] <= 1e-6 and res.info["residual"] <= 1e-9


def test_time_limit_stops_a_stage_inside_its_solver():
    """``time_limit`` reaches the stage's solver through its callback: a limit already spent stops the first
    stage at its first check, instead of letting the stage run to its own tolerance."""
    A, coef, model = _tree_problem()
    y = A @ coef
    pen = ss.TreeLasso(model.tree(), 1.0)
    full = continuation(A, y, pen, warn=False, max_stages=1)
    seen = []
    with pytest.warns(ConvergenceWarning, match="time limit"):
        cut = continuation(A, y, pen, max_stages=5, time_limit=1e-9,
                           callback=lambda k, x, info: seen.append(k) and False)
    assert cut.n_stages == 1 and not cut.converged
    assert len(seen) == 1  # the user's callback still runs, and the deadline stopped the solver after it
    assert cut.n_iter < full.n_iter


def test_operator_supports_beyond_half_the_rows_are_not_polished(monkeypatch):
    """With a LinearOperator, restricted least squares is iterative and ill-conditioned near square supports
    (it took thousands of LSQR steps at N = 2^16): supports over m/2 columns are not polished, and recovery
    still reaches the exact solution through the correction on every column."""
    from scipy.sparse.linalg import aslinearoperator

    from structsparse.solvers import continuation as cont

    sizes = []
    real = cont.restricted_lstsq

    def spy(A, r, S, *args, **kwargs):
        sizes.append(len(S))
        return real(A, r, S, *args, **kwargs)

    monkeypatch.setattr(cont, "restricted_lstsq", spy)
    rng = np.random.default_rng(5)
    m, n = 40, 120
    A = rng.standard_normal((m, n))
    x0 = np.zeros(n)
    x0[:8] = rng.standard_normal(8)
    y = A @ x0
    res = continuation(aslinearoperator(A), y, ss.L1(1.0))
    assert sizes and all(2 * s <= m or s == n for s in sizes)  # n: the correction on every column
    assert res.residual <= 1e-6
    np.testing.assert_allclose(res.x, x0, atol=1e-5)
