"""The logistic datafit ``sum_i log(1 + exp(-y_i (A x)_i))`` for labels in {-1, 1} (or {0, 1})."""

import numpy as np
from scipy.special import entr, expit

from ..exceptions import ParameterError
from .base import Datafit

__all__ = ["Logistic"]


def _sigmoid(t):
    """``1 / (1 + exp(-t))`` without overflow (one ufunc: the solvers call it at every Newton step)."""
    return expit(t)


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

    def value_from_Ax(self, Ax):
        return float(np.logaddexp(0.0, -self.y * Ax).sum())

    def raw_grad(self, Ax):
        return -self.y * _sigmoid(-self.y * Ax)

    def raw_hessian(self, Ax):
        s = _sigmoid(Ax)
        return s * (1.0 - s)

    def conjugate(self, u):
        a = -np.asarray(u, dtype=float) * self.y
        if not (a.min(initial=0.0) >= -1e-12 and a.max(initial=0.0) <= 1.0 + 1e-12):  # NaN too: outside
            return np.inf
        np.maximum(a, 0.0, out=a)   # clip to [0, 1] by two ufuncs (np.clip's dispatch costs more here)
        np.minimum(a, 1.0, out=a)
        # a log a + (1 - a) log(1 - a), with 0 log 0 = 0 (entr(t) = -t log t)
        return -float(entr(a).sum() + entr(1.0 - a).sum())

    def cvxpy_fit(self, z):
        import cvxpy as cp

        return cp.sum(cp.logistic(cp.multiply(-self.y, z)))

    def predict_proba(self, Ax):
        """Probability of the label +1 for the scores ``A x``."""
        return _sigmoid(np.asarray(Ax, dtype=float))
