"""Convex recovery: basis pursuit, group basis pursuit, their denoising forms, tree lasso.

Noiseless, the recovery programs are constrained::

    minimize  Omega(x)   subject to  A x = y

with ``Omega`` the l1 norm (basis pursuit), a sum of group norms (group
basis pursuit) or the tree norm. They are solved by the solver layer's
continuation helper, :func:`structsparse.solvers.continuation.continuation`:
penalized problems ``0.5 ||A x - y_k||^2 + lam_k Omega(x)`` handed to
``ss.solve`` with decreasing ``lam_k`` and warm starts, the residual added
back into the target (method of multipliers), every stage giving a
feasible point (the support polished by least squares, or corrected onto
``A x = y``) and a dual bound. It stops with an exact dual certificate, or
when the relative gap of the constrained program and the relative residual
are below their tolerances (both reported in ``info``); otherwise it
returns ``converged=False`` with a :class:`ConvergenceWarning`.

A large dense ``A`` with fewer rows than columns is first given orthonormal
rows (``precondition``): with ``A A^T = L L^T`` (Cholesky), ``B = L^{-1} A``
and ``z = L^{-1} y`` define the same feasible set ``{x : B x = z} = {x :
A x = y}``, hence the same program, but ``B B^T = I``: the penalized stages
are better conditioned (``||B||_2 = 1``, every singular value 1) and take
fewer iterations (for i.i.d. Gaussian rows at ``M = N/4`` the singular values
of ``A`` spread over a factor 3). The residual reported is ``||A x - y|| /
||y||``, in the original system, and the tolerance handed to the stages is
tightened so that it holds.

With a noise level, the penalized (denoising) problem is solved once with
``lam`` set from the noise: the 90 % quantile of ``Omega^*(A^T e)`` over
draws of the noise ``e`` (the smallest ``lam`` that keeps pure noise out
of the solution with that probability), solved by ``ss.solve``.
"""

import time
import warnings

import numpy as np
import scipy.linalg as sla

from ..datafits import LeastSquares
from .._linalg import single_blas_thread, spectral_norm_sq
from .._validation import check_array, check_options, check_rng
from ..exceptions import ConvergenceWarning, ParameterTypeError, ShapeError
from ..penalties import L1, GroupLasso
from ..solvers.capabilities import auto_solver
from ..solvers.continuation import continuation
from ..solvers.solve import solve

__all__ = ["group_basis_pursuit", "penalized_recovery", "tree_basis_pursuit", "noise_lambda", "constrained_recovery",
           "reweighted_tree_weights"]


def _info(res):
    """The ``info`` dict of a recovery from a :class:`ContinuationResult`."""
    return {"n_iter": res.n_iter, "converged": res.converged, "message": res.message, "gap": res.gap,
            "residual": res.residual, "objective": res.objective, "lower_bound": res.lower,
            "certified": res.certified, "n_stages": res.n_stages, "solver": res.solver}


#: The keyword arguments that group_basis_pursuit and tree_basis_pursuit forward to constrained_recovery.
_RECOVERY_OPTIONS = ("gap_tol", "resid_tol", "tol", "ratio", "lam_min_ratio", "max_stages", "max_iter", "time_limit",
                     "precondition")

#: Dense designs with at least this many entries get orthonormal rows by default (below it the stages are cheap
#: whatever their conditioning, and the Cholesky factor costs as much as many of their iterations).
_PRECONDITION_MIN_SIZE = 1 << 22


def _orthonormal_rows(A, y):
    """``(B, z, bound)`` with ``B = L^{-1} A``, ``z = L^{-1} y``, ``A A^T = L L^T``; ``None`` if ``A A^T`` is singular.

    ``bound`` bounds ``||L||_2 = ||A||_2`` from above (power iteration on ``A A^T``, raised by 1 % as the package's
    Lipschitz estimates are): ``||A x - y|| = ||L (B x - z)|| <= bound ||B x - z||``.
    """
    with single_blas_thread():
        gram = A @ A.T
        try:
            L = sla.cholesky(gram, lower=True, check_finite=False)
        except np.linalg.LinAlgError:
            return None
        if not np.all(np.diag(L) > 1e-10 * np.sqrt(np.max(np.diag(gram)))):
            return None  # numerically rank deficient: the whitened system would amplify rounding
        B = sla.solve_triangular(L, A, lower=True, check_finite=False)
        z = sla.solve_triangular(L, y, lower=True, check_finite=False)
    return B, z, float(spectral_norm_sq(gram)) ** 0.25  # ||A A^T||_2^2, raised by 1 %, to the power 1/4


def _check_kw(owner, kw):
    """Refuse a keyword that :func:`constrained_recovery` does not take, naming it and the accepted ones."""
    check_options(owner, kw, _RECOVERY_OPTIONS, target="constrained_recovery")


def constrained_recovery(A, y, penalty, *, gap_tol=1e-6, resid_tol=1e-9, tol=1e-6, ratio=0.1, lam_min_ratio=None,
                         max_stages=40, max_iter=None, time_limit=None, precondition="auto"):
    """Solve ``min Omega(x) s.t. A x = y`` (``Omega`` from ``penalty``) by the solver layer's continuation.

    Parameters
    ----------
    A : ndarray, scipy.sparse matrix or LinearOperator, shape (m, n)
    y : ndarray, shape (m,)
    penalty : Penalty
        ``L1``, ``GroupLasso``, ``TreeLasso``, ... (its ``lam`` is ignored).
    gap_tol, resid_tol : float
        Stop when the relative gap of the constrained program and the
        relative residual ``||A x - y|| / ||y||`` are below these (or on an
        exact dual certificate).
    tol : float
        Relative duality-gap tolerance of each penalized stage.
    ratio, lam_min_ratio : float
        Factor between consecutive ``lam`` and the floor of ``lam / lam_max``
        (default: see :func:`~structsparse.solvers.continuation.continuation`).
    max_stages, max_iter, time_limit :
        Budgets (stages, solver iterations, seconds; the seconds include the
        factorization of ``precondition``).
    precondition : bool or "auto", default "auto"
        Solve the same program with orthonormal rows (module notes): needs
        a dense ``A`` with fewer rows than columns; ``"auto"`` from
        ``2**22`` entries on.

    Returns
    -------
    x : ndarray
    info : dict
        ``converged``, ``certified``, ``gap`` (relative objective gap),
        ``residual`` (relative, ``||A x - y|| / ||y||``), ``objective``,
        ``lower_bound``, ``n_iter``, ``n_stages``, ``solver``,
        ``message``, ``preconditioned``.
    """
    owner = "constrained_recovery"
    start = time.perf_counter()
    if not (isinstance(precondition, (bool, np.bool_)) or precondition == "auto"):
        raise ParameterTypeError(f"The 'precondition' parameter of {owner} must be True, False or 'auto'. "
                                 f"Got {precondition!r}.")
    dense = isinstance(A, np.ndarray) and A.ndim == 2 and A.shape[0] < A.shape[1]
    whiten = dense and (precondition is True or (precondition == "auto" and A.size >= _PRECONDITION_MIN_SIZE))
    white = None
    if whiten:
        A = check_array(A, "A", ndim=2, owner=owner)
        y = check_array(y, "y", ndim=1, owner=owner)
        if y.shape[0] != A.shape[0]:
            raise ShapeError(f"The 'y' parameter of {owner} has {y.shape[0]} entries but 'A' has {A.shape[0]} rows; "
                             f"they must match.")
        ynorm = float(np.linalg.norm(y))
        white = _orthonormal_rows(A, y) if ynorm > 0 else None
    if white is None:
        res = continuation(A, y, penalty, gap_tol=gap_tol, resid_tol=resid_tol, tol=tol, ratio=ratio,
                           lam_min_ratio=lam_min_ratio, max_stages=max_stages, max_iter=max_iter,
                           time_limit=time_limit)
        return res.x, {**_info(res), "preconditioned": False}
    B, z, bound = white
    if time_limit is not None:  # the budget covers the factorization too
        time_limit = max(time_limit - (time.perf_counter() - start), 1e-3)
    # ||A x - y|| / ||y|| <= bound ||z|| / ||y|| * (||B x - z|| / ||z||): the stages' tolerance that gives resid_tol
    scale = bound * float(np.linalg.norm(z)) / ynorm
    res = continuation(B, z, penalty, gap_tol=gap_tol, resid_tol=resid_tol / max(scale, 1.0), tol=tol, ratio=ratio,
                       lam_min_ratio=lam_min_ratio, max_stages=max_stages, max_iter=max_iter, time_limit=time_limit,
                       warn=False)
    info = _info(res)
    residual = float(np.linalg.norm(A @ res.x - y)) / ynorm
    converged = bool(res.converged and residual <= resid_tol)
    message = res.message + (f"; relative residual in the original system {residual:.1e}" if converged else
                             f"; relative residual in the original system {residual:.1e} (tolerance {resid_tol:g})")
    info.update(residual=residual, converged=converged, certified=bool(res.certified and converged),
                message="orthonormal rows: " + message, preconditioned=True)
    if not converged:
        warnings.warn(f"constrained_recovery: {info['message']}", ConvergenceWarning, stacklevel=2)
    return res.x, info


def group_basis_pursuit(A, y, groups, **kw):
    """Solve ``min sum_g w_g ||x_g|| s.t. A x = y`` (basis pursuit when every group is a singleton of weight 1).

    Parameters
    ----------
    A : ndarray, scipy.sparse matrix or LinearOperator, shape (m, n)
    y : ndarray, shape (m,)
    groups : Groups
        Disjoint groups covering all variables.
    **kw
        Tolerances and budgets of :func:`constrained_recovery`; an unknown key raises
        :class:`~structsparse.ParameterError` naming it.

    Returns
    -------
    x : ndarray
    info : dict
        As in :func:`constrained_recovery`.
    """
    _check_kw("group_basis_pursuit", kw)
    singletons = bool(np.all(np.diff(groups.ptr) == 1) and np.all(groups.weights == 1)
                      and groups.indices.size == A.shape[1])
    penalty = L1(1.0) if singletons else GroupLasso(groups, 1.0)
    return constrained_recovery(A, y, penalty, **kw)


def tree_basis_pursuit(A, y, tree_penalty, **kw):
    """Noiseless tree-lasso recovery: ``min Omega_tree(x) s.t. A x = y``.

    Parameters
    ----------
    A : ndarray, scipy.sparse matrix or LinearOperator, shape (m, n)
    y : ndarray, shape (m,)
    tree_penalty : TreeLasso
    **kw
        Tolerances and budgets of :func:`constrained_recovery`; an unknown key raises
        :class:`~structsparse.ParameterError` naming it.

    Returns
    -------
    x : ndarray
    info : dict
        As in :func:`constrained_recovery`.
    """
    _check_kw("tree_basis_pursuit", kw)
    return constrained_recovery(A, y, tree_penalty, **kw)


def reweighted_tree_weights(group_norms, base, m, n, eps_factor=1.0):
    """Node weights of one round of the iteratively reweighted tree lasso.

    ``w_g = base_g * eps / (||x_g|| + eps)`` (Candes, Wakin and Boyd 2008,
    "Enhancing sparsity by reweighted l1 minimization", on the tree's
    groups instead of single coefficients): a group the previous solution
    made large costs less in the next solve, a group it left near zero
    keeps its full weight. The factor ``eps / (||x_g|| + eps)`` lies in
    ``(0, 1]``, so the weights never exceed ``base`` and tend to ``base``
    as ``eps`` grows. ``eps`` is ``eps_factor`` times the ``i0``-th largest
    group norm, ``i0 = m / (4 ln(n / m))`` (their rule for compressible
    signals, section 3.2), and at least ``1e-12`` times the largest.

    Parameters
    ----------
    group_norms : ndarray, shape (n_nodes,)
        ``||x_g||`` of the previous solution for every node's group
        (:meth:`~structsparse.TreeLasso.group_norms`).
    base : ndarray, shape (n_nodes,)
        The weights before reweighting (depth weights, or ones).
    m, n : int
        Measurements and unknowns (they set the rank ``i0``).
    eps_factor : float, default 1.0
        Multiplies ``eps``; positive (``inf``: the base weights, unchanged).

    Returns
    -------
    weights : ndarray, shape (n_nodes,)
        New array.
    eps : float
        The ``eps`` used.
    """
    g = np.asarray(group_norms, dtype=float)
    if eps_factor == np.inf:  # the limit: the weights stay the base ones
        return np.array(base, dtype=float), float("inf")
    i0 = int(np.clip(m / (4 * np.log(max(n / m, np.e))), 1, g.size)) - 1
    top = float(np.max(g)) if g.size else 0.0
    eps = max(eps_factor * float(np.partition(g, g.size - 1 - i0)[g.size - 1 - i0]), 1e-12 * top, 1e-300)
    return np.asarray(base, dtype=float) * (eps / (g + eps)), eps


def noise_lambda(A, penalty, noise, rng=0, n_draws=20, quantile=0.9):
    """``lam`` for denoising: a quantile of ``Omega^*(A^T e)`` over draws ``e ~ N(0, noise^2 I)``.

    ``rng`` (None, int or Generator) draws the noise samples. It defaults to the seed 0 on purpose: the draws
    only estimate a quantile, and a fixed seed makes :func:`~structsparse.cs.recover` give the same ``lam``
    (and the same recovery) for the same measurements.
    """
    rng = check_rng(rng, owner="noise_lambda")
    m = A.shape[0]
    rmat = (lambda r: A.T @ r) if isinstance(A, np.ndarray) else A.rmatvec
    vals = [penalty.dual_norm(np.asarray(rmat(noise * rng.standard_normal(m)))) for _ in range(n_draws)]
    return float(np.quantile(vals, quantile))


def penalized_recovery(A, y, penalty, noise, *, tol=1e-8, max_iter=20000):
    """Denoising: minimize ``0.5 ||A x - y||^2 + lam Omega(x)`` with ``lam`` from :func:`noise_lambda`."""
    lam = noise_lambda(A, penalty.with_lam(1.0), noise)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # reported through converged / message
        datafit, penalty = LeastSquares(A, y), penalty.with_lam(lam)
        # the iteration bound goes by the chosen solver's own name (outer iterations for solve_block)
        limit = "max_outer" if auto_solver(datafit, penalty) == "solve_block" else "max_iter"
        res = solve(datafit, penalty, tol=tol, **{limit: max_iter})
    return res.x, {"n_iter": res.n_iter, "converged": res.converged, "lam": lam,
                   "message": f"penalized with lam={lam:.3g} from noise level {noise:g}: {res.message}"}
