"""The nuclear norm ``lam * ||X||_*`` (sum of singular values) of a matrix-shaped variable."""

from numbers import Integral

import numpy as np

from .._validation import check_array
from ..exceptions import ShapeError, ShapeTypeError
from ..prox._group_kernels import TIE_RTOL
from ..prox.operators import spectral_prox
from .base import Penalty

__all__ = ["NuclearNorm"]


def check_matrix_shape(shape, name, owner):
    """Check a matrix shape ``(n_rows, n_cols)`` of positive ints and return it as a tuple."""
    ok = (isinstance(shape, (tuple, list, np.ndarray)) and len(shape) == 2
          and all(isinstance(d, (Integral, np.integer)) and not isinstance(d, (bool, np.bool_)) and d >= 1
                  for d in shape))
    if not ok:
        # a pair of ints that are not positive is a wrong value; anything else (a string, floats) a wrong type
        pair = isinstance(shape, (tuple, list, np.ndarray)) and len(shape) == 2 and all(
            isinstance(d, (Integral, np.integer)) and not isinstance(d, (bool, np.bool_)) for d in shape)
        raise (ShapeError if pair else ShapeTypeError)(
            f"The '{name}' parameter of {owner} must be a pair of positive ints (n_rows, n_cols). Got {shape!r}."
        )
    return (int(shape[0]), int(shape[1]))


class NuclearNorm(Penalty):
    """``lam * ||X||_*`` where ``X`` is the variable seen as a ``shape`` matrix.

    The variable may be the matrix itself (an array of shape ``shape``, as
    for a least-squares problem with several right-hand sides) or a vector
    of ``shape[0] * shape[1]`` entries (also ``(size, 1)``), read in C
    (row-major) order. ``n_features`` is ``None`` because both layouts are
    accepted; :meth:`check_x` enforces the size.

    The prox soft-thresholds the singular values; the dual norm is the
    spectral norm (largest singular value).

    Parameters
    ----------
    lam : float >= 0
    shape : (int, int)
        Shape of the matrix ``X``.

    Examples
    --------
    >>> NuclearNorm(1.0, (2, 2))([3.0, 0.0, 0.0, -4.0])
    7.0
    """

    name = "nuclear_norm"
    separable = False

    def __init__(self, lam, shape):
        super().__init__(lam)
        self.shape = check_matrix_shape(shape, "shape", "NuclearNorm")
        self.size = self.shape[0] * self.shape[1]

    @property
    def n_features(self):
        return None

    def check_x(self, x, name="x"):
        """Accept an array of shape ``shape``, ``(size,)`` or ``(size, 1)``."""
        arr = check_array(x, name, ndim=(1, 2), owner=type(self).__name__)
        if arr.shape == self.shape or (arr.shape[0] == self.size and arr.size == self.size):
            return arr
        raise ShapeError(
            f"The '{name}' parameter of NuclearNorm must have shape {self.shape}, ({self.size},) or "
            f"({self.size}, 1). Got {arr.shape}."
        )

    def _matrix(self, x):
        return x.reshape(self.shape)

    def omega(self, x):
        return float(np.linalg.svd(self._matrix(x), compute_uv=False).sum())

    def _prox(self, v, tau):
        # singular values within rounding of tau count as ties and go to zero (see TIE_RTOL)
        cut = tau * (1.0 + 0.5 * TIE_RTOL)
        out = spectral_prox(self._matrix(v), lambda s: np.where(s > cut, s - tau, 0.0))
        return out.reshape(v.shape)

    def _dual_norm(self, u):
        return float(np.linalg.norm(self._matrix(u), 2))

    def cvxpy_omega(self, x):
        import cvxpy as cp

        mat = x if tuple(x.shape) == self.shape else cp.reshape(x, self.shape, order="C")
        return cp.normNuc(mat)

    def __repr__(self):
        return f"NuclearNorm(shape={self.shape}, lam={self.lam:g})"
