"""Greedy and thresholding recovery: (model-based) CoSaMP, (model-based) IHT, block-OMP.

Model-based variants (Baraniuk, Cevher, Duarte, Hegde 2010) replace the
best ``K``-term approximation by the model's best approximation
(``model.approx_support``); with the plain :class:`Sparse` model they are
the classical algorithms (Needell and Tropp 2009 for CoSaMP; Blumensath and
Davies 2010 for normalized IHT). Block-OMP is Eldar, Kuppinger and
Bolcskei (2010). Every method ends with a least-squares fit on its final
support (debiasing), the usual practice; ``n_iter`` counts the main loop.
"""

import numpy as np
from scipy.sparse.linalg import LinearOperator

from .._linalg import restricted_lstsq
from .operators import DenseOperator, columns

__all__ = ["cosamp", "iht", "block_omp"]


def _ops(A):
    if isinstance(A, np.ndarray):
        return (lambda x: A @ x), (lambda r: A.T @ r)
    return A.matvec, A.rmatvec


# a fast (matrix-free) operator solves least squares on a support by LSQR, never forming A[:, S], when the
# block would have more than this many entries, or more columns than MATRIX_FREE_COLUMNS: forming it costs
# one operator product per column, LSQR two per iteration
MATRIX_FREE_ENTRIES = 4_000_000
MATRIX_FREE_COLUMNS = 64
# relative cut-off of the singular values in the dense least-squares fits
RCOND = 1e-10


def _matrix_free(A, S):
    size = np.asarray(S).size
    return (isinstance(A, LinearOperator) and not isinstance(A, DenseOperator)
            and (A.shape[0] * size > MATRIX_FREE_ENTRIES or size > MATRIX_FREE_COLUMNS))


def _lstsq_on(A, y, S, x0=None, precise=True):
    """Least squares on the columns ``S`` (minimum-norm when there are more columns than rows).

    Returns ``(x_S, A[:, S])``; for a fast operator with many columns the
    second is ``None`` and ``x_S`` comes from LSQR on the restricted operator
    (warm-started at ``x0``): sensing operators with near-orthogonal rows make
    ``A[:, S]`` well conditioned, so a few dozen iterations suffice
    (``precise=False``, for the inner steps of CoSaMP, stops earlier).
    Dense blocks use the normal equations when well conditioned, else a
    minimum-norm fit with singular values below ``RCOND`` counted as zero: with
    LAPACK's default, a support whose columns are dependent to rounding (the
    coarse 2-D wavelets under a variable-density Fourier mask at 32 x 32) came
    back with coefficients of 1e13.
    """
    if _matrix_free(A, S):
        tol, iter_lim = (1e-8, 50) if precise else (1e-5, 30)
        return restricted_lstsq(A, y, S, x0=x0, tol=tol, iter_lim=iter_lim)[0], None
    AS = columns(A, S)
    return restricted_lstsq(AS, y, rcond=RCOND, normal_equations=True)[0], AS


def _debias(A, y, x):
    S = np.flatnonzero(x)
    if S.size == 0 or S.size > A.shape[0]:
        return x
    xs, _ = _lstsq_on(A, y, S, x[S])
    out = np.zeros_like(x)
    out[S] = xs
    return out


def cosamp(A, y, model, *, tol=1e-10, max_iter=100, stall=5):
    """(Model-based) CoSaMP.

    Each iteration: proxy ``A^T r``; merge the support of its best
    approximation of twice the size with the current support; least squares
    on the merged support; keep its best approximation in the model.

    Parameters
    ----------
    A : ndarray or LinearOperator
    y : ndarray
    model : SignalModel
        Its ``approx_support`` defines the method (plain ``Sparse`` gives CoSaMP).
    tol : float
        Stop when ``||r|| <= tol ||y||``.
    max_iter : int
    stall : int
        Stop after this many iterations without a decrease of the residual
        by at least 0.1 % (the best iterate is kept).

    Returns
    -------
    x, info
    """
    mat, rmat = _ops(A)
    n = A.shape[1]
    ynorm = max(np.linalg.norm(y), 1e-300)
    k2 = min(2 * model.k, model.k_max)
    x = np.zeros(n)
    r = y.copy()
    best = (np.linalg.norm(r), x)
    since = 0
    it = 0
    converged = False
    for it in range(1, max_iter + 1):
        proxy = np.asarray(rmat(r))
        omega = model.approx_support(proxy, k2)
        T = np.union1d(omega, np.flatnonzero(x))
        bT, _ = _lstsq_on(A, y, T, x[T] if _matrix_free(A, T) else None, precise=False)
        b = np.zeros(n)
        b[T] = bT
        x = model.approx(b)
        r = y - np.asarray(mat(x))
        rn = np.linalg.norm(r)
        if rn < best[0]:
            # progress resets the stall count only when the residual fell by 0.1 % or more: on compressible
            # signals CoSaMP otherwise creeps on for max_iter iterations at a negligible gain
            since = 0 if rn < best[0] * (1 - 1e-3) else since + 1
            best = (rn, x)
        else:
            since += 1
        if rn <= tol * ynorm:
            converged = True
            break
        if since >= stall:
            break
    x = _debias(A, y, best[1])
    rn = np.linalg.norm(y - np.asarray(mat(x)))
    converged = converged or rn <= tol * ynorm
    msg = "residual below tol" if converged else ("residual stalled" if since >= stall else "reached max_iter")
    return x, {"n_iter": it, "converged": converged, "message": msg}


def iht(A, y, model, *, tol=1e-10, max_iter=1000, kappa=2.0, c=0.01):
    """(Model-based) normalized iterative hard thresholding.

    ``x <- approx(x + mu A^T (y - A x))`` with the adaptive step of
    Blumensath and Davies (2010): ``mu = ||g_S||^2 / ||A g_S||^2`` on the
    current support ``S``, shrunk by ``kappa`` while the support changes and
    ``mu > (1 - c) ||x_new - x||^2 / ||A (x_new - x)||^2``.
    """
    mat, rmat = _ops(A)
    n = A.shape[1]
    ynorm = max(np.linalg.norm(y), 1e-300)
    x = np.zeros(n)
    Ax = np.zeros(A.shape[0])
    S = model.approx_support(np.asarray(rmat(y)))
    it = 0
    converged = False
    for it in range(1, max_iter + 1):
        g = np.asarray(rmat(y - Ax))
        gS = np.zeros(n)
        gS[S] = g[S]
        AgS = np.asarray(mat(gS))
        denom = float(AgS @ AgS)
        mu = float(gS @ gS) / denom if denom > 0 else 1.0
        for _ in range(30):
            x_new = model.approx(x + mu * g)
            S_new = np.flatnonzero(x_new)
            if np.array_equal(S_new, S):
                break
            d = x_new - x
            Ad = np.asarray(mat(d))
            bound = (1 - c) * float(d @ d) / max(float(Ad @ Ad), 1e-300)
            if mu <= bound:
                break
            mu /= kappa * (1 - c)
        Ax_new = np.asarray(mat(x_new))
        change = np.linalg.norm(x_new - x)
        x, Ax, S = x_new, Ax_new, np.flatnonzero(x_new)
        rn = np.linalg.norm(y - Ax)
        if rn <= tol * ynorm or change <= tol * max(np.linalg.norm(x), 1e-300):
            converged = rn <= max(tol, 1e-6) * ynorm
            break
    x = _debias(A, y, x)
    rn = np.linalg.norm(y - np.asarray(mat(x)))
    converged = converged or rn <= tol * ynorm
    return x, {"n_iter": it, "converged": converged,
               "message": "residual below tol" if converged else "stopped without fitting y"}


def block_omp(A, y, groups, n_select, *, tol=1e-10):
    """Block orthogonal matching pursuit.

    Select the group whose correlation ``||A_g^T r||`` is largest, refit by
    least squares on all selected groups, repeat ``n_select`` times or until
    ``||r|| <= tol ||y||``.
    """
    mat, rmat = _ops(A)
    n = A.shape[1]
    ynorm = max(np.linalg.norm(y), 1e-300)
    ptr, idx = groups.ptr, groups.indices
    chosen = []
    x = np.zeros(n)
    r = y.copy()
    it = 0
    for it in range(1, n_select + 1):
        c = np.asarray(rmat(r))
        scores = np.sqrt(np.add.reduceat(c[idx] ** 2, ptr[:-1]))
        scores[chosen] = -1.0
        chosen.append(int(np.argmax(scores)))
        S = np.concatenate([idx[ptr[g]:ptr[g + 1]] for g in chosen])
        if S.size > A.shape[0]:
            chosen.pop()
            break
        xs, AS = _lstsq_on(A, y, S)
        x = np.zeros(n)
        x[S] = xs
        r = y - (AS @ xs if AS is not None else np.asarray(mat(x)))
        if np.linalg.norm(r) <= tol * ynorm:
            break
    converged = np.linalg.norm(r) <= tol * ynorm
    return x, {"n_iter": it, "converged": bool(converged),
               "message": "residual below tol" if converged else f"selected {len(chosen)} groups"}
