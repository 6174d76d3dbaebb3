"""The logistic datafit ``sum_i log(1 + exp(-y_i (A x)_i))`` for labels in {-1, 1} (or {0, 1})."""

import numpy as np
from scipy.special import entr, expit

from .._numba import NUMBA_ENABLED, njit
from ..exceptions import ParameterError
from .base import Datafit

__all__ = ["Logistic"]

# Conjugate's domain 0 <= a <= 1, with this slack for rounding
_DOMAIN_SLACK = 1e-12


def _sigmoid(t):
    """``1 / (1 + exp(-t))`` without overflow (one ufunc: the solvers call it at every Newton step)."""
    return expit(t)


# ------------------------------------------------------------------ kernels (numba, each with a numpy twin)
# A proximal Newton solve evaluates the loss, its gradient, its Hessian and the dual objective at every step
# and every line-search trial: a few dozen calls on vectors of n entries. Each numpy version chains 3-6 ufuncs
# and temporaries (about 20-60 us at n = 1000); one loop does it in one pass.
@njit
def _softplus(t):
    """``log(1 + exp(t))`` without overflow."""
    if t > 0.0:
        return t + np.log1p(np.exp(-t))
    return np.log1p(np.exp(t))


@njit
def _expit(t):
    """``1 / (1 + exp(-t))`` without overflow."""
    if t >= 0.0:
        return 1.0 / (1.0 + np.exp(-t))
    e = np.exp(t)
    return e / (1.0 + e)


@njit
def logistic_value_numba(y, z):
    """``sum_i log(1 + exp(-y_i z_i))``."""
    total = 0.0
    for i in range(z.size):
        total += _softplus(-y[i] * z[i])
    return total


def logistic_value_numpy(y, z):
    """Numpy twin of :func:`logistic_value_numba`."""
    return float(np.logaddexp(0.0, -y * z).sum())


@njit
def logistic_grad_numba(y, z):
    """``F'(z)_i = -y_i sigma(-y_i z_i)``."""
    out = np.empty(z.size)
    for i in range(z.size):
        out[i] = -y[i] * _expit(-y[i] * z[i])
    return out


def logistic_grad_numpy(y, z):
    """Numpy twin of :func:`logistic_grad_numba`."""
    return -y * _sigmoid(-y * z)


@njit
def logistic_hessian_numba(z):
    """``F''(z)_i = sigma(z_i) sigma(-z_i)``."""
    out = np.empty(z.size)
    for i in range(z.size):
        s = _expit(z[i])
        out[i] = s * (1.0 - s)
    return out


def logistic_hessian_numpy(z):
    """Numpy twin of :func:`logistic_hessian_numba`."""
    s = _sigmoid(z)
    return s * (1.0 - s)


@njit
def logistic_conjugate_numba(y, u, sign):
    """``F^*(sign * u)``: ``sum_i a_i log a_i + (1 - a_i) log(1 - a_i)`` with ``a = -sign u y``, ``inf`` outside
    ``0 <= a <= 1`` (up to ``_DOMAIN_SLACK``, then clipped) and for NaN."""
    total = 0.0
    for i in range(u.size):
        a = -sign * u[i] * y[i]
        if not (a >= -_DOMAIN_SLACK and a <= 1.0 + _DOMAIN_SLACK):  # NaN too: outside
            return np.inf
        if a > 0.0 and a < 1.0:
            total += a * np.log(a) + (1.0 - a) * np.log1p(-a)
    return total


def logistic_conjugate_numpy(y, u, sign):
    """Numpy twin of :func:`logistic_conjugate_numba`."""
    a = -sign * np.asarray(u, dtype=float) * y
    if not (a.min(initial=0.0) >= -_DOMAIN_SLACK and a.max(initial=0.0) <= 1.0 + _DOMAIN_SLACK):
        return np.inf
    np.maximum(a, 0.0, out=a)   # clip to [0, 1] by two ufuncs (np.clip's dispatch costs more here)
    np.minimum(a, 1.0, out=a)
    # a log a + (1 - a) log(1 - a), with 0 log 0 = 0 (entr(t) = -t log t)
    return -float(entr(a).sum() + entr(1.0 - a).sum())


if NUMBA_ENABLED:
    _value, _grad, _hessian, _conjugate = (logistic_value_numba, logistic_grad_numba, logistic_hessian_numba,
                                           logistic_conjugate_numba)
else:
    _value, _grad, _hessian, _conjugate = (logistic_value_numpy, logistic_grad_numpy, logistic_hessian_numpy,
                                           logistic_conjugate_numpy)


class Logistic(Datafit):
    """Logistic loss ``sum_i log(1 + exp(-y_i (A x)_i))`` (no ``1/n`` factor).

    Parameters
    ----------
    A : ndarray, scipy.sparse matrix or LinearOperator, shape (n_samples, n_features)
    y : array_like, shape (n_samples,)
        Labels in {-1, 1} or in {0, 1} (0 is read as -1). Anything else
        raises :class:`ParameterError`.
    lipschitz : float, optional
        ``||A||_2^2 / 4``; estimated on first use when not given.

    Notes
    -----
    ``f''(z) = sigma(z) sigma(-z) <= 1/4``. With ``a = -u_i y_i``, the
    conjugate is ``sum_i a log a + (1 - a) log(1 - a)`` on ``0 <= a <= 1``
    (``inf`` elsewhere).

    Examples
    --------
    >>> import numpy as np
    >>> fit = Logistic(np.eye(2), [0, 1])
    >>> round(fit.value(np.zeros(2)), 6) == round(2 * np.log(2), 6)
    True
    """

    name = "logistic"
    curvature = 0.25
    multi_target = False

    def _check_y(self, y):
        values = np.unique(y)
        if not (np.all(np.isin(values, (-1.0, 1.0))) or np.all(np.isin(values, (0.0, 1.0)))):
            shown = ", ".join(f"{v:g}" for v in values[:6]) + (", ..." if values.size > 6 else "")
            raise ParameterError(f"The 'y' parameter of Logistic must hold labels in {{-1, 1}} or {{0, 1}}. "
                                 f"Got the values {{{shown}}}.")
        return np.where(y == 0.0, -1.0, y)

    def _vector(self, v):
        """``v`` as a contiguous float64 vector when it has ``y``'s shape (the kernels' case), else ``None``."""
        v = np.asarray(v)
        if v.shape != self.y.shape:
            return None
        return np.ascontiguousarray(v, dtype=np.float64)

    def value_from_Ax(self, Ax):
        z = self._vector(Ax)
        if z is None:  # another shape: numpy broadcasting, as before
            return logistic_value_numpy(self.y, Ax)
        return float(_value(self.y, z))

    def raw_grad(self, Ax):
        z = self._vector(Ax)
        if z is None:
            return logistic_grad_numpy(self.y, Ax)
        return _grad(self.y, z)

    def raw_hessian(self, Ax):
        z = self._vector(Ax)
        if z is None:
            return logistic_hessian_numpy(Ax)
        return _hessian(z)

    def quadratic_weights(self, Ax):
        """The Hessian (the base class's choice for a datafit with one, without building its capabilities)."""
        return self.raw_hessian(Ax)

    def conjugate(self, u):
        v = self._vector(u)
        if v is None:
            return logistic_conjugate_numpy(self.y, u, 1.0)
        return float(_conjugate(self.y, v, 1.0))

    def dual_value(self, theta):
        """``-F^*(-theta)`` (the conjugate at ``-theta``, without the negated copy)."""
        v = self._vector(theta)
        if v is None:
            return -logistic_conjugate_numpy(self.y, theta, -1.0)
        return -float(_conjugate(self.y, v, -1.0))

    def cvxpy_fit(self, z):
        import cvxpy as cp

        return cp.sum(cp.logistic(cp.multiply(-self.y, z)))

    def predict_proba(self, Ax):
        """Probability of the label +1 for the scores ``A x``."""
        return _sigmoid(np.asarray(Ax, dtype=float))
