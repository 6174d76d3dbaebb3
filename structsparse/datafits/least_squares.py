"""The least-squares datafit ``0.5 * ||A x - y||_2^2``, with one or several right-hand sides (no ``1/n`` factor)."""

import numpy as np

from .base import Datafit

__all__ = ["LeastSquares"]


class LeastSquares(Datafit):
    """Least squares ``0.5 * ||A x - y||^2``.

    Parameters
    ----------
    A : ndarray, scipy.sparse matrix or LinearOperator, shape (n_samples, n_features)
    y : array_like, shape (n_samples,) or (n_samples, n_targets)
        With several targets the unknown is a matrix ``(n_features, n_targets)``.
    lipschitz : float, optional
        ``||A||_2^2``; estimated by power iteration on first use when not given.

    Notes
    -----
    Conjugate: ``F^*(u) = 0.5 ||u||^2 + <u, y>``, so the dual objective at
    ``theta = y - A x`` is ``0.5 ||y||^2 - 0.5 ||y - theta||^2``.

    Examples
    --------
    >>> import numpy as np
    >>> fit = LeastSquares(np.eye(2), [1.0, 2.0])
    >>> float(fit.value(np.zeros(2)))
    2.5
    """

    name = "least_squares"
    curvature = 1.0
    least_squares = True

    def value_from_Ax(self, Ax):
        r = Ax - self.y
        return 0.5 * float(np.vdot(r, r))

    def raw_grad(self, Ax):
        return Ax - self.y

    def raw_hessian(self, Ax):
        return np.ones(np.shape(Ax))

    def conjugate(self, u):
        u = np.asarray(u, dtype=float)
        return 0.5 * float(np.vdot(u, u)) + float(np.vdot(u, self.y))

    def dual_value(self, theta):
        d = self.y - theta
        return 0.5 * float(np.vdot(self.y, self.y)) - 0.5 * float(np.vdot(d, d))

    def cvxpy_fit(self, z):
        import cvxpy as cp

        return 0.5 * cp.sum_squares(z - self.y)
