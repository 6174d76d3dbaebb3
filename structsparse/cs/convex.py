"""Convex recovery: basis pursuit, group basis pursuit, their denoising forms, tree lasso.

Noiseless, the recovery programs are constrained::

    minimize  sum_g w_g ||x_g||_2   subject to  A x = y      (group basis pursuit; l1 with singletons)

They are solved by a continuation of the penalized problem
``0.5 ||A x - y||^2 + lam * Omega(x)`` with decreasing ``lam``, each stage
solved on a small working set of groups (a tight restarted-FISTA loop over
the dense working-set columns: the subproblems are tiny and many, so the
general solver's per-call validation and line search would dominate) and
checked against the full problem's optimality conditions before moving on. After
each stage the support found is *polished*: ``x_S`` solves ``A_S x_S = y``
and a dual certificate is formed, ``u = A_S (A_S^T A_S)^{-1} s`` with ``s_g =
w_g x_g / ||x_g||`` (the limit of ``(y - A x_lam) / lam`` along the path).
If ``||A_g^T u|| < w_g`` for every group outside ``S``, ``x`` satisfies the
optimality conditions of the constrained program and is its unique
solution: the result is exact, not merely close. Without a certificate at
the smallest ``lam`` the last penalized solution is returned with
``converged=False``.

With a noise level, the penalized (denoising) problem is solved once with
``lam`` set from the noise: the 90 % quantile of ``Omega^*(A^T e)`` over
draws of the noise ``e`` (the smallest ``lam`` that keeps pure noise out
of the solution with that probability), solved by :func:`structsparse.fista`.
"""

import warnings

import numpy as np
import scipy.linalg as sla

from ..exceptions import ConvergenceWarning
from ..datafits import LeastSquares
from .greedy import _lstsq_on
from .operators import columns

__all__ = ["group_basis_pursuit", "penalized_recovery", "tree_basis_pursuit", "noise_lambda"]


def _fista(loss, penalty, x0, tol, max_iter):
    import structsparse as ss  # the public solver entry point

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # the outer loop checks optimality itself
        return ss.fista(loss, penalty, x0=x0, tol=tol, max_iter=max_iter)


class _Stage:
    """Result of one working-set stage (the fields the continuation reads)."""

    def __init__(self, x, n_iter):
        self.x, self.n_iter = x, n_iter


def _group_lasso_stage(AW, y, ptr, weights, lam, x0, L, tol, max_iter):
    """FISTA with restart for ``0.5 ||AW x - y||^2 + lam sum_g w_g ||x_g||`` on a small dense working set.

    The groups are consecutive (``ptr``). A tight loop for the many small
    subproblems of the continuation: no validation, one product with ``AW``
    and one with ``AW^T`` per iteration, fixed step ``1/L`` with ``L`` an
    upper bound, duality gap checked every 10 iterations.
    """
    sizes = np.diff(ptr)
    thr_w = lam * np.repeat(weights, sizes) / L
    starts = ptr[:-1]
    x = x0.copy()
    z = x.copy()
    t = 1.0
    AT = AW.T
    k = 0
    for k in range(1, max_iter + 1):
        g = AT @ (AW @ z - y)
        v = z - g / L
        nrm = np.sqrt(np.add.reduceat(v * v, starts))
        scale = np.maximum(0.0, 1.0 - thr_w / np.maximum(np.repeat(nrm, sizes), 1e-300))
        x_new = v * scale
        if float((z - x_new) @ (x_new - x)) > 0:
            t = 1.0  # restart: momentum points uphill
        t_new = 0.5 * (1 + np.sqrt(1 + 4 * t * t))
        z = x_new + ((t - 1) / t_new) * (x_new - x)
        x, t = x_new, t_new
        if k % 10 == 0:
            r = y - AW @ x
            c = AT @ r
            dn = float(np.max(np.sqrt(np.add.reduceat(c * c, starts)) / weights))
            theta = r / max(1.0, dn / lam)
            primal = 0.5 * float(r @ r) + lam * float(weights @ np.sqrt(np.add.reduceat(x * x, starts)))
            dual = 0.5 * float(y @ y) - 0.5 * float((y - theta) @ (y - theta))
            if primal - dual <= tol * max(primal, 1e-300):
                break
    return _Stage(x, k)


def _group_norms(v, groups):
    sq = np.add.reduceat(v[groups.indices] ** 2, groups.ptr[:-1])
    return np.sqrt(sq)


def _power_norm_sq(M, n_iter=12):
    """A quick estimate of ``||M||_2^2`` (FISTA's backtracking corrects an underestimate)."""
    v = np.ones(M.shape[1]) / np.sqrt(M.shape[1])
    est = 0.0
    for _ in range(n_iter):
        w = M.T @ (M @ v)
        est = float(np.linalg.norm(w))
        if est == 0.0:
            return 1.0
        v = w / est
    return est * 1.05


def _norm_sq_bound(M):
    """An upper bound on ``||M||_2^2`` (fixed FISTA steps need one): power iteration plus a safety margin."""
    return _power_norm_sq(M, n_iter=30) * 1.1


def _certify(A, y, groups, S, cols_of, tol_resid=1e-9):
    """Polish on the groups ``S`` and test the dual certificate.

    Returns ``(cols, x_S, certified, margin, u, A^T u)``; ``x_S`` is None when
    no exact fit on ``S`` exists.
    """
    cols = np.concatenate([cols_of[g] for g in S])
    if cols.size > A.shape[0]:
        return None, None, False, np.inf, None, None
    AS = columns(A, cols)
    gram = AS.T @ AS
    try:
        cf = sla.cho_factor(gram, check_finite=False)
    except np.linalg.LinAlgError:
        return None, None, False, np.inf, None, None
    xs = sla.cho_solve(cf, AS.T @ y, check_finite=False)
    if np.linalg.norm(AS @ xs - y) > tol_resid * max(np.linalg.norm(y), 1e-300):
        return cols, None, False, np.inf, None, None
    s = np.empty_like(xs)
    pos = 0
    for g in S:
        size = cols_of[g].size
        blk = xs[pos:pos + size]
        nrm = np.linalg.norm(blk)
        if nrm == 0:
            return cols, None, False, np.inf, None, None
        s[pos:pos + size] = groups.weights[g] * blk / nrm
        pos += size
    u = AS @ sla.cho_solve(cf, s, check_finite=False)
    Atu = np.asarray(A.T @ u if isinstance(A, np.ndarray) else A.rmatvec(u))
    scores = _group_norms(Atu, groups)
    out = np.ones(groups.n_groups, bool)
    out[S] = False
    w = groups.weights[out]
    worst = float(np.max(scores[out] / np.where(w > 0, w, np.inf))) if out.any() else 0.0
    return cols, xs, worst < 1.0 - 1e-9, worst, u, Atu


def _best_mixture(y, u_a, z_a, u_b, z_b, groups, wpos, n_grid=64):
    """Largest dual bound ``y^T u / Omega^*(A^T u)`` over ``u = (1 - t) u_a + t u_b``, ``t`` in a grid.

    ``u_a`` (the path's residual) is feasible but loose, ``u_b`` (the
    least-squares certificate) is tight but may be slightly infeasible; a
    mixture is often both. No product with ``A`` is needed: ``z = A^T u``
    is mixed the same way.
    """
    t = np.linspace(0.0, 1.0, n_grid)[:, None]
    Z = (1 - t) * z_a + t * z_b
    dn = np.sqrt(np.add.reduceat(Z[:, groups.indices] ** 2, groups.ptr[:-1], axis=1)) / wpos
    vals = ((1 - t[:, 0]) * float(y @ u_a) + t[:, 0] * float(y @ u_b)) / np.maximum(dn.max(axis=1), 1e-300)
    return float(vals.max())


def group_basis_pursuit(A, y, groups, *, ratio=0.5, lam_min_ratio=1e-6, tol=1e-6, gap_tol=1e-6, max_iter=8000, stage_iter=1000):
    """Solve ``min sum_g w_g ||x_g|| s.t. A x = y`` by certified continuation (see the module notes).

    Parameters
    ----------
    A : ndarray or LinearOperator, shape (m, n)
    y : ndarray, shape (m,)
    groups : Groups
        Disjoint groups covering all variables (singletons give basis pursuit).
    ratio : float
        Factor between consecutive ``lam``.
    lam_min_ratio : float
        Smallest ``lam`` as a fraction of ``lam_max``.
    tol : float
        Relative duality-gap tolerance of each penalized stage.
    gap_tol : float
        Stop when a polished exact fit ``x`` has ``Omega(x) - lower <= gap_tol * Omega(x)``, with
        ``lower`` the best dual bound ``y^T u`` over the stages' scaled dual points.
    max_iter : int
        Budget of solver iterations over all stages.
    stage_iter : int
        Iteration limit of each working-set solve.

    Returns
    -------
    x : ndarray
    info : dict
        ``n_iter``, ``converged`` (certificate or gap reached), ``message``, ``gap``,
        ``certificate_margin`` (largest ``||A_g^T u|| / w_g`` off the support).
    """
    m, n = A.shape
    rmat = (lambda r: A.T @ r) if isinstance(A, np.ndarray) else A.rmatvec
    mat = (lambda x: A @ x) if isinstance(A, np.ndarray) else A.matvec
    cols_of = [groups.indices[groups.ptr[g]:groups.ptr[g + 1]] for g in range(groups.n_groups)]
    w = groups.weights
    wpos = np.where(w > 0, w, np.inf)
    x = np.zeros(n)
    if not np.any(y):
        return x, {"n_iter": 0, "converged": True, "message": "y is zero", "certificate_margin": 0.0}
    scores = _group_norms(np.asarray(rmat(y)), groups) / wpos
    lam_max = float(scores.max())
    lam = lam_max * ratio
    W = np.zeros(0, dtype=np.int64)
    n_iter, margin, message = 0, np.inf, ""
    lower, upper, best = 0.0, np.inf, None
    L_cache = {}
    while True:
        # working-set solve of the penalized problem at this lam
        for round_ in range(50):
            r = y - mat(x)
            scores = _group_norms(np.asarray(rmat(r)), groups) / wpos
            viol = np.flatnonzero(scores > lam * (1 + 1e-6))
            viol = viol[~np.isin(viol, W)]
            if viol.size == 0 and W.size and round_ > 0:
                break  # the working-set solution at this lam is optimal for the full problem
            n_add = max(5, W.size // 2)
            new = viol[np.argsort(-scores[viol])[:n_add]]
            # keep the groups already active; drop the inactive ones of the old set
            active = W[[np.any(x[cols_of[g]]) for g in W]] if W.size else W
            W = np.concatenate([active, new])
            cols = np.concatenate([cols_of[g] for g in W])
            AW = columns(A, cols)
            key = tuple(W.tolist())
            if key not in L_cache:
                L_cache = {key: _norm_sq_bound(AW)}
            sub_ptr = np.concatenate([[0], np.cumsum(np.diff(groups.ptr)[W])])
            res = _group_lasso_stage(AW, y, sub_ptr, groups.weights[W], lam, x[cols], L_cache[key], tol,
                                     max(10, min(stage_iter, max_iter - n_iter)))
            n_iter += res.n_iter
            x = np.zeros(n)
            x[cols] = res.x
            if n_iter >= max_iter:
                break
        # lower bound on the optimum from the stage's dual point u = r / lam (scaled to be feasible)
        r = y - mat(x)
        z_lam = np.asarray(rmat(r)) / lam
        u_lam = r / lam
        lower = max(lower, float(y @ u_lam) / max(1.0, float((_group_norms(z_lam, groups) / wpos).max())))
        # polish candidate supports (the groups above a few relative thresholds): exact certificate or gap
        norms = _group_norms(x, groups)
        top = norms.max() if norms.size else 0.0
        tried = set()
        for rel in (1e-1, 1e-2, 1e-3, 1e-4, 0.0):
            S = np.flatnonzero(norms > rel * top) if top > 0 else np.zeros(0, np.int64)
            key = tuple(S.tolist())
            if not S.size or key in tried:
                continue
            tried.add(key)
            cols, xs, ok, mg, u_ls, z_ls = _certify(A, y, groups, S, cols_of)
            margin = min(margin, mg)
            if xs is None:
                continue  # not an exact fit: not feasible for the constrained program
            lower = max(lower, _best_mixture(y, u_lam, z_lam, u_ls, z_ls, groups, wpos))
            cand = np.zeros(n)
            cand[cols] = xs
            cn = _group_norms(cand, groups)
            cand[np.repeat(cn <= 1e-12 * cn.max(), np.diff(groups.ptr))[np.argsort(groups.indices)]] = 0.0  # rounding dust
            value = float(groups.weights @ _group_norms(cand, groups))
            if value < upper * (1 - 1e-12):  # a larger support must be really better, not rounding
                upper, best = value, cand
            if ok:
                return cand, {"n_iter": n_iter, "converged": True, "certificate_margin": mg, "gap": 0.0,
                              "message": f"certified optimal (dual certificate margin {1 - mg:.2e}) "
                                         f"at lam/lam_max={lam / lam_max:.1e}"}
        if best is not None and upper - lower <= gap_tol * upper:
            return best, {"n_iter": n_iter, "converged": True, "certificate_margin": margin,
                          "gap": (upper - lower) / upper,
                          "message": f"relative duality gap {(upper - lower) / upper:.1e} <= {gap_tol:g} "
                                     f"at lam/lam_max={lam / lam_max:.1e}"}
        if n_iter >= max_iter:
            message = f"iteration budget {max_iter} spent without a certificate"
            break
        if lam <= lam_max * lam_min_ratio:
            message = f"no dual certificate down to lam/lam_max={lam / lam_max:.1e}"
            break
        if np.linalg.norm(r) <= 1e-11 * np.linalg.norm(y):
            # the penalized solution already fits y to rounding: smaller lam changes nothing
            # (and a line search on a zero objective only meets rounding noise)
            message = f"exact fit without a certificate at lam/lam_max={lam / lam_max:.1e}"
            break
        lam *= ratio
    gap = (upper - lower) / upper if best is not None else None
    return x, {"n_iter": n_iter, "converged": False, "message": message, "certificate_margin": margin, "gap": gap}


def noise_lambda(A, penalty, noise, rng=None, n_draws=20, quantile=0.9):
    """``lam`` for denoising: a quantile of ``Omega^*(A^T e)`` over draws ``e ~ N(0, noise^2 I)``."""
    rng = np.random.default_rng(rng if rng is not None else 0)
    m = A.shape[0]
    rmat = (lambda r: A.T @ r) if isinstance(A, np.ndarray) else A.rmatvec
    vals = [penalty.dual_norm(np.asarray(rmat(noise * rng.standard_normal(m)))) for _ in range(n_draws)]
    return float(np.quantile(vals, quantile))


def penalized_recovery(A, y, penalty, noise, *, tol=1e-8, max_iter=20000):
    """Denoising: minimize ``0.5 ||A x - y||^2 + lam Omega(x)`` with ``lam`` from :func:`noise_lambda`."""
    lam = noise_lambda(A, penalty.with_lam(1.0), noise)
    res = _fista(LeastSquares(A, y), penalty.with_lam(lam), None, tol, max_iter)
    return res.x, {"n_iter": res.n_iter, "converged": res.converged, "lam": lam,
                   "message": f"penalized with lam={lam:.3g} from noise level {noise:g}: {res.message}"}


def tree_basis_pursuit(A, y, tree_penalty, *, ratio=0.3, lam_min_ratio=1e-6, tol=1e-8, max_iter=30000):
    """Noiseless tree-lasso recovery: continuation on ``lam`` with least-squares polishing.

    The tree lasso is not separable, so no cheap certificate is formed:
    the continuation stops when the polished solution on the current
    support fits ``y`` exactly and that support did not change since the
    previous stage (a heuristic; ``converged`` says which case occurred).
    """
    m, n = A.shape
    loss = LeastSquares(A, y)
    lam_max = float(tree_penalty.with_lam(1.0).dual_norm(np.asarray(loss.rmatvec(y))))
    x = np.zeros(n)
    if lam_max == 0:
        return x, {"n_iter": 0, "converged": True, "message": "y is zero"}
    lam = lam_max * ratio
    n_iter, prev = 0, None
    best = (np.inf, x)
    while True:
        res = _fista(loss, tree_penalty.with_lam(lam), x, tol, max(50, max_iter - n_iter))
        n_iter += res.n_iter
        x = res.x
        S = np.flatnonzero(x)
        if 0 < S.size <= m:
            xs, _ = _lstsq_on(A, y, S)  # matrix-free for fast operators on large (2-D) problems
            polished = np.zeros(n)
            polished[S] = xs
            Ap = A @ polished if isinstance(A, np.ndarray) else A.matvec(polished)
            resid = np.linalg.norm(np.asarray(Ap) - y) / max(np.linalg.norm(y), 1e-300)
            if resid < best[0]:
                best = (resid, polished)
            if resid <= 1e-9 and prev is not None and np.array_equal(prev, S):
                return polished, {"n_iter": n_iter, "converged": True,
                                  "message": f"support stable and fitted exactly at lam/lam_max={lam / lam_max:.1e}"}
        prev = S
        if lam <= lam_max * lam_min_ratio or n_iter >= max_iter:
            break
        lam *= ratio
    return best[1] if best[0] <= 1e-6 else x, {
        "n_iter": n_iter, "converged": False, "message": "continuation ended without a stable exact fit"}
