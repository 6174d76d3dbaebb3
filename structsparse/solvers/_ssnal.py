"""A semismooth Newton augmented Lagrangian method (SSNAL) for a least-squares group-lasso subproblem.

Block coordinate descent needs many epochs when the support holds more
coefficients than the design has rows: the problem restricted to the support
is then underdetermined, and the coordinates trade mass along the null space
of ``A`` slowly (a 1000 x 10000 Gaussian design with 124 nonzero groups of 50
at 0.001 lam_max: 714 epochs for the last subproblem). The dual problem lives
in the ``n``-dimensional sample space instead, and the augmented Lagrangian
method on it converges fast when each of its subproblems is solved by a
semismooth Newton method (Li, Sun and Toh 2018 for the lasso; Zhang, Zhang,
Sun and Toh 2020 for the sparse-group lasso).

The primal is ``min_x 0.5 ||A x - b||^2 + sum_g t_g ||x_g||_2``. With the
multiplier ``x`` and the dual variable ``s`` (``s = A x - b`` at the
optimum), each outer iteration minimizes over ``s``

    psi(s) = 0.5 ||s||^2 + <b, s> + ||prox_{sigma p}(x - sigma A^T s)||^2 / (2 sigma),

whose gradient is ``s + b - A v`` with ``v = prox_{sigma p}(x - sigma A^T s)``
and whose generalized Hessian is ``I + sigma A P A^T`` (``P`` the prox's
generalized Jacobian, see :mod:`._ssnal_kernels`), then sets ``x = v`` and
raises ``sigma``. Each Newton step factors an ``n x n`` matrix (or an
``m x m`` one when the active columns ``m`` are fewer than ``n``), built from
the active columns only. The method stops on the subproblem's own duality
gap, with the better of two dual points (the residual and ``-s``), each
scaled into the feasible set; the caller certifies the final gap on the whole
problem as before.
"""

from types import SimpleNamespace

import numpy as np
from scipy.linalg import LinAlgError, cho_factor, cho_solve

from ._block_kernels import pure_dual_scale_numpy
from ._ssnal_kernels import (
    ssnal_combine_numba,
    ssnal_combine_numpy,
    ssnal_factor_rows_numba,
    ssnal_factor_rows_numpy,
    ssnal_products_numba,
    ssnal_products_numpy,
)

__all__ = ["ssnal_group_least_squares", "ssnal_loop"]

# sigma grows by this factor after each outer iteration (the outer rate improves with sigma, the Newton
# subproblem's conditioning degrades with it)
_SIGMA_GROWTH = 5.0
_SIGMA_MAX = 1e8
# an outer iteration's Newton steps stop once the subproblem's gradient is this fraction of the last dual
# infeasibility (both relative), or when the gap target is met
_INNER_FRACTION = 0.2
_MAX_INNER = 50
_ARMIJO = 1e-4
# the Newton matrix is accumulated over chunks of about this many active columns (at least n): its factor's
# rows for the whole support would be a copy of the support's columns
_CHUNK_COLUMNS = 2048


def _chunks(active, sizes, columns):
    """Slices of ``active`` whose blocks hold about ``columns`` columns each."""
    ends = np.cumsum(sizes[active])
    cuts = np.searchsorted(ends, np.arange(columns, int(ends[-1]), columns), side="right")
    bounds = np.unique(np.concatenate([[0], cuts, [active.size]]))
    return [slice(a, b) for a, b in zip(bounds[:-1], bounds[1:])]


def _block_norms(v, starts):
    return np.sqrt(np.add.reduceat(v * v, starts)) if starts.size else np.zeros(0)


def ssnal_group_least_squares(AT, rows, ptr, thresholds, b, x0, target_gap, max_newton=200, use_numba=True,
                              sigma0=None):
    """Solve ``min_x 0.5 ||A_ws x - b||^2 + sum_g thresholds[g] ||x_g||_2`` by SSNAL, from ``x0``.

    Parameters
    ----------
    AT : ndarray (rows, n)
        Rows holding the working set's columns (``AT[rows[j]]`` is column ``j``).
    rows : int64 ndarray (m,)
    ptr : int64 ndarray (G + 1,)
        Block ``g`` is the working-set columns ``ptr[g]:ptr[g + 1]`` (none empty).
    thresholds : ndarray (G,)
        Positive weights of the blocks' l2 norms.
    b : ndarray (n,)
    x0 : ndarray (m,)
        Starting point (not modified).
    target_gap : float
        Stop once the subproblem's duality gap is at most this.
    max_newton : int
        Most Newton steps in all; past it the method returns unconverged.
    use_numba : bool
    sigma0 : float, optional
        First penalty parameter; default ``||x0|| / ||A^T (A x0 - b)||`` (the
        two terms of ``x - sigma A^T s`` on the same scale).

    Returns
    -------
    SimpleNamespace
        ``x``, ``residual`` (``b - A_ws x``), ``converged``, ``gap``,
        ``dual`` (the best dual value found, of a point feasible for every
        block; ``-inf`` if none), ``newton`` (steps), ``outer`` (iterations) and ``products`` (full
        passes over the working set's columns, the factorizations' matrix
        products not counted).
    """
    products = ssnal_products_numba if use_numba else ssnal_products_numpy
    combine = ssnal_combine_numba if use_numba else ssnal_combine_numpy
    factor_rows = ssnal_factor_rows_numba if use_numba else ssnal_factor_rows_numpy
    n = b.size
    sizes = np.diff(ptr)

    def matvec(coef):
        return combine(AT, rows, coef, n)

    def rmatvec(d):
        return products(AT, rows, d)

    def newton_direction(active, keep, u, norms, sigma, rhs):
        """``(I + sigma C C^T)^{-1} rhs`` (raises LinAlgError or ValueError when the factorization fails)."""
        w = u / np.repeat(np.where(norms > 0, norms, 1.0), sizes)
        sqrt_alpha = np.sqrt(keep[active])
        if int(sizes[active].sum()) >= n:
            # C C^T summed over chunks of blocks: the rows of C^T never all held at once
            M = np.zeros((n, n))
            for part in _chunks(active, sizes, max(n, _CHUNK_COLUMNS)):
                Ct = factor_rows(AT, rows, ptr, active[part], sqrt_alpha[part], w)
                M += Ct.T @ Ct
            M *= sigma
            M[np.diag_indices(n)] += 1.0
            return cho_solve(cho_factor(M, lower=True, overwrite_a=True, check_finite=False), rhs,
                             check_finite=False)
        # fewer active columns than rows: the m x m system (Woodbury)
        Ct = factor_rows(AT, rows, ptr, active, sqrt_alpha, w)
        K = Ct @ Ct.T
        K *= sigma
        K[np.diag_indices(K.shape[0])] += 1.0
        inner = cho_solve(cho_factor(K, lower=True, overwrite_a=True, check_finite=False), Ct @ rhs,
                          check_finite=False)
        return rhs - sigma * (Ct.T @ inner)

    return ssnal_loop(matvec, rmatvec, newton_direction, ptr, thresholds, b, x0, target_gap, max_newton, sigma0)


def ssnal_loop(matvec, rmatvec, newton_direction, ptr, thresholds, b, x0, target_gap, max_newton=200, sigma0=None):
    """The SSNAL iterations on an operator given by its products (shared by the dense and sparse designs).

    Parameters
    ----------
    matvec : callable
        ``matvec(coef) -> A coef`` (n,).
    rmatvec : callable
        ``rmatvec(d) -> A^T d`` (m,).
    newton_direction : callable
        ``newton_direction(active, keep, u, norms, sigma, rhs)``: the solution of
        ``(I + sigma A P A^T) d = rhs``, ``P`` the group prox's generalized Jacobian at
        ``u`` (``active`` the blocks with ``keep > 0``, ``norms`` the blocks' norms of ``u``);
        it raises ``LinAlgError`` or ``ValueError`` when it cannot solve.
    ptr, thresholds, b, x0, target_gap, max_newton, sigma0
        As in :func:`ssnal_group_least_squares`.

    Returns
    -------
    SimpleNamespace
        As :func:`ssnal_group_least_squares`.
    """
    sizes = np.diff(ptr)
    starts = np.ascontiguousarray(ptr[:-1])
    t = np.asarray(thresholds, dtype=float)
    x = np.array(x0, dtype=float)
    nb = 1.0 + float(np.linalg.norm(b))
    half_bb = 0.5 * float(b @ b)

    def penalty(v):
        return float(t @ _block_norms(v, starts))

    def best_dual(theta, At_theta, best):
        scale = pure_dual_scale_numpy(_block_norms(At_theta, starts), t)   # the block solver's residual scaling
        d = b - theta / scale
        return max(best, half_bb - 0.5 * float(d @ d))

    Ax = matvec(x)
    s = Ax - b                                   # the dual variable, -residual at the optimum
    Ats = rmatvec(s)
    n_products = 2
    if sigma0 is None:
        nx, ns = float(np.linalg.norm(x)), float(np.linalg.norm(Ats))
        sigma0 = nx / ns if nx > 0 and ns > 0 else 1.0
    sigma = float(sigma0)

    def psi(s_, Ats_):
        # the group prox written out (not prox/_group_kernels.group_shrink): the block norms and scales it leaves
        # behind are the generalized Jacobian the Newton step needs
        u = x - sigma * Ats_
        norms = _block_norms(u, starts)
        with np.errstate(divide="ignore", invalid="ignore"):
            keep = np.where(norms > sigma * t, 1.0 - sigma * t / norms, 0.0)
        v = u * np.repeat(keep, sizes)
        return 0.5 * float(s_ @ s_) + float(b @ s_) + float(v @ v) / (2 * sigma), v, u, norms, keep

    newton = outer = 0
    converged = False
    gap = np.inf
    dual_infeasibility = 1.0
    r = -s
    best = -np.inf
    while newton < max_newton and not converged:
        outer += 1
        f, v, u, norms, keep = psi(s, Ats)
        for j in range(_MAX_INNER + 1):
            Av = matvec(v)      # A v for the v that ends the iteration
            grad = s + b - Av
            primal_infeasibility = float(np.linalg.norm(grad)) / nb
            if j > 0 and primal_infeasibility <= _INNER_FRACTION * dual_infeasibility:
                break
            if newton >= max_newton or j == _MAX_INNER:
                break
            newton += 1
            active = np.flatnonzero(keep > 0)
            rhs = -grad
            if active.size:
                try:
                    d = newton_direction(active, keep, u, norms, sigma, rhs)
                except (LinAlgError, ValueError):
                    return _result(x, b - matvec(x), False, gap, best, newton, outer, n_products)
            else:
                d = rhs
            Atd = rmatvec(d)
            n_products += 2
            slope = float(grad @ d)
            step = 1.0
            while True:
                s_new = s + step * d
                Ats_new = Ats + step * Atd
                f_new, v_new, u_new, norms_new, keep_new = psi(s_new, Ats_new)
                if f_new <= f + _ARMIJO * step * slope or step < 1e-12:
                    break
                step *= 0.5
            s, Ats, f, v, u, norms, keep = s_new, Ats_new, f_new, v_new, u_new, norms_new, keep_new
        dual_infeasibility = float(np.linalg.norm(x - v)) / (sigma * (1.0 + float(np.linalg.norm(Ats))))
        x = v
        r = b - Av
        n_products += 1
        primal = 0.5 * float(r @ r) + penalty(x)
        dual = best_dual(-s, -Ats, -np.inf)
        if primal - dual > target_gap:
            dual = best_dual(r, rmatvec(r), dual)
            n_products += 1
        gap = primal - dual
        best = max(best, dual)
        converged = gap <= target_gap
        sigma = min(sigma * _SIGMA_GROWTH, _SIGMA_MAX)
    return _result(x, r, converged, gap, best, newton, outer, n_products)


def _result(x, residual, converged, gap, dual, newton, outer, products):
    return SimpleNamespace(x=x, residual=residual, converged=bool(converged), gap=float(gap), dual=float(dual),
                           newton=newton, outer=outer, products=products)
