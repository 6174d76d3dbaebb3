"""LeastSquares: values, gradients and Lipschitz constants for every operator type."""

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.sparse.linalg import aslinearoperator

import structsparse as ss


@pytest.mark.parametrize("kind", ["dense", "sparse", "operator"])
@pytest.mark.parametrize("k", [None, 2])
def test_value_grad_and_lipschitz(kind, k):
    rng = np.random.default_rng(0)
    A = rng.standard_normal((70, 90))
    y = rng.standard_normal(70) if k is None else rng.standard_normal((70, k))
    op = {"dense": A, "sparse": sp.csc_matrix(A), "operator": aslinearoperator(A)}[kind]
    loss = ss.LeastSquares(op, y)
    x = rng.standard_normal(loss.x_shape)
    assert loss.x_shape == (90,) + y.shape[1:]
    assert np.isclose(loss.value(x), 0.5 * np.sum((A @ x - y) ** 2))
    np.testing.assert_allclose(loss.grad(x), A.T @ (A @ x - y), rtol=1e-12, atol=1e-10)
    # central differences along a random direction
    d = rng.standard_normal(x.shape)
    h = 1e-6
    fd = (loss.value(x + h * d) - loss.value(x - h * d)) / (2 * h)
    assert np.isclose(fd, np.vdot(loss.grad(x), d), rtol=1e-6)
    exact = np.linalg.norm(A, 2) ** 2
    assert exact <= loss.lipschitz <= 1.02 * exact


def test_given_lipschitz_is_used_and_y_is_copied():
    A = np.eye(3)
    y = np.ones(3)
    loss = ss.LeastSquares(A, y, lipschitz=7.0)
    y[0] = 5.0
    assert loss.lipschitz == 7.0
    assert loss.y[0] == 1.0
    with pytest.raises(ValueError):
        loss.y[0] = 2.0


def test_dual_value_is_a_lower_bound():
    """Weak duality: any feasible theta gives D(theta) <= P(x) for every x."""
    rng = np.random.default_rng(1)
    A = rng.standard_normal((30, 20))
    y = rng.standard_normal(30)
    loss = ss.LeastSquares(A, y)
    pen = ss.L1(1.0)
    for _ in range(20):
        x = rng.standard_normal(20)
        r = y - A @ x
        theta = r / max(1.0, pen.dual_norm(A.T @ r) / pen.lam)
        x_other = rng.standard_normal(20)
        assert loss.dual_value(theta) <= loss.value(x_other) + pen(x_other) + 1e-12
