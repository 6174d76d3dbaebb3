"""A least-squares path for block-separable penalties that keeps its solver state from one ``lam`` to the next.

:func:`~structsparse.solvers.path.path` used to call :func:`solve_block` once
per ``lam`` with the previous solution as ``x0``; every call then paid again
for what does not change along a path: argument checks, the residual
``y - A x0`` (a full product), ``A^T r`` at the start (the previous call had
computed it at its end), the Lipschitz constant of every group entering a
working set, and a working set rebuilt from twice the support. This module
keeps all of it in one object per path (and per fold of a cross-validation):

- the residual ``r`` and ``A^T r`` carry over: a ``lam`` starts with the
  duality gap of the previous solution, at no product;
- Lipschitz constants are computed once per group per path;
- the working set of a warm start is the support plus the groups that
  violate their optimality condition at the new ``lam`` (at most twice the
  support), the sequential rule that the previous solution certifies;
- for penalties made of l1 norms only (the lasso, a weighted l1), whenever
  the signs of the coordinate-descent iterate are new at a check (every 3
  epochs, and at epoch 0: the homotopy step from the previous ``lam``'s
  solution), the iterate is *polished*: Newton steps towards the minimizer
  on its signed support, ``(A_S^T A_S) x_S = A_S^T y - w_S * sign_S``, each
  stopped where a coefficient reaches zero (that feature leaves). The
  support's Cholesky factor is kept along the path in a buffer and updated
  in place (deletions by Givens rotations, appends by a Schur complement:
  numba kernels below, with numpy twins). A polished point is kept only if
  its objective is lower; with the right support it is the exact optimum,
  which the gap then certifies at once (coordinate descent needs far more
  epochs to certify a relative gap of 1e-6 than to find the support:
  near-optimal residuals still violate the dual constraints by about the
  square root of their suboptimality). After a polish, the working set's
  features at zero that violate their condition enter the support with the
  sign of their correlation and the polish goes on from there (an active-set
  step: from the minimizer on the old support, one entering feature moves
  with its sign), so that coordinate descent runs only when these rounds
  stall. A polish (factor update, homotopy steps, new residual and
  objective) is one numba kernel (:func:`polish_numba`).

Nothing is given up: every ``lam`` stops on the same certified duality gap as
:func:`solve_block` (``gap <= tol * P(x)``, the dual point the residual scaled
into the dual feasible set). Dense designs, one or several right-hand sides
(polishing with one), no unpenalized features and no solver options beyond
``max_outer``, ``max_epochs``, ``p0``, ``gap_freq`` and ``anderson``; any other
case keeps the per-``lam`` :func:`solve_block` loop (:func:`applies`).
"""

import warnings

import numpy as np
import scipy.linalg

from .._numba import NUMBA_ENABLED, njit
from .._validation import check_int
from ..exceptions import ConvergenceWarning, ParameterTypeError
from ._block_kernels import (
    bcd_epoch_dense_numba, bcd_epoch_dense_numpy, group_dual_scaling_numba, group_dual_scaling_numpy,
    group_lipschitz_dense, group_threshold_norms_numba, group_threshold_norms_numpy,
    singleton_dual_scaling_numba, singleton_threshold_norms_numba, with_singleton_fast_path,
    ws_gradient_dense_numba, ws_gradient_dense_numpy, ws_residual_dense_numba, ws_residual_dense_numpy,
)
from ._block_spec import BlockSpec, block_columns, block_spec

__all__ = []


#: solve_block options this path solver honours (any other keeps the per-lam loop)
OPTIONS = ("max_outer", "max_epochs", "p0", "gap_freq", "anderson")
# Polish supports of at most this many features (a Cholesky of |S|^3 / 3 flops)
_POLISH_MAX = 2000
# With polishing, epochs between two polishes and gap checks (at most gap_freq)
_POLISH_CHECK = 3
# At most this many homotopy steps per polish (each removes one feature from the support)
_POLISH_STEPS = 64
# After a polish, at most this many rounds in which the violating zeros of the working set enter it
_ENTER_ROUNDS = 8
# Anderson extrapolation from the last _ANDERSON_K + 1 epochs (as solve_block)
_ANDERSON_K = 5
# From this many columns appended at once, their cross products with the factor's are one matrix product (the
# blocked loops beat it below: m=290 n=400, q=12 191 vs 286 us, q=24 382 vs 470, q=48 1253 vs 1282 us CPU)
_APPEND_GEMM = 48
# LLVM may reassociate the triangular solves' sums (they vectorize); NaN and infinities stay as they are
_FLAGS = {"reassoc", "contract"}


def applies(loss, penalty, solve, kw):
    """Whether the path can run on :class:`BlockPath` (else the per-``lam`` loop)."""
    from .working_set import solve_block

    if solve is not solve_block or any(key not in OPTIONS + ("tol",) for key in kw):
        return False
    caps = getattr(loss, "capabilities", frozenset())
    A = getattr(loss, "A", None)
    return "least_squares" in caps and isinstance(A, np.ndarray) and A.dtype == np.float64


def _kernels():
    if NUMBA_ENABLED:
        scaling, norms = with_singleton_fast_path(group_dual_scaling_numba, group_threshold_norms_numba,
                                                  singleton_dual_scaling_numba, singleton_threshold_norms_numba)
        return bcd_epoch_dense_numba, scaling, norms, ws_gradient_dense_numba, ws_residual_dense_numba
    scaling, norms = with_singleton_fast_path(group_dual_scaling_numpy, group_threshold_norms_numpy)
    return bcd_epoch_dense_numpy, scaling, norms, ws_gradient_dense_numpy, ws_residual_dense_numpy


def _dual_value(Y, theta, yy):
    d = Y - theta
    return 0.5 * yy - 0.5 * float(np.vdot(d, d))


@njit
def chol_delete_numba(L, m, k):
    """Remove row and column ``k`` from the ``m x m`` lower Cholesky factor ``L[:m, :m]``, in place.

    The rows below ``k`` move up and the columns right of ``k`` move left; the
    trailing block then gets the rank-one update by the removed column
    (Givens rotations, ``O((m - k)^2)``). Afterwards ``L[:m-1, :m-1]`` is the
    factor of the Gram matrix without feature ``k``; row ``m - 1`` is zeroed.
    """
    x = L[k + 1:m, k].copy()
    for i in range(k, m - 1):
        for j in range(k):
            L[i, j] = L[i + 1, j]
        for j in range(k, i + 1):
            L[i, j] = L[i + 1, j + 1]
    t = m - 1 - k
    for j in range(t):
        jj = k + j
        d = L[jj, jj]
        r = np.sqrt(d * d + x[j] * x[j])
        c = r / d
        s = x[j] / d
        L[jj, jj] = r
        for i in range(j + 1, t):
            ii = k + i
            L[ii, jj] = (L[ii, jj] + s * x[i]) / c
            x[i] = c * x[i] - s * L[ii, jj]
    for j in range(m):
        L[m - 1, j] = 0.0


def chol_delete_numpy(L, m, k):
    """Numpy twin of :func:`chol_delete_numba` (same rotations, the inner loops as vector operations)."""
    x = L[k + 1:m, k].copy()
    L[k:m - 1, :k] = L[k + 1:m, :k]
    for i in range(k, m - 1):
        L[i, k:i + 1] = L[i + 1, k + 1:i + 2]
    t = m - 1 - k
    for j in range(t):
        jj = k + j
        d = L[jj, jj]
        r = np.sqrt(d * d + x[j] * x[j])
        c, s = r / d, x[j] / d
        L[jj, jj] = r
        col = L[jj + 1:m - 1, jj]
        new = (col + s * x[j + 1:t]) / c
        x[j + 1:t] = c * x[j + 1:t] - s * new
        L[jj + 1:m - 1, jj] = new
    L[m - 1, :m] = 0.0


@njit(fastmath=_FLAGS)
def chol_solve_numba(L, m, b):
    """``x`` with ``L L^T x = b`` for the lower factor ``L[:m, :m]`` (rows of a larger buffer; ``b`` not modified).

    Plain loops over the rows of ``L`` (a BLAS call per row costs more than its work at these sizes).
    """
    y = b.copy()
    for i in range(m):
        acc = y[i]
        for j in range(i):
            acc -= L[i, j] * y[j]
        y[i] = acc / L[i, i]
    for i in range(m - 1, -1, -1):
        y[i] = y[i] / L[i, i]
        yi = y[i]
        for j in range(i):
            y[j] -= yi * L[i, j]
    return y


def chol_solve_numpy(L, m, b):
    """Numpy twin of :func:`chol_solve_numba`."""
    Lm = L[:m, :m]
    y = scipy.linalg.solve_triangular(Lm, b, lower=True, check_finite=False)
    return scipy.linalg.solve_triangular(Lm, y, lower=True, trans="T", check_finite=False)


def chol_forward_numpy(L, m, M):
    """``(L[:m, :m]^-1 M^T)^T`` for the rows ``M`` (q, m): forward substitution (the numpy append's)."""
    return scipy.linalg.solve_triangular(L[:m, :m], M.T, lower=True, check_finite=False).T


@njit
def cholesky_small_numba(S):
    """Lower Cholesky factor of a small symmetric matrix and whether it is positive definite (``(L, ok)``)."""
    q = S.shape[0]
    L = np.zeros((q, q))
    for j in range(q):
        d = S[j, j]
        for r in range(j):
            d -= L[j, r] * L[j, r]
        if not d > 0.0:
            return L, False
        L[j, j] = np.sqrt(d)
        for i in range(j + 1, q):
            v = S[i, j]
            for r in range(j):
                v -= L[i, r] * L[j, r]
            L[i, j] = v / L[j, j]
    return L, True


def cholesky_small_numpy(S):
    """Numpy twin of :func:`cholesky_small_numba`."""
    try:
        return np.linalg.cholesky(S), True
    except np.linalg.LinAlgError:
        return np.zeros_like(S), False


@njit(fastmath=_FLAGS)
def chol_append_numba(L, m, AT, rows, new_rows):
    """Append the columns ``AT[new_rows]`` to the factor ``L[:m, :m]`` of the Gram matrix of ``AT[rows[:m]]``.

    In place, by the Schur complement: ``C = L^-1 A_old^T A_new`` fills rows
    ``m .. m + q`` and the Cholesky factor of ``A_new^T A_new - C^T C`` their
    diagonal block. ``L`` must have room for ``m + q`` rows. Returns ``False``,
    with ``L`` untouched, when that block is not positive definite.
    """
    q = new_rows.size
    n = AT.shape[1]
    if q >= _APPEND_GEMM and m:
        # many new columns: gathering the old ones for one matrix product beats the dot products (measured)
        old = np.empty((m, n))
        new = np.empty((q, n))
        for i in range(m):
            old[i] = AT[rows[i]]
        for r in range(q):
            new[r] = AT[new_rows[r]]
        C = np.dot(new, old.T)
    else:
        C = np.empty((q, m))
        # new columns four at a time against each old column: the old one is read once per four, and the four
        # new ones stay in L1 (all q of them did not from q = 10 on: 480 us at m=290, q=10, n=400, now 200 us)
        for r0 in range(0, q, 4):
            r1 = min(r0 + 4, q)
            i0 = 0
            if r1 - r0 == 4:
                # two old columns against four new ones per pass: eight sums, six loads per eight products
                b0, b1, b2, b3 = AT[new_rows[r0]], AT[new_rows[r0 + 1]], AT[new_rows[r0 + 2]], AT[new_rows[r0 + 3]]
                for i0 in range(0, m - 1, 2):
                    a, c = AT[rows[i0]], AT[rows[i0 + 1]]
                    s0 = s1 = s2 = s3 = u0 = u1 = u2 = u3 = 0.0
                    for t in range(n):
                        at, ct = a[t], c[t]
                        v0, v1, v2, v3 = b0[t], b1[t], b2[t], b3[t]
                        s0 += at * v0
                        s1 += at * v1
                        s2 += at * v2
                        s3 += at * v3
                        u0 += ct * v0
                        u1 += ct * v1
                        u2 += ct * v2
                        u3 += ct * v3
                    C[r0, i0], C[r0 + 1, i0], C[r0 + 2, i0], C[r0 + 3, i0] = s0, s1, s2, s3
                    C[r0, i0 + 1], C[r0 + 1, i0 + 1], C[r0 + 2, i0 + 1], C[r0 + 3, i0 + 1] = u0, u1, u2, u3
                i0 = m - m % 2
            for i in range(i0, m):
                a = AT[rows[i]]
                if r1 - r0 == 4:
                    b0, b1, b2, b3 = AT[new_rows[r0]], AT[new_rows[r0 + 1]], AT[new_rows[r0 + 2]], AT[new_rows[r0 + 3]]
                    s0 = s1 = s2 = s3 = 0.0
                    for t in range(n):
                        at = a[t]
                        s0 += at * b0[t]
                        s1 += at * b1[t]
                        s2 += at * b2[t]
                        s3 += at * b3[t]
                    C[r0, i], C[r0 + 1, i], C[r0 + 2, i], C[r0 + 3, i] = s0, s1, s2, s3
                else:
                    for r in range(r0, r1):
                        b = AT[new_rows[r]]
                        acc = 0.0
                        for t in range(n):
                            acc += a[t] * b[t]
                        C[r, i] = acc
    for i in range(m):                      # forward substitution: each row of L read once for all q columns
        Li = L[i]
        d = Li[i]
        for r in range(q):
            Cr = C[r]
            acc = Cr[i]
            for j in range(i):
                acc -= Li[j] * Cr[j]
            Cr[i] = acc / d
    S = np.empty((q, q))
    for r in range(q):
        b = AT[new_rows[r]]
        for c in range(r + 1):
            d = AT[new_rows[c]]
            acc = 0.0
            for t in range(n):
                acc += b[t] * d[t]
            for j in range(m):
                acc -= C[r, j] * C[c, j]
            S[r, c] = acc
            S[c, r] = acc
    L22, ok = cholesky_small_numba(S)
    if not ok:
        return False
    for r in range(q):
        for j in range(m):
            L[m + r, j] = C[r, j]
        for j in range(q):
            L[m + r, m + j] = L22[r, j]
    for i in range(m):
        for j in range(q):
            L[i, m + j] = 0.0
    return True


def chol_append_numpy(L, m, AT, rows, new_rows):
    """Numpy twin of :func:`chol_append_numba`."""
    B = AT[new_rows]
    q = B.shape[0]
    if m:
        hi = int(rows[:m].max()) + 1
        # A_old^T A_new: one product over the leading rows of AT when they are few (no gather of A_old)
        cross = (B @ AT[:hi].T)[:, rows[:m]] if hi <= 3 * m else B @ AT[rows[:m]].T
        C = chol_forward_numpy(L, m, cross)
        S = B @ B.T - C @ C.T
    else:
        C, S = np.zeros((q, 0)), B @ B.T
    L22, ok = cholesky_small_numpy(S)
    if not ok:
        return False
    L[m:m + q, :m] = C
    L[m:m + q, m:m + q] = L22
    L[:m, m:m + q] = 0.0
    return True


@njit
def homotopy_numba(L, m, b, w, xs, sign, order, rows, pos, max_steps):
    """The polish's homotopy steps on the signed support held in the first ``m`` entries of the arrays, in place.

    Each step solves ``L L^T z = b - w * sign`` and goes from ``xs`` towards
    ``z`` until the first coordinate whose sign ``z`` does not keep reaches
    zero; that coordinate leaves (coordinates at zero that ``z`` sends the
    other way leave at once, all of them in one step: the point does not
    move). Leaving coordinates are deleted from the factor
    (:func:`chol_delete_numba`) and from ``b, w, xs, sign, order, rows, pos``,
    whose later entries move up. Returns ``(m, status)``: the support's new
    size, and ``1`` when a step was whole (``xs`` is then ``z``), ``0`` when
    ``max_steps`` or an empty support ended the steps, ``-1`` when ``z`` was
    not finite.
    """
    for _ in range(max_steps):
        rhs = b[:m] - w[:m] * sign[:m]
        z = chol_solve_numba(L, m, rhs)
        if not np.isfinite(z.sum()):
            return m, -1
        first = -1
        t_min = np.inf
        for j in range(m):
            if np.sign(z[j]) != sign[j]:
                den = xs[j] - z[j]
                t = xs[j] / den if den != 0.0 else 0.0
                if t < t_min:
                    t_min, first = t, j
        if first < 0:
            xs[:m] = z
            return m, 1
        if t_min == 0.0:
            # coordinates at zero that z sends the wrong way: the point does not move, so all of them leave
            # together (the last first), not one per solve (entering rounds would re-solve once per such feature)
            for j in range(m - 1, -1, -1):
                if xs[j] == 0.0 and np.sign(z[j]) != sign[j]:
                    chol_delete_numba(L, m, j)
                    for i in range(j, m - 1):
                        b[i], w[i], xs[i], sign[i] = b[i + 1], w[i + 1], xs[i + 1], sign[i + 1]
                        order[i], rows[i], pos[i] = order[i + 1], rows[i + 1], pos[i + 1]
                    m -= 1
        else:
            for j in range(m):
                xs[j] = xs[j] + t_min * (z[j] - xs[j])
            chol_delete_numba(L, m, first)
            for j in range(first, m - 1):
                b[j], w[j], xs[j], sign[j] = b[j + 1], w[j + 1], xs[j + 1], sign[j + 1]
                order[j], rows[j], pos[j] = order[j + 1], rows[j + 1], pos[j + 1]
            m -= 1
        if m == 0:
            break
    return m, 0


def homotopy_numpy(L, m, b, w, xs, sign, order, rows, pos, max_steps):
    """Numpy twin of :func:`homotopy_numba`."""
    for _ in range(max_steps):
        z = chol_solve_numpy(L, m, b[:m] - w[:m] * sign[:m])
        if not np.isfinite(z.sum()):
            return m, -1
        cross = np.flatnonzero(np.sign(z) != sign[:m])
        if not cross.size:
            xs[:m] = z
            return m, 1
        den = xs[cross] - z[cross]
        t = np.divide(xs[cross], den, out=np.zeros(cross.size), where=den != 0)
        first = int(np.argmin(t))
        if t[first] == 0.0:
            leave = cross[xs[cross] == 0.0][::-1]       # at zero and sent the wrong way: all leave, the last first
        else:
            xs[:m] = xs[:m] + t[first] * (z - xs[:m])
            leave = cross[first:first + 1]
        for k in leave:
            chol_delete_numpy(L, m, int(k))
            for arr in (b, w, xs, sign, order, rows, pos):
                arr[k:m - 1] = arr[k + 1:m].copy()
            m -= 1
        if m == 0:
            break
    return m, 0


@njit
def polish_numba(L, m, order, rows, x, signs, cols, wsrows, AT, y, Aty, weights, mark, where, max_steps):
    """One polish of the working set's signed point, in one call: factor update, homotopy steps, the new point.

    ``x`` and ``signs`` are the working set's coefficients and signs
    (entering features: zero with a sign), ``cols`` its features and
    ``wsrows`` their rows in ``AT``. The factor ``L[:m, :m]`` of the features
    ``order[:m]`` (rows ``rows[:m]``) is made the factor of the signed
    support ``S``: features that left ``S`` are deleted (the last first,
    :func:`chol_delete_numba`), new ones appended (:func:`chol_append_numba`;
    ``L``, ``order`` and ``rows`` must have room for ``|S|`` more). Then
    :func:`homotopy_numba` from ``x`` at most ``max_steps`` steps. ``mark``
    (bool, all False, left so) and ``where`` are scratch arrays over the
    features. Returns ``(m, status, X, r, value)``: the support's new size;
    the homotopy's status, or ``-2`` when the append found the Gram matrix
    not positive definite (``X`` and ``r`` are then empty); the new point
    over the working set, its residual ``y - A_ws X`` and its objective
    ``0.5 ||r||^2 + sum_j weights_j |X_j|``.
    """
    nws = x.size
    for j in range(nws):
        if signs[j] != 0.0:
            mark[cols[j]] = True
            where[cols[j]] = j
    for i in range(m - 1, -1, -1):              # features that left S: the last first, the others' rows hold
        if not mark[order[i]]:
            chol_delete_numba(L, m, i)
            for t in range(i, m - 1):
                order[t] = order[t + 1]
                rows[t] = rows[t + 1]
            m -= 1
    for i in range(m):
        mark[order[i]] = False
    new_rows = np.empty(nws, dtype=np.int64)
    new_feats = np.empty(nws, dtype=np.int64)
    q = 0
    for j in range(nws):                        # still marked: in S, not in the factor
        if signs[j] != 0.0 and mark[cols[j]]:
            mark[cols[j]] = False
            new_rows[q] = wsrows[j]
            new_feats[q] = cols[j]
            q += 1
    if q:
        if not chol_append_numba(L, m, AT, rows, new_rows[:q]):
            return m, -2, np.zeros(0), np.zeros(0), 0.0
        for r in range(q):
            order[m + r] = new_feats[r]
            rows[m + r] = new_rows[r]
        m += q
    pos = np.empty(m, dtype=np.int64)
    b = np.empty(m)
    w = np.empty(m)
    xs = np.empty(m)
    sign = np.empty(m)
    for i in range(m):
        j = where[order[i]]
        pos[i] = j
        b[i] = Aty[order[i]]
        w[i] = weights[j]
        xs[i] = x[j]
        sign[i] = signs[j]
    m, status = homotopy_numba(L, m, b, w, xs, sign, order, rows, pos, max_steps)
    if status < 0:
        return m, status, np.zeros(0), np.zeros(0), 0.0
    X = np.zeros(nws)
    r = y.copy()
    n = y.size
    for i in range(m):                          # the residual in the factor's order (as ws_residual's)
        v = xs[i]
        X[pos[i]] = v
        if v != 0.0:
            col = AT[rows[i]]
            for t in range(n):
                r[t] -= v * col[t]
    value = 0.0
    for t in range(n):
        value += r[t] * r[t]
    value *= 0.5
    for j in range(nws):
        value += weights[j] * abs(X[j])
    return m, status, X, r, value


def polish_numpy(L, m, order, rows, x, signs, cols, wsrows, AT, y, Aty, weights, mark, where, max_steps):
    """Numpy twin of :func:`polish_numba` (the numpy twins of its kernels, the same steps in the same order)."""
    on = np.flatnonzero(signs)
    feats = cols[on]
    mark[feats] = True
    where[feats] = on
    for i in range(m - 1, -1, -1):
        if not mark[order[i]]:
            chol_delete_numpy(L, m, i)
            order[i:m - 1], rows[i:m - 1] = order[i + 1:m].copy(), rows[i + 1:m].copy()
            m -= 1
    mark[order[:m]] = False
    new = on[mark[feats]]
    mark[feats] = False
    q = new.size
    if q:
        if not chol_append_numpy(L, m, AT, rows, wsrows[new]):
            return m, -2, np.zeros(0), np.zeros(0), 0.0
        order[m:m + q], rows[m:m + q] = cols[new], wsrows[new]
        m += q
    pos = where[order[:m]].copy()
    b, w, xs, sign = Aty[order[:m]], weights[pos], x[pos].astype(float), signs[pos].astype(float)
    m, status = homotopy_numpy(L, m, b, w, xs, sign, order, rows, pos, max_steps)
    if status < 0:
        return m, status, np.zeros(0), np.zeros(0), 0.0
    X = np.zeros(x.size)
    X[pos[:m]] = xs[:m]
    keep = xs[:m] != 0
    r = y - AT[rows[:m][keep]].T @ xs[:m][keep]
    return m, status, X, r, 0.5 * float(r @ r) + float(weights @ np.abs(X))


class LamResult:
    """What the path records of one ``lam``."""

    __slots__ = ("x", "objective", "n_iter", "converged", "gap")

    def __init__(self, x, objective, n_iter, converged, gap):
        self.x, self.objective, self.n_iter, self.converged, self.gap = x, objective, n_iter, converged, gap


class BlockPath:
    """Solver state along one path: iterate, residual, ``A^T r``, Lipschitz constants, Gram of supports.

    Parameters
    ----------
    loss : LeastSquares
        Dense design (float64).
    penalty : Penalty
        Block-separable; its ``lam`` is replaced at each :meth:`solve`.
    max_outer, max_epochs, p0, gap_freq, anderson :
        As in :func:`solve_block`.
    """

    def __init__(self, loss, penalty, max_outer=None, max_epochs=10_000, p0=10, gap_freq=10, anderson=True):
        from .working_set import _design_of

        self.loss, self.penalty = loss, penalty
        self.design = _design_of(loss)       # products and column norms, shared with solve_block (kept on the datafit)
        self.n, self.p = self.design.n, self.design.p
        owner = "solve_block"   # the options are solve_block's, checked as it checks them
        self.max_outer = 100 if max_outer is None else check_int(max_outer, "max_outer", low=1, owner=owner)
        self.max_epochs = check_int(max_epochs, "max_epochs", low=1, owner=owner)
        self.p0 = check_int(p0, "p0", low=1, owner=owner)
        self.gap_freq = check_int(gap_freq, "gap_freq", low=1, owner=owner)
        if not isinstance(anderson, (bool, np.bool_)):
            raise ParameterTypeError(f"The 'anderson' parameter of {owner} must be a bool. Got {anderson!r} instead.")
        self.anderson = bool(anderson)
        self.epoch, self.dual_scaling, self.threshold_norms, self.ws_gradient, self.ws_residual = _kernels()
        self._polish_kernel = polish_numba if NUMBA_ENABLED else polish_numpy
        self.x_shape = tuple(loss.x_shape)
        self.Y = np.ascontiguousarray(np.asarray(loss.y, dtype=float).reshape(self.n, -1).T)   # (k, n)
        self.k = self.Y.shape[0]
        self.yy = float(np.vdot(self.Y, self.Y))
        self.X = np.zeros((self.p, self.k))
        self.R = self.Y.copy()
        self.U = None                        # A^T R as (p, k) when known
        self.layout = None                   # (idx, ptr) of the penalty's blocks
        self._unit = None                    # the blocks at lam = 1 (False: the thresholds do not scale with lam)
        self.lips = None
        self.V = None
        self._Aty = None                     # A^T y, for the polish
        self._L = np.zeros((0, 0))           # lower Cholesky factor of the support's Gram in L[:m, :m] (polish)
        self._m = 0
        self._order = np.zeros(0, dtype=np.int64)   # its features in [:m] (capacity as L's)
        self._rows = np.zeros(0, dtype=np.int64)    # their rows in the path's column store
        self._mark = np.zeros(self.p, dtype=bool)
        self._slot = None                    # the row of each design column in self._cache (-1: not copied yet)
        self._cache = None
        self._used = 0
        self._where = np.zeros(self.p, dtype=np.int64)

    # ------------------------------------------------------------------ set-up per lam
    def _columns(self, cols):
        """``(AT, rows)``: design column ``cols[j]`` is the contiguous row ``AT[rows[j]]``; rows never move.

        ``AT`` is ``A.T`` for a Fortran-ordered ``A``; otherwise a store to
        which each column is copied once, when it first enters a working set
        (a C-ordered column touches one cache line per entry). The support's
        Cholesky factor refers to columns by these rows from one ``lam`` to
        the next, so the store belongs to the path and only grows (at most
        one copy of ``A``).
        """
        A = self.design.A
        if A.flags.f_contiguous:
            return A.T, cols
        if self._slot is None:
            self._slot = np.full(self.p, -1, dtype=np.int64)
            self._cache = np.empty((min(self.p, max(64, 4 * cols.size)), self.n))
        new = cols[self._slot[cols] < 0]        # the working set's columns are distinct
        if new.size:
            stop = self._used + new.size
            if stop > self._cache.shape[0]:     # grow geometrically, never beyond A's size
                grown = np.empty((min(self.p, max(stop, 2 * self._cache.shape[0])), self.n))
                grown[:self._used] = self._cache[:self._used]
                self._cache = grown
            self._cache[self._used:stop] = A.T[new]
            self._slot[new] = np.arange(self._used, stop)
            self._used = stop
        return self._cache, self._slot[cols]

    def spec_at(self, lam):
        """The block description at ``lam``; ``None`` when it has unpenalized blocks (not handled here).

        A penalty is ``lam * Omega`` (the :class:`~structsparse.penalties.Penalty`
        contract), so its thresholds scale with ``lam``: they are described once
        at ``lam = 1`` and scaled (rebuilding the description cost about 0.1 ms
        per ``lam``, a fifth of a small-support ``lam``'s solve). The first
        ``lam`` checks that scaling against the penalty's own description; a
        penalty that does not scale keeps one description per ``lam``.
        """
        lam = float(lam)
        if not lam > 0:
            return None
        if self._unit is not None and self._unit is not False:
            unit = self._unit
            return BlockSpec(unit.idx, unit.ptr, lam * unit.t1, lam * unit.t2)
        spec = block_spec(self.penalty.with_lam(lam), self.p, owner="path")
        if np.any(spec.unpenalized):
            return None
        if self.layout is None:
            self.layout = (spec.idx, spec.ptr)
            self.lips = np.full(spec.n_blocks, -1.0)
            longest = 1 if spec.ptr.size - 1 == spec.idx.size else int(np.diff(spec.ptr).max(initial=1))
            self.V = np.zeros((longest, self.k))
            unit = block_spec(self.penalty.with_lam(1.0), self.p, owner="path")
            scales = (np.array_equal(unit.idx, spec.idx) and np.array_equal(unit.ptr, spec.ptr)
                      and np.allclose(lam * unit.t1, spec.t1, rtol=1e-12, atol=0)
                      and np.allclose(lam * unit.t2, spec.t2, rtol=1e-12, atol=0))
            self._unit = unit if scales else False
        elif not (np.array_equal(self.layout[0], spec.idx) and np.array_equal(self.layout[1], spec.ptr)):
            return None  # the blocks moved with lam: not a path of one structure
        return spec

    def _lipschitz(self, ws, spec, AT, rows, local_ptr):
        missing = self.lips[ws] < 0
        if np.any(missing):
            pos = np.flatnonzero(missing)
            if spec.ptr.size - 1 == spec.idx.size:   # singletons: the squared column norms
                self.lips[ws[pos]] = self.design.colnorm2[spec.idx[ws[pos]]]
            else:
                sizes = local_ptr[pos + 1] - local_ptr[pos]
                sel = block_columns(np.arange(local_ptr[-1], dtype=np.int64), local_ptr, pos)
                sub_ptr = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
                self.lips[ws[pos]] = group_lipschitz_dense(AT, sub_ptr, rows=rows[sel])
        return self.lips[ws] * (1.0 + 1e-10)   # a hair above: the step never exceeds 1 / ||A_g||^2

    # ------------------------------------------------------------------ one lam
    def solve(self, lam, spec, tol):
        """Solve at ``lam`` from the current state (the previous ``lam``'s solution); returns a LamResult."""
        idx, ptr, t1, t2 = spec.idx, spec.ptr, spec.t1, spec.t2
        bound = np.where(t2 > 0, t2, t1)
        polish = self.k == 1 and not np.any(t2 > 0)
        p_zero = 0.5 * self.yy
        best_dual = -np.inf
        converged, gap, objective, ws_size = False, np.inf, np.inf, 0
        it = 0
        for it in range(self.max_outer + 1):
            if self.U is None:
                self.U = self.design.rmatmat(self.R)
            U = self.U
            s = self.dual_scaling(U, idx, ptr, t1, t2)
            scale = max(1.0, float(s.max()) if s.size else 1.0)
            objective = 0.5 * float(np.vdot(self.R, self.R)) + spec.value(self.X)
            best_dual = max(best_dual, _dual_value(self.Y, self.R / scale, self.yy))
            gap = max(objective - best_dual, 0.0)
            if gap <= max(tol * abs(objective), np.finfo(float).eps * p_zero, np.finfo(float).tiny):
                converged = True
                break
            if it == self.max_outer:
                warnings.warn(f"path: solve_block reached max_outer={self.max_outer} before the tolerance {tol:g} "
                              f"at lam={lam:g}; the result may be inaccurate (gap={gap:.3e}).", ConvergenceWarning,
                              stacklevel=4)
                break
            lhs = self.threshold_norms(U, idx, ptr, t1, t2, 1.0)
            ws = self._working_set(spec, lhs - bound)
            ws_size = ws.size
            inner_tol = max(0.3 * gap, 0.5 * tol * objective)
            if ws_size == spec.n_blocks and best_dual > 0:
                inner_tol = tol * best_dual   # the subproblem is the whole problem: solve it to tol at once
            self._subproblem(ws, spec, inner_tol, polish)
            self.U = None
        return LamResult(self.X.reshape(self.x_shape).copy(), objective, it, converged, gap)

    def _working_set(self, spec, score):
        """The support, plus the most violating other groups: ``max(p0, min(support + violators, 2 support))``."""
        idx, ptr = spec.idx, spec.ptr
        if self.k == 1 and ptr.size - 1 == idx.size:
            nonzero = self.X[idx, 0] != 0
        else:
            nonzero = np.add.reduceat(np.abs(self.X[idx]).sum(axis=1), ptr[:-1]) > 0
        n_nonzero = int(nonzero.sum())
        n_violating = int(np.count_nonzero(score[~nonzero] > 0))
        size = max(self.p0, min(n_nonzero + n_violating, 2 * n_nonzero))
        n_blocks = ptr.size - 1
        if size >= n_blocks:
            return np.arange(n_blocks)
        if size == n_nonzero + n_violating:   # every violator fits: exactly the support and the violators
            return np.flatnonzero(nonzero | (score > 0))
        score = np.where(nonzero, np.inf, score)
        top = np.argpartition(-score, size - 1)[:size]
        return np.sort(top)

    def _subproblem(self, ws, spec, inner_tol, polish):
        """Block coordinate descent (with Anderson steps and polishing) on the groups ``ws``; updates X, R."""
        idx, ptr = spec.idx, spec.ptr
        singletons = ptr.size - 1 == idx.size
        if singletons:   # the lasso's layout: one feature per block, no per-block bookkeeping
            cols = idx[ws]
            local_ptr = np.arange(ws.size + 1, dtype=np.int64)
            sizes = None
        else:
            sizes = ptr[ws + 1] - ptr[ws]
            cols = block_columns(idx, ptr, ws)
            local_ptr = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
        local_idx = local_ptr[:-1] if singletons else np.arange(cols.size, dtype=np.int64)
        t1, t2 = spec.t1[ws], spec.t2[ws]
        AT, rows = self._columns(cols)
        lips = None   # computed when an epoch runs (polishing often solves the subproblem without one)
        weights = (t1 if singletons else np.repeat(t1, sizes)) if polish else None
        Xw = np.ascontiguousarray(self.X[cols])
        R = np.ascontiguousarray(self.R)
        Y, yy = self.Y, self.yy
        has_l2 = bool(np.any(t2 > 0))
        starts = local_ptr[:-1]

        def value(Xw, R):
            if singletons and self.k == 1:
                pen = (t1 + t2) @ np.abs(Xw[:, 0])
            else:
                pen = t1 @ np.add.reduceat(np.abs(Xw).sum(axis=1), starts)
                if has_l2:
                    pen += t2 @ np.sqrt(np.add.reduceat((Xw * Xw).sum(axis=1), starts))
            return 0.5 * float(np.vdot(R, R)) + float(pen)

        iterates = []
        tried = None   # signs at the last polish: the same signs would give the same step
        polished = False
        current = None   # the objective at (Xw, R) when known
        # polishing: check (and polish) more often, a whole step ends the subproblem at once
        check_every = min(self.gap_freq, _POLISH_CHECK) if polish else self.gap_freq
        for epochs in range(0, self.max_epochs + 1):
            if epochs:
                if lips is None:
                    lips = self._lipschitz(ws, spec, AT, rows, local_ptr)
                self.epoch(AT, rows, R, Xw, local_ptr, t1, t2, lips, self.V)
                current = None
                if self.anderson:
                    iterates.append(Xw.ravel().copy())
                    if len(iterates) == _ANDERSON_K + 1:
                        Xw, R = self._extrapolate(iterates, Xw, R, AT, rows, value)
                        iterates = []
                if epochs % check_every:
                    continue
            if polish:
                # at epoch 0 this is the homotopy step from the previous lam's solution on its support
                now = np.sign(Xw[:, 0])
                if tried is None or not np.array_equal(now, tried):
                    tried = now
                    done = self._polish(cols, AT, rows, Xw, R, weights, value, current)
                    if done is not None:
                        Xw, R, current = done
                        iterates = []
                        polished = True
            if not epochs and not polished:
                continue
            done = False
            for rounds in range(_ENTER_ROUNDS + 1):
                Uw = self.ws_gradient(AT, rows, R)
                s = self.dual_scaling(Uw, local_idx, local_ptr, t1, t2)
                scale = max(1.0, float(s.max()) if s.size else 1.0)
                if current is None:
                    current = value(Xw, R)
                if current - _dual_value(Y, R / scale, yy) <= inner_tol:
                    done = True
                    break
                if not polished or rounds == _ENTER_ROUNDS:
                    break
                # features of the working set at zero that violate their condition enter with the sign of
                # their correlation, and the polish goes on from here (instead of epochs to find them)
                enter = np.flatnonzero((Xw[:, 0] == 0) & (np.abs(Uw[:, 0]) > weights))
                if not enter.size:
                    break
                step = self._polish(cols, AT, rows, Xw, R, weights, value, current, enter, np.sign(Uw[enter, 0]))
                if step is None or not step[2] < current:
                    break
                Xw, R, current = step
                iterates = []
                tried = np.sign(Xw[:, 0])
            if done:
                break
        self.X[cols] = Xw
        self.R = R

    def _extrapolate(self, iterates, Xw, R, AT, rows, value):
        """Anderson extrapolation of the last iterates, kept only if it lowers the objective."""
        from .working_set import anderson_weights

        last = np.asarray(iterates)
        c = anderson_weights(last)
        if c is None:
            return Xw, R
        X_acc = np.ascontiguousarray((c @ last[1:]).reshape(Xw.shape))
        R_acc = self.ws_residual(AT, rows, X_acc, self.Y)
        if value(X_acc, R_acc) < value(Xw, R):
            return X_acc, R_acc
        return Xw, R

    # ------------------------------------------------------------------ polishing (l1 penalties, one target)
    def _polish(self, cols, AT, rows, Xw, R, weights, value, current=None, enter=None, enter_sign=None):
        """Newton steps to the minimizer on the signed support, each stopped at the first sign change (homotopy).

        On the orthant of the current signs the objective is the quadratic
        ``0.5 ||A_S x - y||^2 + (w_S * sign_S)^T x``; its minimizer ``z`` solves
        ``(A_S^T A_S) z = A_S^T y - w_S * sign_S``. A step goes from ``x`` towards
        ``z`` until the first coordinate reaches zero, which then leaves the
        support; the objective decreases all along. Steps repeat on the
        smaller support (the factor is downdated, not rebuilt) until one is
        whole: it lands on the exact minimizer over the working set's features
        that are nonzero, which with the right support is the optimum.
        ``enter`` (positions in the working set, at zero) join the support
        with the signs ``enter_sign``; ``current`` is the objective at
        ``(Xw, R)`` when known. Returns ``(X, R, objective)``, or ``None``
        when there is nothing to gain.
        """
        x = Xw[:, 0]
        signs = np.sign(x)
        if enter is not None:
            signs[enter] = enter_sign
        n_on = int(np.count_nonzero(signs))
        if n_on == 0 or n_on > min(self.n, _POLISH_MAX):
            return None
        if self._m + n_on > self._L.shape[0]:   # room for the whole support: the kernel appends in place
            cap = max(self._m + n_on, 2 * self._L.shape[0], 64)
            grown = np.zeros((cap, cap))
            grown[:self._m, :self._m] = self._L[:self._m, :self._m]
            self._L = grown
            for name in ("_order", "_rows"):
                buf = np.zeros(cap, dtype=np.int64)
                buf[:self._m] = getattr(self, name)[:self._m]
                setattr(self, name, buf)
        if self._Aty is None:
            self._Aty = np.asarray(self.design.rmatmat(self.Y))[:, 0]
        m, status, X_new, R_new, new = self._polish_kernel(
            self._L, self._m, self._order, self._rows, x, signs, cols, rows, AT, self.Y[0], self._Aty, weights,
            self._mark, self._where, _POLISH_STEPS)
        self._m = m
        if status < 0:
            return None
        if new <= (value(Xw, R) if current is None else current):
            return X_new.reshape(-1, 1), R_new.reshape(1, -1), new
        return None
