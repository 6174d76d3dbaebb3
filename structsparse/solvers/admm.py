"""Consensus ADMM for least squares plus a sum of group norms, overlapping or not.

Problem: ``min_x 0.5 ||A x - y||^2 + lam * sum_g w_g ||x[g]||_2`` where the
groups may share variables. Following Boyd et al. (2011, sections 3.3, 3.4.1
and 7), every group gets its own copy ``z_g = x[g]``; with the sparse
selection matrix ``G`` stacking the copies, the problem is
``min f(x) + sum_g lam w_g ||z_g||`` s.t. ``G x = z``, and scaled ADMM is

* x-update: ``(A^T A + rho D) x = A^T y + rho G^T (z - u)``, with
  ``D = G^T G = diag(counts)`` (how many copies each variable has);
* z-update: block soft-thresholding of ``G x + u`` with ``tau_g = lam w_g / rho``
  (the stacked groups are disjoint, so this is the plain group prox kernel);
* u-update: ``u += G x - z``.

The x-update matrix changes only with ``rho``. It is factored once
(Cholesky of ``A^T A + rho D`` when ``n_samples >= n_features``; Woodbury
with the Cholesky of ``I + A D^-1 A^T / rho`` otherwise, where ``A D^-1 A^T``
is formed once and then ``A x`` comes for free), or the system is solved by
warm-started, Jacobi-preconditioned conjugate gradients (``A`` a
LinearOperator, or ``linear_solver="cg"``) to a tolerance tied to the current
residuals. It is refactored only when residual balancing changes ``rho``.

Variables in no group get a copy of weight zero, which keeps ``D``
positive definite. Penalties that are not sums of group norms (anything with
a prox) are handled with one identity copy, ``z = x``, whose z-update is the
penalty's own prox.
"""

import time
import warnings

import numpy as np
import scipy.sparse as sp
from scipy.linalg import cho_factor, cho_solve
from scipy.linalg.blas import dsyrk
from scipy.sparse.linalg import LinearOperator, cg

from .._numba import NUMBA_ENABLED, read_only_arguments
from .._validation import check_bool, check_choice, check_int, check_scalar
from ..exceptions import ConvergenceWarning, ParameterError, ParameterTypeError
from ..prox.operators import _group_shrink
from ._admm_kernels import z_update_numba, z_update_numpy
from .capabilities import check_inputs
from .result import SolverResult

__all__ = ["admm", "copy_structure", "CopyStructure"]

# the copies' ptr is read-only on some paths and fresh on others: read-only views give the kernel one signature
_z_update = read_only_arguments(z_update_numba) if NUMBA_ENABLED else z_update_numpy

_MU, _TAU = 10.0, 2.0  # residual balancing (Boyd et al. 2011, eq. 3.13)


# ---------------------------------------------------------------------------------------------- copies
class CopyStructure:
    """The copies ``z = G x`` of a sum-of-group-norms penalty.

    Attributes
    ----------
    indices, ptr : ndarray of int64
        Copy ``j`` is variable ``indices[j]``; group ``g`` owns copies ``ptr[g]:ptr[g+1]``.
    weights : ndarray
        ``w_g`` of every group (zero for the padding copies of unpenalized variables).
    counts : ndarray
        Diagonal of ``D = G^T G`` (>= 1).
    Gt : scipy.sparse.csr_matrix, shape (n_features, n_copies)
        ``G^T``, to sum copies back onto the variables.
    prox : callable or None
        For penalties that are not group norms: ``prox(v, step)`` of the penalty on one identity copy.
    """

    def __init__(self, indices, ptr, weights, n_features, prox=None):
        indices = np.asarray(indices, dtype=np.int64)
        ptr = np.asarray(ptr, dtype=np.int64)
        weights = np.asarray(weights, dtype=float)
        counts = np.bincount(indices, minlength=n_features)
        free = np.flatnonzero(counts == 0)
        if free.size:  # unpenalized variables: one zero-weight copy each keeps D invertible
            indices = np.concatenate([indices, free])
            ptr = np.concatenate([ptr, ptr[-1] + 1 + np.arange(free.size)])
            weights = np.concatenate([weights, np.zeros(free.size)])
            counts[free] = 1
        self.indices, self.ptr, self.weights, self.counts = indices, ptr, weights, counts.astype(float)
        self.n_features, self.n_copies = n_features, indices.size
        self.stacked = np.arange(indices.size, dtype=np.int64)  # the copies' own (disjoint) groups
        self.Gt = sp.csr_matrix((np.ones(indices.size), (indices, self.stacked)), shape=(n_features, indices.size))
        self.prox = prox

    def gather(self, x):
        """``G x``."""
        return x[self.indices]

    def scatter(self, z):
        """``G^T z``."""
        return self.Gt @ z

    def norms(self, z):
        """Norm of every group of copies of ``z`` (2-D)."""
        return np.sqrt(np.add.reduceat((z * z).sum(axis=1), self.ptr[:-1]))

    def shrink(self, v, lam, rho):
        """z-update: block soft-threshold of the stacked copies (2-D) by ``lam w_g / rho``."""
        if self.prox is not None:
            return self.prox(v, 1.0 / rho)
        return _group_shrink(v, self.stacked, self.ptr, (lam / rho) * self.weights)


def copy_structure(penalty, n_features, n_targets=1):
    """The copy structure ADMM uses for ``penalty`` on ``n_features`` variables (rows).

    A penalty that declares ``norm_groups`` (a weighted sum of Euclidean
    norms of row subsets, possibly overlapping: l1, group, sparse-group,
    tree and overlapping group lassos) gets one copy per (group, member)
    pair; any other penalty one identity copy handled by its prox.
    """
    declared = penalty.norm_groups(n_features, n_targets)
    if declared is not None:
        indices, ptr, weights = declared
        return CopyStructure(np.asarray(indices, np.int64), np.asarray(ptr, np.int64),
                             np.asarray(weights, float), n_features)

    def prox(v, step):  # v is (n_features, n_targets); a single target goes to the penalty as a vector
        return penalty.prox(v[:, 0] if v.shape[1] == 1 else v, step).reshape(v.shape)

    n = n_features
    return CopyStructure(np.arange(n), np.array([0, n]), np.zeros(1), n, prox=prox)


# ---------------------------------------------------------------------------------------------- x-update
def _as_dense_gram(M):
    return M.toarray() if sp.issparse(M) else np.asarray(M)


class _DirectSolve:
    """Cholesky of ``A^T A + rho D`` (``A^T A`` formed once)."""

    name = "direct"

    def __init__(self, A, y, counts):
        self.AtA = _as_dense_gram(A.T @ A)
        self.counts = counts
        self.yy = 0.5 * float(np.vdot(y, y))
        self.n_factor = 0

    def set_rho(self, rho):
        M = self.AtA.copy()
        M[np.diag_indices_from(M)] += rho * self.counts
        self.factor = cho_factor(M, lower=True, check_finite=False)
        self.n_factor += 1

    def solve(self, b, x_prev, atol, Aty):
        x = cho_solve(self.factor, b, check_finite=False)
        # 0.5 ||Ax - y||^2 without a product with A
        loss = 0.5 * float(np.vdot(x, self.AtA @ x)) - float(np.vdot(x, Aty)) + self.yy
        return x, max(loss, 0.0)


class _WoodburySolve:
    """Woodbury: ``(rho D + A^T A)^-1 = (rho D)^-1 - (rho D)^-1 A^T K^-1 A (rho D)^-1``, ``K = I + S / rho``.

    ``S = A D^-1 A^T`` (``n_samples`` square) is formed once; a change of
    ``rho`` costs one Cholesky of ``K``. Since ``K s = A (rho D)^-1 b``, the
    solution's image ``A x = s`` comes for free.
    """

    name = "woodbury"

    def __init__(self, A, y, counts):
        self.A = A
        self.AT = A.T
        self.inv_counts = 1.0 / counts
        if sp.issparse(A):
            self.S = _as_dense_gram(A @ (sp.diags(self.inv_counts) @ A.T))
        else:
            # symmetric rank-k update: half the flops of a general product; only the upper triangle is
            # filled, which is all the Cholesky (lower=False) reads
            self.S = dsyrk(1.0, np.asarray(A * np.sqrt(self.inv_counts), order="F"))
        self.y = y
        self.n_factor = 0

    def set_rho(self, rho):
        self.rho = rho
        K = self.S / rho
        K[np.diag_indices_from(K)] += 1.0
        self.factor = cho_factor(K, lower=False, check_finite=False)
        self.n_factor += 1

    def solve(self, b, x_prev, atol, Aty):
        scale = self.inv_counts / self.rho
        w = b * (scale if b.ndim == 1 else scale[:, None])
        s = cho_solve(self.factor, np.asarray(self.A @ w), check_finite=False)
        back = np.asarray(self.AT @ s)
        x = w - back * (scale if b.ndim == 1 else scale[:, None])
        r = s - self.y
        return x, 0.5 * float(np.vdot(r, r))


class _CGSolve:
    """Warm-started conjugate gradients on ``(A^T A + rho D) x = b`` with a Jacobi preconditioner."""

    name = "cg"

    def __init__(self, loss, counts):
        self.loss = loss
        self.counts = counts
        A = loss.A
        if isinstance(A, LinearOperator):
            self.col_sq = None  # unknown diagonal of A^T A: precondition by rho D alone
        elif sp.issparse(A):
            self.col_sq = np.asarray(A.multiply(A).sum(axis=0)).ravel()
        else:
            self.col_sq = np.einsum("ij,ij->j", A, A)
        self.n_factor = 0
        self.n_cg = 0

    def set_rho(self, rho):
        self.rho = rho
        diag = rho * self.counts + (0.0 if self.col_sq is None else self.col_sq)
        inv = 1.0 / diag
        n = self.counts.size
        loss = self.loss
        self.op = LinearOperator((n, n), matvec=lambda v: loss.rmatvec(loss.matvec(v)) + rho * self.counts * v,
                                 dtype=float)
        self.pre = LinearOperator((n, n), matvec=lambda v: inv * v, dtype=float)
        self.n_factor += 1

    def solve(self, b, x_prev, atol, Aty):
        def count(_):
            self.n_cg += 1

        if b.ndim == 1:
            x, _ = cg(self.op, b, x0=x_prev, rtol=0.0, atol=atol, M=self.pre, maxiter=10 * b.size, callback=count)
        else:
            x = np.empty_like(b)
            col_tol = atol / np.sqrt(b.shape[1])
            for c in range(b.shape[1]):
                x[:, c], _ = cg(self.op, b[:, c], x0=x_prev[:, c], rtol=0.0, atol=col_tol, M=self.pre,
                                maxiter=10 * b.shape[0], callback=count)
        return x, self.loss.value(x)


def _pick_linear_solver(loss, y, counts, method):
    A = loss.A
    n, p = A.shape
    if method == "auto":
        if isinstance(A, LinearOperator) or min(n, p) > 6000:
            method = "cg"
        else:
            method = "woodbury" if n < p else "direct"
    if method in ("direct", "woodbury") and isinstance(A, LinearOperator):
        raise ParameterError(f"The 'linear_solver' parameter of admm must be 'cg' or 'auto' when A is a "
                             f"LinearOperator (no matrix to factor). Got {method!r}.")
    if method == "direct":
        return _DirectSolve(A, y, counts)
    if method == "woodbury":
        return _WoodburySolve(A, y, counts)
    return _CGSolve(loss, counts)


def _default_rho(loss):
    """Mean squared column norm of ``A`` (trace of ``A^T A`` over ``n_features``): it balances the two terms of
    the x-update matrix; residual balancing corrects it from there."""
    A = loss.A
    if isinstance(A, LinearOperator):
        return max(float(loss.lipschitz) / 4.0, 1e-12)
    if sp.issparse(A):
        fro2 = float(A.multiply(A).sum())
    else:
        fro2 = float(np.einsum("ij,ij->", A, A))
    return max(fro2 / A.shape[1], 1e-12)


# ---------------------------------------------------------------------------------------------- solver
def admm(loss, penalty, x0=None, rho=None, tol=1e-6, max_iter=None, callback=None, adapt_rho=True,
         verbose=False, linear_solver="auto", tol_abs=None, relaxation=1.6, max_rho_updates=100):
    """Consensus ADMM for ``0.5 ||A x - y||^2 + penalty(x)``, made for overlapping group norms.

    Parameters
    ----------
    loss : LeastSquares
        ``A`` dense, scipy.sparse or LinearOperator; one or several
        right-hand sides (``y`` of shape ``(n_samples, n_targets)``).
    penalty : Penalty
        :class:`OverlapGroupLasso`, :class:`GroupLasso` or :class:`L1` (one
        copy per group member); a sparse-group or tree lasso (their groups
        as copies); any other penalty through its prox on one copy ``z = x``.
    x0 : ndarray, optional
        Starting point (default zero); the copies start at ``G x0`` and the
        dual at a guess built from ``x0`` (the subgradient on its nonzero
        groups, the shared negative gradient projected on the others' balls).
        Not modified.
    rho : float > 0, optional
        Initial penalty parameter (default: mean squared column norm of ``A``).
    tol : float, default 1e-6
        Relative tolerance (Boyd et al. 2011, section 3.3.1): stop when
        ``||G x - z|| <= sqrt(n_copies) tol_abs + tol max(||G x||, ||z||)``
        and ``rho ||G^T (z - z_prev)|| <= sqrt(n_features) tol_abs + tol ||rho G^T u||``.
    max_iter : int, optional
        Iteration limit (default 10000). Reaching it issues a
        :class:`ConvergenceWarning` and sets ``converged=False``.
    callback : callable, optional
        ``callback(k, x, info) -> bool``; returning True stops the solver.
        ``info`` holds ``objective``, ``primal_residual``, ``dual_residual`` and ``rho``.
    adapt_rho : bool, default True
        Residual balancing (Boyd et al. 2011, section 3.4.1, ``mu = 10``,
        ``tau = 2``) on residuals relative to their tolerances' scales
        (Wohlberg 2017), so the rule does not depend on the units of ``x``
        (paused while ``G x`` and ``z`` are below the absolute tolerance, as
        for a zero solution):
        ``rho`` is multiplied (divided) by 2 when the relative primal
        residual exceeds 10 times the relative dual one (or the reverse); the
        scaled dual ``u`` is rescaled and the x-update refactored. At most
        ``max_rho_updates`` changes, so that ``rho`` is eventually fixed, as
        the convergence theory requires.
    verbose : bool
        Print progress every 50 iterations.
    linear_solver : {"auto", "direct", "woodbury", "cg"}
        x-update method. ``auto``: ``cg`` for LinearOperators and problems
        with both dimensions above 6000, else ``woodbury`` when
        ``n_samples < n_features``, else ``direct``.
    tol_abs : float, optional
        Absolute tolerance (same units as ``x``); default ``tol``.
    relaxation : float in [1, 1.9], default 1.6
        Over-relaxation ``alpha`` (Boyd et al. 2011, section 3.4.3; they
        suggest 1.5 to 1.8); 1.0 is plain ADMM. On our random overlapping
        problems 1.6 saved about a quarter of the iterations.
    max_rho_updates : int, default 100

    Returns
    -------
    SolverResult
        ``x`` is the x-iterate with the groups whose copy was thresholded to
        zero set exactly to zero (zeros of the overlapping group lasso are
        unions of groups); for prox-only penalties, the copy ``z``.
        ``history`` holds ``objective``, ``primal_residual``,
        ``dual_residual``, ``eps_primal``, ``eps_dual``, ``rho`` and
        ``time`` per iteration, plus ``n_factorizations`` and
        ``linear_solver``; ``gap`` is the duality gap where the penalty has
        a cheap dual norm.

    Examples
    --------
    >>> import numpy as np, structsparse as ss
    >>> rng = np.random.default_rng(0)
    >>> A = rng.standard_normal((40, 30)); y = rng.standard_normal(40)
    >>> windows = [list(range(s, s + 6)) for s in range(0, 25, 3)]
    >>> res = ss.admm(ss.LeastSquares(A, y), ss.OverlapGroupLasso(windows, lam=5.0))
    >>> res.converged
    True
    """
    owner = "admm"
    check_inputs(loss, penalty, owner)
    n_features = loss.n_features
    tol = check_scalar(tol, "tol", low=0, low_inclusive=False, owner=owner)
    tol_abs = tol if tol_abs is None else check_scalar(tol_abs, "tol_abs", low=0, owner=owner)
    max_iter = 10000 if max_iter is None else check_int(max_iter, "max_iter", low=1, owner=owner)
    max_rho_updates = check_int(max_rho_updates, "max_rho_updates", low=0, owner=owner)
    relaxation = check_scalar(relaxation, "relaxation", low=1.0, high=1.9, owner=owner)
    check_choice(linear_solver, "linear_solver", ("auto", "direct", "woodbury", "cg"), owner=owner)
    check_bool(adapt_rho, "adapt_rho", owner=owner)
    check_bool(verbose, "verbose", owner=owner)
    if callback is not None and not callable(callback):
        raise ParameterTypeError(f"The 'callback' parameter of {owner} must be callable. Got {callback!r}.")
    rho = _default_rho(loss) if rho is None else check_scalar(rho, "rho", low=0, low_inclusive=False, owner=owner)
    x = np.zeros(loss.x_shape) if x0 is None else loss.check_x(x0, "x0").copy()

    start = time.perf_counter()
    lam = penalty.lam
    x2 = x.reshape(n_features, -1)
    n_cols = x2.shape[1]
    copies = copy_structure(penalty, n_features, n_cols)
    y2 = loss.y.reshape(loss.n_samples, n_cols)
    Aty = np.asarray(loss.rmatvec(loss.y)).reshape(n_features, n_cols)
    solver = _pick_linear_solver(loss, y2 if n_cols > 1 else y2[:, 0], copies.counts, linear_solver)
    solver.set_rho(rho)
    Aty_flat = Aty if n_cols > 1 else Aty[:, 0]

    z = copies.gather(x2)
    u = np.zeros_like(z)
    if x0 is not None and copies.prox is None and lam > 0 and np.any(x2):
        u = _dual_guess(loss, x2, copies, lam) / rho
    sqrt_m = np.sqrt(z.size)
    sqrt_n = np.sqrt(x2.size)
    history = {k: [] for k in ("objective", "primal_residual", "dual_residual", "eps_primal", "eps_dual",
                               "rho", "time")}
    converged, message = False, ""
    r_norm = s_norm = np.inf
    eps_pri = 0.0
    n_updates = 0
    k = 0
    for k in range(1, max_iter + 1):
        # x-update: (A^T A + rho D) x = A^T y + rho G^T (z - u)
        b = Aty + rho * copies.scatter(z - u)
        if isinstance(solver, _CGSolve):
            # inexact solves whose error shrinks with the residuals (summable errors keep ADMM convergent)
            if np.isfinite(r_norm):
                atol = 0.1 * rho * max(min(r_norm, s_norm / rho), 0.1 * eps_pri, 1e-14)
            else:  # first iteration: a solve accurate to 1e-3 relative
                atol = max(1e-3 * float(np.linalg.norm(b)), 1e-14)
        else:
            atol = 0.0
        x_new, loss_value = solver.solve(b if n_cols > 1 else b[:, 0], x2 if n_cols > 1 else x2[:, 0], atol,
                                         Aty_flat)
        x2 = x_new.reshape(n_features, n_cols)
        Gx = copies.gather(x2)
        # z-update (with over-relaxation) and scaled dual update
        z_old = z
        if copies.prox is None:  # one fused pass over the copies
            z, u, r_sq, z_sq, gx_sq = _z_update(Gx, z, u, copies.ptr, (lam / rho) * copies.weights, relaxation)
            r_norm = np.sqrt(r_sq)
            pri_scale = np.sqrt(max(z_sq, gx_sq))
        else:
            Gx_hat = relaxation * Gx + (1.0 - relaxation) * z if relaxation != 1.0 else Gx
            z = copies.shrink(Gx_hat + u, lam, rho)
            u = u + Gx_hat - z
            r_norm = float(np.linalg.norm(Gx - z))
            pri_scale = max(float(np.linalg.norm(Gx)), float(np.linalg.norm(z)))
        s_norm = rho * float(np.linalg.norm(copies.scatter(z - z_old)))
        Gtu = float(np.linalg.norm(copies.scatter(u)))
        eps_pri = sqrt_m * tol_abs + tol * pri_scale
        eps_dual = sqrt_n * tol_abs + tol * rho * Gtu
        if copies.prox is None:
            objective = loss_value + lam * float(copies.weights @ copies.norms(Gx))
        else:
            objective = loss_value + penalty(x2.reshape(loss.x_shape))
        history["objective"].append(objective)
        history["primal_residual"].append(r_norm)
        history["dual_residual"].append(s_norm)
        history["eps_primal"].append(eps_pri)
        history["eps_dual"].append(eps_dual)
        history["rho"].append(rho)
        history["time"].append(time.perf_counter() - start)
        if verbose and (k % 50 == 0 or k == 1):
            print(f"admm {k:6d}  objective {objective:.12g}  r {r_norm:.3e}/{eps_pri:.3e}  "
                  f"s {s_norm:.3e}/{eps_dual:.3e}  rho {rho:.3e}")

        if r_norm <= eps_pri and s_norm <= eps_dual:
            converged, message = True, "primal and dual residuals below tolerance"
            break
        if callback is not None and callback(k, _finish_x(x2, z, copies, loss.x_shape),
                                             {"objective": objective, "primal_residual": r_norm,
                                              "dual_residual": s_norm, "rho": rho}):
            message = "stopped by callback"
            break

        # Balance the relative residuals; skip while either scale is below its absolute tolerance (e.g. a
        # zero solution, where r / ||z|| is 0 / 0 and would push rho up for ever).
        if (adapt_rho and n_updates < max_rho_updates and pri_scale > sqrt_m * tol_abs
                and rho * Gtu > sqrt_n * tol_abs):
            rel_r = r_norm / pri_scale
            rel_s = s_norm / (rho * Gtu)
            factor = _TAU if rel_r > _MU * rel_s else (1.0 / _TAU if rel_s > _MU * rel_r else 1.0)
            if factor != 1.0:
                rho *= factor
                u = u / factor  # keeps the unscaled dual rho * u unchanged
                solver.set_rho(rho)
                n_updates += 1
    else:
        message = f"reached max_iter={max_iter} before the tolerance {tol:g}"

    x_out = _finish_x(x2, z, copies, loss.x_shape)
    elapsed = time.perf_counter() - start
    objective = float(loss.value(x_out) + penalty(x_out))
    gap = None
    if penalty.has_dual_norm and lam > 0:
        from .fista import duality_gap

        try:
            gap = duality_gap(loss, penalty, x_out)
        except NotImplementedError:
            gap = None
    history["n_factorizations"] = solver.n_factor
    history["linear_solver"] = solver.name
    if isinstance(solver, _CGSolve):
        history["cg_iterations"] = solver.n_cg
    if not converged and message.startswith("reached max_iter"):
        warnings.warn(f"admm: {message}; primal residual {r_norm:.3e} (needs {eps_pri:.3e}), dual residual "
                      f"{s_norm:.3e}. The result may be inaccurate.", ConvergenceWarning, stacklevel=2)
    return SolverResult(x=x_out, objective=objective, n_iter=k, converged=converged, gap=gap, history=history,
                        time=elapsed, solver=f"admm/{solver.name}", message=message)


def _dual_guess(loss, x2, copies, lam):
    """A dual start (unscaled, ``rho * u``) consistent with ``x0``.

    On a group where ``x0`` is nonzero the optimal dual piece is the
    subgradient ``lam w_g x_g / ||x_g||``; elsewhere, the negative gradient
    ``A^T (y - A x0)`` shared evenly among the copies, projected on the ball
    of radius ``lam w_g``. Exact at the solution of the disjoint group lasso;
    a good start near it otherwise (warm starts along paths and price bisections).
    """
    grad = np.asarray(loss.rmatvec(loss.y - loss.matvec(x2.reshape(loss.x_shape)))).reshape(x2.shape)
    share = copies.gather(grad / copies.counts[:, None])
    gx = copies.gather(x2)
    norms_x = copies.norms(gx)
    norms_s = copies.norms(share)
    radius = lam * copies.weights
    sizes = np.diff(copies.ptr)
    with np.errstate(divide="ignore", invalid="ignore"):
        on = np.where(norms_x > 0, radius / norms_x, 0.0)
        off = np.where(norms_s > radius, radius / norms_s, 1.0)
    on_rows = np.repeat(norms_x > 0, sizes)
    return np.where(on_rows[:, None], gx * np.repeat(on, sizes)[:, None], share * np.repeat(off, sizes)[:, None])


def _finish_x(x2, z, copies, x_shape):
    """The returned point: the prox copy for prox-only penalties, else ``x`` with zeroed groups exactly zero."""
    if copies.prox is not None:
        return z.reshape(x_shape).copy()
    x = x2.copy()
    norms = copies.norms(z)
    dead = np.flatnonzero((norms == 0.0) & (copies.weights > 0))
    if dead.size:
        starts, ends = copies.ptr[dead], copies.ptr[dead + 1]
        rows = copies.indices[np.concatenate([np.arange(a, b) for a, b in zip(starts, ends)])]
        x[rows] = 0.0
    return x.reshape(x_shape)
