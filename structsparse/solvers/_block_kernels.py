"""Kernels of the block coordinate descent solver (numba, each with a numpy twin).

A block-separable penalty is described by flat group arrays (``idx``,
``ptr``: group ``g`` is ``idx[ptr[g]:ptr[g + 1]]``) and two thresholds per
group: ``t1[g]`` multiplies the l1 norm of the block and ``t2[g]`` its
Euclidean (Frobenius, for several targets) norm, so that

    penalty(x) = sum_g t1[g] * ||x_g||_1 + t2[g] * ||x_g||_2.

The lasso is singletons with ``t2 = 0``, the group lasso ``t1 = 0`` and the
sparse-group lasso both. A group with ``t1 = t2 = 0`` is unpenalized.

Layouts (all C-contiguous so that numba compiles one specialization):

- ``AT`` (q, n) with ``cols`` (m,): column ``j`` of the working set is the
  contiguous row ``AT[cols[j]]`` (``A.T`` for a Fortran-ordered ``A``, or a
  cache of column copies for a C-ordered one);
- ``R`` (k, n): the residual ``y - A x``, one row per target;
- ``X`` (m, k): the working-set coefficients;
- ``V`` (max group size, k): scratch space.

The epoch kernels update ``X`` and ``R`` in place; ``ptr`` of the epoch
kernels indexes the working-set columns (and rows of ``X``) directly: the
working set stores its groups one after the other.
"""

import numpy as np

from .._group_norms import (  # noqa: F401  (group_lipschitz_dense re-exported: the solvers' kernels are here)
    GRAM_KERNEL_MAX, group_grams_dense_numba, group_grams_dense_numpy, group_lipschitz_dense)
from .._numba import NUMBA_ENABLED, njit, read_only_arguments, read_only_view
from ..penalties._dual_kernels import _segment_dual_numba, _sort_descending_into

__all__ = [
    "bcd_epoch_dense_numba", "bcd_epoch_dense_numpy", "bcd_epoch_dense_exact_numba", "bcd_epoch_dense_exact_numpy",
    "ws_gradient_dense_numba", "ws_gradient_dense_numpy", "ws_residual_dense_numba", "ws_residual_dense_numpy",
    "bcd_epoch_sparse_numba", "bcd_epoch_sparse_numpy",
    "ws_gradient_sparse_numba", "ws_gradient_sparse_numpy", "ws_residual_sparse_numba", "ws_residual_sparse_numpy",
    "group_dual_scaling_numba", "group_dual_scaling_numpy",
    "group_threshold_norms_numba", "group_threshold_norms_numpy",
    "group_lipschitz_dense", "group_eigh_dense", "group_grams_dense_numba", "group_grams_dense_numpy",
    "with_singleton_fast_path",
    "singleton_dual_scaling_numba", "singleton_dual_scaling_numpy",
    "singleton_threshold_norms_numba", "singleton_threshold_norms_numpy",
    "singleton_pure_scale_numba", "singleton_pure_scale_numpy", "singleton_gap_safe_numba",
    "singleton_gap_safe_numpy", "singleton_gap_safe_contiguous_numba", "singleton_gap_safe_contiguous_numpy",
    "singleton_scores_numba", "singleton_scores_numpy",
    "singleton_scores_into_numba", "singleton_scores_into_numpy",
    "pure_dual_scale_numba", "pure_dual_scale_numpy", "gap_safe_mask_numba", "gap_safe_mask_numpy",
    "anderson_weights", "anderson_combine_numba", "anderson_combine_numpy",
    "anderson_take_reversed_numba", "anderson_take_reversed_numpy",
    "anderson_take_reversed_singletons_numba", "anderson_take_reversed_singletons_numpy",
    "block_objective_numba", "block_objective_numpy",
    "group_combinations_dense_numba", "group_combinations_dense_numpy",
]

# The top-k selection (smallest_set_numba) estimates its threshold on about this many evenly spaced values, at
# twice the expected rank plus this margin
_SAMPLE = 512
_SAMPLE_MARGIN = 8

# Bisection steps for the sparse-group dual scaling: the bracket is narrow
# (its ends differ by at most a factor 1 + sqrt(size) t1 / t2), so 60 halvings
# reach machine precision.
_BISECTION_STEPS = 60


# ---------------------------------------------------------------------------- prox of one block
@njit
def _prox_block(V, size, k, thr1, thr2):
    """In place on ``V[:size, :k]``: soft-threshold by ``thr1``, then shrink the block norm by ``thr2``."""
    if thr1 > 0.0:
        for j in range(size):
            for c in range(k):
                v = V[j, c]
                if v > thr1:
                    V[j, c] = v - thr1
                elif v < -thr1:
                    V[j, c] = v + thr1
                else:
                    V[j, c] = 0.0
    if thr2 > 0.0:
        sq = 0.0
        for j in range(size):
            for c in range(k):
                sq += V[j, c] * V[j, c]
        scale = 0.0
        if sq > thr2 * thr2:
            scale = 1.0 - thr2 / np.sqrt(sq)
        for j in range(size):
            for c in range(k):
                V[j, c] *= scale


def _prox_block_numpy(v, thr1, thr2):
    if thr1 > 0.0:
        v = np.sign(v) * np.maximum(np.abs(v) - thr1, 0.0)
    if thr2 > 0.0:
        nrm = np.sqrt(np.sum(v * v))
        v = v * (1.0 - thr2 / nrm) if nrm > thr2 else np.zeros_like(v)
    return v


# ---------------------------------------------------------------------------- epochs
# sums may be reassociated (so that they vectorize) and products fused into FMAs; NaN and infinities propagate
_FAST = {"reassoc", "contract"}


@njit(fastmath=_FAST)
def _dot_row(col, r, n):
    s = 0.0
    for i in range(n):
        s += col[i] * r[i]
    return s


@njit(fastmath=_FAST)
def _gradient_step(AT, cols, R, X, V, a, size, k, L):
    """``V[:size] = x_g + A_g^T r / L`` for the block's rows ``a:a+size`` (before its prox).

    Four columns at a time share one pass over ``r`` (a loop with four sums, vectorized: the reassociation
    flag), instead of one BLAS ``ddot`` call per column.
    """
    n = AT.shape[1]
    for c in range(k):
        r = R[c]
        jj = 0
        while jj + 4 <= size:
            j = a + jj
            c0, c1, c2, c3 = AT[cols[j]], AT[cols[j + 1]], AT[cols[j + 2]], AT[cols[j + 3]]
            s0 = s1 = s2 = s3 = 0.0
            for i in range(n):
                ri = r[i]
                s0 += c0[i] * ri
                s1 += c1[i] * ri
                s2 += c2[i] * ri
                s3 += c3[i] * ri
            V[jj, c] = X[j, c] + s0 / L
            V[jj + 1, c] = X[j + 1, c] + s1 / L
            V[jj + 2, c] = X[j + 2, c] + s2 / L
            V[jj + 3, c] = X[j + 3, c] + s3 / L
            jj += 4
        while jj < size:
            V[jj, c] = X[a + jj, c] + _dot_row(AT[cols[a + jj]], r, n) / L
            jj += 1


@njit(fastmath=_FAST)
def _move_block(AT, cols, R, X, V, a, size, k, n):
    """Set the block's rows ``a:a+size`` of ``X`` to ``V[:size]`` and update the residual ``R`` by the change
    (four changed columns at a time in one pass over ``r``)."""
    for c in range(k):
        r = R[c]
        jj = 0
        while jj + 4 <= size:
            j = a + jj
            d0 = V[jj, c] - X[j, c]
            d1 = V[jj + 1, c] - X[j + 1, c]
            d2 = V[jj + 2, c] - X[j + 2, c]
            d3 = V[jj + 3, c] - X[j + 3, c]
            if d0 != 0.0 or d1 != 0.0 or d2 != 0.0 or d3 != 0.0:
                c0, c1, c2, c3 = AT[cols[j]], AT[cols[j + 1]], AT[cols[j + 2]], AT[cols[j + 3]]
                for i in range(n):
                    r[i] -= d0 * c0[i] + d1 * c1[i] + d2 * c2[i] + d3 * c3[i]
                X[j, c] = V[jj, c]
                X[j + 1, c] = V[jj + 1, c]
                X[j + 2, c] = V[jj + 2, c]
                X[j + 3, c] = V[jj + 3, c]
            jj += 4
        while jj < size:
            j = a + jj
            d = V[jj, c] - X[j, c]
            if d != 0.0:
                X[j, c] = V[jj, c]
                col = AT[cols[j]]
                for i in range(n):
                    r[i] -= d * col[i]
            jj += 1


@njit
def bcd_epoch_dense_numba(AT, cols, R, X, ptr, t1, t2, lips, V):
    """One cyclic pass of proximal block updates over the groups of a dense working set.

    Column ``j`` of the working set is the contiguous row ``AT[cols[j]]``
    (``AT`` is ``A.T`` itself for a Fortran-ordered ``A``, or a cache of
    contiguous copies), so the working set is never copied.
    For each group ``g`` with step ``1 / lips[g]`` (``lips[g] = ||A_g||_2^2``):
    ``x_g <- prox(x_g + A_g^T r / L_g)``, then ``r <- r - A_g (x_g^new - x_g)``.
    Groups with ``lips[g] == 0`` (all-zero columns) are skipped.
    """
    n = AT.shape[1]
    k = R.shape[0]
    for g in range(ptr.size - 1):
        L = lips[g]
        if L <= 0.0:
            continue
        a = ptr[g]
        size = ptr[g + 1] - a
        _gradient_step(AT, cols, R, X, V, a, size, k, L)
        _prox_block(V, size, k, t1[g] / L, t2[g] / L)
        _move_block(AT, cols, R, X, V, a, size, k, n)


def bcd_epoch_dense_numpy(AT, cols, R, X, ptr, t1, t2, lips, V):
    """Numpy twin of :func:`bcd_epoch_dense_numba` (same updates, same order)."""
    for g in range(ptr.size - 1):
        L = lips[g]
        if L <= 0.0:
            continue
        a, b = ptr[g], ptr[g + 1]
        Ag = AT[cols[a:b]]
        new = _prox_block_numpy(X[a:b] + (Ag @ R.T) / L, t1[g] / L, t2[g] / L)
        d = new - X[a:b]
        if np.any(d != 0.0):
            X[a:b] = new
            R -= d.T @ Ag


@njit
def _secular_mu(c2, lam, t2, norm_c):
    """The root ``mu > 0`` of ``mu * ||x(mu)|| = t2``, ``||x(mu)||^2 = sum_i c2[i] / (lam[i] + mu)^2``.

    ``mu * ||x(mu)||`` increases from 0 to ``norm_c > t2``; the root lies in
    ``[t2 lam_min, t2 lam_max] / (norm_c - t2)``. Newton's method on
    ``1 / ||x(mu)|| - mu / t2`` (exact for a single eigenvalue), kept inside
    the bracket by bisection.
    """
    lmin = lam[0]
    lmax = lam[0]
    for i in range(lam.size):
        lmin = min(lmin, lam[i])
        lmax = max(lmax, lam[i])
    lo = t2 * lmin / (norm_c - t2)
    hi = t2 * lmax / (norm_c - t2)
    mu = 0.5 * (lo + hi)
    for _ in range(100):
        s = 0.0
        s3 = 0.0
        for i in range(lam.size):
            w = 1.0 / (lam[i] + mu)
            s += c2[i] * w * w
            s3 += c2[i] * w * w * w
        inv = 1.0 / np.sqrt(s)
        phi = inv - mu / t2
        if phi > 0.0:
            lo = mu
        else:
            hi = mu
        if hi - lo <= 1e-15 * hi:
            break
        dphi = s3 * inv * inv * inv - 1.0 / t2
        step = mu - phi / dphi if dphi < 0.0 else 0.5 * (lo + hi)
        if not lo < step < hi:
            step = 0.5 * (lo + hi)
        elif abs(step - mu) <= 1e-14 * mu:  # Newton converges from one side: the bracket may stay wide
            return step
        mu = step
    return mu


@njit
def bcd_epoch_dense_exact_numba(AT, cols, R, X, ptr, t1, t2, lips, V, Q, qptr, lam, exact):
    """:func:`bcd_epoch_dense_numba` with exact minimization over the groups flagged ``exact``.

    For a group-lasso block (``t1 = 0``) with Gram matrix ``A_g^T A_g = Q
    diag(lam) Q^T`` (``Q`` the (size, size) row-major block at
    ``Q[qptr[g]:]``, ``lam`` at ``lam[ptr[g]:ptr[g + 1]]``, all positive),
    the block's own problem ``min 0.5 ||r_g - A_g x||^2 + t2 ||x||`` (with
    ``r_g`` the residual without the block) has the solution ``x = 0`` when
    ``||b|| <= t2``, ``b = A_g^T r_g``, and else ``x = (A_g^T A_g + mu I)^{-1}
    b`` with ``mu`` the root of ``mu ||x(mu)|| = t2`` (:func:`_secular_mu`).
    A proximal gradient step with ``1 / ||A_g||^2`` moves slowly along the
    Gram matrix's small eigenvalues (correlated columns in a group); the exact
    update does not. The other groups take the proximal step. ``V`` has at
    least ``2 * size`` rows.
    """
    n = AT.shape[1]
    k = R.shape[0]
    for g in range(ptr.size - 1):
        L = lips[g]
        if L <= 0.0:
            continue
        a = ptr[g]
        size = ptr[g + 1] - a
        if not exact[g]:
            _gradient_step(AT, cols, R, X, V, a, size, k, L)
            _prox_block(V, size, k, t1[g] / L, t2[g] / L)
        else:
            q0 = qptr[g]
            # u = A_g^T r (rows 0..size of V), z = Q^T x_old (rows size..2 size)
            for jj in range(size):
                col = AT[cols[a + jj]]
                for c in range(k):
                    V[jj, c] = np.dot(col, R[c])
            norm2 = 0.0
            for i in range(size):
                for c in range(k):
                    cu = 0.0
                    cx = 0.0
                    for jj in range(size):
                        qji = Q[q0 + jj * size + i]
                        cu += qji * V[jj, c]
                        cx += qji * X[a + jj, c]
                    # coordinates of b = A_g^T r + A_g^T A_g x_old in the eigenbasis
                    v = cu + lam[a + i] * cx
                    V[size + i, c] = v
                    norm2 += v * v
            norm_c = np.sqrt(norm2)
            thr = t2[g]
            if norm_c <= thr:
                for jj in range(size):
                    for c in range(k):
                        V[jj, c] = 0.0
            else:
                c2 = np.zeros(size)
                for i in range(size):
                    for c in range(k):
                        c2[i] += V[size + i, c] * V[size + i, c]
                mu = _secular_mu(c2, lam[a:a + size], thr, norm_c) if thr > 0.0 else 0.0
                for i in range(size):
                    w = 1.0 / (lam[a + i] + mu)
                    for c in range(k):
                        V[size + i, c] *= w
                for jj in range(size):
                    for c in range(k):
                        acc = 0.0
                        for i in range(size):
                            acc += Q[q0 + jj * size + i] * V[size + i, c]
                        V[jj, c] = acc
        _move_block(AT, cols, R, X, V, a, size, k, n)


def bcd_epoch_dense_exact_numpy(AT, cols, R, X, ptr, t1, t2, lips, V, Q, qptr, lam, exact):
    """Numpy twin of :func:`bcd_epoch_dense_exact_numba` (``mu`` by bisection on ``mu ||x(mu)|| = t2``)."""
    for g in range(ptr.size - 1):
        L = lips[g]
        if L <= 0.0:
            continue
        a, b = ptr[g], ptr[g + 1]
        size = b - a
        Ag = AT[cols[a:b]]
        if not exact[g]:
            new = _prox_block_numpy(X[a:b] + (Ag @ R.T) / L, t1[g] / L, t2[g] / L)
        else:
            Qg = Q[qptr[g]:qptr[g] + size * size].reshape(size, size)
            lam_g = lam[a:b]
            rhs = Ag @ R.T + (Ag @ Ag.T) @ X[a:b]            # A_g^T r_g, (size, k)
            coef = Qg.T @ rhs
            norm_c = np.linalg.norm(coef)
            if norm_c <= t2[g]:
                new = np.zeros_like(X[a:b])
            else:
                c2 = (coef * coef).sum(axis=1)
                lo, hi = 0.0, t2[g] * lam_g.max() / (norm_c - t2[g])
                for _ in range(200):
                    mid = 0.5 * (lo + hi)
                    if mid * np.sqrt(np.sum(c2 / (lam_g + mid) ** 2)) < t2[g]:
                        lo = mid
                    else:
                        hi = mid
                new = Qg @ (coef / (lam_g + 0.5 * (lo + hi))[:, None])
        d = new - X[a:b]
        if np.any(d != 0.0):
            X[a:b] = new
            R -= d.T @ Ag


@njit
def ws_gradient_dense_numba(AT, cols, R):
    """``A_ws^T r`` as (m, k): ``U[j, c] = <AT[cols[j]], R[c]>``."""
    m = cols.size
    k = R.shape[0]
    U = np.empty((m, k))
    for j in range(m):
        col = AT[cols[j]]
        for c in range(k):
            U[j, c] = np.dot(col, R[c])
    return U


def ws_gradient_dense_numpy(AT, cols, R):
    """Numpy twin of :func:`ws_gradient_dense_numba`."""
    return AT[cols] @ R.T


@njit
def ws_residual_dense_numba(AT, cols, X, Y):
    """``Y - (A_ws X)^T`` as (k, n)."""
    R = Y.copy()
    n = AT.shape[1]
    for j in range(cols.size):
        col = AT[cols[j]]
        for c in range(R.shape[0]):
            x = X[j, c]
            if x != 0.0:
                for i in range(n):
                    R[c, i] -= x * col[i]
    return R


def ws_residual_dense_numpy(AT, cols, X, Y):
    """Numpy twin of :func:`ws_residual_dense_numba`."""
    return np.ascontiguousarray(Y - X.T @ AT[cols])


@njit
def bcd_epoch_sparse_numba(data, rows, colptr, R, X, ptr, t1, t2, lips, V):
    """Sparse (CSC) twin of :func:`bcd_epoch_dense_numba`: column ``j`` of the working set is
    ``data[colptr[j]:colptr[j+1]]`` at rows ``rows[colptr[j]:colptr[j+1]]``."""
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
                acc = 0.0
                for q in range(colptr[j], colptr[j + 1]):
                    acc += data[q] * R[c, rows[q]]
                V[jj, c] = X[j, c] + acc / L
        _prox_block(V, size, k, t1[g] / L, t2[g] / L)
        for jj in range(size):
            j = a + jj
            for c in range(k):
                d = V[jj, c] - X[j, c]
                if d != 0.0:
                    X[j, c] = V[jj, c]
                    for q in range(colptr[j], colptr[j + 1]):
                        R[c, rows[q]] -= d * data[q]


@njit
def ws_gradient_sparse_numba(data, rows, colptr, R):
    """``A_ws^T r`` as (m, k) for working-set columns in CSC arrays (no scipy object per call)."""
    m = colptr.size - 1
    k = R.shape[0]
    U = np.zeros((m, k))
    for j in range(m):
        for c in range(k):
            acc = 0.0
            for q in range(colptr[j], colptr[j + 1]):
                acc += data[q] * R[c, rows[q]]
            U[j, c] = acc
    return U


def ws_gradient_sparse_numpy(data, rows, colptr, R):
    """Numpy twin of :func:`ws_gradient_sparse_numba`."""
    import scipy.sparse as sp

    A = sp.csc_matrix((data, rows, colptr), shape=(R.shape[1], colptr.size - 1))
    return np.asarray(A.T @ R.T).reshape(colptr.size - 1, R.shape[0])


@njit
def ws_residual_sparse_numba(data, rows, colptr, X, Y):
    """``Y - (A_ws X)^T`` as (k, n) for working-set columns in CSC arrays."""
    R = Y.copy()
    for j in range(colptr.size - 1):
        for c in range(R.shape[0]):
            x = X[j, c]
            if x != 0.0:
                for q in range(colptr[j], colptr[j + 1]):
                    R[c, rows[q]] -= x * data[q]
    return R


def ws_residual_sparse_numpy(data, rows, colptr, X, Y):
    """Numpy twin of :func:`ws_residual_sparse_numba`."""
    import scipy.sparse as sp

    A = sp.csc_matrix((data, rows, colptr), shape=(Y.shape[1], colptr.size - 1))
    return np.ascontiguousarray(Y - np.asarray(A @ X).T)


def bcd_epoch_sparse_numpy(data, rows, colptr, R, X, ptr, t1, t2, lips, V):
    """Numpy twin of :func:`bcd_epoch_sparse_numba`."""
    import scipy.sparse as sp

    n = R.shape[1]
    A = sp.csc_matrix((data, rows, colptr), shape=(n, colptr.size - 1))
    for g in range(ptr.size - 1):
        L = lips[g]
        if L <= 0.0:
            continue
        a, b = ptr[g], ptr[g + 1]
        Ag = A[:, a:b]
        new = _prox_block_numpy(X[a:b] + np.asarray(Ag.T @ R.T) / L, t1[g] / L, t2[g] / L)
        d = new - X[a:b]
        if np.any(d != 0.0):
            X[a:b] = new
            R -= np.asarray(Ag @ d).T


# ---------------------------------------------------------------------------- Anderson steps and objective
@njit
def _difference_gram5(Xs):
    """The Gram matrix of the 5 differences ``Xs[i + 1] - Xs[i]`` of 6 stacked iterates (6, m).

    Each entry is summed in increasing ``t`` from zero, as :func:`anderson_combine_numba`'s loop for any K sums
    it (the same numbers), but the 15 sums run in one pass, in registers: 15 passes of one latency-bound chain
    each cost about 4x as much (0.12 against 0.03 ms at m = 10^4, a third of an epoch of the whole lasso
    problem at p = n = 10^4, density 1e-3, paid at every Anderson step).
    """
    g00 = g10 = g11 = g20 = g21 = g22 = g30 = g31 = g32 = g33 = g40 = g41 = g42 = g43 = g44 = 0.0
    for t in range(Xs.shape[1]):
        d0 = Xs[1, t] - Xs[0, t]
        d1 = Xs[2, t] - Xs[1, t]
        d2 = Xs[3, t] - Xs[2, t]
        d3 = Xs[4, t] - Xs[3, t]
        d4 = Xs[5, t] - Xs[4, t]
        g00 += d0 * d0
        g10 += d1 * d0
        g11 += d1 * d1
        g20 += d2 * d0
        g21 += d2 * d1
        g22 += d2 * d2
        g30 += d3 * d0
        g31 += d3 * d1
        g32 += d3 * d2
        g33 += d3 * d3
        g40 += d4 * d0
        g41 += d4 * d1
        g42 += d4 * d2
        g43 += d4 * d3
        g44 += d4 * d4
    lower = ((g00, 0.0, 0.0, 0.0, 0.0), (g10, g11, 0.0, 0.0, 0.0), (g20, g21, g22, 0.0, 0.0),
             (g30, g31, g32, g33, 0.0), (g40, g41, g42, g43, g44))
    G = np.empty((5, 5))
    for i in range(5):
        for j in range(i + 1):
            G[i, j] = lower[i][j]
            G[j, i] = lower[i][j]
    return G


@njit
def anderson_combine_numba(Xs, Rs):
    """Anderson extrapolation of the stacked iterates ``Xs`` (K + 1, m), applied to ``Rs`` (K + 1, q) too.

    The weights ``c`` (summing to one) minimize ``||sum_i c_i (Xs[i + 1] - Xs[i])||`` with the Gram
    matrix of the differences regularized by ``1e-12`` times its trace. Returns ``(X_acc, R_acc, sum |c|)``
    with ``X_acc = c @ Xs[1:]`` and ``R_acc = c @ Rs[1:]``, or empty arrays when the weights are not
    finite (a singular Gram matrix).
    """
    K = Xs.shape[0] - 1
    m = Xs.shape[1]
    if K == 5:
        G = _difference_gram5(Xs)
    else:
        G = np.zeros((K, K))
        for i in range(K):
            for j in range(i + 1):
                acc = 0.0
                for t in range(m):
                    acc += (Xs[i + 1, t] - Xs[i, t]) * (Xs[j + 1, t] - Xs[j, t])
                G[i, j] = acc
                G[j, i] = acc
    reg = 0.0
    for i in range(K):
        reg += G[i, i]
    for i in range(K):
        G[i, i] += 1e-12 * reg
    # G z = 1 by Gaussian elimination with partial pivoting (K is a handful: no LAPACK call)
    z = np.ones(K)
    for col in range(K):
        piv = col
        for i in range(col + 1, K):
            if abs(G[i, col]) > abs(G[piv, col]):
                piv = i
        if G[piv, col] == 0.0:
            return np.empty(0), np.empty(0), 0.0
        if piv != col:
            for j in range(K):
                G[col, j], G[piv, j] = G[piv, j], G[col, j]
            z[col], z[piv] = z[piv], z[col]
        for i in range(col + 1, K):
            f = G[i, col] / G[col, col]
            for j in range(col, K):
                G[i, j] -= f * G[col, j]
            z[i] -= f * z[col]
    for i in range(K - 1, -1, -1):
        acc = z[i]
        for j in range(i + 1, K):
            acc -= G[i, j] * z[j]
        z[i] = acc / G[i, i]
    total = 0.0
    for i in range(K):
        total += z[i]
    if not np.isfinite(total) or total == 0.0:
        return np.empty(0), np.empty(0), 0.0
    csum = 0.0
    for i in range(K):
        z[i] /= total
        if not np.isfinite(z[i]):
            return np.empty(0), np.empty(0), 0.0
        csum += abs(z[i])
    X_acc = np.zeros(m)
    R_acc = np.zeros(Rs.shape[1])
    for i in range(K):
        c = z[i]
        for t in range(m):
            X_acc[t] += c * Xs[i + 1, t]
        for t in range(Rs.shape[1]):
            R_acc[t] += c * Rs[i + 1, t]
    return X_acc, R_acc, csum


def anderson_weights(last):
    """Weights ``c`` (summing to one) of the Anderson extrapolation ``c @ last[1:]`` of stacked iterates.

    ``last`` holds ``K + 1`` iterates as rows; the weights minimize the norm of the combined differences
    (slightly regularized). Returns None when they cannot be computed.
    """
    D = np.diff(last, axis=0)
    gram = D @ D.T
    try:
        z = np.linalg.solve(gram + 1e-12 * np.trace(gram) * np.eye(gram.shape[0]), np.ones(gram.shape[0]))
    except np.linalg.LinAlgError:
        return None
    if not np.all(np.isfinite(z)) or z.sum() == 0 or not np.all(np.isfinite(z / z.sum())):
        return None
    return z / z.sum()


def anderson_combine_numpy(Xs, Rs):
    """Numpy twin of :func:`anderson_combine_numba`."""
    c = anderson_weights(Xs)
    if c is None:
        return np.empty(0), np.empty(0), 0.0
    return c @ Xs[1:], c @ Rs[1:], float(np.abs(c).sum())


@njit
def anderson_take_reversed_numba(X_acc, X, D, ptr):
    """Move the groups of an extrapolated point ``X_acc`` that reversed against ``X`` into ``D``; their count.

    A group shrinking to zero has iterates along one direction, and an
    extrapolation of them can overshoot past zero (``<x_acc_g, x_g> <= 0``
    with ``x_acc_g != 0``, ``x_g = 0`` included), where the proximal step
    would leave the group at zero. Those groups' rows of ``X_acc`` (m, k) are
    copied to ``D`` (zero on entry) and zeroed; the caller adds ``A D`` to the
    extrapolated residual.
    """
    k = X.shape[1]
    count = 0
    for g in range(ptr.size - 1):
        a, b = ptr[g], ptr[g + 1]
        dot = 0.0
        nonzero = False
        for j in range(a, b):
            for c in range(k):
                v = X_acc[j, c]
                if v != 0.0:
                    nonzero = True
                    dot += v * X[j, c]
        if nonzero and dot <= 0.0:
            count += 1
            for j in range(a, b):
                for c in range(k):
                    D[j, c] = X_acc[j, c]
                    X_acc[j, c] = 0.0
    return count


@njit
def anderson_take_reversed_singletons_numba(x_acc, x, d):
    """:func:`anderson_take_reversed_numba` for one-column groups and one target, on 1-D ``x_acc``, ``x``, ``d``.

    A column reverses when ``x_acc[j] != 0`` and ``x_acc[j] * x[j] <= 0``: the generic loop's test, whose dot is
    ``0.0 + x_acc[j] * x[j]`` (the same sign, a zero of either sign passing). Every column is written by a select,
    not a branch, so the loop has no unpredictable jump (the reversed columns are scattered) and vectorizes; a
    column that does not reverse keeps its values (``d`` stays as it was, zero on entry). The same outputs.
    """
    count = 0
    for j in range(x_acc.size):
        v = x_acc[j]
        reversed_ = (v != 0.0) & (v * x[j] <= 0.0)
        d[j] = v if reversed_ else d[j]
        x_acc[j] = 0.0 if reversed_ else v
        count += reversed_
    return count


def anderson_take_reversed_singletons_numpy(x_acc, x, d):
    """Numpy twin of :func:`anderson_take_reversed_singletons_numba`."""
    with np.errstate(invalid="ignore"):   # 0 * inf: NaN, not reversed, as in the loop
        reversed_ = (x_acc != 0.0) & (x_acc * x <= 0.0)
    d[reversed_] = x_acc[reversed_]
    x_acc[reversed_] = 0.0
    return int(np.count_nonzero(reversed_))


def anderson_take_reversed_numpy(X_acc, X, D, ptr):
    """Numpy twin of :func:`anderson_take_reversed_numba`."""
    g = np.repeat(np.arange(ptr.size - 1), np.diff(ptr))
    dot = np.bincount(g, weights=(X_acc * X).sum(axis=1), minlength=ptr.size - 1)
    nonzero = np.bincount(g, weights=(X_acc != 0).sum(axis=1), minlength=ptr.size - 1) > 0
    groups = np.flatnonzero(nonzero & (dot <= 0.0))
    rows = np.isin(g, groups)
    D[rows] = X_acc[rows]
    X_acc[rows] = 0.0
    return int(groups.size)


@njit
def block_objective_numba(X, R, ptr, t1, t2):
    """``0.5 ||R||^2 + sum_g t1[g] ||X_g||_1 + t2[g] ||X_g||_F`` with group ``g`` the rows ``ptr[g]:ptr[g + 1]``
    of ``X`` (m, k)."""
    val = 0.0
    for c in range(R.shape[0]):
        for i in range(R.shape[1]):
            val += R[c, i] * R[c, i]
    return plus_block_penalty(0.5 * val, X, ptr, t1, t2)


@njit
def plus_block_penalty(val, X, ptr, t1, t2):
    """``val`` plus ``sum_g t1[g] ||X_g||_1 + t2[g] ||X_g||_F``, added group by group (the objective's order)."""
    k = X.shape[1]
    for g in range(ptr.size - 1):
        l1 = 0.0
        l2 = 0.0
        for j in range(ptr[g], ptr[g + 1]):
            for c in range(k):
                v = X[j, c]
                l1 += abs(v)
                l2 += v * v
        val += t1[g] * l1 + t2[g] * np.sqrt(l2)
    return val


def block_objective_numpy(X, R, ptr, t1, t2):
    """Numpy twin of :func:`block_objective_numba`."""
    l1 = np.concatenate([[0.0], np.cumsum(np.abs(X).sum(axis=1))])   # group sums as differences: empty
    l2 = np.concatenate([[0.0], np.cumsum((X * X).sum(axis=1))])     # groups give zero
    g1, g2 = l1[ptr[1:]] - l1[ptr[:-1]], np.maximum(l2[ptr[1:]] - l2[ptr[:-1]], 0.0)
    return 0.5 * float(np.vdot(R, R)) + float(t1 @ g1 + t2 @ np.sqrt(g2))


# ---------------------------------------------------------------------------- dual quantities
@njit
def _thresholded_sq(U, idx, a, b, k, thr):
    """``||S_thr(U[idx[a:b]])||^2``: squared norm of the soft-thresholded block."""
    sq = 0.0
    for q in range(a, b):
        row = idx[q]
        for c in range(k):
            v = abs(U[row, c]) - thr
            if v > 0.0:
                sq += v * v
    return sq


@njit
def group_dual_scaling_numba(U, idx, ptr, t1, t2):
    """For each group, the smallest ``s >= 0`` with ``||S_{s t1}(u_g)||_2 <= s t2``.

    ``u_g = U[idx[ptr[g]:ptr[g+1]]]`` is the block of ``A^T r``; the dual point
    ``r / s`` satisfies the group's constraint exactly when ``s`` is at least
    this value, so ``max(1, max_g s_g)`` is the scaling that makes ``r``
    dual feasible. It is ``||u_g|| / t2`` for a group norm, ``max |u_g| / t1``
    for an l1 block, the exact root of a piecewise quadratic for both
    (sparse-group, the penalties' sorting kernel), and 0 for an unpenalized
    group (which no scaling can make feasible). The numpy twin finds the
    same root by bisection, an independent check.
    """
    n_groups = ptr.size - 1
    k = U.shape[1]
    out = np.zeros(n_groups)
    longest = 0
    for g in range(n_groups):
        longest = max(longest, (ptr[g + 1] - ptr[g]) * k)
    flat = np.empty(longest)
    buf = np.empty(longest)
    for g in range(n_groups):
        a, b = ptr[g], ptr[g + 1]
        w1, w2 = t1[g], t2[g]
        if w1 <= 0.0 and w2 <= 0.0:
            continue
        sq = 0.0
        mx = 0.0
        for q in range(a, b):
            row = idx[q]
            for c in range(k):
                v = abs(U[row, c])
                sq += v * v
                if v > mx:
                    mx = v
        if mx == 0.0:
            continue
        nrm = np.sqrt(sq)
        if w1 <= 0.0:
            out[g] = nrm / w2
        elif w2 <= 0.0:
            out[g] = mx / w1
        else:
            # exact root of ||S_{s w1}(u)|| = s w2 from the sorted magnitudes (no iteration)
            m = 0
            for q in range(a, b):
                row = idx[q]
                for c in range(k):
                    flat[m] = abs(U[row, c])
                    m += 1
            _sort_descending_into(flat[:m], buf)
            out[g] = _segment_dual_numba(buf[:m], w2, w1)
    return out


def _group_ids(ptr):
    return np.repeat(np.arange(ptr.size - 1), np.diff(ptr))


def group_dual_scaling_numpy(U, idx, ptr, t1, t2):
    """Numpy twin of :func:`group_dual_scaling_numba` (vectorized bisection over groups)."""
    Ug = np.abs(U[idx])
    starts = ptr[:-1]
    nrm = np.sqrt(np.add.reduceat((Ug * Ug).sum(axis=1), starts))
    mx = np.maximum.reduceat(Ug.max(axis=1), starts)
    out = np.zeros(ptr.size - 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        only2 = (t1 <= 0) & (t2 > 0)
        out[only2] = nrm[only2] / t2[only2]
        only1 = (t1 > 0) & (t2 <= 0)
        out[only1] = mx[only1] / t1[only1]
        both = (t1 > 0) & (t2 > 0) & (mx > 0)
        if np.any(both):
            sizes = np.diff(ptr) * U.shape[1]
            hi = np.where(both, np.minimum(mx / t1, nrm / t2), 0.0)
            lo = np.where(both, nrm / (t2 + t1 * np.sqrt(sizes)), 0.0)
            gid = _group_ids(ptr)
            for _ in range(_BISECTION_STEPS):
                mid = 0.5 * (lo + hi)
                thr = (mid * t1)[gid]
                sq = np.add.reduceat((np.maximum(Ug - thr[:, None], 0.0) ** 2).sum(axis=1), starts)
                above = sq > (mid * t2) ** 2
                lo = np.where(above, mid, lo)
                hi = np.where(above, hi, mid)
            out[both] = hi[both]
    out[mx == 0] = 0.0
    return out


@njit
def group_threshold_norms_numba(U, idx, ptr, t1, t2, scale):
    """Left-hand sides of the groups' dual constraints at ``theta = r / scale``.

    For a group with ``t2 > 0`` this is ``||S_{t1}(u_g / scale)||_2``, to
    compare with ``t2``; for a pure l1 block (``t2 == 0``) it is
    ``max |u_g| / scale``, to compare with ``t1``; 0 for unpenalized groups.
    """
    n_groups = ptr.size - 1
    k = U.shape[1]
    out = np.zeros(n_groups)
    for g in range(n_groups):
        a, b = ptr[g], ptr[g + 1]
        if t2[g] > 0.0:
            out[g] = np.sqrt(_thresholded_sq(U, idx, a, b, k, t1[g] * scale)) / scale
        elif t1[g] > 0.0:
            mx = 0.0
            for q in range(a, b):
                row = idx[q]
                for c in range(k):
                    v = abs(U[row, c])
                    if v > mx:
                        mx = v
            out[g] = mx / scale
    return out


def group_threshold_norms_numpy(U, idx, ptr, t1, t2, scale):
    """Numpy twin of :func:`group_threshold_norms_numba`."""
    Ug = np.abs(U[idx])
    starts = ptr[:-1]
    gid = _group_ids(ptr)
    thr = (t1 * scale)[gid]
    sq = np.add.reduceat((np.maximum(Ug - thr[:, None], 0.0) ** 2).sum(axis=1), starts)
    mx = np.maximum.reduceat(Ug.max(axis=1), starts)
    return np.where(t2 > 0, np.sqrt(sq) / scale, np.where(t1 > 0, mx / scale, 0.0))


# ---------------------------------------------------------------------------- outer scans (pure l1 or pure l2 groups)
@njit
def pure_dual_scale_numba(lhs, bound):
    """``max(1, max_g lhs[g] / bound[g])`` over groups with ``bound > 0``: the dual scaling of the residual
    when every group is pure l1 or pure l2 (``lhs`` from the threshold-norm kernel at scale 1)."""
    best = 1.0
    for g in range(lhs.size):
        if bound[g] > 0.0:
            v = lhs[g] / bound[g]
            if v > best:
                best = v
    return best


def pure_dual_scale_numpy(lhs, bound):
    """Numpy twin of :func:`pure_dual_scale_numba`."""
    pos = bound > 0
    return max(1.0, float(np.max(lhs[pos] / bound[pos]))) if np.any(pos) else 1.0


@njit
def gap_safe_mask_numba(lhs, scale, radius, norms, bound, unpen):
    """Gap Safe test for pure groups: ``lhs / scale + radius * norms < bound`` (never for unpenalized groups)."""
    out = np.zeros(lhs.size, dtype=np.bool_)
    for g in range(lhs.size):
        if not unpen[g] and lhs[g] / scale + radius * norms[g] < bound[g]:
            out[g] = True
    return out


def gap_safe_mask_numpy(lhs, scale, radius, norms, bound, unpen):
    """Numpy twin of :func:`gap_safe_mask_numba`."""
    return ~unpen & (lhs / scale + radius * norms < bound)


# ---------------------------------------------------------------------------- eigendecompositions of blocks
def group_eigh_dense(AT, ptr, rows):
    """Eigendecompositions ``(Q, lam)`` of ``A_g^T A_g`` (eigenvalues ascending) for groups of at most ``n``
    columns, column ``j`` being ``AT[rows[j]]``; a list in the order of the groups."""
    rows = np.ascontiguousarray(rows, dtype=np.int64)
    grams_of = group_grams_dense_numba if NUMBA_ENABLED else group_grams_dense_numpy
    sizes = np.diff(ptr)
    out = [None] * sizes.size
    for size in np.unique(sizes):
        which = np.flatnonzero(sizes == size)
        starts = np.ascontiguousarray(ptr[which], dtype=np.int64)
        if size <= GRAM_KERNEL_MAX:
            grams = grams_of(AT, rows, starts, int(size))
        else:
            blocks = AT[rows[starts[:, None] + np.arange(size)]]
            grams = blocks @ blocks.transpose(0, 2, 1)
        lam, Q = np.linalg.eigh(grams)
        for i, g in enumerate(which):
            out[g] = (np.ascontiguousarray(Q[i]), np.maximum(lam[i], 0.0))
    return out


@njit(fastmath=_FAST)
def group_combinations_dense_numba(AT, rows, ptr, C):
    """``W`` (G, k n): row ``g`` is ``A_g C_g`` (n, k) stored target by target, ``W[g, c n + i] =
    sum_{j in g} AT[rows[j], i] C[j, c]``, for the groups ``ptr`` of the columns ``AT[rows[j]]`` (read in
    place) and the coefficients ``C`` (m, k)."""
    n = AT.shape[1]
    k = C.shape[1]
    G = ptr.size - 1
    W = np.zeros((G, k * n))
    for g in range(G):
        for j in range(ptr[g], ptr[g + 1]):
            col = AT[rows[j]]
            for c in range(k):
                w = C[j, c]
                if w != 0.0:
                    off = c * n
                    for i in range(n):
                        W[g, off + i] += w * col[i]
    return W


def group_combinations_dense_numpy(AT, rows, ptr, C):
    """Numpy twin of :func:`group_combinations_dense_numba`."""
    G = ptr.size - 1
    n, k = AT.shape[1], C.shape[1]
    W = np.zeros((G, k * n))
    for g in range(G):
        a, b = ptr[g], ptr[g + 1]
        W[g] = (C[a:b].T @ AT[rows[a:b]]).ravel()
    return W


# ---------------------------------------------------------------------------- singletons (the lasso)
def _all_singletons(U, ptr, idx):
    """Every block one feature, one target: the lasso's layout (``idx`` may be a subset of the rows of ``U``)."""
    return U.shape[1] == 1 and ptr.size - 1 == idx.size


@njit
def singleton_dual_scaling_numba(U, idx, t1, t2):
    """Lasso layout (block ``g`` is feature ``idx[g]``, one target): ``|u| / (t1 + t2)``, 0 where unpenalized."""
    m = idx.size
    out = np.zeros(m)
    for g in range(m):
        tot = t1[g] + t2[g]
        if tot > 0.0:
            out[g] = abs(U[idx[g], 0]) / tot
    return out


def singleton_dual_scaling_numpy(U, idx, t1, t2):
    """Numpy twin of :func:`singleton_dual_scaling_numba`."""
    u = np.abs(U[idx, 0])
    tot = t1 + t2
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(tot > 0, u / np.where(tot > 0, tot, 1.0), 0.0)


@njit
def singleton_threshold_norms_numba(U, idx, t1, t2, scale):
    """Lasso layout: ``max(|u| / scale - t1, 0)`` where ``t2 > 0``, ``|u| / scale`` for pure l1, else 0."""
    m = idx.size
    out = np.zeros(m)
    for g in range(m):
        u = abs(U[idx[g], 0]) / scale
        if t2[g] > 0.0:
            out[g] = max(u - t1[g], 0.0)
        elif t1[g] > 0.0:
            out[g] = u
    return out


def singleton_threshold_norms_numpy(U, idx, t1, t2, scale):
    """Numpy twin of :func:`singleton_threshold_norms_numba`."""
    u = np.abs(U[idx, 0]) / scale
    return np.where(t2 > 0, np.maximum(u - t1, 0.0), np.where(t1 > 0, u, 0.0))


def with_singleton_fast_path(dual_scaling, threshold_norms, singleton_scaling=singleton_dual_scaling_numpy,
                             singleton_norms=singleton_threshold_norms_numpy):
    """Wrap the group kernels with one-pass paths for the lasso's layout (one feature per block).

    For a singleton ``|S_{s t1}(u)| <= s t2`` gives ``s = |u| / (t1 + t2)``,
    and the threshold norm at ``theta = r / scale`` is
    ``max(|u| / scale - t1, 0)`` (``t2 > 0``) or ``|u| / scale`` (pure l1):
    the same values as the general kernels, without their per-block loop
    (measured 3 ms per call on 10^5 features against 0.2 ms).
    Other layouts go to the wrapped kernels. ``idx`` may list a subset of the
    rows of ``U`` (the blocks screening has left).
    """
    def fast_dual_scaling(U, idx, ptr, t1, t2):
        if not _all_singletons(U, ptr, idx):
            return dual_scaling(U, idx, ptr, t1, t2)
        return singleton_scaling(U, idx, t1, t2)

    def fast_threshold_norms(U, idx, ptr, t1, t2, scale):
        if not _all_singletons(U, ptr, idx):
            return threshold_norms(U, idx, ptr, t1, t2, scale)
        return singleton_norms(U, idx, t1, t2, float(scale))

    return fast_dual_scaling, fast_threshold_norms


# ---------------------------------------------------------------------------- outer scans in one pass (lasso layout)
# The outer loop of a penalty whose blocks are single features (one target) and pure (l1 or l2, not both) reads
# A^T r three times per iteration: for the dual scaling, for the Gap Safe test and for the working set's scores.
# Each was several full passes with p-length temporaries (threshold norms, the screened ones zeroed, the scale;
# the column-norm bounds, the mask, the screened ones removed; the scores, the forced and the dead ones): each is
# one pass here, reading what it needs in place, with the same arithmetic as those passes (same values).
@njit
def _singleton_lhs(U, idx, t1, t2, g):
    """Block ``g``'s threshold norm at scale 1 (as :func:`singleton_threshold_norms_numba` at ``scale = 1``)."""
    u = abs(U[idx[g], 0])   # u / 1.0 is u exactly
    if t2[g] > 0.0:
        return max(u - t1[g], 0.0)
    if t1[g] > 0.0:
        return u
    return 0.0


@read_only_arguments   # one compiled type whatever the callers' writability
@njit
def singleton_pure_scale_numba(U, idx, t1, t2, bound, dead):
    """``max(1, max_g lhs_g / bound_g)`` over the blocks with ``bound > 0`` not ``dead`` (an empty ``dead``: none).

    The same value as ``pure_dual_scale(threshold_norms(U, ..., 1.0) with dead blocks zeroed, bound)``, in one
    pass and without the p-length array of threshold norms.
    """
    best = 1.0
    check = dead.size > 0
    if idx.size and bound.strides[0] == 0 and t1.strides[0] == 0 and t2.strides[0] == 0:
        # one weight for every block (broadcast views, the lasso's): lhs is a non-decreasing function of |u|, and so
        # is its rounded quotient by b > 0, so the largest ratio is the largest |u|'s (the same value; no division
        # per block)
        b = bound[0]
        if not b > 0.0:
            return best
        # four running maxima: no chain of dependent comparisons (p = 10^4: 19 -> 6 us); the same largest (a dead
        # block reads as -1, the start value: skipped)
        umax = m1 = m2 = m3 = -1.0
        m = idx.size
        m4 = m - m % 4
        for g in range(0, m4, 4):
            u0 = -1.0 if check and dead[g] else abs(U[idx[g], 0])
            u1 = -1.0 if check and dead[g + 1] else abs(U[idx[g + 1], 0])
            u2 = -1.0 if check and dead[g + 2] else abs(U[idx[g + 2], 0])
            u3 = -1.0 if check and dead[g + 3] else abs(U[idx[g + 3], 0])
            umax = u0 if u0 > umax else umax
            m1 = u1 if u1 > m1 else m1
            m2 = u2 if u2 > m2 else m2
            m3 = u3 if u3 > m3 else m3
        for g in range(m4, m):
            u = -1.0 if check and dead[g] else abs(U[idx[g], 0])
            umax = u if u > umax else umax
        for v in (m1, m2, m3):
            umax = v if v > umax else umax
        if umax >= 0.0:
            v = _singleton_lhs(np.full((1, 1), umax), np.zeros(1, dtype=np.int64), t1, t2, 0) / b
            if v > best:
                best = v
        return best
    for g in range(idx.size):
        if check and dead[g]:
            continue
        b = bound[g]
        if b > 0.0:
            v = _singleton_lhs(U, idx, t1, t2, g) / b
            if v > best:
                best = v
    return best


def singleton_pure_scale_numpy(U, idx, t1, t2, bound, dead):
    """Numpy twin of :func:`singleton_pure_scale_numba`."""
    lhs = singleton_threshold_norms_numpy(U, idx, t1, t2, 1.0)
    if dead.size:
        lhs[dead] = 0.0
    return pure_dual_scale_numpy(lhs, bound)


@read_only_arguments   # one compiled type whatever the callers' writability
@njit
def singleton_gap_safe_numba(U, idx, blocks, t1, t2, scale, radius, colnorm2, lips, bound, unpen, dead):
    """Gap Safe test of single-feature blocks in one pass: ``(mask, count)``.

    Block ``g`` (feature ``idx[g]``, the penalty's block ``blocks[g]``) is
    removed when ``lhs_g / scale + radius * ||a_j|| < bound_g``, never when
    unpenalized or already ``dead``. ``||a_j||`` is read as the solver's bound
    on it (:meth:`_BlockSolver.group_norm_bounds`): ``sqrt(colnorm2[j])``, or
    ``sqrt(lips[blocks[g]])`` where that Lipschitz constant is known
    (``>= 0``) and smaller; no p-length array of bounds is kept. An empty
    ``lips``: none known (the column norms are the bounds).
    """
    m = idx.size
    out = np.zeros(m, dtype=np.bool_)
    count = 0
    check = dead.size > 0
    if m and lips.size == 0 and t1.strides[0] == 0 and t2.strides[0] == 0 and bound.strides[0] == 0 and \
            unpen.strides[0] == 0:
        # one weight for every block and no Lipschitz constants (the sparse lasso's): the same test without the
        # per-block branches (the weights' cases are decided once; the same operations, in the same order)
        if unpen[0]:
            return out, 0
        w1, w2, b = t1[0], t2[0], bound[0]
        for g in range(m):
            u = abs(U[idx[g], 0])
            lhs = max(u - w1, 0.0) if w2 > 0.0 else (u if w1 > 0.0 else 0.0)
            hit = lhs / scale + radius * np.sqrt(colnorm2[idx[g]]) < b
            if check:
                hit = hit and not dead[g]
            out[g] = hit
            count += hit
        return out, count
    known = lips.size > 0
    for g in range(m):
        if unpen[g] or (check and dead[g]):
            continue
        nrm = np.sqrt(colnorm2[idx[g]])
        if known:
            lip = lips[blocks[g]]
            if lip >= 0.0:
                s = np.sqrt(lip)
                if s < nrm:
                    nrm = s
        if _singleton_lhs(U, idx, t1, t2, g) / scale + radius * nrm < bound[g]:
            out[g] = True
            count += 1
    return out, count


def singleton_gap_safe_numpy(U, idx, blocks, t1, t2, scale, radius, colnorm2, lips, bound, unpen, dead):
    """Numpy twin of :func:`singleton_gap_safe_numba`."""
    norms = np.sqrt(colnorm2[idx])
    if lips.size:
        lip = lips[blocks]
        known = lip >= 0
        norms[known] = np.minimum(norms[known], np.sqrt(lip[known]))
    lhs = singleton_threshold_norms_numpy(U, idx, t1, t2, 1.0)
    out = gap_safe_mask_numpy(lhs, scale, radius, norms, bound, unpen)
    if dead.size:
        out &= ~dead
    return out, int(np.count_nonzero(out))


@read_only_arguments   # one compiled type whatever the callers' writability
@njit
def singleton_gap_safe_contiguous_numba(u, colnorm2, w1, w2, b, scale, radius, dead):
    """:func:`singleton_gap_safe_numba`'s test with one weight for every block, block ``g`` feature ``g``: ``(mask,
    count)``.

    ``u`` is ``A^T r`` (1-D, contiguous), ``colnorm2`` the squared column norms
    (the bounds of ``||a_g||``: no Lipschitz constants), ``w1``, ``w2`` and
    ``b`` the blocks' l1 weight, l2 weight and bound, none of them
    unpenalized; ``dead`` as there. The sparse lasso's outer loop before any
    compaction: read without the index array, the loop vectorizes (p = 10^4:
    about 2x faster), with the same operations on the same numbers (the same
    mask).
    """
    m = u.size
    out = np.empty(m, dtype=np.bool_)
    count = 0
    for g in range(m):
        a = abs(u[g])
        lhs = max(a - w1, 0.0) if w2 > 0.0 else (a if w1 > 0.0 else 0.0)
        hit = lhs / scale + radius * np.sqrt(colnorm2[g]) < b
        out[g] = hit
        count += hit
    if dead.size:   # the dead ones taken back in a pass of their own (no branch per block above)
        for g in range(m):
            if dead[g] and out[g]:
                out[g] = False
                count -= 1
    return out, count


def singleton_gap_safe_contiguous_numpy(u, colnorm2, w1, w2, b, scale, radius, dead):
    """Numpy twin of :func:`singleton_gap_safe_contiguous_numba`."""
    a = np.abs(u)
    lhs = np.maximum(a - w1, 0.0) if w2 > 0.0 else (a if w1 > 0.0 else np.zeros_like(a))
    out = lhs / scale + radius * np.sqrt(colnorm2[:u.size]) < b
    if dead.size:
        out &= ~dead
    return out, int(np.count_nonzero(out))


@read_only_arguments   # one compiled type whatever the callers' writability
@njit
def singleton_scores_numba(U, idx, t1, t2, bound, forced, alive):
    """The working set's ``'subdiff'`` scores of single-feature blocks, negated, in one pass: ``(-score, count)``.

    ``score`` is ``lhs_g - bound_g`` (``lhs`` the threshold norm at scale 1),
    ``+inf`` where ``forced`` (nonzero or unpenalized, always taken) and
    ``-inf`` where not ``alive`` (an empty ``alive``: every block); it is
    returned negated, the order ``argpartition`` selects the largest scores by,
    with ``count`` the scores above 0 (the violating and forced blocks): the
    negation, the comparison and the count of the general passes in this one.
    """
    neg = np.empty(idx.size)
    return neg, _singleton_scores_fill(U, idx, t1, t2, bound, forced, alive, neg)


@njit
def _singleton_scores_fill(U, idx, t1, t2, bound, forced, alive, neg):
    """The pass of :func:`singleton_scores_numba`, writing ``neg``; returns the count.

    Block ``g`` reads ``U[idx[g]]`` before ``neg[g]`` is written, and no later
    block reads below ``idx[g]`` when ``idx`` increases: ``neg`` may then be
    the memory of ``U`` itself (``idx[g] >= g``).
    """
    m = idx.size
    count = 0
    check = alive.size > 0
    if m and t1.strides[0] == 0 and t2.strides[0] == 0 and bound.strides[0] == 0:
        # one weight for every block (the lasso's broadcast views): every block's score in a loop without branches
        # (the weights' cases decided once; 3-5x faster at p = 10^4), then the forced and dead ones overwritten,
        # their count corrected: the same values and count as the loop below
        w1, w2, b = t1[0], t2[0], bound[0]
        for g in range(m):
            u = abs(U[idx[g], 0])
            v = (max(u - w1, 0.0) if w2 > 0.0 else (u if w1 > 0.0 else 0.0)) - b
            neg[g] = -v
            count += v > 0.0
        for g in range(m):
            if check and not alive[g]:
                count -= neg[g] < 0.0   # (-v < 0 is v > 0: negation is exact)
                neg[g] = np.inf
            elif forced[g]:
                count += not neg[g] < 0.0
                neg[g] = -np.inf
        return count
    for g in range(m):
        if check and not alive[g]:
            neg[g] = np.inf
        elif forced[g]:
            neg[g] = -np.inf
            count += 1
        else:
            v = _singleton_lhs(U, idx, t1, t2, g) - bound[g]
            neg[g] = -v
            if v > 0.0:
                count += 1
    return count


def singleton_scores_numpy(U, idx, t1, t2, bound, forced, alive):
    """Numpy twin of :func:`singleton_scores_numba`."""
    score = singleton_threshold_norms_numpy(U, idx, t1, t2, 1.0) - bound
    score[forced] = np.inf
    if alive.size:
        score[~alive] = -np.inf
    return -score, int(np.count_nonzero(score > 0))


def singleton_scores_into_numba(U, idx, t1, t2, bound, forced, alive, out):
    """:func:`singleton_scores_numba` written into ``out`` (float64, ``idx.size``, writable): ``(out, count)``.

    ``out`` may be the memory of ``U`` (its first ``idx.size`` entries, ``U`` of shape (p, 1) C-contiguous) when
    ``idx`` is increasing: the outer loop's product ``A^T r`` is not read after the scores, which take its place
    (no second p-length array). The inputs are read-only views, as for the other one-pass kernels.
    """
    count = _singleton_scores_fill(*[read_only_view(a) for a in (U, idx, t1, t2, bound, forced, alive)], out)
    return out, count


def singleton_scores_into_numpy(U, idx, t1, t2, bound, forced, alive, out):
    """Numpy twin of :func:`singleton_scores_into_numba` (the scores are computed first, then copied)."""
    neg, count = singleton_scores_numpy(U, idx, t1, t2, bound, forced, alive)
    out[:] = neg
    return out, count


@njit
def _smallest_set(values, k):
    """The passes of :func:`smallest_set_numba` (``values`` read-only)."""
    m = values.size
    none = np.zeros(0, dtype=np.int64)
    if k <= 0 or k > m:
        return none, False
    # two thresholds around the k-th smallest from an evenly spaced sample (its expected rank there, give or take
    # three standard deviations of a sampled rank), widened until the k-th smallest lies between them: the values
    # below the lower one are in, those above the upper one out, and only the band between is selected from.
    # Every pass over the m values is branch-free (a branch taken at random cost more than the pass itself)
    step = max(1, m // _SAMPLE)
    sample = values[::step]
    s = sample.size
    centre = (k * s) // m
    q = k / m
    width = int(3.0 * np.sqrt(s * q * (1.0 - q))) + _SAMPLE_MARGIN
    while True:
        lo = centre - width
        hi = centre + width
        # (two selections, not a sort of the sample: a sort's branches cost more than the passes below)
        low = -np.inf if lo < 0 else np.partition(sample, lo)[lo]
        high = np.inf if hi >= s else np.partition(sample, hi)[hi]
        low = -np.inf if np.isnan(low) else low
        high = np.inf if np.isnan(high) else high
        n_below = 0
        n_band = 0
        for i in range(m):
            v = values[i]
            n_below += v < low
            n_band += (v >= low) & (v <= high)
        if n_below < k <= n_below + n_band:
            break
        if lo < 0 and hi >= s:   # fewer than k numbers: the k-th smallest would be NaN
            return none, False
        width = 2 * width + _SAMPLE_MARGIN
    band = np.empty(n_band + 1)   # (each value is written, and kept by advancing past it)
    j = 0
    for i in range(m):
        v = values[i]
        band[j] = v
        j += (v >= low) & (v <= high)
    band = band[:n_band]
    kth = np.partition(band, k - n_below - 1)[k - n_below - 1]
    # exactly k values at most the k-th smallest (those below the band and the band's), or a tie straddles the
    # k-th place (which of the tied argpartition takes is its own choice)
    count = n_below
    for j in range(n_band):
        count += band[j] <= kth
    if count != k:
        return none, False
    out = np.empty(k + 1, dtype=np.int64)
    count = 0
    for i in range(m):
        out[count] = i
        count += values[i] <= kth
    return out[:k], True


def smallest_set_numba(values, k):
    """The positions of the ``k`` smallest of ``values`` (1-D float64), increasing: ``(positions, unique)``.

    The set ``np.argpartition(values, k - 1)[:k]`` holds (NaN last), from
    three branch-free passes over ``values`` (count on either side of two
    thresholds estimated on a sample, gather the band between them, write the
    positions out) and a selection within the band, without argpartition's
    index array and partial sort of every value. ``unique`` is False (and
    ``positions`` empty) when that set is not determined by the values: a
    value equal to the ``k``-th smallest lies past the ``k``-th place
    (argpartition's pick among the tied is its own), or fewer than ``k``
    values are numbers; the caller then asks argpartition itself.
    """
    return _smallest_set(read_only_view(values), k)


def smallest_set_numpy(values, k):
    """Numpy twin of :func:`smallest_set_numba`."""
    if k <= 0 or k > values.size:
        return np.zeros(0, dtype=np.int64), False
    kth = np.partition(values, k - 1)[k - 1]
    below = values <= kth
    if np.isnan(kth) or np.count_nonzero(below) != k:
        return np.zeros(0, dtype=np.int64), False
    return np.flatnonzero(below), True


@njit
def _split_live(blocks, out, n_out, gone, n_gone):
    """The pass of :func:`split_live_numba`."""
    screened = np.empty(n_out, dtype=blocks.dtype)
    kept = np.empty(blocks.size - n_gone, dtype=blocks.dtype)
    s = k = 0
    for g in range(blocks.size):
        if out[g]:
            screened[s] = blocks[g]
            s += 1
        elif not gone[g]:
            kept[k] = blocks[g]
            k += 1
    return screened, kept


def split_live_numba(blocks, out, gone):
    """``(blocks[out], blocks[~gone])`` in one pass, for masks ``out`` within ``gone``: the groups a screening event
    removes and those the live arrays keep at their compaction, without the negated mask and a second gather.

    Both in ``blocks``' dtype (the lasso's int32 identity index stays int32: half the memory of int64).
    """
    return _split_live(read_only_view(blocks), read_only_view(out), int(np.count_nonzero(out)), read_only_view(gone),
                       int(np.count_nonzero(gone)))


def split_live_numpy(blocks, out, gone):
    """Numpy twin of :func:`split_live_numba`."""
    return blocks[out], blocks[~gone]
