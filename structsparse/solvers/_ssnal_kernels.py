"""Kernels of the semismooth Newton augmented Lagrangian method (numba, each with a numpy twin).

The working set's columns of a dense design are read in place, as in :mod:`._block_kernels`:
column ``j`` of the working set is the row ``AT[rows[j]]``, and block ``g``
is the working-set columns ``ptr[g]:ptr[g + 1]``.

:func:`ssnal_factor_rows_numba` builds the rows of ``C^T`` for the Newton
matrix ``I + sigma C C^T``, where ``C C^T = A_J P A_J^T`` is the design seen
through the generalized Jacobian ``P`` of the group prox at ``u``: on an
active block ``P_g = alpha_g I + (1 - alpha_g) w_g w_g^T`` with
``w_g = u_g / ||u_g||`` and ``alpha_g = 1 - threshold / ||u_g||``, whose
symmetric square root is ``L_g = s_g I + (1 - s_g) w_g w_g^T`` with
``s_g = sqrt(alpha_g)``. So ``C_g = s_g A_g + (1 - s_g) (A_g w_g) w_g^T``.
"""

import numpy as np

from .._numba import njit

__all__ = ["ssnal_combine_numba", "ssnal_combine_numpy", "ssnal_factor_rows_numba", "ssnal_factor_rows_numpy", "ssnal_products_numba", "ssnal_products_numpy"]


@njit(fastmath={"reassoc", "contract"})
def ssnal_products_numba(AT, rows, d):
    """``A_ws^T d``: the dot products of the rows ``AT[rows[j]]`` with ``d``."""
    m = rows.size
    n = d.size
    out = np.empty(m)
    for j in range(m):
        row = AT[rows[j]]
        acc = 0.0
        for i in range(n):
            acc += row[i] * d[i]
        out[j] = acc
    return out


def ssnal_products_numpy(AT, rows, d):
    """Numpy twin of :func:`ssnal_products_numba`."""
    return AT[rows] @ d


@njit(fastmath={"reassoc", "contract"})
def ssnal_combine_numba(AT, rows, coef, n):
    """``A_ws coef``, reading only the rows of the nonzero coefficients."""
    out = np.zeros(n)
    for j in range(rows.size):
        c = coef[j]
        if c != 0.0:
            row = AT[rows[j]]
            for i in range(n):
                out[i] += c * row[i]
    return out


def ssnal_combine_numpy(AT, rows, coef, n):
    """Numpy twin of :func:`ssnal_combine_numba`."""
    nz = np.flatnonzero(coef)
    if nz.size == 0:
        return np.zeros(n)
    return AT[rows[nz]].T @ coef[nz]


@njit(fastmath={"reassoc", "contract"})
def ssnal_factor_rows_numba(AT, rows, ptr, active, sqrt_alpha, w):
    """The rows of ``C^T`` (one per column of the active blocks, in block order).

    ``w`` holds the unit directions of the whole working set (aligned with
    ``rows``); ``sqrt_alpha[k]`` belongs to block ``active[k]``.
    """
    n = AT.shape[1]
    total = 0
    for k in range(active.size):
        g = active[k]
        total += ptr[g + 1] - ptr[g]
    out = np.empty((total, n))
    q = np.empty(n)
    pos = 0
    for k in range(active.size):
        g = active[k]
        a, b = ptr[g], ptr[g + 1]
        s = sqrt_alpha[k]
        q[:] = 0.0
        for j in range(a, b):
            wj = w[j]
            row = AT[rows[j]]
            for i in range(n):
                q[i] += wj * row[i]
        for j in range(a, b):
            c = (1.0 - s) * w[j]
            row = AT[rows[j]]
            dst = out[pos]
            for i in range(n):
                dst[i] = s * row[i] + c * q[i]
            pos += 1
    return out


def ssnal_factor_rows_numpy(AT, rows, ptr, active, sqrt_alpha, w):
    """Numpy twin of :func:`ssnal_factor_rows_numba`."""
    parts = []
    for k, g in enumerate(active):
        a, b = ptr[g], ptr[g + 1]
        Ag = AT[rows[a:b]]                       # (size, n)
        q = w[a:b] @ Ag
        s = sqrt_alpha[k]
        parts.append(s * Ag + (1.0 - s) * np.outer(w[a:b], q))
    return np.concatenate(parts, axis=0) if parts else np.empty((0, AT.shape[1]))
