"""Equality-constrained norm minimization, ``min Omega(x) s.t. A x = y``, by continuation on penalized problems.

The constrained program (basis pursuit for ``l1``, group basis pursuit, the
noiseless tree lasso, ...) is solved through a sequence of penalized
problems, each handed to :func:`~structsparse.solvers.solve.solve`::

    x_k = argmin 0.5 ||A x - b_k||^2 + lam_k Omega(x),   b_k = y + lam_k u_{k-1},
    u_k = (b_k - A x_k) / lam_k

with ``lam_k`` decreasing geometrically from ``ratio * lam_max`` to a floor
and warm starts ``x_{k-1}``. With ``u_0 = 0`` the first stages are the plain
continuation of the penalized problem; adding the residual back into the
target (``b_k``) makes the sequence the method of multipliers (augmented
Lagrangian, equivalently Bregman iteration) of the constrained program,
which converges at a fixed ``lam``: the stages never have to reach the
ill-conditioned regime ``lam -> 0``.

Every stage gives two bounds on the optimal value ``Omega*``:

* a lower bound from weak duality, ``y^T u / Omega^*(A^T u) <= Omega*``
  for any ``u`` (here the multiplier ``u_k``, the least-squares
  certificate below, and mixtures of the two);
* an upper bound ``Omega(x_c)`` from a feasible point: ``x_c = x_k +
  A_S^+ (y - A x_k)`` on the support ``S`` of ``x_k`` (for ``|S| <= m``
  columns of full rank this is the least-squares polish of the support).

The loop stops when the relative gap ``(upper - lower) / upper`` is at most
``gap_tol`` for a point whose relative residual is at most ``resid_tol``.
When the penalty is a sum of group norms (its ``norm_groups`` capability)
and the support has at most ``m`` variables, the support is also tested for
an exact certificate: with ``s`` the gradient of ``Omega`` at ``x_c`` on
``S``, any ``u`` with ``A_S^T u = s`` has ``y^T u = Omega(x_c)``; if also
``Omega^*(A^T u) <= 1``, ``x_c`` is optimal (the result is exact,
``certified=True``). Two such ``u`` are tried: the multiplier ``u_k``
projected onto ``{u : A_S^T u = s}`` (near the dual optimum off ``S``), and
the least-squares one ``A_S (A_S^T A_S)^{-1} s``.
"""

import time
import warnings
from dataclasses import dataclass

import numpy as np
import scipy.linalg as sla
from scipy.sparse.linalg import LinearOperator

from .._linalg import columns, restricted_lstsq, rmatvec, single_blas_thread
from .._validation import check_int, check_options, check_scalar
from ..datafits import LeastSquares
from ..exceptions import ConvergenceWarning, ParameterError
from .capabilities import SOLVER_SPECS, auto_solver
from .solve import _accepted, outer_alias, solve

__all__ = ["continuation", "ContinuationResult"]


@dataclass(frozen=True)
class ContinuationResult:
    """Outcome of :func:`continuation`.

    Attributes
    ----------
    x : ndarray
        The best feasible point found (smallest ``Omega`` among points with
        relative residual at most ``resid_tol``), else the last stage's solution.
    objective : float
        ``Omega(x)`` (without ``lam``).
    lower : float
        Best lower bound on the optimal value (weak duality).
    gap : float
        Relative objective gap ``(objective - lower) / objective`` (``inf``
        when no feasible point was found).
    residual : float
        Relative residual ``||A x - y|| / ||y||``.
    converged : bool
        ``gap <= gap_tol`` and ``residual <= resid_tol`` (or certified).
    certified : bool
        An exact dual certificate proves ``x`` optimal.
    n_iter : int
        Solver iterations over all stages.
    n_stages : int
        Penalized problems solved.
    lam : float
        ``lam`` of the last stage.
    solver : str
        The solver ``ss.solve`` ran on the stages.
    message : str
    time : float
        Seconds.
    """

    x: np.ndarray
    objective: float
    lower: float
    gap: float
    residual: float
    converged: bool
    certified: bool
    n_iter: int
    n_stages: int
    lam: float
    solver: str
    message: str
    time: float

    def __repr__(self):
        return (f"ContinuationResult(objective={self.objective:.6g}, gap={self.gap:.1e}, "
                f"residual={self.residual:.1e}, converged={self.converged}, certified={self.certified}, "
                f"n_stages={self.n_stages}, solver={self.solver!r})")


def _group_parts(penalty, n):
    """``(idx, ptr, weights)`` of a sum of group norms, or ``None``."""
    if "norm_groups" not in penalty.capabilities:
        return None
    parts = penalty.norm_groups(n)
    if parts is None:
        return None
    idx, ptr, w = (np.asarray(a) for a in parts)
    return idx.astype(np.int64), ptr.astype(np.int64), w.astype(float)


def _gradient(x, parts):
    """Gradient of ``sum_g w_g ||x[g]||`` at ``x`` (groups of zero norm contribute nothing)."""
    idx, ptr, w = parts
    sizes = np.diff(ptr)
    sq = np.zeros(sizes.size)
    nz = sizes > 0
    sq[nz] = np.add.reduceat(x[idx] ** 2, ptr[:-1][nz]) if idx.size else 0.0
    norms = np.sqrt(sq)
    coef = np.where(norms > 0, w / np.where(norms > 0, norms, 1.0), 0.0)
    g = np.zeros_like(x)
    np.add.at(g, idx, np.repeat(coef, sizes) * x[idx])
    return g


def _blocks(penalty, n):
    """Disjoint blocks ``(idx, ptr)`` of a block-separable penalty, or ``None`` (supports stay variable-wise)."""
    if "block_thresholds" not in penalty.capabilities:
        return None
    spec = penalty.block_thresholds(n)
    return None if spec is None else (np.asarray(spec[0], np.int64), np.asarray(spec[1], np.int64))


def _dual_support(z, blocks, m):
    """The blocks of largest ``||z_g||_2 / sqrt(|g|)``, up to ``m`` variables in all.

    At the optimum the support lies where the dual constraint is tight
    (``|z_j| = 1`` for basis pursuit); ranking by the multiplier's
    ``z = A^T u`` guesses a support of the size of a vertex (``m``), whose
    polish fits ``y`` exactly.
    """
    idx, ptr = blocks
    sizes = np.diff(ptr)
    nz = sizes > 0
    score = np.zeros(sizes.size)
    score[nz] = np.sqrt(np.add.reduceat(z[idx] ** 2, ptr[:-1][nz]) / sizes[nz])
    order = np.argsort(-score, kind="stable")
    keep = order[np.cumsum(sizes[order]) <= m]
    mask = np.zeros(z.shape[0], bool)
    for g in keep:
        mask[idx[ptr[g]:ptr[g + 1]]] = True
    return mask


def _expand(mask, blocks):
    """Smallest union of blocks containing ``mask``."""
    if blocks is None:
        return mask
    idx, ptr = blocks
    sizes = np.diff(ptr)
    hit = np.zeros(sizes.size, bool)
    nz = sizes > 0
    hit[nz] = np.logical_or.reduceat(mask[idx], ptr[:-1][nz])
    out = np.zeros_like(mask)
    out[idx[np.repeat(hit, sizes)]] = True
    return out


class _MinNormCorrection:
    """``d = A^+ r``, the smallest correction with ``A d = r`` (``A`` of full row rank).

    Dense ``A`` with fewer rows than columns: ``A^T (A A^T)^{-1} r`` through
    one Cholesky factor of the ``m x m`` Gram matrix, computed on first use;
    otherwise the restricted least-squares helper on every column.
    """

    def __init__(self, A):
        self.A = A
        self.factor = None

    def __call__(self, r):
        A = self.A
        if isinstance(A, np.ndarray) and A.shape[0] <= A.shape[1]:
            if self.factor is None:
                with single_blas_thread():
                    try:
                        self.factor = sla.cho_factor(A @ A.T, check_finite=False)
                    except np.linalg.LinAlgError:
                        self.factor = False
            if self.factor is not False:
                return A.T @ sla.cho_solve(self.factor, r, check_finite=False)
        return restricted_lstsq(A, r, np.arange(A.shape[1]))[0]



def _deadline_callback(deadline, user_callback=None):
    """A solver callback that stops the solver at ``deadline`` (``time.perf_counter`` seconds), or when the
    user's own callback asks to."""
    def stop(k, x, info):
        if user_callback is not None and user_callback(k, x, info):
            return True
        return time.perf_counter() >= deadline

    return stop

def continuation(A, y, penalty, *, gap_tol=1e-6, resid_tol=1e-9, tol=1e-8, ratio=0.1, lam_min_ratio=None,
                 max_stages=100, max_iter=None, time_limit=None, solver="auto", warn=True, stage_iter=None,
                 **options):
    """Solve ``min Omega(x) subject to A x = y`` by warm-started penalized stages (see the module notes).

    Parameters
    ----------
    A : ndarray, scipy.sparse matrix or LinearOperator, shape (m, n)
    y : ndarray, shape (m,)
    penalty : Penalty
        Gives ``Omega`` (its ``lam`` is ignored); needs a dual norm.
    gap_tol : float, default 1e-6
        Stop when the relative gap between the best feasible objective and
        the best dual bound is at most this.
    resid_tol : float, default 1e-9
        Largest relative residual ``||A x - y|| / ||y||`` of a point counted
        as feasible.
    tol : float, default 1e-8
        Relative duality-gap tolerance of each penalized stage (``ss.solve``'s ``tol``).
    ratio : float in (0, 1), default 0.1
        Factor between consecutive ``lam`` until the floor.
    lam_min_ratio : float in (0, 1], optional
        The floor of ``lam`` as a fraction of ``lam_max``; the stages then
        continue at the floor (multiplier updates) until the gap closes,
        the floor being lowered by 0.3 whenever a stage fails to halve the
        gap (at most down to ``0.01 * lam_min_ratio * lam_max``).
        Default: 1e-2 when the stages run block coordinate descent (it slows
        down sharply on the nearly square supports of small ``lam``), 1e-4
        otherwise (FISTA). A smaller floor needs fewer multiplier updates,
        each harder to solve.
    max_stages : int, default 100
        Most penalized problems.
    max_iter : int, optional
        Budget of solver iterations over all stages.
    time_limit : float, optional
        Seconds of wall-clock time: no new stage starts after it, and a stage's solver that takes a
        ``callback`` (every solver of this package) is stopped at it too, so the run overshoots by at most
        one solver iteration and one certificate check.
    solver : str, default "auto"
        Passed to ``ss.solve``.
    warn : bool, default True
        Issue a :class:`ConvergenceWarning` when stopping without meeting the tolerances.
    stage_iter : int, optional
        Iteration bound of each stage's solver (its ``max_iter``, or
        ``max_outer`` for :func:`~structsparse.solve_block`).
    **options
        Passed to ``ss.solve``; an option the stages' solver does not take
        raises :class:`ParameterError` before any work.

    Returns
    -------
    ContinuationResult

    Examples
    --------
    >>> import numpy as np, structsparse as ss
    >>> rng = np.random.default_rng(0)
    >>> A = rng.standard_normal((40, 100)); x0 = np.zeros(100); x0[[3, 50, 70]] = [1.0, -2.0, 0.5]
    >>> res = continuation(A, A @ x0, ss.L1(1.0))
    >>> bool(res.converged), bool(np.allclose(res.x, x0))
    (True, True)
    """
    owner = "continuation"
    start = time.perf_counter()
    gap_tol = check_scalar(gap_tol, "gap_tol", low=0, owner=owner)
    resid_tol = check_scalar(resid_tol, "resid_tol", low=0, owner=owner)
    tol = check_scalar(tol, "tol", low=0, low_inclusive=False, owner=owner)
    ratio = check_scalar(ratio, "ratio", low=0, high=1, low_inclusive=False, high_inclusive=False, owner=owner)
    if lam_min_ratio is not None:
        lam_min_ratio = check_scalar(lam_min_ratio, "lam_min_ratio", low=0, high=1, low_inclusive=False,
                                     owner=owner)
    max_stages = check_int(max_stages, "max_stages", low=1, owner=owner)
    if max_iter is not None:
        max_iter = check_int(max_iter, "max_iter", low=1, owner=owner)
    if time_limit is not None:
        time_limit = check_scalar(time_limit, "time_limit", low=0, low_inclusive=False, owner=owner)
    if "dual_norm" not in getattr(penalty, "capabilities", frozenset()):
        raise ParameterError(f"The 'penalty' parameter of {owner} needs a dual norm (for the certificate); "
                             f"{type(penalty).__name__} has none.")
    fit = LeastSquares(A, y)
    if fit.y.ndim != 1:
        raise ParameterError(f"The 'y' parameter of {owner} must be a vector. Got shape {fit.y.shape}.")
    y = np.array(fit.y)
    A = fit.A
    m, n = A.shape
    omega = penalty.with_lam(1.0)
    ynorm = float(np.linalg.norm(y))

    def matvec(v):
        return np.asarray(A @ v).ravel()

    def result(x, value, lower, resid, converged, certified, n_iter, n_stages, lam, solver_name, message):
        gap = (value - lower) / value if np.isfinite(lower) and value > 0 else (0.0 if value == 0 else np.inf)
        if not converged and warn:
            warnings.warn(f"{owner}: {message}", ConvergenceWarning, stacklevel=3)
        return ContinuationResult(x=x, objective=float(value), lower=float(max(lower, 0.0)), gap=float(max(gap, 0.0)),
                                  residual=float(resid), converged=bool(converged), certified=bool(certified),
                                  n_iter=int(n_iter), n_stages=int(n_stages), lam=float(lam), solver=solver_name,
                                  message=message, time=time.perf_counter() - start)

    if ynorm == 0.0:
        return result(np.zeros(n), 0.0, 0.0, 0.0, True, True, 0, 0, 0.0, "", "y is zero: x = 0 is optimal")
    lam_max = float(omega.dual_norm(rmatvec(A, y)))
    if not np.isfinite(lam_max) or lam_max <= 0:
        raise ParameterError(f"{owner}: the dual norm of A^T y is {lam_max}; the penalty must penalize every "
                             "variable (no free variables) for the constrained program.")
    parts = _group_parts(omega, n)
    blocks = _blocks(omega, n)
    explicit = not isinstance(A, LinearOperator)
    if solver == "auto":
        solver = auto_solver(fit, omega)
    # each stage's iteration bound: solve_block counts outer working-set iterations (max_outer)
    stage_key = "max_outer" if solver == "solve_block" else "max_iter"
    if solver == "solve_block" and "max_iter" in options:
        options = outer_alias(owner, options, stacklevel=2)
    stops_inside = False  # whether the stages' solver takes a callback, through which the time limit stops it
    if solver in SOLVER_SPECS:
        accepted, var_kw = _accepted(solver, SOLVER_SPECS[solver].function())
        check_options(owner, options, None if var_kw else accepted - {"x0", "tol"},
                      target=f"the solver {solver!r}")
        stops_inside = var_kw or "callback" in accepted
    # a global Lipschitz constant only for the solvers that step with one (one estimate, reused by every stage)
    lipschitz = None if solver == "solve_block" else fit.lipschitz
    if lam_min_ratio is None:
        lam_min_ratio = 1e-2 if solver == "solve_block" else 1e-4
    lowest = lam_max * lam_min_ratio * 1e-2  # the adaptive floor goes at most two decades lower
    min_norm_correction = _MinNormCorrection(A)
    state = {"lower": 0.0, "upper": np.inf, "best": None, "resid": np.inf}
    tried, certified_tried = set(), set()

    def offer(cand):
        """Record a candidate point; return its relative residual."""
        resid = float(np.linalg.norm(matvec(cand) - y)) / ynorm
        if resid <= resid_tol:
            value = float(omega.omega(cand))
            if value < state["upper"]:
                state.update(upper=value, best=cand, resid=resid)
        elif state["best"] is None:
            state["resid"] = min(state["resid"], resid)
        return resid

    def closed():
        return state["best"] is not None and state["upper"] - state["lower"] <= gap_tol * state["upper"]

    def polish(mask, x, u, z, dn):
        """Correct ``x`` on the support ``mask`` onto ``A x = y``; test its certificate. Returns a certified point or None."""
        S = np.flatnonzero(mask)
        key = S.tobytes()
        if S.size == 0 or S.size > m or key in tried:
            return None  # more columns than rows: the correction on every column (cheaper) is offered instead
        if not explicit and 2 * S.size > m:
            # an operator's restricted least squares is iterative, and near-square supports are ill-conditioned
            # (thousands of LSQR steps); an operator gets no certificate anyway, and the correction on every
            # column (offered after the stage) is the cheaper feasible point
            return None
        tried.add(key)  # at most m columns (full rank) polish to one point whatever x is
        cand = np.where(mask, x, 0.0)
        cand[S] += restricted_lstsq(A, y - matvec(cand), S)[0]
        if offer(cand) > resid_tol or parts is None or not explicit:
            return None
        dust = np.abs(cand) <= 1e-9 * float(np.max(np.abs(cand)))
        if np.any(dust[S]):  # rounding dust off the polished point: the certificate needs its exact support
            S = np.flatnonzero(_expand(~dust, blocks))
            key = S.tobytes()
            cand = np.zeros(n)
            cand[S] = restricted_lstsq(A, y, S)[0]
            if offer(cand) > resid_tol:
                return None
        if S.size > m or key in certified_tried:
            return None
        certified_tried.add(key)
        # exact certificate on S: u = A_S (A_S^T A_S)^{-1} s, s the gradient of Omega on S
        s = _gradient(cand, parts)[S]
        AS = columns(A, S)
        AS = AS.toarray() if hasattr(AS, "toarray") else np.asarray(AS)
        with single_blas_thread():
            try:
                factor = sla.cho_factor(AS.T @ AS, check_finite=False)
            except np.linalg.LinAlgError:
                return None  # A_S rank deficient: no unique polish, no certificate
            u_ls = AS @ sla.cho_solve(factor, s, check_finite=False)
            # the multiplier projected onto {u : A_S^T u = s}: tight on S, and near the optimum off S
            u_pr = u + AS @ sla.cho_solve(factor, s - AS.T @ u, check_finite=False)
        value = float(omega.omega(cand))
        z_ls = None
        for cert in (u_pr, u_ls):
            zc = rmatvec(A, cert)
            dn_c = float(omega.dual_norm(zc))
            if not np.isfinite(dn_c) or dn_c <= 0:
                continue
            bound = float(y @ cert) / dn_c
            state["lower"] = max(state["lower"], bound)
            if dn_c <= 1.0 + 1e-9 and abs(float(y @ cert) - value) <= 1e-9 * value:
                return cand, value, bound, dn_c
            z_ls, u_ls = zc, cert
        if z_ls is None:
            return None
        # a mixture of the loose multiplier and the tight certificate is often feasible and tight
        if dn > 0 and np.isfinite(dn):
            for t in (0.5, 0.8, 0.9, 0.95, 0.99):
                dt = float(omega.dual_norm((1 - t) * z + t * z_ls))
                if dt > 0:
                    state["lower"] = max(state["lower"], ((1 - t) * float(y @ u) + t * float(y @ u_ls)) / dt)
        return None

    def without_dust():
        """The best point with its rounding dust (entries below 1e-9 of the largest) removed and the rest refitted.

        A feasible point built by a correction on every column carries ~1e-16 entries everywhere; its value ties
        the sparse polished point to rounding, so it can win the comparison. The refit replaces it when it is
        feasible and still within the gap, so the reported support is the solution's, not the rounding's.
        """
        best = state["best"]
        top = float(np.max(np.abs(best)))
        keep = np.abs(best) > 1e-9 * top
        if not explicit or top == 0.0 or keep.all():
            return
        S = np.flatnonzero(_expand(keep, blocks))
        if S.size > m or S.size == best.size:
            return
        cand = np.zeros(n)
        cand[S] = restricted_lstsq(A, y, S)[0]
        resid = float(np.linalg.norm(matvec(cand) - y)) / ynorm
        value = float(omega.omega(cand))
        if resid <= resid_tol and value - state["lower"] <= gap_tol * value:
            state.update(upper=value, best=cand, resid=resid)

    lam = lam_max * ratio
    lam_floor = lam_max * lam_min_ratio
    x = np.zeros(n)
    u = np.zeros(m)
    n_iter, solver_name, message, stage = 0, "", "", 0
    prev_gap = np.inf
    for stage in range(1, max_stages + 1):
        b = y + lam * u
        kw = dict(options)
        if stage_iter is not None:
            kw[stage_key] = stage_iter
        if time_limit is not None and stops_inside:
            kw["callback"] = _deadline_callback(start + time_limit, kw.get("callback"))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)  # the bounds below judge every stage
            res = solve(LeastSquares(A, b, lipschitz=lipschitz), omega.with_lam(lam), tol=tol, x0=x,
                        solver=solver, **kw)
        solver_name = res.solver
        n_iter += res.n_iter
        x = res.x
        Ax = matvec(x)
        u = (b - Ax) / lam
        z = rmatvec(A, u)
        dn = float(omega.dual_norm(z))
        if dn > 0 and np.isfinite(dn):
            state["lower"] = max(state["lower"], float(y @ u) / dn)
        # feasible points, cheapest first: the support of x (and without its rounding dust), the support the
        # multiplier points to (blocks of largest A^T u, m variables), then every column (always feasible)
        top = float(np.max(np.abs(x))) if x.size else 0.0
        makers = [lambda rel=rel: _expand(np.abs(x) > rel * top, blocks) for rel in (0.0, 1e-8, 1e-4)]
        if blocks is not None:
            makers.append(lambda: _dual_support(z, blocks, m))
        for make in makers:
            cert = polish(make(), x, u, z, dn)
            if cert is not None:
                cand, value, bound, dn_ls = cert
                return result(cand, value, min(value, bound), state["resid"] if state["best"] is cand else
                              float(np.linalg.norm(matvec(cand) - y)) / ynorm, True, True, n_iter, stage, lam,
                              solver_name, f"certified optimal (dual certificate, Omega*(A^T u) = {dn_ls:.10f}) "
                              f"at lam/lam_max={lam / lam_max:.1e}, stage {stage}")
            if closed():
                break
        if not closed():
            offer(x + min_norm_correction(y - Ax))
        if closed():
            without_dust()
            upper, lower = state["upper"], state["lower"]
            return result(state["best"], upper, lower, state["resid"], True, False, n_iter, stage, lam, solver_name,
                          f"relative duality gap {(upper - lower) / upper:.1e} <= {gap_tol:g}, residual "
                          f"{state['resid']:.1e} <= {resid_tol:g}, at lam/lam_max={lam / lam_max:.1e}, stage {stage}")
        # at the floor, the multiplier updates converge linearly; when a stage did not halve the gap, the
        # floor is too high for this problem: lower it (harder stages, fewer of them)
        gap_now = ((state["upper"] - state["lower"]) / state["upper"] if state["best"] is not None
                   else np.inf)
        if lam <= lam_floor * (1 + 1e-12) and not gap_now <= 0.5 * prev_gap:
            lam_floor = max(lam_floor * 0.3, lowest)
        prev_gap = gap_now
        if max_iter is not None and n_iter >= max_iter:
            message = f"iteration budget {max_iter} spent"
            break
        if time_limit is not None and time.perf_counter() - start >= time_limit:
            message = f"time limit {time_limit:g} s reached"
            break
        lam = max(lam * ratio, lam_floor)
    else:
        message = f"{max_stages} stages"
    if state["best"] is None:
        value = float(omega.omega(x))
        resid = float(np.linalg.norm(matvec(x) - y)) / ynorm
        return result(x, value, -np.inf, resid, False, False, n_iter, stage, lam, solver_name,
                      f"stopped after {message} without a feasible point (relative residual {resid:.1e} > "
                      f"{resid_tol:g})")
    upper, lower = state["upper"], state["lower"]
    return result(state["best"], upper, lower, state["resid"], False, False, n_iter, stage, lam, solver_name,
                  f"stopped after {message}: relative gap {(upper - lower) / upper:.1e} > {gap_tol:g} "
                  f"(residual {state['resid']:.1e})")
