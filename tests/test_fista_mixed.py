"""FISTA's mixed-precision products (float32 copy of a dense design, float64 references and gap checks)."""

import importlib
import warnings

import cvxpy as cp
import numpy as np
import pytest
import scipy.sparse as sp
from scipy.sparse.linalg import aslinearoperator

import structsparse as ss
from structsparse.exceptions import ConvergenceWarning, ParameterError

fista_module = importlib.import_module("structsparse.solvers.fista")


def _problem(seed, n=60, p=200, k=8):
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((n, p)) / np.sqrt(n)
    x0 = np.zeros(p)
    x0[rng.choice(p, k, replace=False)] = rng.standard_normal(k)
    return A, A @ x0 + 0.01 * rng.standard_normal(n)


def _cvxpy_objective(A, y, penalty):
    x = cp.Variable(A.shape[1])
    prob = cp.Problem(cp.Minimize(0.5 * cp.sum_squares(A @ x - y) + penalty.cvxpy(x)))
    prob.solve(solver=cp.CLARABEL)
    return prob.value


@pytest.mark.parametrize("seed", range(3))
def test_mixed_reaches_the_cvxpy_optimum_and_its_gap_bounds_it(seed):
    A, y = _problem(seed)
    groups = ss.Groups.contiguous(200, 5)
    pen = ss.GroupLasso(groups, 0.05 * max(np.linalg.norm((A.T @ y)[g]) for g in groups))
    loss = ss.LeastSquares(A, y)
    res = ss.fista(loss, pen, tol=1e-10, precision="mixed")
    ref = _cvxpy_objective(A, y, pen)
    assert res.converged and res.message == "duality gap below tol"
    assert res.gap <= 1e-10 * res.objective
    assert res.objective - ref <= res.gap + 1e-9 * abs(ref)  # the float64 gap is a certificate
    assert abs(res.objective - ref) <= 1e-7 * abs(ref)


def test_mixed_result_is_evaluated_in_float64():
    """The returned objective and gap are those of x with float64 products, not the float32 estimates."""
    A, y = _problem(3)
    loss = ss.LeastSquares(A, y)
    pen = ss.L1(0.02 * np.abs(A.T @ y).max())
    for kw in ({"tol": 1e-9}, {"tol": 1e-14, "max_iter": 37}):  # stopped on the gap, and not
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)  # the second run stops at max_iter
            res = ss.fista(loss, pen, precision="mixed", **kw)
        assert res.objective == pytest.approx(loss.value(res.x) + pen(res.x), rel=1e-13)
        assert res.gap == pytest.approx(ss.duality_gap(loss, pen, res.x), rel=1e-9, abs=1e-15)


def test_mixed_and_double_agree_on_a_tree_lasso():
    rng = np.random.default_rng(4)
    n = 255
    tree = ss.Tree.from_parents(np.r_[-1, np.arange(n - 1) // 2])
    A = rng.standard_normal((100, n)) / 10.0
    y = A @ np.where(np.arange(n) < 15, rng.standard_normal(n), 0.0)
    pen = ss.TreeLasso(tree, 0.01 * np.abs(A.T @ y).max())
    a = ss.fista(ss.LeastSquares(A, y), pen, tol=1e-10, precision="double")
    b = ss.fista(ss.LeastSquares(A, y), pen, tol=1e-10, precision="mixed")
    assert a.converged and b.converged
    assert abs(a.objective - b.objective) <= 2e-10 * a.objective
    np.testing.assert_allclose(b.x, a.x, atol=1e-4 * np.abs(a.x).max())


def test_a_failed_decrease_test_switches_to_float64_and_still_converges():
    """A step far too long fails the sufficient-decrease test: mixed mode redoes it in float64 and backtracks."""
    A, y = _problem(5)
    loss = ss.LeastSquares(A, y)
    pen = ss.L1(0.05 * np.abs(A.T @ y).max())
    res = ss.fista(loss, pen, step=100.0 / loss.lipschitz, tol=1e-10, precision="mixed")
    ref = _cvxpy_objective(A, y, pen)
    assert res.converged and abs(res.objective - ref) <= 1e-7 * abs(ref)
    assert res.history["step"][-1] < 100.0 / loss.lipschitz


def test_auto_chooses_mixed_only_for_large_dense_float64_designs(monkeypatch):
    A, y = _problem(6)
    pen = ss.L1(0.1)
    design = fista_module._mixed_design
    assert design(ss.LeastSquares(A, y), "auto", True) is None  # small
    monkeypatch.setattr(fista_module, "_MIXED_MIN_SIZE", A.size)
    single = design(ss.LeastSquares(A, y), "auto", True)
    assert single.dtype == np.float32 and np.array_equal(single, A.astype(np.float32))
    assert design(ss.LeastSquares(A, y), "double", True) is None
    assert design(ss.LeastSquares(A, y), "mixed", False) is None  # no gap to check in float64
    for other in (sp.csr_matrix(A), aslinearoperator(A)):
        assert design(ss.LeastSquares(other, y), "mixed", True) is None
    assert design(ss.LeastSquares(A, np.c_[y, y]), "mixed", True) is None  # several targets
    assert design(ss.Logistic(A, np.sign(y)), "mixed", True) is not None  # any datafit with the default products
    res = ss.fista(ss.LeastSquares(A, y), pen, tol=1e-10)  # auto, now mixed
    ref = ss.fista(ss.LeastSquares(A, y), pen, tol=1e-10, precision="double")
    assert res.converged and abs(res.objective - ref.objective) <= 1e-9 * ref.objective


def test_the_float32_copy_follows_changes_of_the_design():
    """The buffer is reused for one array but refilled at every call: an array changed in place is seen."""
    A, y = _problem(7)
    loss = ss.LeastSquares(A, y)
    first = fista_module._single_copy(A)
    A *= 2.0
    second = fista_module._single_copy(A)
    assert second is first and np.array_equal(second, A.astype(np.float32))
    del loss


def test_mixed_does_not_modify_inputs():
    A, y = _problem(8)
    x0 = np.random.default_rng(8).standard_normal(200)
    copies = [a.copy() for a in (A, y, x0)]
    ss.fista(ss.LeastSquares(A, y), ss.L1(0.05), x0=x0, precision="mixed")
    for a, c in zip((A, y, x0), copies):
        np.testing.assert_array_equal(a, c)


def test_bad_precision():
    A, y = _problem(9)
    with pytest.raises(ParameterError, match="precision"):
        ss.fista(ss.LeastSquares(A, y), ss.L1(0.1), precision="half")
    with pytest.raises(TypeError, match="precision"):
        ss.fista(ss.LeastSquares(A, y), ss.L1(0.1), precision=32)
