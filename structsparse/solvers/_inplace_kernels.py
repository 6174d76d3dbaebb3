"""Working-set kernels that read a dense design in place, whatever its dtype and memory order.

The kernels of :mod:`._block_kernels` read column ``j`` of the working set as
the float64 C-contiguous row ``AT[cols[j]]`` (``A.T`` of a Fortran-ordered
``A``, or the design's cache of contiguous column copies). When that cache
would exceed its budget (a C-ordered ``A`` at small ``lam``), or for a
float32 design past it, the solver reads the columns where they are:
``AT = A.T`` itself, a strided view for a C-ordered ``A``, float32 entries
for a float32 one. These kernels do that, accumulating in float64 (a float32
entry converts to float64 exactly, so the arithmetic is that of the float64
design). Same arguments and results as their counterparts; the numpy twins
are those of :mod:`._block_kernels`, which take any dtype and layout.

For a C-ordered ``A`` the products with all the working-set columns at once
(:func:`ws_gradient_rows_numba`, :func:`ws_residual_rows_numba`) read ``A``
by rows; the epochs read one column at a time (coordinate descent needs each
column in turn), whose cache lines the next columns of the working set reuse.
"""

import numpy as np

from .._numba import njit
from ._block_kernels import (
    _prox_block, bcd_epoch_dense_numba, bcd_epoch_dense_numpy, ws_gradient_dense_numba, ws_gradient_dense_numpy,
    ws_residual_dense_numba, ws_residual_dense_numpy,
)

__all__ = ["bcd_epoch_inplace_numba", "ws_gradient_inplace_numba", "ws_residual_inplace_numba",
           "ws_gradient_rows_numba", "ws_residual_rows_numba", "bcd_epoch_hybrid_numba", "bcd_epoch_hybrid_numpy",
           "hybrid_gather", "contiguous_float64", "dense_kernels"]

_FLAGS = {"reassoc", "contract"}


def contiguous_float64(AT):
    """Whether the rows of ``AT`` are what :mod:`._block_kernels` reads: float64, C-contiguous."""
    return isinstance(AT, np.ndarray) and AT.dtype == np.float64 and AT.flags.c_contiguous


@njit(fastmath=_FLAGS)
def bcd_epoch_inplace_numba(AT, cols, R, X, ptr, t1, t2, lips, V):
    """:func:`._block_kernels.bcd_epoch_dense_numba` on columns ``AT[cols[j]]`` of any dtype and stride."""
    n = AT.shape[1]
    k = R.shape[0]
    for g in range(ptr.size - 1):
        L = lips[g]
        if L <= 0.0:
            continue
        a = ptr[g]
        size = ptr[g + 1] - a
        for jj in range(size):
            j = a + jj
            col = AT[cols[j]]
            for c in range(k):
                r = R[c]
                acc = 0.0
                for i in range(n):
                    acc += np.float64(col[i]) * r[i]
                V[jj, c] = X[j, c] + acc / L
        _prox_block(V, size, k, t1[g] / L, t2[g] / L)
        for jj in range(size):
            j = a + jj
            for c in range(k):
                d = V[jj, c] - X[j, c]
                if d != 0.0:
                    X[j, c] = V[jj, c]
                    col = AT[cols[j]]
                    r = R[c]
                    for i in range(n):
                        r[i] -= d * np.float64(col[i])


@njit(fastmath=_FLAGS)
def ws_gradient_inplace_numba(AT, cols, R):
    """``U[j, c] = <AT[cols[j]], R[c]>`` (m, k), columns of any dtype and stride, float64 sums."""
    m = cols.size
    n = AT.shape[1]
    k = R.shape[0]
    U = np.empty((m, k))
    for j in range(m):
        col = AT[cols[j]]
        for c in range(k):
            acc = 0.0
            for i in range(n):
                acc += np.float64(col[i]) * R[c, i]
            U[j, c] = acc
    return U


@njit(fastmath=_FLAGS)
def ws_residual_inplace_numba(AT, cols, X, Y):
    """``Y - (A_ws X)^T`` (k, n), columns ``AT[cols[j]]`` of any dtype and stride."""
    R = Y.copy()
    n = AT.shape[1]
    for j in range(cols.size):
        col = AT[cols[j]]
        for c in range(R.shape[0]):
            x = X[j, c]
            if x != 0.0:
                for i in range(n):
                    R[c, i] -= x * np.float64(col[i])
    return R


@njit(fastmath=_FLAGS)
def ws_gradient_rows_numba(A, cols, R):
    """``A[:, cols]^T R^T`` (m, k) for a C-contiguous ``A`` (n, p), read by rows."""
    n = A.shape[0]
    m = cols.size
    k = R.shape[0]
    UT = np.zeros((k, m))
    for i in range(n):
        row = A[i]
        for c in range(k):
            w = R[c, i]
            if w != 0.0:
                u = UT[c]
                for j in range(m):
                    u[j] += w * np.float64(row[cols[j]])
    return np.ascontiguousarray(UT.T)


@njit(fastmath=_FLAGS)
def ws_residual_rows_numba(A, cols, X, Y):
    """``Y - (A[:, cols] X)^T`` (k, n) for a C-contiguous ``A`` (n, p), read by rows."""
    n = A.shape[0]
    m = cols.size
    k = Y.shape[0]
    R = Y.copy()
    for i in range(n):
        row = A[i]
        for c in range(k):
            acc = 0.0
            for j in range(m):
                acc += np.float64(row[cols[j]]) * X[j, c]
            R[c, i] -= acc
    return R


# ---------------------------------------------------------------------------- cache and design together
# Column j of the working set is the cached float64 row C[rows[j]] when rows[j] >= 0, else column -1 - rows[j]
# of A, read in place as AT[-1 - rows[j]]: the cache keeps what fits its budget, the rest is read where it is.
@njit(fastmath=_FLAGS)
def _hybrid_dot(C, AT, row, r):
    acc = 0.0
    if row >= 0:
        col = C[row]
        for i in range(r.size):
            acc += col[i] * r[i]
    else:
        col = AT[-1 - row]
        for i in range(r.size):
            acc += np.float64(col[i]) * r[i]
    return acc


@njit(fastmath=_FLAGS)
def _hybrid_axpy(C, AT, row, d, r):
    if row >= 0:
        col = C[row]
        for i in range(r.size):
            r[i] -= d * col[i]
    else:
        col = AT[-1 - row]
        for i in range(r.size):
            r[i] -= d * np.float64(col[i])


@njit(fastmath=_FLAGS)
def bcd_epoch_hybrid_numba(C, AT, rows, R, X, ptr, t1, t2, lips, V):
    """:func:`._block_kernels.bcd_epoch_dense_numba` on columns from the cache ``C`` or from ``AT`` in place."""
    k = R.shape[0]
    for g in range(ptr.size - 1):
        L = lips[g]
        if L <= 0.0:
            continue
        a = ptr[g]
        size = ptr[g + 1] - a
        for jj in range(size):
            j = a + jj
            for c in range(k):
                V[jj, c] = X[j, c] + _hybrid_dot(C, AT, rows[j], R[c]) / L
        _prox_block(V, size, k, t1[g] / L, t2[g] / L)
        for jj in range(size):
            j = a + jj
            for c in range(k):
                d = V[jj, c] - X[j, c]
                if d != 0.0:
                    X[j, c] = V[jj, c]
                    _hybrid_axpy(C, AT, rows[j], d, R[c])


def bcd_epoch_hybrid_numpy(C, AT, rows, R, X, ptr, t1, t2, lips, V):
    """Numpy twin of :func:`bcd_epoch_hybrid_numba` (the columns gathered as float64 rows first)."""
    cols = hybrid_gather(C, AT, rows)
    bcd_epoch_dense_numpy(cols, np.arange(rows.size, dtype=np.int64), R, X, ptr, t1, t2, lips, V)


def hybrid_gather(C, AT, rows):
    """The columns ``rows`` of a (cache, design) pair as float64 rows (m, n): a copy, for small sets."""
    out = np.empty((rows.size, C.shape[1]))
    cached = rows >= 0
    out[cached] = C[rows[cached]]
    out[~cached] = AT[-1 - rows[~cached]]
    return out


def _split(rows):
    cached = rows >= 0
    return cached, np.ascontiguousarray(rows[cached]), np.ascontiguousarray(-1 - rows[~cached])


def dense_kernels(use_numba):
    """``(epoch, gradient, residual)`` with the signatures of the dense kernels of :mod:`._block_kernels`.

    ``AT`` is float64 C-contiguous rows (those kernels), another array read in place (``A.T`` of a C-ordered or
    float32 ``A``), or a pair ``(C, A.T)`` of the design's cache and the design, with ``rows[j] >= 0`` a row of
    ``C`` and ``rows[j] < 0`` the column ``-1 - rows[j]`` of ``A``.
    """
    if not use_numba:   # the numpy twins take any dtype and stride
        def epoch(AT, cols, R, X, ptr, t1, t2, lips, V):
            if isinstance(AT, tuple):
                return bcd_epoch_hybrid_numpy(AT[0], AT[1], cols, R, X, ptr, t1, t2, lips, V)
            return bcd_epoch_dense_numpy(AT, cols, R, X, ptr, t1, t2, lips, V)

        def gradient(AT, cols, R):
            if isinstance(AT, tuple):
                return ws_gradient_dense_numpy(hybrid_gather(*AT, cols), np.arange(cols.size), R)
            return ws_gradient_dense_numpy(AT, cols, R)

        def residual(AT, cols, X, Y):
            if isinstance(AT, tuple):
                return ws_residual_dense_numpy(hybrid_gather(*AT, cols), np.arange(cols.size), X, Y)
            return ws_residual_dense_numpy(AT, cols, X, Y)

        return epoch, gradient, residual

    def epoch(AT, cols, R, X, ptr, t1, t2, lips, V):
        if isinstance(AT, tuple):
            if cols.size and cols.min() >= 0:   # every column cached (an epoch over the support)
                bcd_epoch_dense_numba(AT[0], cols, R, X, ptr, t1, t2, lips, V)
            else:
                bcd_epoch_hybrid_numba(AT[0], AT[1], cols, R, X, ptr, t1, t2, lips, V)
        elif contiguous_float64(AT):
            bcd_epoch_dense_numba(AT, cols, R, X, ptr, t1, t2, lips, V)
        else:
            bcd_epoch_inplace_numba(AT, cols, R, X, ptr, t1, t2, lips, V)

    def gradient(AT, cols, R):
        if isinstance(AT, tuple):
            C, ATv = AT
            cached, hit, miss = _split(cols)
            U = np.empty((cols.size, R.shape[0]))
            U[cached] = ws_gradient_dense_numba(C, hit, R)
            U[~cached] = gradient(ATv, miss, R)
            return U
        if contiguous_float64(AT):
            return ws_gradient_dense_numba(AT, cols, R)
        if AT.T.flags.c_contiguous and cols.size > 1:
            return ws_gradient_rows_numba(AT.T, cols, R)
        return ws_gradient_inplace_numba(AT, cols, R)

    def residual(AT, cols, X, Y):
        if isinstance(AT, tuple):
            C, ATv = AT
            cached, hit, miss = _split(cols)
            R = ws_residual_dense_numba(C, hit, np.ascontiguousarray(X[cached]), Y)
            return residual(ATv, miss, np.ascontiguousarray(X[~cached]), R)
        if contiguous_float64(AT):
            return ws_residual_dense_numba(AT, cols, X, Y)
        if AT.T.flags.c_contiguous and cols.size > 1:
            return ws_residual_rows_numba(AT.T, cols, X, Y)
        return ws_residual_inplace_numba(AT, cols, X, Y)

    return epoch, gradient, residual
