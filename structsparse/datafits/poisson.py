"""The Poisson datafit with the log link: counts ``y`` with mean ``exp(A x)``."""

import numpy as np

from ..exceptions import ParameterError
from .base import Datafit

__all__ = ["Poisson"]


class Poisson(Datafit):
    """Poisson negative log-likelihood ``sum_i exp((A x)_i) - y_i (A x)_i`` (up to the constant ``log y_i!``).

    Parameters
    ----------
    A : ndarray, scipy.sparse matrix or LinearOperator, shape (n_samples, n_features)
    y : array_like, shape (n_samples,) or (n_samples, n_targets)
        Non-negative counts (non-integers are accepted, as rates); a negative
        entry raises :class:`ParameterError`.
    lipschitz : float, optional
        A starting Lipschitz estimate; by default the local one at ``x = 0``,
        ``||A||_2^2``. The gradient has no global Lipschitz constant, so
        first-order solvers backtrack.

    Attributes
    ----------
    lipschitz : float
        Not a global constant (none exists): the estimate above, where
        backtracking starts. Poisson does not declare the ``"lipschitz"``
        capability; no built-in solver needs it (:func:`~structsparse.fista`
        backtracks, :func:`~structsparse.solve_block` takes Newton steps).

    Notes
    -----
    ``F^*(u) = sum_i (u_i + y_i) log(u_i + y_i) - (u_i + y_i)`` on
    ``u_i + y_i >= 0`` (``inf`` elsewhere), with ``0 log 0 = 0``.

    Examples
    --------
    >>> import numpy as np
    >>> fit = Poisson(np.eye(2), [1.0, 0.0])
    >>> float(fit.value(np.zeros(2)))
    2.0
    """

    name = "poisson"
    curvature = None

    def _check_y(self, y):
        if np.any(y < 0):
            raise ParameterError(f"The 'y' parameter of Poisson must hold non-negative counts. "
                                 f"Got {int(np.sum(y < 0))} negative entries (smallest {float(y.min()):g}).")
        return y

    def value_from_Ax(self, Ax):
        with np.errstate(over="ignore"):
            return float(np.sum(np.exp(Ax) - self.y * Ax))

    def raw_grad(self, Ax):
        with np.errstate(over="ignore"):
            return np.exp(Ax) - self.y

    def raw_hessian(self, Ax):
        with np.errstate(over="ignore"):
            return np.exp(Ax)

    def conjugate(self, u):
        m = np.asarray(u, dtype=float) + self.y
        if np.any(m < -1e-12 * max(1.0, float(np.max(self.y, initial=0.0)))):
            return np.inf
        m = np.maximum(m, 0.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            return float(np.sum(np.where(m > 0, m * np.log(m), 0.0) - m))

    def cvxpy_fit(self, z):
        import cvxpy as cp

        return cp.sum(cp.exp(z) - cp.multiply(self.y, z))
