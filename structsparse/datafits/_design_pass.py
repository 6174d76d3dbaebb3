"""One pass over a dense design: squared column norms and ``A^T v`` together (numba, with a numpy twin).

A datafit validates its design by reading it once (see :mod:`.base`); the
same pass gives the squared column norms (which carry the finiteness and
scale checks, and serve Gap Safe screening) and the product ``A^T theta_0``
with the dual point at ``x = 0``, which every solve from zero starts with.
Reading ``A`` is what costs (it is far larger than the caches), so the
second output is nearly free.

``A`` is read in its own memory order: a C-ordered ``A`` row by row
(:func:`colnorm_rmatvec_rows_numba`), an F-ordered one column by column, as
the rows of ``A.T`` (:func:`colnorm_rmatvec_cols_numba`). NaN and infinities
propagate to both outputs (no ``fastmath``).
"""

import numpy as np

from .._numba import NUMBA_ENABLED, njit

__all__ = ["colnorm_rmatvec", "colnorm_rmatvec_rows_numba", "colnorm_rmatvec_cols_numba", "colnorm_rmatvec_numpy"]


@njit
def colnorm_rmatvec_rows_numba(A, v):
    """``(sum_i A_ij^2, A^T v)`` for a C-contiguous ``A`` (n, p), one pass over its rows."""
    n, p = A.shape
    sq = np.zeros(p)
    g = np.zeros(p)
    for i in range(n):
        row = A[i]
        vi = v[i]
        for j in range(p):
            a = row[j]
            sq[j] += a * a
            g[j] += vi * a
    return sq, g


@njit
def colnorm_rmatvec_cols_numba(AT, v):
    """``(sum_i A_ij^2, A^T v)`` from ``AT = A.T`` C-contiguous (p, n): one pass over the columns of ``A``.

    Four partial sums per output break the dependency chain of the
    additions (numba does not reorder them without ``fastmath``).
    """
    p, n = AT.shape
    sq = np.empty(p)
    g = np.empty(p)
    for j in range(p):
        col = AT[j]
        s0 = s1 = s2 = s3 = 0.0
        t0 = t1 = t2 = t3 = 0.0
        i = 0
        while i + 4 <= n:
            a0, a1, a2, a3 = col[i], col[i + 1], col[i + 2], col[i + 3]
            s0 += a0 * a0
            s1 += a1 * a1
            s2 += a2 * a2
            s3 += a3 * a3
            t0 += a0 * v[i]
            t1 += a1 * v[i + 1]
            t2 += a2 * v[i + 2]
            t3 += a3 * v[i + 3]
            i += 4
        while i < n:
            a0 = col[i]
            s0 += a0 * a0
            t0 += a0 * v[i]
            i += 1
        sq[j] = (s0 + s1) + (s2 + s3)
        g[j] = (t0 + t1) + (t2 + t3)
    return sq, g


def colnorm_rmatvec_numpy(A, v):
    """Numpy twin of the kernels: ``(sum_i A_ij^2, A^T v)`` (two passes)."""
    return np.einsum("ij,ij->j", A, A), np.asarray(A.T @ v)


def colnorm_rmatvec(A, v):
    """``(squared column norms, A^T v)`` of a dense float64 ``A`` (n, p) and ``v`` (n,), in one pass when possible.

    Parameters
    ----------
    A : ndarray of float64, shape (n, p)
    v : ndarray of float64, shape (n,)

    Returns
    -------
    (ndarray, ndarray)
        Both of shape (p,).
    """
    v = np.ascontiguousarray(v, dtype=np.float64)
    if NUMBA_ENABLED:
        if A.flags.c_contiguous:
            return colnorm_rmatvec_rows_numba(A, v)
        if A.flags.f_contiguous:
            return colnorm_rmatvec_cols_numba(A.T, v)
    return colnorm_rmatvec_numpy(A, v)
