"""``ss.solve``: one entry point that picks the fastest valid solver from declared capabilities."""

import inspect
import warnings

from .._validation import check_options, check_scalar
from ..exceptions import ParameterError, ParameterTypeError
from .capabilities import SOLVER_SPECS, _caps, auto_solver, check_inputs

__all__ = ["solve"]

_SIGNATURES = {}


def _accepted(name, fn):
    if name not in _SIGNATURES:
        params = inspect.signature(fn).parameters
        var_kw = any(p.kind is p.VAR_KEYWORD for p in params.values())
        _SIGNATURES[name] = (frozenset(params) - {"loss", "penalty"}, var_kw)
    return _SIGNATURES[name]


def outer_alias(owner, options, stacklevel=3):
    """``max_iter`` for :func:`solve_block` is the deprecated name of ``max_outer``: warn once, at the user's call.

    Returns a copy of ``options`` with ``max_iter`` renamed (used by
    :func:`solve` and :func:`~structsparse.path`, which pick the solver).
    """
    options = dict(options)
    if "max_outer" in options:
        raise ParameterError(f"{owner}: pass 'max_outer' only to the solver 'solve_block' ('max_iter' is its "
                             "deprecated alias). Got both.")
    warnings.warn(f"{owner}: the solver 'solve_block' counts outer working-set iterations with 'max_outer'; "
                  "'max_iter' for it is deprecated and will be removed in 0.3.", DeprecationWarning,
                  stacklevel=stacklevel)
    options["max_outer"] = options.pop("max_iter")
    return options


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
        Passed to the chosen solver (``callback``, ``verbose``, ``max_iter``
        for :func:`fista` and :func:`admm`, ``max_outer`` and ``max_epochs``
        for :func:`solve_block`, ...). An option the chosen solver does not
        take raises :class:`ParameterError` naming the solver, the option and
        the options it takes; ``max_iter`` given to :func:`solve_block` still
        means ``max_outer`` until 0.3, with a ``DeprecationWarning``.

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
    _caps(datafit, "datafit", "solve")
    _caps(penalty, "penalty", "solve")
    if solver == "auto":
        name = auto_solver(datafit, penalty)
    else:
        if not isinstance(solver, str) or solver not in SOLVER_SPECS:
            raise (ParameterError if isinstance(solver, str) else ParameterTypeError)(
                f"The 'solver' parameter of solve must be 'auto' or one of "
                                 f"{', '.join(map(repr, SOLVER_SPECS))}. Got {solver!r} instead.")
        name = solver
    check_inputs(datafit, penalty, name)
    fn = SOLVER_SPECS[name].function()
    accepted, var_kw = _accepted(name, fn)
    if name == "solve_block" and "max_iter" in options:
        options = outer_alias("solve", options)
    check_options("solve", options, None if var_kw else accepted - {"x0", "tol"}, target=f"the solver {name!r}")
    if name == "cvxpy":
        if x0 is not None:
            raise ParameterError("solve: the cvxpy reference takes no 'x0'.")
        return fn(datafit, penalty, **options)
    return fn(datafit, penalty, x0=x0, tol=tol, **options)
