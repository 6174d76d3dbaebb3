"""The least-squares data fit ``0.5 * ||A x - y||_2^2``.

``A`` may be a dense array, a scipy.sparse matrix or a
``scipy.sparse.linalg.LinearOperator``; ``y`` a vector (one right-hand side,
``x`` a vector) or a matrix ``(n_samples, n_targets)`` (``x`` a matrix
``(n_features, n_targets)``). No ``1/n`` factor, as everywhere in
structsparse.
"""

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import LinearOperator

from .._validation import check_array, check_scalar
from ..exceptions import ShapeError

__all__ = ["LeastSquares"]


def _check_operator(A):
    owner = "LeastSquares"
    if isinstance(A, LinearOperator):
        if len(A.shape) != 2:
            raise ShapeError(f"The 'A' parameter of {owner} must be 2-D. Got shape {A.shape}.")
        return A
    if sp.issparse(A):
        A = A.tocsr() if A.format not in ("csr", "csc") else A
        if not np.all(np.isfinite(A.data)):
            raise ShapeError(f"The 'A' parameter of {owner} must contain only finite values (no NaN or inf).")
        if A.dtype.kind not in "fiu":
            raise ShapeError(f"The 'A' parameter of {owner} must be real. Got dtype {A.dtype}.")
        return A.astype(np.float64) if A.dtype != np.float64 else A
    return check_array(A, "A", ndim=2, owner=owner)


class LeastSquares:
    """Least-squares loss ``0.5 * ||A x - y||^2``.

    Parameters
    ----------
    A : ndarray, scipy.sparse matrix or LinearOperator, shape (n_samples, n_features)
    y : array_like, shape (n_samples,) or (n_samples, n_targets)
    lipschitz : float, optional
        Lipschitz constant of the gradient, ``||A||_2^2``. Estimated by power
        iteration on first use when not given.

    Notes
    -----
    Neither ``A`` nor ``y`` is modified; ``y`` is copied.
    """

    def __init__(self, A, y, lipschitz=None):
        self.A = _check_operator(A)
        self.y = check_array(y, "y", ndim=(1, 2), owner="LeastSquares", copy=True)
        self.y.setflags(write=False)
        if self.y.shape[0] != self.A.shape[0]:
            raise ShapeError(
                f"LeastSquares: 'A' has {self.A.shape[0]} rows but 'y' has {self.y.shape[0]} entries; they must match."
            )
        self._lipschitz = None
        if lipschitz is not None:
            self._lipschitz = check_scalar(lipschitz, "lipschitz", low=0, low_inclusive=False, owner="LeastSquares")

    # ------------------------------------------------------------------ shapes
    @property
    def n_samples(self):
        return self.A.shape[0]

    @property
    def n_features(self):
        return self.A.shape[1]

    @property
    def x_shape(self):
        """Shape of the unknown: ``(n_features,)`` or ``(n_features, n_targets)``."""
        return (self.n_features,) + self.y.shape[1:]

    def check_x(self, x, name="x"):
        x = check_array(x, name, owner="LeastSquares")
        if x.shape != self.x_shape:
            raise ShapeError(f"The '{name}' parameter must have shape {self.x_shape}. Got {x.shape}.")
        return x

    # ------------------------------------------------------------------ products
    def matvec(self, x):
        """``A @ x`` for a vector or matrix ``x``."""
        return np.asarray(self.A @ x)

    def rmatvec(self, r):
        """``A^T @ r`` for a vector or matrix ``r``."""
        if isinstance(self.A, LinearOperator):
            return np.asarray(self.A.rmatvec(r) if r.ndim == 1 else self.A.rmatmat(r))
        return np.asarray(self.A.T @ r)

    # ------------------------------------------------------------------ values
    def value_from_Ax(self, Ax):
        r = Ax - self.y
        return 0.5 * float(np.vdot(r, r))

    def grad_from_Ax(self, Ax):
        return self.rmatvec(Ax - self.y)

    def value(self, x):
        """``0.5 * ||A x - y||^2``."""
        return self.value_from_Ax(self.matvec(x))

    def grad(self, x):
        """``A^T (A x - y)``."""
        return self.grad_from_Ax(self.matvec(x))

    __call__ = value

    def dual_value(self, theta):
        """Dual objective ``0.5 ||y||^2 - 0.5 ||y - theta||^2`` at a dual-feasible ``theta``."""
        d = self.y - theta
        return 0.5 * float(np.vdot(self.y, self.y)) - 0.5 * float(np.vdot(d, d))

    @property
    def lipschitz(self):
        """``||A||_2^2``, by power iteration on ``A^T A`` (cached)."""
        if self._lipschitz is None:
            self._lipschitz = self._power_iteration()
        return self._lipschitz

    def _power_iteration(self, max_iter=200, tol=1e-6):
        if not isinstance(self.A, LinearOperator) and min(self.A.shape) <= 64:
            dense = self.A.toarray() if sp.issparse(self.A) else self.A
            return max(float(np.linalg.norm(dense, 2)) ** 2, np.finfo(float).tiny)
        v = np.random.default_rng(0).standard_normal(self.n_features)
        v /= np.linalg.norm(v)
        est = 0.0
        for _ in range(max_iter):
            w = self.rmatvec(self.matvec(v))
            new = float(np.linalg.norm(w))
            if new == 0.0:
                return np.finfo(float).tiny
            v = w / new
            if abs(new - est) <= tol * new:
                est = new
                break
            est = new
        # power iteration approaches from below; a small margin keeps steps safe
        return est * 1.01
