"""What each solver needs, and the one check that matches a (datafit, penalty, solver) triple.

Datafits and penalties declare what they can do (their ``capabilities``,
frozensets of strings); every solver declares here what it needs from each,
as alternatives (any one set suffices). No solver names a concrete penalty
or datafit class: adding a penalty or a datafit that declares the right
capabilities makes every matching solver accept it, and ``ss.solve`` pick it.
"""

import functools
from dataclasses import dataclass

from ..exceptions import ParameterError, ParameterTypeError

__all__ = ["SolverSpec", "SOLVER_SPECS", "check_triple", "valid_solvers", "auto_solver", "missing_capabilities",
           "IncompatibleSolverError", "capability_table"]


class IncompatibleSolverError(ParameterError, TypeError):
    """A solver was asked for a datafit or penalty that lacks a capability it needs."""


# Words for the error messages
_WORDS = {
    "block_thresholds": "block-separable thresholds",
    "norm_groups": "a decomposition into group norms",
    "latent": "a latent (duplicated-column) structure",
    "prox": "an exact prox",
    "iterative_prox": "an iterative prox",
    "dual_norm": "a dual norm",
    "cvxpy": "a cvxpy expression",
    "gradient": "a gradient",
    "lipschitz": "a global Lipschitz constant",
    "block_lipschitz": "per-block Lipschitz constants",
    "hessian": "a Hessian",
    "least_squares": "the least-squares form 0.5 ||A x - y||^2 exactly",
    "columns": "an explicit matrix A (dense or scipy.sparse, not a LinearOperator)",
    "sample_model": "a quadratic model with one weight per sample (least squares, or one right-hand side)",
}


@dataclass(frozen=True)
class SolverSpec:
    """A solver's declared needs.

    Attributes
    ----------
    name : str
        The solver's name (``SolverResult.solver``).
    datafit_needs : tuple of frozenset
        Alternatives: the datafit must have every capability of at least one.
    penalty_needs : tuple of frozenset
        Alternatives for the penalty.
    rank : int
        Preference of ``solver="auto"`` among valid solvers (lower first).
    rank_if : frozenset
        Penalty capabilities without which the rank drops by 10 (used to
        prefer FISTA only for exact proxes).
    """

    name: str
    datafit_needs: tuple
    penalty_needs: tuple
    rank: int
    rank_if: frozenset = frozenset()

    def function(self):
        """The solver function (imported on demand, to keep the solver modules independent)."""
        return _solver_function(self.name)


_SOLVER_LOCATIONS = {"solve_block": ("working_set", "solve_block"), "fista": ("fista", "fista"),
                     "admm": ("admm", "admm"), "solve_latent": ("latent", "solve_latent"),
                     "cvxpy": ("cvxpy_reference", "solve_cvxpy")}


@functools.lru_cache(maxsize=None)
def _solver_module(module):
    # import_module: ``from . import fista`` would give the function that solvers/__init__ binds to that name
    from importlib import import_module

    return import_module(f".{module}", __package__)


def _solver_function(name):
    module, attr = _SOLVER_LOCATIONS[name]
    return getattr(_solver_module(module), attr)  # looked up each time: the module's attribute is the truth


_ANY = (frozenset(),)

#: Every solver and what it needs. ``solve_latent`` builds a block-separable problem on duplicated columns,
#: so its datafit needs what ``solve_block`` needs or, for operators, what FISTA needs.
SOLVER_SPECS = {
    "solve_latent": SolverSpec("solve_latent", (frozenset({"gradient"}),), (frozenset({"latent"}),), rank=0),
    "solve_block": SolverSpec("solve_block",
                              (frozenset({"columns", "sample_model"}),),
                              (frozenset({"block_thresholds"}),), rank=1),
    "fista": SolverSpec("fista", (frozenset({"gradient"}),),
                        (frozenset({"prox"}), frozenset({"iterative_prox"})), rank=2, rank_if=frozenset({"prox"})),
    "admm": SolverSpec("admm", (frozenset({"least_squares"}),),
                       (frozenset({"prox"}), frozenset({"iterative_prox"})), rank=3),
    "cvxpy": SolverSpec("cvxpy", (frozenset({"cvxpy"}),), (frozenset({"cvxpy"}),), rank=100),
}

#: Solvers ``ss.solve`` may choose (the cvxpy reference is never chosen automatically).
AUTO_CANDIDATES = ("solve_latent", "solve_block", "fista", "admm")


def _caps(obj, role, owner=None):
    caps = getattr(obj, "capabilities", None)
    if not isinstance(caps, frozenset):
        kind = "Datafit (ss.LeastSquares, ss.Logistic, ...)" if role in ("loss", "datafit") else "Penalty"
        where = f" of {owner}" if owner else ""
        raise TypeError(f"The '{role}' parameter{where} must be a structsparse {kind} declaring its capabilities. "
                        f"Got {type(obj).__name__}.")
    return caps


def missing_capabilities(datafit, penalty, solver):
    """What ``solver`` needs that the datafit and penalty lack: ``(datafit_missing, penalty_missing)``.

    Each is the smallest missing set among the solver's alternatives (empty
    when some alternative is satisfied).
    """
    _spec(solver)
    return _missing(solver, _caps(datafit, "loss"), _caps(penalty, "penalty"))


@functools.lru_cache(maxsize=1024)
def _missing(solver, have_d, have_p):
    spec = SOLVER_SPECS[solver]
    miss_d = min((need - have_d for need in spec.datafit_needs), key=len)
    miss_p = min((need - have_p for need in spec.penalty_needs), key=len)
    return miss_d, miss_p


@functools.lru_cache(maxsize=1024)
def _valid(have_d, have_p):
    """Valid solver names for these capability sets, most preferred first (cached: sets repeat)."""
    ok = []
    for name, spec in SOLVER_SPECS.items():
        miss_d, miss_p = _missing(name, have_d, have_p)
        if not miss_d and not miss_p:
            ok.append((spec.rank + (0 if spec.rank_if <= have_p else 10), name))
    return tuple(name for _, name in sorted(ok))


def _spec(solver):
    if not isinstance(solver, str) or solver not in SOLVER_SPECS:
        raise (ParameterError if isinstance(solver, str) else ParameterTypeError)(
            f"The 'solver' parameter must be 'auto' or one of "
                             f"{', '.join(map(repr, SOLVER_SPECS))}. Got {solver!r} instead.")
    return SOLVER_SPECS[solver]


def valid_solvers(datafit, penalty):
    """Names of every solver that accepts this datafit and penalty, most preferred first.

    Parameters
    ----------
    datafit : Datafit
    penalty : Penalty

    Returns
    -------
    list of str
    """
    return list(_valid(_caps(datafit, "loss"), _caps(penalty, "penalty")))


def auto_solver(datafit, penalty):
    """The solver ``ss.solve(..., solver="auto")`` uses: the most preferred valid one.

    Working-set block coordinate descent for block-separable penalties with
    an explicit matrix, duplication for the latent group lasso, FISTA for
    exact proxes (trees, nuclear norms, operators), ADMM for iterative proxes
    with a quadratic datafit (overlapping groups), FISTA otherwise.

    Parameters
    ----------
    datafit : Datafit
    penalty : Penalty

    Returns
    -------
    str
    """
    for name in valid_solvers(datafit, penalty):
        if name in AUTO_CANDIDATES:
            return name
    check_triple(datafit, penalty, "fista")  # raises, naming what is missing
    return "fista"  # pragma: no cover


def check_triple(datafit, penalty, solver):
    """Raise :class:`IncompatibleSolverError` when ``solver`` cannot handle this datafit and penalty.

    The message lists what is missing and which solvers would work, e.g.
    "solve_block needs block-separable thresholds; OverlapGroupLasso has
    none; use admm or fista".

    Parameters
    ----------
    datafit : Datafit
    penalty : Penalty
    solver : str
        A key of :data:`SOLVER_SPECS`.
    """
    miss_d, miss_p = missing_capabilities(datafit, penalty, solver)
    if not miss_d and not miss_p:
        return
    parts = []
    if miss_p:
        parts.append(f"{solver} needs {_list(miss_p)}; {type(penalty).__name__} has none")
    if miss_d:
        parts.append(f"{solver} needs {_list(miss_d)} from the datafit; {type(datafit).__name__} "
                     f"({_describe_design(datafit)}) has none")
    valid = [s for s in valid_solvers(datafit, penalty) if s != solver]
    others = [s for s in valid if s != "cvxpy"]  # the reference is slow: suggested only when nothing else fits
    if others:
        hint = f"use {' or '.join(others)}"
    elif valid:
        hint = "only the cvxpy reference (solver='cvxpy') handles this pair"
    else:
        hint = "no solver handles this pair"
    raise IncompatibleSolverError("; ".join(parts) + f"; {hint}.")


def _list(caps):
    return " and ".join(_WORDS.get(c, c) for c in sorted(caps))


def _describe_design(datafit):
    A = getattr(datafit, "A", None)
    return f"A is {type(A).__name__}" if A is not None else "no design"


#: Solvers whose products read a float32 design in place (float64 sums, structsparse._float32); the others
#: multiply it through numpy, scipy or cvxpy, which convert it to float64
FLOAT32_NATIVE = frozenset({"solve_block", "fista"})


def _warn_float32_copy(datafit, solver):
    import warnings

    from .._float32 import is_float32
    from ..exceptions import DesignCopyWarning

    if solver not in FLOAT32_NATIVE and is_float32(getattr(datafit, "A", None)):
        warnings.warn(f"{solver}: the float32 design is converted to float64 by this solver's products (a copy "
                      "twice its size, on each product or kept for the solve); solve_block and fista read it in "
                      "place. Pass A.astype(np.float64) to convert it once yourself, or use one of those.",
                      DesignCopyWarning, stacklevel=3)


def check_inputs(datafit, penalty, solver):
    """Validate a solver's inputs: types, matching sizes, and the capabilities the solver needs.

    Parameters
    ----------
    datafit : Datafit
    penalty : Penalty
    solver : str
        A key of :data:`SOLVER_SPECS`.
    """
    from ..exceptions import ShapeError

    _caps(datafit, "loss", solver)
    _caps(penalty, "penalty", solver)
    check_triple(datafit, penalty, solver)
    _warn_float32_copy(datafit, solver)
    n = penalty.n_features
    if n is not None and n != datafit.n_features:
        raise ShapeError(f"{solver}: the penalty {penalty!r} is defined on {n} features but the datafit has "
                         f"{datafit.n_features}.")


def capability_table(datafits=None, penalties=None):
    """The datafit and penalty registries as a markdown table of the solvers each pair gets.

    For every registered datafit and penalty (a random instance of each, on
    a vector unknown), the solver ``ss.solve`` picks and every valid solver
    (cvxpy reference included), once for an explicit matrix ``A`` (dense or
    scipy.sparse) and once for a ``LinearOperator``. ``docs/make_solvers_table.py``
    writes it to ``docs/solvers_table.md``.

    Parameters
    ----------
    datafits : sequence of str, optional
        Datafit registry names (default: every registered one).
    penalties : sequence of str, optional
        Penalty registry names (default: every registered one).

    Returns
    -------
    str
        The markdown text, ending with a newline.
    """
    import numpy as np
    from scipy.sparse.linalg import aslinearoperator

    from ..datafits.registry import datafit_names, random_datafit
    from ..penalties.registry import penalty_names, random_penalty

    datafits = list(datafit_names() if datafits is None else datafits)
    penalties = list(penalty_names() if penalties is None else penalties)
    n_samples, n_features = 12, 8
    A = np.random.default_rng(0).standard_normal((n_samples, n_features))
    designs = (A, aslinearoperator(A))
    lines = ["# Which solver for which problem",
             "",
             "Generated by `python docs/make_solvers_table.py` from the datafit and penalty registries and the "
             "solvers' declared needs (`structsparse.solvers.capabilities.capability_table`); "
             "`tests/test_capabilities.py` checks that it matches them. `auto` is what `ss.solve` picks; "
             "`valid` lists every solver that accepts the pair, most preferred first. "
             "`structsparse verify` checks every valid solver against cvxpy.",
             "",
             "| datafit | penalty | auto (matrix A) | valid (matrix A) | auto (LinearOperator) | valid (LinearOperator) |",
             "|---|---|---|---|---|---|"]
    for dname in datafits:
        for pname in penalties:
            pen = random_penalty(pname, n_features, np.random.default_rng(0))
            cells = []
            for design in designs:
                fit = random_datafit(dname, design, np.random.default_rng(0))
                valid = valid_solvers(fit, pen)
                try:
                    auto = auto_solver(fit, pen)
                except IncompatibleSolverError:
                    auto = "none"
                cells += [f"`{auto}`", ", ".join(f"`{s}`" for s in valid)]
            lines.append(f"| {dname} | {pname} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
