"""Latent group lasso by column duplication (Jacob, Obozinski and Vert 2009).

``min_x 0.5 ||A x - y||^2 + lam * Omega_latent(x)`` equals
``min_v 0.5 ||A G^T v - y||^2 + lam * sum_g w_g ||v_g||``: duplicate the
columns of ``A`` once per group holding them (``A' = A G^T``), solve a
*disjoint* group lasso in the latent vector ``v`` with the block-separable
solver, and map back, ``x = G^T v``. Free variables (in no group of positive
weight, or in a group of weight zero) keep a single unpenalized column.

The support of ``x`` is the union of the groups whose piece ``v_g`` is nonzero.
"""

import warnings
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import LinearOperator

from .._validation import accepted_options, check_options
from ..exceptions import ConvergenceWarning, ParameterError, ParameterTypeError, StructureError
from .capabilities import check_inputs
from .result import SolverResult

__all__ = ["solve_latent", "solve_latent_cvxpy", "latent_problem", "LatentResult"]


@dataclass(repr=False)
class LatentResult(SolverResult):
    """A :class:`SolverResult` whose ``x`` is in the original space, plus the latent vector.

    Attributes
    ----------
    latent : ndarray, shape (n_copies + n_free,) or (n_copies + n_free, n_targets)
        The pieces ``v_g`` one group after the other (in the order of
        ``penalty.latent``), then the free variables.
    active_groups : ndarray of int
        Indices (in the original :class:`Groups`) of the groups whose piece is nonzero.
    """

    latent: np.ndarray | None = None
    active_groups: np.ndarray | None = None


def _check(loss, penalty, owner):
    check_inputs(loss, penalty, "solve_latent")
    if penalty.latent.n_copies == 0:
        raise StructureError(f"{owner}: no variable is penalized (every group has weight zero); "
                             "solve the plain unpenalized problem instead.")


def latent_problem(loss, penalty):
    """The duplicated problem: ``(latent_loss, latent_penalty, scatter)``.

    ``latent_loss`` is ``0.5 ||A G^T v - y||^2`` (``A G^T`` a column copy of
    ``A`` when ``A`` is a matrix, an operator otherwise), ``latent_penalty`` a
    :class:`GroupLasso` over the disjoint latent groups (free columns in no
    group) and ``scatter`` the sparse ``(n_features, n_latent)`` matrix
    mapping ``v`` to ``x``.
    """
    _check(loss, penalty, "latent_problem")
    lat = penalty.latent
    free = np.flatnonzero(lat.free)
    cols = np.concatenate([lat.indices, free])
    n_latent = cols.size
    scatter = sp.csr_matrix((np.ones(n_latent), (cols, np.arange(n_latent))), shape=(lat.n_features, n_latent))
    A = loss.A
    if isinstance(A, LinearOperator):
        A_lat = LinearOperator((A.shape[0], n_latent), dtype=float,
                               matvec=lambda v: A.matvec(scatter @ v),
                               rmatvec=lambda r: np.asarray(A.rmatvec(r)).ravel()[cols])
    elif sp.issparse(A):
        A_lat = A.tocsc()[:, cols]
    else:
        A_lat = A[:, cols]
    return loss.with_design(A_lat), penalty.duplicated_penalty(), scatter


def _default_solver(latent_loss, latent_penalty):
    from .capabilities import SOLVER_SPECS, auto_solver

    return SOLVER_SPECS[auto_solver(latent_loss, latent_penalty)].function()


def _solve_block():
    from .working_set import solve_block

    return solve_block


def _check_inner_options(run, options, owner):
    """Refuse options the inner solver does not take."""
    name = getattr(run, "__name__", type(run).__name__)
    check_options(owner, options, accepted_options(run, exclude=("loss", "penalty", "x0", "tol")),
                  target=f"the inner solver {name!r}")
    return options


def _reissue(caught, inner, owner):
    """Warn again what the inner solver warned; a convergence warning names ``owner``, the function called.

    The user called :func:`solve_latent` (or ``ss.solve``), not the inner
    solver: "solve_block: reached max_outer=2 ..." becomes "solve_latent
    (inner solver solve_block): reached max_outer=2 ...".
    """
    for w in caught:
        if issubclass(w.category, ConvergenceWarning):
            text = str(w.message)
            text = text[len(inner) + 2:] if text.startswith(f"{inner}: ") else text
            warnings.warn(f"{owner} (inner solver {inner}): {text}", w.category, stacklevel=3)
        else:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno, source=w.source)


def solve_latent(loss, penalty, x0=None, tol=1e-8, max_iter=None, solver=None, **solver_options):
    """Solve ``F(A x) + LatentGroupLasso(x)`` by column duplication, for any datafit.

    Parameters
    ----------
    loss : Datafit
        ``A`` dense, scipy.sparse or LinearOperator; one or several right-hand sides.
    penalty : LatentGroupLasso
    x0 : ndarray, optional
        Start in the original space; it is split evenly among the copies of
        each variable. Not modified.
    tol : float, default 1e-8
        Passed to the inner solver (relative duality gap of the latent problem).
    max_iter : int, optional
        Bound on the main loop of the inner solver, whichever it is: its
        ``max_iter`` (:func:`fista`), or ``max_outer`` when the inner solver
        is :func:`solve_block` (outer working-set iterations).
    solver : callable, optional
        ``solver(loss, penalty, x0=..., tol=..., **options) -> SolverResult``
        for the latent disjoint group lasso. Default: the working-set block
        coordinate descent solver (``A`` a matrix), else :func:`fista`.
    **solver_options
        Passed to the inner solver; an option it does not take raises
        :class:`ParameterError` naming it.

    Returns
    -------
    LatentResult
        ``x = G^T v`` in the original space; ``objective`` is the latent
        objective ``0.5 ||A x - y||^2 + lam sum_g w_g ||v_g||``, which bounds
        the original objective at ``x`` from above and equals it at the
        optimum; ``gap`` is the latent problem's duality gap, which bounds
        the original problem's suboptimality at ``x`` too (both problems have
        the same optimal value); ``latent`` and ``active_groups`` as described
        in :class:`LatentResult`.

    Examples
    --------
    >>> import numpy as np, structsparse as ss
    >>> rng = np.random.default_rng(0)
    >>> A = rng.standard_normal((30, 10)); y = A[:, :4].sum(axis=1)
    >>> pen = ss.LatentGroupLasso([[0, 1, 2, 3], [2, 3, 4, 5], [5, 6, 7, 8, 9]], lam=1.0)
    >>> res = ss.solve_latent(ss.LeastSquares(A, y), pen)
    >>> res.active_groups.tolist(), np.flatnonzero(res.x).tolist()
    ([0], [0, 1, 2, 3])
    """
    owner = "solve_latent"
    _check(loss, penalty, owner)
    if solver is not None and not callable(solver):
        raise ParameterTypeError(f"The 'solver' parameter of {owner} must be callable. Got {solver!r}.")
    latent_loss, latent_pen, scatter = latent_problem(loss, penalty)
    lat = penalty.latent
    v0 = None
    if x0 is not None:
        x0 = loss.check_x(x0, "x0")
        x2 = x0.reshape(loss.n_features, -1)
        counts = np.maximum(np.asarray(scatter.sum(axis=1)).ravel(), 1.0)
        v0 = (scatter.T @ (x2 / counts[:, None])).reshape(latent_loss.x_shape)
    run = _default_solver(latent_loss, latent_pen) if solver is None else solver
    options = _check_inner_options(run, dict(solver_options), owner)
    if max_iter is not None:
        options["max_outer" if run is _solve_block() else "max_iter"] = max_iter
    with warnings.catch_warnings(record=True) as caught:
        res = run(latent_loss, latent_pen, x0=v0, tol=tol, **options)
    _reissue(caught, getattr(run, "__name__", type(run).__name__), owner)
    v = np.asarray(res.x)
    x = np.asarray(scatter @ v.reshape(scatter.shape[1], -1)).reshape(loss.x_shape)
    v2 = v.reshape(scatter.shape[1], -1)[:lat.n_copies]
    norms = np.sqrt(np.add.reduceat((v2 * v2).sum(axis=1), lat.ptr[:-1]))
    active = lat.group_ids[norms > 0]
    return LatentResult(x=x, objective=float(res.objective), n_iter=res.n_iter, converged=res.converged,
                        gap=res.gap, history=res.history, time=res.time, solver=f"solve_latent/{res.solver}",
                        message=res.message, latent=v, active_groups=active)


def solve_latent_cvxpy(loss, penalty, solver="CLARABEL", **solver_options):
    """Reference: the latent problem written out in cvxpy with both ``x`` and the pieces ``v``.

    ``min 0.5 ||A x - y||^2 + lam sum_g w_g ||v_g||`` s.t. ``x = G^T v`` (free
    variables have their own unpenalized piece). Dense or sparse ``A`` only.

    Returns
    -------
    LatentResult
        ``objective`` is the cvxpy optimal value; ``converged`` is True for an optimal status.
    """
    import cvxpy as cp

    owner = "solve_latent_cvxpy"
    _check(loss, penalty, owner)
    if isinstance(loss.A, LinearOperator):
        raise TypeError(f"The 'loss' of {owner} must have a matrix A (dense or sparse), not a LinearOperator.")
    lat = penalty.latent
    free = np.flatnonzero(lat.free)
    y = np.asarray(loss.y)
    shape = (lambda m: (m,)) if y.ndim == 1 else (lambda m: (m, y.shape[1]))
    x = cp.Variable(shape(loss.n_features))
    v = cp.Variable(shape(lat.n_copies))
    Gt = lat.scatter_matrix()
    cons = [x[~lat.free] == (Gt @ v)[~lat.free]] if free.size else [x == Gt @ v]
    pen = [w * cp.norm(cp.vec(v[lat.ptr[g]:lat.ptr[g + 1]], order="C"), 2) for g, w in enumerate(lat.weights)]
    prob = cp.Problem(cp.Minimize(0.5 * cp.sum_squares(loss.A @ x - y) + penalty.lam * cp.sum(cp.hstack(pen))), cons)
    from .cvxpy_reference import _check_solver_opts, _rejected_option

    name = solver.upper() if isinstance(solver, str) else solver
    _check_solver_opts(name, solver_options, owner)
    try:
        prob.solve(solver=solver, **solver_options)
    except Exception as exc:  # noqa: BLE001 - an option the solver refused becomes our ParameterError
        rejected = _rejected_option(name, solver_options, exc, owner) if solver_options else None
        if rejected is not None:
            raise rejected from None
        raise
    ok = prob.status == cp.OPTIMAL
    xv = np.asarray(x.value, dtype=float).reshape(loss.x_shape) if x.value is not None else np.zeros(loss.x_shape)
    vv = np.asarray(v.value, dtype=float) if v.value is not None else np.zeros(shape(lat.n_copies))
    vv = np.concatenate([vv, xv[free]])  # same layout as solve_latent: pieces, then free variables
    return LatentResult(x=xv, objective=float(prob.value) if prob.value is not None else np.nan, n_iter=0,
                        converged=ok, solver=f"cvxpy/{solver}", message=str(prob.status), latent=vv)
