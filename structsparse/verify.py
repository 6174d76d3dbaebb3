"""``structsparse verify``: every valid (datafit, penalty, solver) triple checked against cvxpy on random problems.

For every registered datafit (least squares, logistic, Huber, Poisson, and
any added with ``register_datafit``) and every registered penalty (``L1``,
group, sparse-group, tree, nuclear, group-nuclear, overlapping and latent
group lassos, and any added with ``register_penalty``), random problems are
drawn: a design ``A`` that is in turn a dense array, a scipy.sparse matrix
and a ``LinearOperator``; targets drawn to suit the datafit (labels for the
logistic loss, counts for Poisson, outliers for Huber), with several
right-hand sides where the datafit accepts them; and ``lam`` a random
fraction of ``lambda_max``. The cvxpy reference solves each problem once;
then every solver in ``valid_solvers(datafit, penalty)`` (except the cvxpy
reference itself) solves it, and so does ``ss.solve`` (``solver="auto"``) as
a row of its own. Some solvers accept a pair only on some problems
(``solve_block`` needs an explicit matrix, and one right-hand side for
datafits other than least squares): when one of them did not run on the
pair's problems, one more problem with a dense or sparse design and one
right-hand side is drawn for it, so that every valid (datafit, penalty,
solver) triple is checked. Every solution is scored by the same numpy function
``F(A x) + lam * Omega(x)``, and a row passes when the relative difference
of its objective from the reference's is at most ``tol``. A solver that
raises, returns a malformed answer or does not converge is a failed row,
never a crash of the whole run and never a hidden one. A solver's time is
reported apart from the time numba spends compiling its kernels (the first
run after an install) or loading them from its cache (later runs).
"""

import time
import warnings
from dataclasses import asdict, dataclass

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import LinearOperator

from ._validation import check_int, check_rng, check_scalar, renamed_kwarg
from .exceptions import ParameterError, ParameterTypeError

__all__ = ["verify", "random_problem", "compare", "VerifyRow", "Problem", "rows_as_dicts", "write_json", "register",
           "summarize", "OPERATOR_KINDS", "AUTO"]

#: The three kinds of design matrix drawn in turn.
OPERATOR_KINDS = ("dense", "sparse", "operator")

#: Name of the row that runs ``ss.solve(..., solver="auto")``.
AUTO = "auto"

# penalties whose unknown is a matrix by nature: several right-hand sides whenever the datafit takes them
_MATRIX_PENALTIES = ("nuclear_norm",)


def _penalty_names():
    from .penalties.registry import penalty_names

    return penalty_names()


def _datafit_names():
    from .datafits.registry import datafit_names

    return datafit_names()


@dataclass(frozen=True)
class Problem:
    """A random verification problem: a datafit, a penalty and how they were drawn.

    Attributes
    ----------
    datafit : Datafit
    penalty : Penalty
        With ``lam = lam_ratio * lambda_max(datafit, penalty)``.
    kind : str
        How ``A`` is given: ``'dense'``, ``'sparse'`` or ``'operator'``.
    lam_ratio : float
    """

    datafit: object
    penalty: object
    kind: str
    lam_ratio: float

    @property
    def size(self):
        """``n_samples x n_features`` (``x n_targets`` for matrix unknowns)."""
        shape = (self.datafit.n_samples,) + self.datafit.x_shape
        return "x".join(str(s) for s in shape)

    def __repr__(self):
        return (f"Problem({self.datafit.name}, {self.penalty.name}, {self.kind}, {self.size}, "
                f"lam_ratio={self.lam_ratio:.3f})")


@dataclass(frozen=True)
class VerifyRow:
    """One line of the verification table: one solver on one problem.

    Attributes
    ----------
    datafit, penalty : str
        Registry names.
    solver : str
        The solver asked for (``'auto'`` for ``ss.solve``).
    ran : str
        The solver that ran (``SolverResult.solver``; for ``'auto'``, the one it picked).
    kind, size : str
        Design kind and problem size.
    lam_ratio : float
        ``lam / lambda_max``.
    rel_obj_diff : float
        ``|P(x_solver) - P(x_cvxpy)| / max(|P(x_solver)|, |P(x_cvxpy)|)``, both by the same numpy function.
    max_coef_diff : float
        Largest absolute coefficient difference from the reference.
    time_solver : float
        Seconds of the solver's call (through ``ss.solve``), less ``time_compile``.
    time_cvxpy : float
        Seconds of the cvxpy reference (its compilation of the problem included).
    passed : bool
    note : str
        Why a row failed (exception, non-convergence, warnings).
    time_compile : float
        Seconds the call spent in numba's compiler: compiling the kernels that no earlier call of the process
        used, or loading them from numba's on-disk cache (``cache=True``). The first run after an install
        compiles; later processes load.
    """

    datafit: str
    penalty: str
    solver: str
    ran: str
    kind: str
    size: str
    lam_ratio: float
    rel_obj_diff: float
    max_coef_diff: float
    time_solver: float
    time_cvxpy: float
    passed: bool
    note: str = ""
    time_compile: float = 0.0

    def __repr__(self):
        return (f"VerifyRow({self.datafit}, {self.penalty}, {self.solver}, {self.kind}, "
                f"rel={self.rel_obj_diff:.1e}, {'pass' if self.passed else 'FAIL'})")


def _as_operator(M):
    """Wrap a dense matrix as a LinearOperator that only exposes products (as a user's operator would)."""
    return LinearOperator(M.shape, matvec=lambda v: M @ v, rmatvec=lambda r: M.T @ r,
                          matmat=lambda V: M @ V, rmatmat=lambda R: M.T @ R, dtype=float)


def _random_design(n_samples, n_features, kind, rng):
    if kind == "sparse":
        # about 30 % nonzeros, and a diagonal-ish band so that no column is empty
        M = sp.random(n_samples, n_features, density=0.3, random_state=rng, data_rvs=rng.standard_normal)
        band = sp.csr_matrix((rng.standard_normal(n_features), (np.arange(n_features) % n_samples,
                                                                 np.arange(n_features))),
                             shape=(n_samples, n_features))
        return ((M + band) / np.sqrt(0.3 * n_samples)).tocsr()
    M = rng.standard_normal((n_samples, n_features)) / np.sqrt(n_samples)
    if kind == "operator":
        return _as_operator(M)
    return M


def _check_name(name, names, what, owner):
    if not isinstance(name, str) or name not in names:
        raise ParameterError(f"Unknown {what} {name!r} in {owner}; choose from {', '.join(names)}.")


_MAX_DRAWS = 50


def _has_minimizer(fit, pen):
    """Whether ``F(A x) + lam * Omega(x)`` attains its minimum, judged on the variables ``Omega`` leaves free.

    A direction of unbounded decrease can only use free variables (``Omega`` grows along every other one), so
    the problem has a minimizer when the unpenalized fit of the free variables has one. That fit is computed
    (L-BFGS) and accepted when it is moderate and the objective grows along its ray (``F(2 x) > F(x)``): it
    fails for separable labels (logistic) or counts that a free column explains exactly (Poisson).
    """
    from scipy.optimize import minimize

    from ._linalg import columns

    free = pen.free_variables(fit.n_features, fit.x_shape)
    if not free.any() or "least_squares" in fit.capabilities:
        return True
    sub = fit.with_design(columns(fit.A, np.flatnonzero(free)))
    shape = sub.x_shape

    def fun(v):
        z = sub.matvec(v.reshape(shape))
        return sub.value_from_Ax(z), np.ravel(sub.grad_from_Ax(z))

    with np.errstate(over="ignore"):
        res = minimize(fun, np.zeros(int(np.prod(shape))), jac=True, method="L-BFGS-B",
                       options={"maxiter": 2000, "ftol": 1e-14, "gtol": 1e-10})
        x = res.x.reshape(shape)
        if not np.all(np.isfinite(x)):
            return False
        if np.max(np.abs(x), initial=0.0) < 1e-8:
            return True
        f1, f2 = fun(x.ravel())[0], fun(2.0 * x.ravel())[0]
    return bool(np.max(np.abs(x)) < 20.0 and f2 > f1 + 1e-8 * max(1.0, abs(f1)))


def random_problem(penalty, rng=None, datafit="least_squares", kind="dense", n_targets=None, max_features=20):
    """Draw a random problem ``F(A x) + lam * Omega(x)`` for a registered penalty and datafit.

    Parameters
    ----------
    penalty : str
        A name from the penalty registry (``penalty_names()``).
    rng : None, int or numpy.random.Generator
        Source of every random draw.
    datafit : str, default 'least_squares'
        A name from the datafit registry (``datafit_names()``). Draws whose
        problem has no minimizer (separable labels or exactly fitted counts
        on the variables the penalty leaves free) are redrawn.
    kind : {'dense', 'sparse', 'operator'}
        How ``A`` is given.
    n_targets : int, optional
        Number of right-hand sides (``None``: a vector unknown); only for
        datafits that accept several. Matrix penalties get at least 2 when
        the datafit accepts them.
    max_features : int >= 4
        Largest number of features drawn.

    Returns
    -------
    Problem
    """
    from .datafits.registry import accepts_several_targets, random_datafit
    from .penalties.registry import random_penalty
    from .solvers.lambda_max import lambda_max

    rng = check_rng(rng)
    _check_name(penalty, _penalty_names(), "penalty", "random_problem")
    _check_name(datafit, _datafit_names(), "datafit", "random_problem")
    if kind not in OPERATOR_KINDS:
        raise ParameterError(f"The 'kind' parameter of random_problem must be one of {OPERATOR_KINDS}. Got {kind!r}.")
    max_features = check_int(max_features, "max_features", low=4, owner="random_problem")
    several = accepts_several_targets(datafit)
    if n_targets is not None:
        n_targets = check_int(n_targets, "n_targets", low=1, owner="random_problem")
        if not several:
            raise ParameterError(f"The 'n_targets' parameter of random_problem must be None for the {datafit!r} "
                                 f"datafit (one right-hand side). Got {n_targets}.")
    if penalty in _MATRIX_PENALTIES and n_targets is None and several:
        n_targets = int(rng.integers(2, 5))
    for _ in range(_MAX_DRAWS):
        n_features = int(rng.integers(max(4, max_features // 4), max_features + 1))
        n_samples = int(rng.integers(max(4, n_features // 2), 2 * n_features + 1))
        pen = random_penalty(penalty, n_features, rng, n_targets=n_targets)
        A = _random_design(n_samples, n_features, kind, rng)
        fit = random_datafit(datafit, A, rng, n_targets=n_targets)
        if _has_minimizer(fit, pen):
            break
    else:
        raise ParameterError(f"random_problem: no draw of {_MAX_DRAWS} for the {datafit!r} datafit and the "
                             f"{penalty!r} penalty had a minimizer (its free variables fit the data perfectly).")
    lmax = lambda_max(fit, pen)
    ratio = float(rng.uniform(0.05, 0.8))
    lam = ratio * lmax if lmax > 0 else 1.0
    return Problem(datafit=fit, penalty=pen.with_lam(lam), kind=kind, lam_ratio=ratio)


def _pair_solvers(datafit, penalty):
    """Solvers (cvxpy reference aside) valid for the pair on an explicit matrix with one right-hand side.

    That design admits every solver a problem of the pair can admit: an
    operator or several right-hand sides only take capabilities away.
    """
    from .solvers.capabilities import valid_solvers

    fit, pen = _probe(datafit, penalty)
    return [s for s in valid_solvers(fit, pen) if s != "cvxpy"]


def _probe(datafit, penalty):
    """A small problem of the pair on an explicit matrix with one right-hand side (the most permissive design)."""
    from .datafits.registry import random_datafit
    from .penalties.registry import random_penalty

    probe = np.random.default_rng(0)
    return random_datafit(datafit, probe.standard_normal((12, 8)), probe), random_penalty(penalty, 8, probe)


def _check_solvers_match(solvers, datafits, penalties):
    """Raise when an asked-for solver is valid for none of the chosen (datafit, penalty) pairs.

    Without this a run would print an empty table ("0/0 passed"). The message names the combination and why
    it is invalid: the triple check's message for the first pair.
    """
    from .solvers.capabilities import IncompatibleSolverError, check_triple

    valid = {}
    for d in datafits:
        for p in penalties:
            try:
                valid[d, p] = _pair_solvers(d, p)
            except Exception:  # a registry entry that cannot draw: its rows fail loudly during the run
                valid[d, p] = None
    for solver in solvers:
        if solver == AUTO or any(v is None or solver in v for v in valid.values()):
            continue
        d, p = next(iter(valid))
        try:
            check_triple(*_probe(d, p), solver)
            why = f"{solver} is not valid for it"  # pragma: no cover (valid_solvers and check_triple agree)
        except IncompatibleSolverError as exc:
            why = str(exc)
        pairs = [f"{d} x {p}" for d, p in valid]
        listed = ", ".join(pairs) if len(pairs) <= 3 else f"{', '.join(pairs[:2])} and {len(pairs) - 2} more"
        raise ParameterError(f"The 'solvers' parameter of verify asks for {solver!r}, but no valid (datafit, "
                             f"penalty, solver) triple has it among the selected pairs ({listed}). For {d} x {p}: "
                             f"{why}")


def _spawn(rng):
    """An independent generator derived from ``rng`` without drawing from its stream (when it can be spawned)."""
    try:
        return rng.spawn(1)[0]
    except (AttributeError, TypeError, ValueError):  # a bit generator without a seed sequence
        return np.random.default_rng(int(rng.integers(2 ** 63)))


def _solve(solver, datafit, penalty, tol, max_iter, time_limit, compiling=None):
    """Run one solver through ``ss.solve`` (which checks the triple first), stopped after ``time_limit`` seconds.

    The limit is a callback returning True (the solver then reports ``converged=False``), passed to solvers
    that take one. The seconds ``compiling`` (a running :class:`_CompileClock`) counts in numba's compiler do not
    count: a first run after an install compiles kernels for tens of seconds, and that is no failure of the solver.
    """
    import inspect

    from .solvers.capabilities import SOLVER_SPECS, auto_solver
    from .solvers.solve import solve

    name = auto_solver(datafit, penalty) if solver == AUTO else solver
    params = inspect.signature(SOLVER_SPECS[name].function()).parameters
    options = {"max_outer" if name == "solve_block" else "max_iter": max_iter}
    if "callback" in params or any(p.kind is p.VAR_KEYWORD for p in params.values()):
        deadline = time.perf_counter() + time_limit
        options["callback"] = lambda *args: (time.perf_counter() - (compiling.so_far() if compiling else 0.0)
                                             > deadline)
    if solver == AUTO:
        return solve(datafit, penalty, tol=tol, **options)
    return solve(datafit, penalty, tol=tol, solver=solver, **options)


class _CompileClock:
    """Seconds spent in numba's compiler within a ``with`` block: compiling kernels or loading them from its cache.

    Numba holds its global compiler lock while it compiles a kernel for new argument types or loads one from the
    on-disk cache, and reports the lock's holding time as the ``numba:compiler_lock`` event; calls of kernels
    already loaded never take it. Zero when numba is missing or disabled.
    """

    def __enter__(self):
        self.seconds = 0.0
        try:
            from numba.core import event
        except ImportError:  # pragma: no cover (numba is a dependency; the numpy twins compile nothing)
            self._listener = None
            return self
        self._event = event
        self._listener = event.TimingListener()
        event.register("numba:compiler_lock", self._listener)
        return self

    def so_far(self):
        """Seconds counted until now (compilations that have ended)."""
        listener = getattr(self, "_listener", None)
        return float(listener.duration) if listener is not None and listener.done else self.seconds

    def __exit__(self, *exc):
        if self._listener is not None:
            self._event.unregister("numba:compiler_lock", self._listener)
            if self._listener.done:
                self.seconds = float(self._listener.duration)
        return False


def _reference(problem):
    from .solvers.cvxpy_reference import solve_cvxpy

    return solve_cvxpy(problem.datafit, problem.penalty)


def _objective(problem, x):
    from .solvers.cvxpy_reference import reference_objective

    return reference_objective(problem.datafit, problem.penalty, x)


def compare(problem, solvers=None, tol=1e-6, reference=None, max_iter=100_000, time_limit=60.0):
    """Solve ``problem`` with each solver and with cvxpy, and score every solution against the reference.

    Parameters
    ----------
    problem : Problem
    solvers : sequence of str, optional
        Solver names (``'auto'`` for ``ss.solve``); default: every solver in
        ``valid_solvers(datafit, penalty)`` except ``'cvxpy'``, then ``'auto'``.
    tol : float > 0
        A row passes when its relative objective difference is at most ``tol``.
        Solvers run at ``tol / 100`` (their certified relative accuracy where
        they have a duality gap), leaving room for the reference's own error.
    reference : SolverResult, optional
        A cvxpy solution already computed for this problem.
    max_iter : int
        Iteration limit of every solver's main loop (``max_outer`` for
        :func:`~structsparse.solve_block`).
    time_limit : float
        Seconds after which a solver that takes a ``callback`` is stopped
        (its row then fails as not converged).

    Returns
    -------
    list of VerifyRow
    """
    from .solvers.capabilities import valid_solvers

    fit, pen = problem.datafit, problem.penalty
    if solvers is None:
        solvers = [s for s in valid_solvers(fit, pen) if s != "cvxpy"] + [AUTO]
    solver_tol = max(tol * 1e-2, 1e-13)  # below 1e-13 rounding makes the stopping tests unreachable
    ref_notes = []
    if reference is None:
        try:
            reference = _reference(problem)
        except Exception as exc:  # a broken reference fails every row of the problem, loudly
            ref_notes.append(f"cvxpy raised {type(exc).__name__}: {exc}")
    if reference is not None and not reference.converged:
        ref_notes.append(reference.message)
    ref_ok = reference is not None and reference.x is not None and np.isfinite(reference.objective)
    time_c = getattr(reference, "time", np.nan)
    obj_c = _objective(problem, reference.x) if ref_ok else np.nan
    base = dict(datafit=fit.name, penalty=pen.name, kind=problem.kind, size=problem.size,
                lam_ratio=problem.lam_ratio, time_cvxpy=float(time_c))
    rows = []
    for solver in solvers:
        notes = list(ref_notes)
        res = None
        with warnings.catch_warnings(record=True) as caught, _CompileClock() as compiling:
            warnings.simplefilter("always")
            start = time.perf_counter()
            try:
                res = _solve(solver, fit, pen, solver_tol, max_iter, time_limit, compiling)
            except Exception as exc:  # a broken solver is a failed row, not a crash of the whole run
                notes.append(f"{solver} raised {type(exc).__name__}: {exc}")
            elapsed = time.perf_counter() - start
        ran = getattr(res, "solver", "") or ""
        if res is not None and not res.converged:
            notes.append(f"{ran or solver} did not converge: {res.message}")
        notes += [f"warning: {w.message}" for w in caught]
        rel, coef = np.inf, np.inf
        if res is not None and ref_ok:
            x = np.asarray(res.x, dtype=float)
            if x.shape != reference.x.shape or not np.all(np.isfinite(x)):
                notes.append(f"{solver} returned shape {x.shape} / non-finite values")
            else:
                # both objectives by the same numpy function, whatever each solver reports about itself
                obj = _objective(problem, x)
                rel = abs(obj - obj_c) / max(abs(obj_c), abs(obj), np.finfo(float).tiny)
                coef = float(np.max(np.abs(x - reference.x))) if x.size else 0.0
        passed = bool(ref_ok and res is not None and res.converged and rel <= tol)
        rows.append(VerifyRow(solver=solver, ran=ran, rel_obj_diff=float(rel), max_coef_diff=float(coef),
                              time_solver=float(max(elapsed - compiling.seconds, 0.0)),
                              time_compile=float(compiling.seconds), passed=passed, note="; ".join(notes), **base))
    return rows


class _Table:
    """The verification table's layout: column widths fitted to the names that can appear, known before any row.

    The rows are printed as they are computed, so the widths come from the registries and the solver names
    (``ran`` is a solver name or ``solver/inner``, as ``solve_latent/solve_block`` or ``admm/direct``).
    """

    def __init__(self, datafits, penalties, max_features):
        from .solvers.capabilities import SOLVER_SPECS

        names = [s for s in SOLVER_SPECS if s != "cvxpy"] + [AUTO]
        self.datafit = max(len("datafit"), *map(len, datafits))
        self.penalty = max(len("penalty"), *map(len, penalties))
        self.solver = max(len("solver"), *map(len, names))
        inner = max(*map(len, names), len("direct"))
        self.ran = max(len("ran"), *(len(s) + 1 + inner for s in names))
        self.size = max(len("size"), len(f"{2 * max_features}x{max_features}x4"))  # random_problem's largest
        self.header = (f"{'datafit':<{self.datafit}} {'penalty':<{self.penalty}} {'solver':<{self.solver}} "
                       f"{'ran':<{self.ran}} {'A':<8} {'size':<{self.size}} {'lam/lmax':>8} {'rel obj diff':>12} "
                       f"{'max |dx|':>9} {'compile s':>9} {'solver s':>8} {'cvxpy s':>8}  result")

    def row(self, row):
        """One row as a line of the table (the reason after a failed row)."""
        line = (f"{row.datafit:<{self.datafit}} {row.penalty:<{self.penalty}} {row.solver:<{self.solver}} "
                f"{row.ran:<{self.ran}} {row.kind:<8} {row.size:<{self.size}} {row.lam_ratio:>8.3f} "
                f"{row.rel_obj_diff:>12.2e} {row.max_coef_diff:>9.1e} {row.time_compile:>9.3f} {row.time_solver:>8.3f} "
                f"{row.time_cvxpy:>8.3f}  {'pass' if row.passed else 'FAIL'}")
        return line + (f"  ({row.note})" if row.note and not row.passed else "")


def summarize(rows):
    """Per-solver counts and worst relative objective difference.

    Parameters
    ----------
    rows : list of VerifyRow

    Returns
    -------
    dict
        ``solver -> {"rows": int, "passed": int, "worst": float}``, solvers
        in the order they first appear.
    """
    out = {}
    for r in rows:
        s = out.setdefault(r.solver, {"rows": 0, "passed": 0, "worst": 0.0})
        s["rows"] += 1
        s["passed"] += int(r.passed)
        s["worst"] = max(s["worst"], r.rel_obj_diff)
    return out


def _choose(value, names, what):
    if value is None:
        return list(names)
    if isinstance(value, str):
        value = [value]
    chosen = list(value)
    unknown = [v for v in chosen if v not in names]
    if unknown or not chosen:
        raise ParameterError(f"The '{what}' parameter of verify must list names from {', '.join(names)}. "
                             f"Got {value!r}.")
    return chosen


@renamed_kwarg("seed", "rng")
def verify(rng=0, n_problems=1, tol=1e-6, penalties=None, datafits=None, solvers=None, out=print, max_features=10,
           max_iter=100_000, time_limit=60.0):
    """Check every valid (datafit, penalty, solver) triple, and ``ss.solve``, against cvxpy on random problems.

    Parameters
    ----------
    rng : None, int or numpy.random.Generator, default 0
        Source of every random draw. The default is a fixed seed on purpose:
        ``verify`` is a check, and the same call draws the same problems
        every run, so that a failing row can be reproduced (``None`` draws
        fresh ones).
    n_problems : int >= 1, default 1
        Problems per (datafit, penalty) pair. The design kind (dense,
        sparse, operator) and the number of right-hand sides (one or
        several, where the datafit accepts several) cycle over the pairs and
        problems. A solver valid for the pair that none of them admits (an
        operator design or several right-hand sides exclude ``solve_block``)
        gets one more problem of its own, with an explicit matrix and one
        right-hand side (drawn from a generator spawned from ``rng``, so the
        other problems stay the same).
    tol : float > 0, default 1e-6
        A row passes when the relative objective difference is at most ``tol``.
    penalties : sequence of str, optional
        Penalty registry names to check (default: every registered one).
    datafits : sequence of str, optional
        Datafit registry names to check (default: every registered one).
    solvers : sequence of str, optional
        Restrict the rows to these solvers (names of ``SOLVER_SPECS`` or
        ``'auto'``); default: every valid solver plus ``'auto'``. A solver
        that no selected (datafit, penalty) pair admits raises
        ``ParameterError``, with the triple check's reason.
    out : callable or None
        Where table lines go (default ``print``; ``None`` for silence).
    max_features : int >= 4, default 10
        Largest number of features per problem.
    max_iter : int >= 1
        Iteration limit of every solver's main loop (``max_iter`` of
        :func:`~structsparse.fista` and :func:`~structsparse.admm`,
        ``max_outer`` of :func:`~structsparse.solve_block`).
    time_limit : float > 0, default 60
        Seconds after which a solver is stopped; its row fails (not converged).

    Returns
    -------
    list of VerifyRow
        One row per (problem, solver); ``all(r.passed for r in rows)`` is the verdict.

    Notes
    -----
    ``seed=`` is the deprecated old name of ``rng``: it still works in this
    release, with a ``DeprecationWarning``, and is removed in 0.3.
    """
    from .solvers.capabilities import SOLVER_SPECS

    seed_text = f"rng {rng}" if not isinstance(rng, np.random.Generator) else "a given generator"
    rng = check_rng(rng)
    n_problems = check_int(n_problems, "n_problems", low=1, owner="verify")
    tol = check_scalar(tol, "tol", low=0, low_inclusive=False, owner="verify")
    max_iter = check_int(max_iter, "max_iter", low=1, owner="verify")
    max_features = check_int(max_features, "max_features", low=4, owner="verify")
    time_limit = check_scalar(time_limit, "time_limit", low=0, low_inclusive=False, owner="verify")
    if out is not None and not callable(out):
        raise ParameterTypeError(f"The 'out' parameter of verify must be callable or None. Got {out!r}.")
    chosen_p = _choose(penalties, _penalty_names(), "penalties")
    chosen_d = _choose(datafits, _datafit_names(), "datafits")
    solver_names = tuple(s for s in SOLVER_SPECS if s != "cvxpy") + (AUTO,)
    chosen_s = None if solvers is None else _choose(solvers, solver_names, "solvers")
    if chosen_s is not None:
        _check_solvers_match(chosen_s, chosen_d, chosen_p)
    from .datafits.registry import accepts_several_targets
    from .solvers.capabilities import valid_solvers

    extra_rng = _spawn(rng)  # the completing problems draw apart: the cycled problems stay those of rng
    emit = out if out is not None else (lambda *_: None)
    table = _Table(chosen_d, chosen_p, max_features)
    emit(f"Every valid (datafit, penalty, solver) triple and ss.solve (auto) vs the cvxpy reference, {seed_text}, "
         f"pass if relative objective difference <= {tol:g}.")
    emit(f"Problems: {n_problems} random problem{'s' if n_problems > 1 else ''} per (datafit, penalty) pair, plus "
         f"one with a dense or sparse design and one right-hand side for a pair whose "
         f"problem{'s' if n_problems > 1 else ''} a valid solver cannot take (solve_block takes no operator, "
         f"nor several right-hand sides outside least squares).")
    emit("Seconds: 'compile s' in numba's compiler, compiling the kernels no earlier call used (the first run after an "
         "install) or loading them from its cache (later runs); 'solver s' the rest of the solver's call; 'cvxpy s' "
         "the reference's, its compilation of the problem included.")
    emit(table.header)
    emit("-" * len(table.header))
    rows = []
    start = time.perf_counter()
    pair = 0
    n_drawn = {"pair": 0, "completing": 0, "cvxpy": 0.0}

    def run(dname, pname, kind, n_targets, source, wanted=None):
        """Draw one problem and check the solvers it admits (those in ``wanted`` only, when given)."""
        n_drawn["pair" if wanted is None else "completing"] += 1  # uncounted again below if no solver runs on it
        try:
            problem = random_problem(pname, source, datafit=dname, kind=kind, n_targets=n_targets,
                                     max_features=max_features)
        except Exception as exc:  # a registry entry that cannot even draw a problem fails loudly
            row = VerifyRow(dname, pname, "-", "", kind, "-", np.nan, np.inf, np.inf, 0.0, 0.0, False,
                            f"drawing the problem raised {type(exc).__name__}: {exc}")
            rows.append(row)
            emit(table.row(row))
            return set()
        names = [s for s in valid_solvers(problem.datafit, problem.penalty) if s != "cvxpy"]
        if wanted is not None:
            names = [s for s in names if s in wanted]
        names += [AUTO]
        if chosen_s is not None:
            names = [s for s in names if s in chosen_s]
        if not names:
            n_drawn["pair" if wanted is None else "completing"] -= 1
            return set()
        checked = compare(problem, names, tol, max_iter=max_iter, time_limit=time_limit)
        n_drawn["cvxpy"] += checked[0].time_cvxpy if np.isfinite(checked[0].time_cvxpy) else 0.0  # once a problem
        for row in checked:
            rows.append(row)
            emit(table.row(row))
        return set(names)

    for dname in chosen_d:
        for pname in chosen_p:
            ran = set()
            for i in range(n_problems):
                k = pair + i
                kind = OPERATOR_KINDS[k % len(OPERATOR_KINDS)]
                n_targets = int(rng.integers(2, 4)) if accepts_several_targets(dname) and k % 2 else None
                ran |= run(dname, pname, kind, n_targets, rng)
            try:
                full = _pair_solvers(dname, pname)
            except Exception:  # a registry entry that cannot draw: its rows above already failed, loudly
                full = []
            missing = [s for s in full if s not in ran and (chosen_s is None or s in chosen_s)]
            if missing:  # e.g. solve_block, when the pair's problems had an operator or several targets
                run(dname, pname, ("dense", "sparse")[pair % 2], None, extra_rng, wanted=set(missing))
            pair += n_problems
    emit("-" * len(table.header))
    for solver, s in summarize(rows).items():
        emit(f"{solver:<12} {s['passed']:>4}/{s['rows']:<4} passed, worst relative objective difference "
             f"{s['worst']:.2e}")
    n_failed = sum(not r.passed for r in rows)
    worst = max((r.rel_obj_diff for r in rows), default=0.0)
    compiling = sum(r.time_compile for r in rows)
    emit(f"{n_drawn['pair']} problems for the pairs and {n_drawn['completing']} completing ones; the solvers took "
         f"{sum(r.time_solver for r in rows):.1f} s, numba's compiler {compiling:.1f} s, cvxpy "
         f"{n_drawn['cvxpy']:.1f} s")
    emit(f"{len(rows) - n_failed}/{len(rows)} passed, worst relative objective difference {worst:.2e}, "
         f"{time.perf_counter() - start:.1f} s")
    return rows


def rows_as_dicts(rows):
    """The rows as plain dicts (for saving as JSON or CSV).

    Parameters
    ----------
    rows : list of VerifyRow

    Returns
    -------
    list of dict
    """
    return [asdict(r) for r in rows]


def write_json(rows, path):
    """Save the rows as a JSON list, atomically (temporary file in the same folder, then rename).

    Parameters
    ----------
    rows : list of VerifyRow
    path : str or path-like
    """
    import json

    from ._atomic import atomic_write_text

    def clean(d):  # JSON has no inf or NaN: write them as strings
        return {k: (str(v) if isinstance(v, float) and not np.isfinite(v) else v) for k, v in d.items()}

    atomic_write_text(path, json.dumps([clean(d) for d in rows_as_dicts(rows)], indent=1))


def _cli(args):
    rows = []
    for seed in args.rng:
        rows += verify(rng=seed, n_problems=args.n_problems, tol=args.tol, penalties=args.penalties,
                       datafits=args.datafits, solvers=args.solvers, max_features=args.max_features,
                       time_limit=args.time_limit)
    if len(args.rng) > 1:
        print(f"all seeds {' '.join(map(str, args.rng))}:")
        for solver, s in summarize(rows).items():
            print(f"{solver:<12} {s['passed']:>4}/{s['rows']:<4} passed, worst relative objective difference "
                  f"{s['worst']:.2e}")
        print(f"{sum(r.passed for r in rows)}/{len(rows)} passed")
    if args.json:
        write_json(rows, args.json)
        print(f"rows written to {args.json}")
    return 0 if rows and all(r.passed for r in rows) else 1


def register(subparsers):
    """Add the ``verify`` subcommand.

    Parameters
    ----------
    subparsers : argparse subparsers action
    """
    p = subparsers.add_parser(
        "verify", help="check every valid (datafit, penalty, solver) triple against cvxpy on random problems",
        description=__doc__.splitlines()[0],
    )
    p.add_argument("--seed", "--rng", dest="rng", type=int, nargs="+", default=[0], metavar="SEED",
                   help="random seed(s), passed on as rng; several run one after the other (default: %(default)s)")
    p.add_argument("--n-problems", type=int, default=1,
                   help="problems per (datafit, penalty) pair (default: %(default)s)")
    p.add_argument("--tol", type=float, default=1e-6,
                   help="largest relative objective difference that passes (default: %(default)s)")
    p.add_argument("--max-features", type=int, default=10,
                   help="largest number of features per problem (default: %(default)s)")
    p.add_argument("--penalties", nargs="*", metavar="NAME",
                   help=f"subset of penalties (default: all of {', '.join(_penalty_names())})")
    p.add_argument("--datafits", nargs="*", metavar="NAME",
                   help=f"subset of datafits (default: all of {', '.join(_datafit_names())})")
    p.add_argument("--solvers", nargs="*", metavar="NAME",
                   help="subset of solvers, 'auto' for ss.solve (default: every valid one and auto)")
    p.add_argument("--time-limit", type=float, default=60.0, metavar="SECONDS",
                   help="stop a solver after this long; its row fails (default: %(default)s)")
    p.add_argument("--json", metavar="PATH", help="also save the table as JSON")
    p.set_defaults(func=_cli)
