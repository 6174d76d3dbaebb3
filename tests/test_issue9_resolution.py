"""Issue 9, audited for resolution through the public API: every datafit with every kind of penalty.

Items 1 and 3 of the issue ask that ``ss.solve(datafit, penalty)`` pick working-set block coordinate descent
for the L1, group and sparse-group penalties, FISTA for trees, ADMM for overlapping groups (least squares; FISTA
for the datafits ADMM cannot take) and duplication for the latent group lasso, for every datafit, and that the
answer agree with the cvxpy reference. The other tests check these picks on least squares or on one penalty at a
time; here the whole (datafit x penalty) matrix goes through ``ss.solve`` and ``ss.solve_cvxpy``.

The last tests try solve_block's sample-space Newton method (solvers/_ssnal.py) as a user would: a dense
least-squares group lasso whose solution has more nonzero coefficients than the design has rows, in the
layouts and dtypes a user passes, against cvxpy.
"""

import numpy as np
import pytest

import structsparse as ss
from structsparse.exceptions import ShapeError

N_SAMPLES, N_FEATURES = 40, 12
GROUPS = [[0, 1, 2], [3, 4, 5], [6, 7, 8], [9, 10, 11]]
OVERLAPPING = [[0, 1, 2, 3], [3, 4, 5, 6], [6, 7, 8, 9, 10, 11]]


def _datafit(name, seed=0):
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((N_SAMPLES, N_FEATURES))
    signal = A[:, :3] @ np.array([1.0, -0.5, 0.8]) + 0.3 * A[:, 6]
    if name == "least_squares":
        return ss.LeastSquares(A, signal + 0.2 * rng.standard_normal(N_SAMPLES))
    if name == "logistic":
        return ss.Logistic(A, (signal + 0.5 * rng.standard_normal(N_SAMPLES) > 0).astype(float))  # {0, 1} labels
    if name == "huber":
        y = signal + 0.2 * rng.standard_normal(N_SAMPLES)
        y[:3] += 8.0  # outliers past delta
        return ss.Huber(A, y, delta=1.0)
    return ss.Poisson(0.3 * A, rng.poisson(np.exp(0.3 * signal)).astype(float))


def _penalty(kind):
    groups = ss.Groups.from_lists(GROUPS, n_features=N_FEATURES)
    if kind == "l1":
        return ss.L1(1.0)
    if kind == "group_lasso":
        return ss.GroupLasso(groups, 1.0)
    if kind == "sparse_group_lasso":
        return ss.SparseGroupLasso(groups, 1.0, 0.4)
    if kind == "tree_lasso":
        return ss.TreeLasso(ss.Tree.from_parents([-1] + [0] * 3 + [1, 1, 2, 2, 3, 3, 3, 3]), 1.0)
    if kind == "overlap_group_lasso":
        return ss.OverlapGroupLasso(OVERLAPPING, 1.0)
    return ss.LatentGroupLasso(OVERLAPPING, 1.0)


def _expected_solver(datafit_name, kind):
    if kind in ("l1", "group_lasso", "sparse_group_lasso"):
        return "solve_block"
    if kind == "latent_group_lasso":
        return "solve_latent"
    if kind == "overlap_group_lasso" and datafit_name == "least_squares":
        return "admm"
    return "fista"  # trees; overlapping groups with a datafit ADMM cannot take


@pytest.mark.parametrize("kind", ["l1", "group_lasso", "sparse_group_lasso", "tree_lasso", "overlap_group_lasso",
                                  "latent_group_lasso"])
@pytest.mark.parametrize("datafit_name", ["least_squares", "logistic", "huber", "poisson"])
def test_solve_picks_the_issues_solver_for_every_datafit_and_matches_cvxpy(datafit_name, kind):
    """At 0.3 lambda_max (some but not all coefficients nonzero), through the public names only."""
    fit, unit = _datafit(datafit_name), _penalty(kind)
    lam_max = ss.lambda_max(fit, unit)
    assert np.isfinite(lam_max) and lam_max > 0
    pen = unit.with_lam(0.3 * lam_max)
    res = ss.solve(fit, pen, tol=1e-8)
    assert res.solver.split("/")[0] == _expected_solver(datafit_name, kind), res.solver
    assert res.solver.split("/")[0] in ss.valid_solvers(fit, pen)
    assert res.converged
    ref = ss.solve_cvxpy(fit, pen)
    assert res.objective == pytest.approx(ref.objective, rel=1e-6, abs=1e-9)
    assert np.any(np.abs(res.x) > 1e-6)
    # lambda_max from the declared structure: zero is the answer there (overlapping groups: see the test below)
    if kind != "overlap_group_lasso":
        at_max = ss.solve(fit, unit.with_lam(lam_max), tol=1e-8)
        assert at_max.converged
        np.testing.assert_allclose(at_max.x, 0.0, atol=1e-8)


@pytest.mark.xfail(strict=True, reason="audit10 finding: at lam = lambda_max ADMM converges sublinearly (10000 "
                   "iterations, ConvergenceWarning) and FISTA's iterative overlap prox stops short; ss.path skips "
                   "that value, ss.solve does not")
@pytest.mark.parametrize("datafit_name", ["least_squares", "huber"])
def test_overlapping_groups_at_lambda_max_give_zero_without_a_warning(datafit_name):
    """Zero is optimal at lambda_max by definition; the solver ss.solve picks should say so and converge."""
    fit, unit = _datafit(datafit_name), _penalty("overlap_group_lasso")
    res = ss.solve(fit, unit.with_lam(ss.lambda_max(fit, unit)), tol=1e-8)  # a ConvergenceWarning is an error here
    assert res.converged
    np.testing.assert_allclose(res.x, 0.0, atol=1e-8)


# ---------------------------------------------------------------- solve_block's sample-space Newton method (SSNAL)
def _underdetermined(seed=0, n=120, p=1200, size=20, weights=None):
    """A dense group lasso at 0.001 lambda_max whose solution has more nonzero coefficients than rows."""
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((n, p))
    y = rng.standard_normal(n)
    groups = ss.Groups.contiguous(p, size, weights=weights)
    unit = ss.GroupLasso(groups, 1.0)
    return A, y, unit.with_lam(1e-3 * ss.lambda_max(ss.LeastSquares(A, y), unit))


@pytest.mark.parametrize("layout", ["C", "F", "float32", "weights"])
def test_underdetermined_group_lasso_matches_cvxpy_in_every_layout(layout):
    weights = np.linspace(0.5, 2.0, 60) if layout == "weights" else None
    A, y, pen = _underdetermined(weights=weights)
    if layout == "F":
        A = np.asfortranarray(A)
    elif layout == "float32":
        A = A.astype(np.float32)
    A_before, y_before = A.copy(), y.copy()
    res = ss.solve(ss.LeastSquares(A, y), pen, tol=1e-8)
    assert res.solver.startswith("solve_block") and res.converged
    assert np.count_nonzero(res.x) > A.shape[0]  # the support outnumbers the rows
    if layout != "weights":  # the last whole problem goes to the Newton method (these weights end on 262 epochs)
        assert sum(res.history["ssnal_steps"]) > 0 and res.history["epochs"][-1] == 0
    ref = ss.solve_cvxpy(ss.LeastSquares(A.astype(float), y), pen)
    assert res.objective == pytest.approx(ref.objective, rel=1e-7)
    np.testing.assert_array_equal(A, A_before)
    np.testing.assert_array_equal(y, y_before)


def test_a_nan_in_the_design_is_an_error_naming_it():
    A, y, pen = _underdetermined()
    A[7, 11] = np.nan
    with pytest.raises(ShapeError, match="'A' parameter of LeastSquares must contain only finite"):
        ss.solve(ss.LeastSquares(A, y), pen)


@pytest.mark.xfail(strict=True, reason="audit10 finding: the switch predicts the whole problem's epochs from the "
                   "previous, smaller subproblem's rate (7 epochs there), so it stays with epochs (1000+) here")
def test_underdetermined_whole_problem_does_not_take_hundreds_of_epochs_without_newton_steps():
    """solve_block's rule (working_set._SSNAL_EPOCHS): a whole problem with more nonzero coefficients than rows
    whose epochs run past 400 goes to the sample-space Newton method instead."""
    A, y, pen = _underdetermined(n=200, p=2000)  # seed 0: epochs [7, 7, 1746], no Newton step
    res = ss.solve(ss.LeastSquares(A, y), pen, tol=1e-6)
    assert res.converged and np.count_nonzero(res.x) > A.shape[0]
    for epochs, newton in zip(res.history["epochs"], res.history["ssnal_steps"]):
        assert epochs <= 400 or newton > 0, (res.history["epochs"], res.history["ssnal_steps"])
