"""Kernels of the proximal Newton subproblem (numba, each with a numpy twin).

The quadratic model of a datafit ``F(A x)`` around ``z = A x0``, restricted to
a working set, is

    Q(x) = G^T (x - x0) + 0.5 sum_i h_i (A_ws (x - x0))_i^2 + penalty(x),

with ``G = A_ws^T F'(z)`` and ``h`` the datafit's quadratic weights. Its
coordinate descent runs on the working-set columns in place (the rows
``AT[cols[j]]``, as in :mod:`._block_kernels`), never on a scaled copy: the
kernel keeps ``hu = h * (A_ws (x - x0))`` in the sample space, so the model
gradient of column ``j`` is ``G_j + <a_j, hu>`` and an update ``delta`` of
``x_j`` costs ``hu += delta * h * a_j``. The caller recovers the step in the
sample space as ``A_ws (x - x0) = hu / h`` for the line search.

Blocks follow :mod:`._block_kernels`: block ``g`` is the working-set columns
``ptr[g]:ptr[g + 1]``, penalized by ``t1[g] ||x_g||_1 + t2[g] ||x_g||_2``,
with step ``1 / lips[g]``. A singleton block with ``lips[g] < 0`` gets its
exact constant ``sum_i h_i a_ij^2`` the first time it is visited.

The kernels stop when the largest distance of ``-grad`` to the penalty's
subdifferential (computed block by block during the epoch, at the point each
block is visited) is at most ``tol``, or after ``max_epochs`` epochs.
"""

import numpy as np

from .._numba import njit
from ._block_kernels import _prox_block, _prox_block_numpy

__all__ = ["pn_cd_dense_numba", "pn_cd_dense_numpy", "subdiff_distance_numba", "subdiff_distance_numpy"]


@njit
def _block_distance(grad, X, a, size, thr1, thr2):
    """Distance of ``-grad[:size]`` to the subdifferential of ``thr1 ||.||_1 + thr2 ||.||_2`` at ``X[a:a+size]``."""
    sq_x = 0.0
    for jj in range(size):
        sq_x += X[a + jj] * X[a + jj]
    if sq_x == 0.0:
        sq = 0.0
        for jj in range(size):
            v = abs(grad[jj]) - thr1
            if v > 0.0:
                sq += v * v
        d = np.sqrt(sq) - thr2
        return d if d > 0.0 else 0.0
    nx = np.sqrt(sq_x)
    sq = 0.0
    for jj in range(size):
        xj = X[a + jj]
        if xj != 0.0:
            v = grad[jj] + thr1 * (1.0 if xj > 0.0 else -1.0) + thr2 * xj / nx
        else:
            v = abs(grad[jj]) - thr1
            if v < 0.0:
                v = 0.0
        sq += v * v
    return np.sqrt(sq)


@njit
def pn_cd_dense_numba(AT, cols, ptr, t1, t2, lips, G, h, X, hu, V, max_epochs, tol):
    """Cyclic proximal block coordinate descent on the quadratic model, dense columns.

    Parameters (all C-contiguous): ``AT`` (q, n) with ``cols`` (m,): the
    working-set columns as rows; ``ptr`` (n_blocks + 1,); ``t1``, ``t2``,
    ``lips`` (n_blocks,), ``lips`` updated for singletons computed here;
    ``G`` (m,); ``h`` (n,); ``X`` (m,) the coefficients, updated in place
    (``x0`` on entry); ``hu`` (n,) updated in place (zero on entry for a new
    model); ``V`` (max block size, 1) scratch. Returns ``(epochs, kkt)``:
    the epochs run and the largest subdifferential distance of the last one.
    """
    n = AT.shape[1]
    n_blocks = ptr.size - 1
    for g in range(n_blocks):  # the scratch must hold the largest block (numba does not check bounds)
        if ptr[g + 1] - ptr[g] > V.shape[0]:
            raise ValueError("pn_cd_dense_numba: the scratch V is smaller than the largest block")
    grad = np.empty(V.shape[0])
    tmp = np.empty(n)
    kkt = np.inf
    epochs = 0
    while epochs < max_epochs:
        epochs += 1
        kkt = 0.0
        for g in range(n_blocks):
            a = ptr[g]
            size = ptr[g + 1] - a
            L = lips[g]
            if L < 0.0:  # singleton: sum_i h_i a_ij^2, on first visit
                col = AT[cols[a]]
                for i in range(n):
                    tmp[i] = h[i] * col[i]
                L = np.dot(col, tmp)
                lips[g] = L
            for jj in range(size):
                grad[jj] = G[a + jj] + np.dot(AT[cols[a + jj]], hu)
            dist = _block_distance(grad, X, a, size, t1[g], t2[g])
            if dist > kkt:
                kkt = dist
            if L <= 0.0:  # all-zero columns
                continue
            for jj in range(size):
                V[jj, 0] = X[a + jj] - grad[jj] / L
            _prox_block(V, size, 1, t1[g] / L, t2[g] / L)
            for jj in range(size):
                d = V[jj, 0] - X[a + jj]
                if d != 0.0:
                    X[a + jj] = V[jj, 0]
                    col = AT[cols[a + jj]]
                    for i in range(n):
                        hu[i] += d * h[i] * col[i]
        if kkt <= tol:
            break
    return epochs, kkt


@njit
def subdiff_distance_numba(grad, X, ptr, t1, t2):
    """Per block: the distance of ``-grad_g`` to the subdifferential of ``t1 ||.||_1 + t2 ||.||_2`` at ``X_g``."""
    n_blocks = ptr.size - 1
    out = np.empty(n_blocks)
    for g in range(n_blocks):
        a = ptr[g]
        out[g] = _block_distance(grad[a:ptr[g + 1]], X, a, ptr[g + 1] - a, t1[g], t2[g])
    return out


def subdiff_distance_numpy(grad, x, ptr, t1, t2):
    """Per block: the distance of ``-grad_g`` to the subdifferential of ``t1 ||.||_1 + t2 ||.||_2`` at ``x_g``."""
    out = np.empty(ptr.size - 1)
    for g in range(ptr.size - 1):
        a, b = ptr[g], ptr[g + 1]
        gr, xg = grad[a:b], x[a:b]
        nx = np.sqrt(xg @ xg)
        if nx == 0.0:
            st = np.maximum(np.abs(gr) - t1[g], 0.0)
            out[g] = max(np.sqrt(st @ st) - t2[g], 0.0)
        else:
            v = np.where(xg != 0.0, gr + t1[g] * np.sign(xg) + t2[g] * xg / nx, np.maximum(np.abs(gr) - t1[g], 0.0))
            out[g] = np.sqrt(v @ v)
    return out


def pn_cd_dense_numpy(AT, cols, ptr, t1, t2, lips, G, h, X, hu, V, max_epochs, tol):
    """Numpy twin of :func:`pn_cd_dense_numba` (same updates, same order)."""
    kkt = np.inf
    epochs = 0
    while epochs < max_epochs:
        epochs += 1
        kkt = 0.0
        for g in range(ptr.size - 1):
            a, b = ptr[g], ptr[g + 1]
            if lips[g] < 0.0:
                col = AT[cols[a]]
                lips[g] = float(col @ (h * col))
            L = lips[g]
            Ag = AT[cols[a:b]]
            grad = G[a:b] + Ag @ hu
            kkt = max(kkt, subdiff_distance_numpy(grad, X[a:b], np.array([0, b - a]), t1[g:g + 1], t2[g:g + 1])[0])
            if L <= 0.0:
                continue
            new = _prox_block_numpy(X[a:b] - grad / L, t1[g] / L, t2[g] / L)
            d = new - X[a:b]
            if np.any(d != 0.0):
                X[a:b] = new
                hu += (d @ Ag) * h
        if kkt <= tol:
            break
    return epochs, kkt
