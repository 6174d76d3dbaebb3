"""Linear recursions that every simulation and sensitivity in sysid runs on.

``propagate(A, F, S0)`` returns ``S`` with ``S[0] = S0`` and
``S[t + 1] = A @ S[t] + F[t]``: a state trajectory when ``S`` has one column,
the sensitivities of the state to many parameters at once when it has many.
The numba kernel and its numpy twin agree (tested).
"""

import numpy as np

from .._numba import NUMBA_ENABLED, njit, read_only_view

__all__ = ["propagate", "propagate_numpy"]


def propagate_numpy(A, F, S0):
    """Numpy twin of :func:`propagate`: ``S[t+1] = A S[t] + F[t]``, ``S[0] = S0``.

    Parameters
    ----------
    A : ndarray, shape (n, n)
    F : ndarray, shape (T, n, k)
        Forcing at every step; ``F[T-1]`` only feeds a state after the end and
        is not used.
    S0 : ndarray, shape (n, k)

    Returns
    -------
    ndarray, shape (T, n, k)
    """
    T = F.shape[0]
    S = np.empty((T,) + S0.shape)
    if T == 0:
        return S
    S[0] = S0
    for t in range(T - 1):
        S[t + 1] = A @ S[t] + F[t]
    return S


@njit
def _propagate_numba(A, F, S0):
    T, n, k = F.shape
    S = np.empty((T, n, k))
    if T == 0:
        return S
    S[0] = S0
    for t in range(T - 1):
        for i in range(n):
            for c in range(k):
                acc = F[t, i, c]
                for j in range(n):
                    acc += A[i, j] * S[t, j, c]
                S[t + 1, i, c] = acc
    return S


def propagate(A, F, S0):
    """``S[t+1] = A S[t] + F[t]`` with ``S[0] = S0`` (numba when enabled).

    See :func:`propagate_numpy` for the shapes.
    """
    A = np.ascontiguousarray(A, dtype=np.float64)
    F = np.ascontiguousarray(F, dtype=np.float64)
    S0 = np.ascontiguousarray(S0, dtype=np.float64)
    if NUMBA_ENABLED:   # read-only views: a model's read-only A and a fresh one share one compiled signature
        return _propagate_numba(read_only_view(A), read_only_view(F), read_only_view(S0))
    return propagate_numpy(A, F, S0)
