"""The Huber datafit: quadratic near the fit, linear beyond ``delta`` (robust regression)."""

import numpy as np

from .._validation import check_scalar
from .base import Datafit

__all__ = ["Huber"]

# Model weight of a sample beyond delta (its true second derivative is 0)
_OUTLIER_WEIGHT = 0.1


class Huber(Datafit):
    """Huber loss ``sum_i h_delta((A x)_i - y_i)``.

    ``h_delta(r) = r^2 / 2`` for ``|r| <= delta`` and
    ``delta |r| - delta^2 / 2`` beyond: least squares for small residuals,
    the absolute deviation (scaled by ``delta``) for outliers.

    Parameters
    ----------
    A : ndarray, scipy.sparse matrix or LinearOperator, shape (n_samples, n_features)
    y : array_like, shape (n_samples,) or (n_samples, n_targets)
    delta : float > 0, default 1.0
        Where the loss turns from quadratic to linear; finite (``delta = inf``
        would be least squares: use :class:`LeastSquares`).
    lipschitz : float, optional
        ``||A||_2^2``; estimated on first use when not given.

    Notes
    -----
    ``F^*(u) = 0.5 ||u||^2 + <u, y>`` on ``|u_i| <= delta`` (``inf``
    elsewhere). Second-order solvers use the generalized Hessian
    (1 inside ``delta``, 0 beyond) with the outliers' weight raised to 0.1,
    so that their model stays positive definite; a line search keeps the
    steps safe.

    Examples
    --------
    >>> import numpy as np
    >>> fit = Huber(np.eye(2), [0.5, 3.0], delta=1.0)
    >>> float(fit.value(np.zeros(2)))
    2.625
    """

    name = "huber"
    curvature = 1.0

    def __init__(self, A, y, delta=1.0, lipschitz=None):
        self.delta = check_scalar(delta, "delta", low=0, low_inclusive=False, owner="Huber")
        super().__init__(A, y, lipschitz=lipschitz)

    def value_from_Ax(self, Ax):
        r = np.abs(Ax - self.y)
        d = self.delta
        return float(np.sum(np.where(r <= d, 0.5 * r * r, d * r - 0.5 * d * d)))

    def raw_grad(self, Ax):
        return np.clip(Ax - self.y, -self.delta, self.delta)

    def conjugate(self, u):
        u = np.asarray(u, dtype=float)
        if np.any(np.abs(u) > self.delta * (1.0 + 1e-12)):
            return np.inf
        return 0.5 * float(np.vdot(u, u)) + float(np.vdot(u, self.y))

    def quadratic_weights(self, Ax):
        # the generalized Hessian (1 inside the quadratic zone, 0 beyond), with a floor that keeps outliers in
        # the model: a semismooth Newton step, safeguarded by the line search
        return np.where(np.abs(Ax - self.y) <= self.delta, 1.0, _OUTLIER_WEIGHT)

    def cvxpy_fit(self, z):
        import cvxpy as cp

        # cvxpy's huber(r, M) is r^2 on |r| <= M and 2 M |r| - M^2 beyond: twice ours
        return 0.5 * cp.sum(cp.huber(z - self.y, self.delta))

    def __repr__(self):
        return f"Huber(n_samples={self.n_samples}, n_features={self.n_features}, delta={self.delta:g})"
