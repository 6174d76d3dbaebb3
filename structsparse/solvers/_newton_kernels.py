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

One-column blocks (the lasso-type penalties) take a scalar path
(:func:`_singleton_epochs`); given the columns' norms, it skips the zero
coordinates whose model gradient provably stays within the threshold, with
the same iterates (:func:`pn_model_descent_screened_numba`).

:func:`lasso_dual_point_sparse` is the least-squares lasso's Newton dual point
on a scipy.sparse design (the block solver's certificate near the optimum);
its Gram matrix comes from :func:`._design_kernels.csc_gram_numba`.
"""

import numpy as np

from .._numba import NUMBA_ENABLED, njit
from ._block_kernels import _prox_block, _prox_block_numpy, ws_residual_sparse_numba, ws_residual_sparse_numpy
from ._design_kernels import csc_gram_numba, csc_gram_numpy

__all__ = ["lasso_dual_point_sparse",
           "pn_cd_dense_numba", "pn_cd_dense_numpy", "pn_model_descent_numba", "pn_model_descent_screened_numba",
           "subdiff_distance_numba", "subdiff_distance_numpy"]


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


@njit(fastmath={"reassoc", "contract"})
def _weighted_sq_dot(col, h, v):
    """``(sum_i h_i col_i^2, sum_i col_i v_i)`` in one pass over ``col``; reassociation lets both sums
    vectorize. (A product into a scratch vector, then a dot, then the gradient's dot: three passes, which at
    a Newton step's first epoch cost as much as the epoch itself.)"""
    s = 0.0
    t = 0.0
    for i in range(col.size):
        c = col[i]
        s += h[i] * c * c
        t += c * v[i]
    return s, t


@njit(fastmath={"reassoc", "contract"})
def _col_dot(col, v):
    """``sum_i col_i v_i``; reassociation lets the sum vectorize (inline, where ``np.dot`` is a BLAS call)."""
    t = 0.0
    for i in range(col.size):
        t += col[i] * v[i]
    return t


@njit
def _singleton_epochs(AT, cols, t1, t2, lips, G, h, X, hu, max_epochs, tol, colnorm):
    """:func:`pn_cd_dense_numba` when every block is one column (the lasso-type penalties): the same
    updates in the same order, with the scalar soft-threshold and distance written out instead of the block
    routines, and the gradient's dot inline (an epoch over 228 columns of 1000 rows: 120 -> 100 us).

    With ``colnorm`` (the columns' Euclidean norms; empty: none) a zero coordinate whose model gradient
    provably stays within its threshold is not read: ``|G_k + <a_k, hu>| <= |G_k| + ||a_k|| ||hu||``, with
    ``||hu||`` bounded by its value at the epoch's start plus ``|d| ||h a_j|| <= |d| sqrt(max(h) L_j)`` per
    update. Such a coordinate would stay zero, at distance 0 from its subdifferential: the iterates are the
    same. Near a Newton step's solution ``hu`` is small and most zero columns of a working set are skipped.
    """
    n = hu.size
    screen = colnorm.size > 0
    h_max = 0.0
    if screen:
        for i in range(n):
            if h[i] > h_max:
                h_max = h[i]
    kkt = np.inf
    epochs = 0
    while epochs < max_epochs:
        epochs += 1
        kkt = 0.0
        hu_bound = 0.0
        if screen:
            for i in range(n):
                hu_bound += hu[i] * hu[i]
            hu_bound = np.sqrt(hu_bound) * (1.0 + 1e-12)
        for k in range(cols.size):
            if screen and X[k] == 0.0 and abs(G[k]) + colnorm[k] * hu_bound < (t1[k] + t2[k]) * (1.0 - 1e-12):
                continue
            col = AT[cols[k]]
            L = lips[k]
            if L < 0.0:  # sum_i h_i a_ij^2 on first visit, with the gradient in the same pass
                L, dot = _weighted_sq_dot(col, h, hu)
                lips[k] = L
            else:
                dot = _col_dot(col, hu)
            grad = G[k] + dot
            # t1 |x| + t2 |x| on one coordinate: the threshold t1 + t2
            thr = t1[k] + t2[k]
            xk = X[k]
            if xk != 0.0:
                dist = abs(grad + (thr if xk > 0.0 else -thr))
            else:
                dist = abs(grad) - thr
            if dist > kkt:
                kkt = dist
            if L <= 0.0:  # an all-zero column
                continue
            v = xk - grad / L
            step_thr = thr / L
            if v > step_thr:
                new = v - step_thr
            elif v < -step_thr:
                new = v + step_thr
            else:
                new = 0.0
            d = new - xk
            if d != 0.0:
                X[k] = new
                for i in range(n):
                    hu[i] += d * h[i] * col[i]
                if screen:
                    hu_bound += abs(d) * np.sqrt(h_max * L) * (1.0 + 1e-12)
        if kkt <= tol:
            break
    return epochs, kkt


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
    if ptr[n_blocks] == n_blocks:  # every block a single column
        return _singleton_epochs(AT, cols, t1, t2, lips, G, h, X, hu, max_epochs, tol, np.empty(0))
    grad = np.empty(V.shape[0])
    kkt = np.inf
    epochs = 0
    while epochs < max_epochs:
        epochs += 1
        kkt = 0.0
        for g in range(n_blocks):
            a = ptr[g]
            size = ptr[g + 1] - a
            L = lips[g]
            if L < 0.0:  # singleton: sum_i h_i a_ij^2, on first visit, with the gradient in the same pass
                L, dot = _weighted_sq_dot(AT[cols[a]], h, hu)
                lips[g] = L
                grad[0] = G[a] + dot
            else:
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


# ------------------------------------------------------------------------------------ the whole model descent
@njit
def _blocks_penalty(x, ptr, t1, t2):
    """``sum_g t1[g] ||x_g||_1 + t2[g] ||x_g||_2``."""
    total = 0.0
    for g in range(ptr.size - 1):
        l1 = 0.0
        l2 = 0.0
        for j in range(ptr[g], ptr[g + 1]):
            l1 += abs(x[j])
            l2 += x[j] * x[j]
        total += t1[g] * l1 + t2[g] * np.sqrt(l2)
    return total


@njit
def _model_value(G, x, x0, hu, h, ptr, t1, t2, shifted):
    """The model up to a constant: ``G^T (x - x0)`` (``G^T x`` when not ``shifted``) ``+ 0.5 hu^T (hu / h) +
    penalty(x)``."""
    lin = 0.0
    for j in range(x.size):
        lin += G[j] * (x[j] - x0[j] if shifted else x[j])
    quad = 0.0
    for i in range(hu.size):
        quad += hu[i] * hu[i] / h[i]
    return lin + 0.5 * quad + _blocks_penalty(x, ptr, t1, t2)


@njit
def _solve_small(M, b):
    """``M c = b`` by Gaussian elimination with partial pivoting; ``(c, ok)`` (``ok`` False when singular)."""
    k = b.size
    M = M.copy()
    c = b.copy()
    for col in range(k):
        piv = col
        for r in range(col + 1, k):
            if abs(M[r, col]) > abs(M[piv, col]):
                piv = r
        if M[piv, col] == 0.0 or not np.isfinite(M[piv, col]):
            return c, False
        if piv != col:
            for j in range(k):
                M[col, j], M[piv, j] = M[piv, j], M[col, j]
            c[col], c[piv] = c[piv], c[col]
        for r in range(col + 1, k):
            f = M[r, col] / M[col, col]
            for j in range(col, k):
                M[r, j] -= f * M[col, j]
            c[r] -= f * c[col]
    for col in range(k - 1, -1, -1):
        s = c[col]
        for j in range(col + 1, k):
            s -= M[col, j] * c[j]
        c[col] = s / M[col, col]
    return c, True


@njit
def _anderson_phase(AT, cols, ptr, t1, t2, lips, G, h, x, x0, hu, V, tol, budget, n_extra, shifted, colnorm):
    """Epochs over the given blocks until they meet ``tol`` (or ``budget``); every ``n_extra + 1`` epochs the
    last iterates (``x`` and ``hu`` alike: ``hu`` is linear in ``x``) are extrapolated (Anderson) and the result
    kept when it lowers the model. ``x``, ``hu`` updated in place; returns the epochs run."""
    m = x.size
    n = hu.size
    xs = np.empty((n_extra + 1, m))
    hus = np.empty((n_extra + 1, n))
    stored = 0
    epochs = 0
    while epochs < budget:
        ran, kkt = _model_epoch(AT, cols, ptr, t1, t2, lips, G, h, x, hu, V, tol, colnorm)
        epochs += ran
        if kkt <= tol:
            break
        xs[stored] = x
        hus[stored] = hu
        stored += 1
        if stored == n_extra + 1:
            stored = 0
            D = xs[1:] - xs[:-1]
            gram = D @ D.T
            trace = 0.0
            for r in range(n_extra):
                trace += gram[r, r]
            for r in range(n_extra):
                gram[r, r] += 1e-12 * trace
            c, ok = _solve_small(gram, np.ones(n_extra))
            if not ok or not np.all(np.isfinite(c)) or c.sum() == 0.0:
                continue
            c = c / c.sum()
            x_acc = c @ xs[1:]
            hu_acc = c @ hus[1:]
            if (_model_value(G, x_acc, x0, hu_acc, h, ptr, t1, t2, shifted)
                    < _model_value(G, x, x0, hu, h, ptr, t1, t2, shifted)):
                x[:] = x_acc
                hu[:] = hu_acc
    return epochs


@njit
def _model_epoch(AT, cols, ptr, t1, t2, lips, G, h, x, hu, V, tol, colnorm):
    """One epoch of :func:`pn_cd_dense_numba`, screened by ``colnorm`` when given (one-column blocks only)."""
    if colnorm.size > 0:
        return _singleton_epochs(AT, cols, t1, t2, lips, G, h, x, hu, 1, tol, colnorm)
    return pn_cd_dense_numba(AT, cols, ptr, t1, t2, lips, G, h, x, hu, V, 1, tol)


@njit
def pn_model_descent_numba(AT, cols, ptr, t1, t2, lips, G, h, x0, V, tol, max_epochs, n_extra, cycling):
    """:func:`pn_model_descent_screened_numba` without column norms: every coordinate read at every epoch."""
    return pn_model_descent_screened_numba(AT, cols, ptr, t1, t2, lips, G, h, x0, V, tol, max_epochs, n_extra,
                                           cycling, np.empty(0))


@njit
def pn_model_descent_screened_numba(AT, cols, ptr, t1, t2, lips, G, h, x0, V, tol, max_epochs, n_extra, cycling,
                                    colnorm):
    """Coordinate descent on the quadratic model from ``x0`` to the subdifferential distance ``tol``, in one call.

    A full epoch over the working set alternates with epochs over its
    nonzero blocks only (active-set cycling, when ``cycling``), run until
    those meet ``tol``; the solve ends at the first full epoch within
    ``tol``. Each phase extrapolates its iterates every ``n_extra + 1``
    epochs (:func:`_anderson_phase`). Arguments as
    :func:`pn_cd_dense_numba` (``x0`` is not modified); returns
    ``(x, hu, epochs)`` with ``hu = h * A_ws (x - x0)``. Numpy twin:
    :func:`structsparse.solvers._prox_newton._model_descent` with the numpy
    kernel (the same steps in Python).

    ``colnorm``: the working-set columns' Euclidean norms when every block is one column (empty otherwise);
    zero coordinates that provably stay zero are then skipped (:func:`_singleton_epochs`), the same steps.
    """
    if colnorm.size > 0 and (colnorm.size != cols.size or ptr[ptr.size - 1] != ptr.size - 1):
        raise ValueError("pn_model_descent_screened_numba: colnorm needs one-column blocks, one norm each")
    n_blocks = ptr.size - 1
    x = x0.copy()
    hu = np.zeros(h.size)
    epochs = 0
    while epochs < max_epochs:
        ran, kkt = _model_epoch(AT, cols, ptr, t1, t2, lips, G, h, x, hu, V, tol, colnorm)
        epochs += ran
        if kkt <= tol:
            break
        active = np.zeros(n_blocks, dtype=np.bool_)
        n_active = 0
        n_cols = 0
        for g in range(n_blocks):
            for j in range(ptr[g], ptr[g + 1]):
                if x[j] != 0.0:
                    active[g] = True
                    break
            if active[g]:
                n_active += 1
                n_cols += ptr[g + 1] - ptr[g]
        if not cycling or n_active == 0 or n_active == n_blocks:
            epochs += _anderson_phase(AT, cols, ptr, t1, t2, lips, G, h, x, x0, hu, V, tol, max_epochs - epochs,
                                      n_extra, True, colnorm)
            continue
        # the nonzero blocks as a problem of their own (the zero blocks fixed at zero)
        pos = np.empty(n_cols, dtype=np.int64)
        sub_ptr = np.zeros(n_active + 1, dtype=np.int64)
        t1b = np.empty(n_active)
        t2b = np.empty(n_active)
        lipsb = np.empty(n_active)
        b = 0
        k = 0
        for g in range(n_blocks):
            if active[g]:
                for j in range(ptr[g], ptr[g + 1]):
                    pos[k] = j
                    k += 1
                t1b[b], t2b[b], lipsb[b] = t1[g], t2[g], lips[g]
                b += 1
                sub_ptr[b] = k
        sub_cols = cols[pos]
        xb = x[pos]
        epochs += _anderson_phase(AT, sub_cols, sub_ptr, t1b, t2b, lipsb, G[pos], h, xb, x0[pos], hu, V, tol,
                                  max_epochs - epochs, n_extra, False, colnorm[pos] if colnorm.size > 0 else colnorm)
        x[pos] = xb
    return x, hu, epochs


def lasso_dual_point_sparse(data, rows, colptr, u, bound_signed, theta0, use_numba=NUMBA_ENABLED):
    """The lasso's dual point on the support's constraints (sparse columns), or None; to be rescaled.

    For the least-squares lasso with one target, near the optimum the dual
    constraints of the support ``S`` hold with equality, ``A_S^T theta =
    t_S sign(x_S)``: an affine set, on which the dual objective's gradient
    ``y - theta* = A x*`` is orthogonal, so that a point on it loses only
    ``0.5 ||theta - theta*||^2`` of dual value where the rescaled residual
    loses about ``||theta - theta*||`` (the residual's gap is of order the
    square root of the suboptimality, this point's of order the
    suboptimality). With ``theta0 = y - A_S x_S`` (the residual) and ``u =
    A_S^T theta0``, the point ``theta0 - A_S delta`` with ``(A_S^T A_S) delta
    = u - t_S sign(x_S)`` is that set's projection of ``y``: the support
    refitted with its signs fixed. The caller rescales it like any dual point
    (the constraints off the support, and rounding, are not guaranteed), so a
    poor point costs time, never validity.

    Parameters
    ----------
    data, rows, colptr : ndarray
        The support's columns as CSC arrays (``n = theta0.size`` rows).
    u : ndarray, shape (m,)
        ``A_S^T theta0``.
    bound_signed : ndarray, shape (m,)
        ``t_j sign(x_j)``, each constraint's right-hand side on the face.
    theta0 : ndarray, shape (n,)
        The residual the point corrects (not modified).
    use_numba : bool
        The numba kernels or their numpy twins.

    Returns
    -------
    ndarray of shape (n,) or None
        None when the Gram matrix is not positive definite (more columns than
        rows, or dependent ones) or the point is not finite.
    """
    import scipy.linalg

    m = colptr.size - 1
    n = theta0.size
    if m == 0 or m > n:   # more constraints than unknowns: the Gram matrix is singular
        return None
    gram = (csc_gram_numba if use_numba else csc_gram_numpy)(data, rows, colptr, n)
    # a hair of regularization (relative to the trace) keeps near-dependent columns factorizable
    gram[np.diag_indices_from(gram)] += 1e-12 * max(float(np.trace(gram)), np.finfo(float).tiny)
    try:
        factor = scipy.linalg.cho_factor(gram, check_finite=False)
        delta = scipy.linalg.cho_solve(factor, np.asarray(u, dtype=float) - bound_signed, check_finite=False)
    except (np.linalg.LinAlgError, scipy.linalg.LinAlgError):
        return None
    residual = ws_residual_sparse_numba if use_numba else ws_residual_sparse_numpy
    theta = residual(data, rows, colptr, np.ascontiguousarray(delta.reshape(m, 1)),
                     np.ascontiguousarray(theta0, dtype=float).reshape(1, n))[0]
    if not np.all(np.isfinite(theta)):
        return None
    return theta
