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

On a ``LinearOperator`` with an ``l1`` or group-lasso penalty (a sum of
disjoint group norms), a stage can run block coordinate descent on dense
columns built for a working set of blocks only (grown from the blocks that
violate the full problem's optimality conditions, checked with one
``A^T r``); the polish and the certificate then use those columns too. The
two ways race by operator products: a FISTA iteration costs two (``A x``
and ``A^T r``), a column built from unit vectors one, a column from the
operator's own ``columns(idx)`` method (an optional capability: dense
``A[:, idx]`` at ``O(m)`` per column, as for partial transforms) ``m / n``.
A coordinate-descent epoch over the working set is charged ``m |W| / (n
log2 n)`` (a fast transform touches about ``n log2 n`` numbers). The first
stage runs FISTA on the whole operator (from zero the support is unknown,
and its iterations are the race's first estimate); a later stage tries the
working set with a budget of twice the iterations of the last FISTA stage
and gives up, before spending past it, for FISTA on the whole operator from
its last iterate. The products spent on attempts given up are bounded:
while they exceed a quarter of the products of the FISTA stages so far, the
stages run FISTA on the whole operator without an attempt.
"""

import time
import warnings
from dataclasses import dataclass

import numpy as np
import scipy.linalg as sla
from scipy.sparse.linalg import LinearOperator

from .._linalg import _dense_lstsq, columns, restricted_lstsq, rmatvec, single_blas_thread
from .._validation import check_int, check_options, check_scalar
from ..datafits import LeastSquares
from ..exceptions import ConvergenceWarning, ParameterError
from ..penalties import GroupLasso
from ..structure import Groups
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
        The solver of the last stage: ``ss.solve``'s choice on the whole
        design, or ``solve_block`` on a working set's dense columns.
    message : str
    time : float
        Seconds.
    working_set : int
        Most columns of a dense working set a stage was solved on (0 when
        every stage ran on the whole design).
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
    working_set: int = 0

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



def _fit_dense(M, r):
    """Least-squares coefficients of ``r`` on the dense columns ``M``: normal equations with one refinement step
    (an orthogonal solve when the Gram matrix is ill-conditioned)."""
    with single_blas_thread():
        return _dense_lstsq(M, r.reshape(-1, 1), None, True)[:, 0]


_WS_MAX_ENTRIES = 4e6  # largest dense working-set block (m * columns) built from an operator
_UNIT_BATCH = 8  # unit vectors per product when an operator's columns are built by products (cache-sized blocks)
_WASTE_SHARE = 0.25  # working sets stay in the race while the attempts given up cost at most this share of FISTA's
_EPOCHS_PRIOR = 20  # epochs (and full gradients) a working-set solve is predicted to take before one was seen (seen: 12-26)


class _WorkingSetStages:
    """Penalized stages on an operator, solved on dense working sets of blocks, racing FISTA by products.

    Block coordinate descent needs explicit columns; an operator's are built
    only for a working set ``W`` of blocks, by the operator's ``columns(idx)``
    method when it has one or by products with unit vectors. A stage solves
    the problem restricted to ``W``, then one ``A^T r`` checks the blocks
    outside ``W``: the restricted solution is the full one when no block has
    ``||(A^T r)_g|| > lam w_g`` (or the full duality gap is within ``tol``);
    otherwise the most violating blocks join (``W`` at most doubles) and the
    stage repeats.

    Costs are counted in operator products: ``A^T r`` one, a column built
    from unit vectors one, a column from ``columns(idx)`` ``m / n``, and a
    coordinate-descent epoch over the ``m x |W|`` block ``m |W| / (n log2 n)``
    (a fast transform's product touches about ``n log2 n`` numbers; for a
    slower operator this overcharges the working set, which errs towards the
    whole operator). Before each round the stage predicts the round's cost
    (new columns, and as many epochs as the last round took, at least
    ``_EPOCHS_PRIOR``); it gives up, returning its last iterate
    as a warm start for the caller's solver on the whole operator, when the
    spent and predicted products would exceed its ``budget``, when the
    dense block would pass ``_WS_MAX_ENTRIES`` entries, or when ``W`` would
    pass ``m / 2`` columns (near-square blocks are ill-conditioned: block
    coordinate descent then takes hundreds of epochs). Each subproblem is
    held to the epochs left in the budget; a solve that still overspends
    gives up too. Built columns are
    kept for later stages.
    """

    def __init__(self, A, omega, parts):
        self.A = A
        self.omega = omega
        self.idx, self.ptr, self.w = parts
        self.sizes = np.diff(self.ptr)
        m, n = A.shape
        own = getattr(A, "columns", None)
        self.source, self.column_cost = (own, m / n) if callable(own) else (self._unit_columns, 1.0)
        self.pos = np.full(n, -1, np.int64)  # column j of A is the row store[pos[j]] once built
        self.store = np.empty((64, m))  # columns as rows: gathered contiguously, Fortran-ordered for solve_block
        self.count = 0
        self.largest = 0
        self.epochs = _EPOCHS_PRIOR  # epochs (and full gradients) of the last working-set solve
        self.spent = 0.0  # products spent by the last call
        self.wasted = 0.0  # products spent by calls that gave up
        self.entry_cost = 1.0 / (n * max(1.0, np.log2(n)))  # products per number of the block an epoch touches

    def _unit_columns(self, cols):
        """``A[:, cols]`` by products with unit vectors, a few at a time."""
        m, n = self.A.shape
        out = np.empty((m, cols.size))
        for lo in range(0, cols.size, _UNIT_BATCH):
            part = cols[lo:lo + _UNIT_BATCH]
            E = np.zeros((n, part.size))
            E[part, np.arange(part.size)] = 1.0
            out[:, lo:lo + part.size] = np.asarray(self.A.matmat(E)).reshape(m, part.size)
        return out

    def _score(self, g):
        """``||g_b|| / w_b`` per block (infinite where a zero weight meets a nonzero entry)."""
        nz = self.sizes > 0
        sq = np.zeros(self.sizes.size)
        sq[nz] = np.add.reduceat(g[self.idx] ** 2, self.ptr[:-1][nz])
        norms = np.sqrt(sq)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(self.w > 0, norms / np.where(self.w > 0, self.w, 1.0), np.where(norms > 0, np.inf, 0.0))

    def cached(self, cols):
        """The dense columns ``A[:, cols]`` when every one was built already, else ``None``."""
        cols = np.asarray(cols, np.int64)
        if np.any(self.pos[cols] < 0):
            return None
        return self.store[self.pos[cols]].T

    def _dense(self, cols):
        """``A[:, cols]``, building the columns not built yet."""
        new = cols[self.pos[cols] < 0]
        if new.size:
            m = self.A.shape[0]
            block = np.asarray(self.source(new), dtype=float).reshape(m, new.size)
            if self.count + new.size > self.store.shape[0]:
                grown = np.empty((max(2 * self.store.shape[0], self.count + new.size), m))
                grown[:self.count] = self.store[:self.count]
                self.store = grown
            self.store[self.count:self.count + new.size] = block.T
            self.pos[new] = np.arange(self.count, self.count + new.size)
            self.count += new.size
        return self.store[self.pos[cols]].T

    def __call__(self, b, lam, x, Ax, tol, kw, expired, budget=np.inf):
        """Solve the stage ``min 0.5 ||A x - b||^2 + lam Omega(x)`` from ``x`` within ``budget`` products.

        Returns ``(x, n_iter, solver_name, done)``; ``done`` is False when the
        stage gave up (budget or size cap), ``x`` then being its last iterate
        (a warm start for the whole operator). ``self.spent`` holds the
        products the call spent.
        """
        m = self.A.shape[0]
        idx, ptr, sizes = self.idx, self.ptr, self.sizes
        nz = sizes > 0
        on = np.zeros(sizes.size, bool)
        on[nz] = np.logical_or.reduceat(x[idx] != 0, ptr[:-1][nz])
        support = self.idx[np.repeat(on, sizes)]
        self.spent = 0.0
        if (2 * support.size > m or m * support.size > _WS_MAX_ENTRIES
                or self.column_cost * int(np.count_nonzero(self.pos[support] < 0)) + 2.0 > budget):
            return x, 0, "solve_block", False  # the support alone is too large or too dear: not even a check
        score = self._score(rmatvec(self.A, b - Ax))
        self.spent = 1.0  # products spent in this call: the check above
        n_iter, name = 0, "solve_block"
        while True:
            viol = np.flatnonzero(~on & (score > lam) & nz)
            if viol.size:
                # the most violating blocks, up to doubling W, and within m/2 columns (see below)
                order = viol[np.argsort(-score[viol], kind="stable")[:max(10, int(on.sum()))]]
                room = m // 2 - int(sizes[on].sum())
                order = order[np.cumsum(sizes[order]) <= room]
                if order.size == 0:
                    return x, n_iter, name, False  # violated, and no room left: FISTA's regime
                on[order] = True
            W = np.flatnonzero(on & nz)
            cols = np.concatenate([idx[ptr[g]:ptr[g + 1]] for g in W]) if W.size else np.zeros(0, np.int64)
            if cols.size == 0:
                return np.zeros_like(x), n_iter, name, True
            building = self.column_cost * int(np.count_nonzero(self.pos[cols] < 0))
            epoch = m * cols.size * self.entry_cost
            predicted = building + max(self.epochs, _EPOCHS_PRIOR) * epoch + 1.0
            # past m/2 columns the block is near square and ill-conditioned: hundreds of epochs, FISTA's regime
            if 2 * cols.size > m or m * cols.size > _WS_MAX_ENTRIES or self.spent + predicted > budget:
                return x, n_iter, name, False
            self.largest = max(self.largest, int(cols.size))
            AW = self._dense(cols)
            # Omega restricted to W is the sum of W's group norms (builds the l1 norm as singletons too)
            sub_ptr = np.concatenate([[0], np.cumsum(sizes[W])]).astype(np.int64)
            pen = GroupLasso(Groups(np.arange(cols.size, dtype=np.int64), sub_ptr, int(cols.size),
                                    weights=self.w[W]), lam)
            # the epochs left in the budget bound each subproblem (ill-conditioned near-square supports take hundreds)
            allowed = int(max(1.0, (budget - self.spent - building - 1.0) / epoch)) if np.isfinite(budget) else None
            sub_kw = dict(kw) if allowed is None else {**kw, "max_epochs": min(allowed, kw.get("max_epochs", allowed))}
            res = solve(LeastSquares(AW, b), pen, tol=tol, x0=x[cols], solver="solve_block", **sub_kw)
            n_iter += res.n_iter
            name = res.solver
            self.epochs = int(np.sum(res.history.get("epochs", []))) + res.n_iter  # one full gradient an outer step
            self.spent += building + self.epochs * epoch + 1.0  # the solve and the check below
            x = np.zeros_like(x)
            x[cols] = res.x
            if self.spent > budget or not res.converged:
                return x, n_iter, name, False  # more epochs than predicted, or stopped by them: FISTA finishes
            r = b - AW @ res.x
            score = self._score(rmatvec(self.A, r))
            worst = float(np.max(score[~on & nz])) if np.any(~on & nz) else 0.0
            if worst <= lam:
                return x, n_iter, name, True
            # the full problem's duality gap at the scaled residual: within tol, the restricted solution serves
            scale = min(1.0, lam / float(np.max(score)))
            primal = 0.5 * float(r @ r) + lam * float(self.omega.omega(x))
            dual = 0.5 * float(b @ b) - 0.5 * float(np.sum((b - scale * r) ** 2))
            if primal - dual <= tol * max(primal, np.finfo(float).tiny):
                return x, n_iter, name, True
            if expired():
                return x, n_iter, name, True  # the time limit: the caller reports it


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
    stages_ws = None  # the working-set stages, when used (their largest working set is reported)
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
                                  message=message, time=time.perf_counter() - start,
                                  working_set=0 if stages_ws is None else stages_ws.largest)

    if ynorm == 0.0:
        return result(np.zeros(n), 0.0, 0.0, 0.0, True, True, 0, 0, 0.0, "", "y is zero: x = 0 is optimal")
    lam_max = float(omega.dual_norm(rmatvec(A, y)))
    if not np.isfinite(lam_max) or lam_max <= 0:
        raise ParameterError(f"{owner}: the dual norm of A^T y is {lam_max}; the penalty must penalize every "
                             "variable (no free variables) for the constrained program.")
    parts = _group_parts(omega, n)
    blocks = _blocks(omega, n)
    explicit = not isinstance(A, LinearOperator)
    # an operator with a sum of disjoint group norms (l1, group lasso): stages may run on dense working sets of
    # blocks (solve_block), unless the caller chose the solver or passed it options
    working = None
    if (solver == "auto" and not explicit and not options and parts is not None and blocks is not None
            and np.unique(parts[0]).size == parts[0].size):  # a block-separable sum of disjoint group norms
        working = stages_ws = _WorkingSetStages(A, omega, parts)
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
        dense = None if stages_ws is None else stages_ws.cached(S)  # the working set's dense columns
        if not explicit and dense is None and 2 * S.size > m:
            # an operator's restricted least squares is iterative, and near-square supports are ill-conditioned
            # (thousands of LSQR steps); without dense columns an operator gets no certificate anyway, and the
            # correction on every column (offered after the stage) is the cheaper feasible point
            return None
        tried.add(key)  # at most m columns (full rank) polish to one point whatever x is
        cand = np.where(mask, x, 0.0)
        cand[S] += (restricted_lstsq(A, y - matvec(cand), S)[0] if dense is None else
                    _fit_dense(dense, y - matvec(cand)))
        if offer(cand) > resid_tol or parts is None or (not explicit and dense is None):
            return None
        dust = np.abs(cand) <= 1e-9 * float(np.max(np.abs(cand)))
        if np.any(dust[S]):  # rounding dust off the polished point: the certificate needs its exact support
            S = np.flatnonzero(_expand(~dust, blocks))
            key = S.tobytes()
            cand = np.zeros(n)
            dense = None if explicit else stages_ws.cached(S)
            if dense is None and not explicit:
                return None
            cand[S] = restricted_lstsq(A, y, S)[0] if explicit else _fit_dense(dense, y)
            if offer(cand) > resid_tol:
                return None
        if S.size > m or key in certified_tried:
            return None
        certified_tried.add(key)
        # exact certificate on S: u = A_S (A_S^T A_S)^{-1} s, s the gradient of Omega on S
        s = _gradient(cand, parts)[S]
        AS = columns(A, S) if explicit else dense
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
    Ax = np.zeros(m)
    u = np.zeros(m)
    fista_iters = None  # iterations of the last stage run on the whole operator: the race's estimate
    fista_products = 0.0  # products of the FISTA stages
    n_iter, solver_name, message, stage = 0, "", "", 0
    prev_gap = np.inf
    for stage in range(1, max_stages + 1):
        b = y + lam * u
        kw = dict(options)
        if stage_iter is not None:
            kw[stage_key] = stage_iter
        if time_limit is not None and stops_inside:
            kw["callback"] = _deadline_callback(start + time_limit, kw.get("callback"))
        done = False
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)  # the bounds below judge every stage
            # the race, from the second stage: the working set may spend the products of the last FISTA stage (two
            # a step), while the attempts given up so far stay within a quarter of all FISTA stages' products
            if working is not None and fista_iters is not None and working.wasted <= _WASTE_SHARE * fista_products:
                wkw = {k: v for k, v in kw.items() if k != stage_key}
                if stage_iter is not None:
                    wkw["max_outer"] = stage_iter
                expired = (lambda: time.perf_counter() >= start + time_limit) if time_limit is not None else (
                    lambda: False)
                x, ws_iter, solver_name, done = working(b, lam, x, Ax, tol, wkw, expired, 2.0 * fista_iters)
                n_iter += ws_iter
                if not done:
                    working.wasted += working.spent
            if not done:
                res = solve(LeastSquares(A, b, lipschitz=lipschitz), omega.with_lam(lam), tol=tol, x0=x,
                            solver=solver, **kw)
                solver_name = res.solver
                n_iter += res.n_iter
                x = res.x
                fista_iters = res.n_iter
                fista_products += 2.0 * res.n_iter
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
