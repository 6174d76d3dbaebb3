"""Passes over the design in solve_block's proximal Newton loop (datafits other than least squares).

A solve from zero takes its first product ``A^T theta`` from the datafit's validation pass; every later outer
iteration costs one product. The gap still certifies the tolerance.
"""

import numpy as np
import pytest

import structsparse as ss
from structsparse.solvers import working_set


def _problem(order, seed=0, n=150, p=600):
    rng = np.random.default_rng(seed)
    A = np.asarray(rng.standard_normal((n, p)), order=order)
    x = np.zeros(p)
    x[rng.choice(p, 8, replace=False)] = rng.standard_normal(8)
    z = A @ x
    y = np.where(z + 0.3 * z.std() * rng.standard_normal(n) >= 0, 1.0, -1.0)
    return A, y


def _count_products(monkeypatch):
    calls = []
    original = working_set._Design.rmatmat

    def counted(self, R, cols=None):
        calls.append(R.shape)
        return original(self, R, cols)

    monkeypatch.setattr(working_set._Design, "rmatmat", counted)
    return calls


@pytest.mark.parametrize("order", ["C", "F"])
@pytest.mark.parametrize("frac", [0.3, 0.05])
def test_first_product_comes_from_the_validation_pass(monkeypatch, order, frac):
    A, y = _problem(order)
    lam = frac * ss.lambda_max(ss.Logistic(A, y), ss.L1(1.0))
    reference = ss.solve_block(ss.Logistic(A, y), ss.L1(lam), tol=1e-12).objective
    calls = _count_products(monkeypatch)
    res = ss.solve_block(ss.Logistic(A, y), ss.L1(lam), tol=1e-6)
    assert res.converged
    # one product per outer iteration after the first (n_iter + 1 gap evaluations in all)
    assert len(calls) == res.n_iter
    assert res.gap <= 1e-6 * res.objective
    assert (res.objective - reference) / reference <= 1e-6
    # from a warm start, the first gap needs its own product
    calls.clear()
    warm = ss.solve_block(ss.Logistic(A, y), ss.L1(lam), tol=1e-6, x0=0.5 * res.x)
    assert len(calls) == warm.n_iter + 1
    assert (warm.objective - reference) / reference <= 1e-6


def test_solution_matches_cvxpy_with_the_complete_working_set_rule():
    """The working set that holds every violated constraint is solved on to the tolerance: still the optimum."""
    A, y = _problem("F", seed=2, n=60, p=120)
    loss = ss.Logistic(A, y)
    pen = ss.L1(0.1 * ss.lambda_max(loss, ss.L1(1.0)))
    res = ss.solve_block(loss, pen, tol=1e-9)
    ref = ss.solve_cvxpy(loss, pen)
    assert res.objective <= ref.objective + 1e-7 * abs(ref.objective)
    np.testing.assert_allclose(res.x, ref.x, atol=1e-4)
    # the rule fired: a working set solved past the usual fraction certifies in few outer iterations
    assert res.n_iter <= 4
