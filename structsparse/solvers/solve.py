"""``ss.solve``: one entry point that picks the fastest valid solver from declared capabilities."""

import inspect

from .._validation import check_scalar
from ..exceptions import ParameterError
from .capabilities import SOLVER_SPECS, auto_solver, check_inputs

__all__ = ["solve"]

_SIGNATURES = {}


def _accepted(name, fn):
    if name not in _SIGNATURES:
        params = inspect.signature(fn).parameters
        var_kw = any(p.kind is p.VAR_KEYWORD for p in params.values())
        _SIGNATURES[name] = (frozenset(params) - {"loss", "penalty"}, var_kw)
    return _SIGNATURES[name]


def solve(datafit, penalty, tol=1e-6, solver="auto", x0=None, **options):
    """Minimize ``datafit(x) + penalty(x)`` with the fastest solver that handles the pair.

    Parameters
    ----------
    datafit : Datafit
        ``ss.LeastSquares``, ``ss.Logistic``, ``ss.Huber``, ``ss.Poisson`` or
        any datafit declaring its capabilities.
    penalty : Penalty
        Any structsparse penalty.
    tol : float, default 1e-6
        Relative accuracy: solvers with a duality gap stop when it is at most
        ``tol * objective`` (a certified relative suboptimality); the others
        on their own residual criterion at ``tol`` (see each solver).
    solver : {'auto', 'solve_block', 'fista', 'admm', 'solve_latent', 'cvxpy'}, default 'auto'
        ``'auto'`` chooses from the declared capabilities: working-set block
        coordinate descent for block-separable penalties (L1, group and
        sparse-group lassos) with an explicit matrix; duplication for the
        latent group lasso; FISTA for exact proxes (trees, nuclear norms,
        LinearOperators); ADMM for iterative proxes with least squares
        (overlapping groups). A named solver is checked against the pair and
        refused, with what is missing, when it cannot handle it.
    x0 : ndarray, optional
        Starting point (warm start). Not modified.
    **options
        Passed to the chosen solver (``max_iter``, ``callback``,
        ``verbose``, ...). An option the solver does not take raises
        :class:`ParameterError` naming it.

    Returns
    -------
    SolverResult
        ``res.solver`` names the solver that ran.

    Examples
    --------
    >>> import numpy as np, structsparse as ss
    >>> rng = np.random.default_rng(0)
    >>> A = rng.standard_normal((50, 40)); y = np.sign(rng.standard_normal(50))
    >>> pen = ss.SparseGroupLasso(ss.Groups.contiguous(40, 4), lam=2.0, l1_ratio=0.5)
    >>> res = ss.solve(ss.Logistic(A, y), pen)
    >>> res.solver, res.converged
    ('solve_block', True)
    """
    tol = check_scalar(tol, "tol", low=0, low_inclusive=False, owner="solve")
    if solver == "auto":
        name = auto_solver(datafit, penalty)
    else:
        if not isinstance(solver, str) or solver not in SOLVER_SPECS:
            raise ParameterError(f"The 'solver' parameter of solve must be 'auto' or one of "
                                 f"{', '.join(map(repr, SOLVER_SPECS))}. Got {solver!r} instead.")
        name = solver
    check_inputs(datafit, penalty, name)
    fn = SOLVER_SPECS[name].function()
    accepted, var_kw = _accepted(name, fn)
    unknown = sorted(set(options) - accepted)
    if unknown and not var_kw:
        raise ParameterError(f"solve: the solver {name!r} takes no option {', '.join(map(repr, unknown))}; "
                             f"it takes {', '.join(sorted(accepted - {'x0', 'tol'}))}.")
    if name == "cvxpy":
        if x0 is not None:
            raise ParameterError("solve: the cvxpy reference takes no 'x0'.")
        return fn(datafit, penalty, **options)
    return fn(datafit, penalty, x0=x0, tol=tol, **options)
