"""Orthonormal rows for the constrained recovery programs (``cs.convex.constrained_recovery(precondition=)``).

``B = L^{-1} A`` and ``z = L^{-1} y`` with ``A A^T = L L^T`` give the same feasible set, hence the same program.
Judges: cvxpy (Clarabel) on the program in the original ``A`` and ``y``, the unpreconditioned solve, and the
residual recomputed here in the original system.
"""

import warnings

import cvxpy as cp
import numpy as np
import pytest
from scipy.sparse.linalg import aslinearoperator

import structsparse as ss
from structsparse import cs
from structsparse.cs import convex
from structsparse.exceptions import ConvergenceWarning


def _problem(seed=0, n=256, m=90, scale=None):
    rng = np.random.default_rng(seed)
    model = cs.TreeSparse(n, 30, "haar")
    x0 = model.sample(rng=seed, kind="gaussian")
    # rows of very different norms and correlated: A A^T far from the identity
    A = rng.standard_normal((m, n)) * (np.geomspace(0.5, 2.0, m)[:, None] if scale is None else scale)
    A[1] += 0.9 * A[0]
    return model, x0, A, A @ x0


@pytest.mark.parametrize("penalty", ["tree", "l1"])
def test_same_program_as_without_and_as_cvxpy(penalty):
    model, x0, A, y = _problem(seed=1, m=70)
    pen = ss.TreeLasso(model.tree(), 1.0) if penalty == "tree" else ss.L1(1.0)
    x_pre, info_pre = convex.constrained_recovery(A, y, pen, precondition=True)
    x_raw, info_raw = convex.constrained_recovery(A, y, pen, precondition=False)
    assert info_pre["preconditioned"] and not info_raw["preconditioned"]
    assert info_pre["converged"] and info_raw["converged"]
    x = cp.Variable(A.shape[1])
    prob = cp.Problem(cp.Minimize(pen.cvxpy(x)), [A @ x == y])
    prob.solve(solver=cp.CLARABEL)
    for xs, info in ((x_pre, info_pre), (x_raw, info_raw)):
        residual = np.linalg.norm(A @ xs - y) / np.linalg.norm(y)
        assert info["residual"] == pytest.approx(residual, rel=1e-12, abs=1e-18)  # in the original system
        assert residual <= 1e-9
        assert abs(float(pen.omega(xs)) - prob.value) <= 2e-6 * prob.value
        assert info["lower_bound"] <= prob.value * (1 + 1e-9)  # the dual bound is one of the same program
    np.testing.assert_allclose(x_pre, x_raw, atol=1e-3 * np.abs(x_raw).max())


def test_auto_applies_to_large_dense_designs_with_fewer_rows(monkeypatch):
    model, x0, A, y = _problem(seed=2)
    pen = ss.TreeLasso(model.tree(), 1.0)
    budget = {"max_stages": 2}  # only which system is solved matters here
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        assert not convex.constrained_recovery(A, y, pen, **budget)[1]["preconditioned"]  # small: auto leaves it
        # an operator, or as many rows as columns: never
        assert not convex.constrained_recovery(aslinearoperator(A), y, pen, **budget)[1]["preconditioned"]
        square = np.random.default_rng(3).standard_normal((A.shape[1], A.shape[1]))
        assert not convex.constrained_recovery(square, square @ x0, pen, precondition=True,
                                               **budget)[1]["preconditioned"]
    monkeypatch.setattr(convex, "_PRECONDITION_MIN_SIZE", A.size)
    x, info = convex.constrained_recovery(A, y, pen)
    assert info["preconditioned"] and info["converged"] and "orthonormal rows" in info["message"]


def test_rank_deficient_rows_fall_back():
    """A repeated row makes A A^T singular: no Cholesky factor, the program is solved as given."""
    model, x0, A, y = _problem(seed=4)
    A = np.vstack([A, A[:1]])
    y = A @ x0
    x, info = convex.constrained_recovery(A, y, ss.TreeLasso(model.tree(), 1.0), precondition=True)
    assert not info["preconditioned"] and info["converged"]
    assert np.linalg.norm(A @ x - y) <= 1e-9 * np.linalg.norm(y)


def test_the_factor_gives_orthonormal_rows_and_a_bound_on_the_norm():
    _, _, A, y = _problem(seed=5)
    B, z, bound = convex._orthonormal_rows(A, y)
    np.testing.assert_allclose(B @ B.T, np.eye(A.shape[0]), atol=1e-9)
    L = A @ np.linalg.pinv(B)  # A = L B
    np.testing.assert_allclose(L @ z, y, rtol=1e-9, atol=1e-9 * np.abs(y).max())
    assert np.linalg.norm(A, 2) <= bound <= 1.01 * np.linalg.norm(A, 2)


def test_a_stop_short_of_the_tolerance_warns_and_says_so():
    model, x0, A, y = _problem(seed=6)
    with pytest.warns(ConvergenceWarning, match="orthonormal rows"):
        x, info = convex.constrained_recovery(A, y, ss.TreeLasso(model.tree(), 1.0), precondition=True, max_stages=1)
    assert info["preconditioned"] and not info["converged"] and not info["certified"]


def test_inputs_not_modified_and_bad_precondition():
    model, x0, A, y = _problem(seed=7)
    copies = A.copy(), y.copy()
    pen = ss.TreeLasso(model.tree(), 1.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        convex.constrained_recovery(A, y, pen, precondition=True, max_stages=3)
    np.testing.assert_array_equal(A, copies[0])
    np.testing.assert_array_equal(y, copies[1])
    for bad in ("yes", 1, None):
        with pytest.raises(TypeError, match="precondition"):
            convex.constrained_recovery(A, y, pen, precondition=bad)
    with pytest.raises(ValueError, match="'y'"):
        convex.constrained_recovery(A, y[:-1], pen, precondition=True)
