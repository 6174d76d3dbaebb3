"""Reference solutions by cvxpy, the yardstick every fast solver is checked against.

The problem ``min_x F(A x) + lam * Omega(x)`` is written from cvxpy atoms:
the datafit from its own :meth:`~structsparse.Datafit.cvxpy_fit` (a sum of
squares, logistic, Huber or exponential atoms) and the penalty from its own
:meth:`~structsparse.Penalty.cvxpy` expression, with ``lam`` a non-negative
``cvxpy.Parameter``. The problem is DPP-compliant, so :class:`CvxpyProblem`
compiles it once and :meth:`CvxpyProblem.solve` re-solves it for other
values of ``lam`` (paths) without recompiling.

The default solver is Clarabel (an interior-point method) with tolerances
tighter than its defaults, because the reference has to be accurate to far
better than the 1e-6 relative objective at which solvers are compared. When
Clarabel fails or reports an inaccurate solution it is retried with its
default tolerances, then SCS is tried; an answer that no solver certifies is
returned with ``converged=False`` and a message saying why, never silently.
"""

import time
import warnings

import numpy as np

from scipy.sparse.linalg import LinearOperator

import re

from .._validation import check_options, check_scalar
from ..exceptions import ParameterError, ParameterTypeError, ShapeError
from .capabilities import check_inputs
from .fista import duality_gap
from .result import SolverResult

__all__ = ["solve_cvxpy", "cvxpy_problem", "CvxpyProblem", "MAX_DENSE_ENTRIES", "CLARABEL_TIGHT"]

#: Largest number of entries a LinearOperator may have once densified for the reference.
MAX_DENSE_ENTRIES = 20_000_000

#: Clarabel options used by default: 100x tighter than Clarabel's own defaults.
CLARABEL_TIGHT = {"tol_gap_abs": 1e-10, "tol_gap_rel": 1e-10, "tol_feas": 1e-10}

# Clarabel's own defaults, passed explicitly: cvxpy may keep the previous call's settings otherwise
_CLARABEL_DEFAULT = {"tol_gap_abs": 1e-8, "tol_gap_rel": 1e-8, "tol_feas": 1e-8}

# SCS is a first-order method: it needs many iterations to get close to 1e-8.
_SCS_TIGHT = {"eps_abs": 1e-9, "eps_rel": 1e-9, "max_iters": 200_000}


# keywords of cvxpy's Problem.solve itself, which every solver takes
_CVXPY_SOLVE_KEYS = frozenset({"warm_start", "ignore_dpp", "enforce_dpp", "canon_backend"})


def _check_solver_opts(name, opts, owner):
    """Refuse unknown options before solving where the solver lists its settings (Clarabel)."""
    if not opts or name != "CLARABEL":
        return
    try:
        import clarabel

        known = {k for k in dir(clarabel.DefaultSettings()) if not k.startswith("_") and k != "default"}
    except (ImportError, AttributeError):  # pragma: no cover - cvxpy ships Clarabel
        return
    check_options(owner, opts, known | _CVXPY_SOLVE_KEYS, target="the cvxpy solver 'CLARABEL'")


def _rejected_option(name, opts, exc, owner):
    """A ParameterError naming the option a solver refused (each cvxpy solver words it differently), or None."""
    text = str(exc)
    bad = sorted(k for k in opts if re.search(rf"\b{re.escape(k)}\b", text))
    if not bad:
        return None
    return ParameterError(f"{owner}: the cvxpy solver {name!r} takes no option {', '.join(map(repr, bad))} "
                          f"(it said: {text.strip()[:200]}); see that solver's documentation for its options.")


def _dense_operator(A, owner):
    """``A`` as something cvxpy accepts: arrays and sparse matrices as they are, operators densified."""
    if not isinstance(A, LinearOperator):
        return A
    n_rows, n_cols = A.shape
    if n_rows * n_cols > MAX_DENSE_ENTRIES:
        raise ShapeError(
            f"{owner}: the LinearOperator 'A' of shape {A.shape} would need {n_rows * n_cols:,} entries once "
            f"densified for the cvxpy reference (limit {MAX_DENSE_ENTRIES:,}). Solve a smaller instance or pass "
            "A as a scipy.sparse matrix."
        )
    # A @ I builds the matrix column by column through the operator's matmat
    return np.asarray(A @ np.eye(n_cols))


def _check_pair(loss, penalty, owner):
    check_inputs(loss, penalty, "cvxpy")


def reference_objective(loss, penalty, x, lam=None):
    """``F(A x) + lam * Omega(x)`` evaluated in numpy, exactly as the loss and penalty define it."""
    pen = penalty if lam is None else penalty.with_lam(lam)
    return float(loss.value(x) + pen(x))


class CvxpyProblem:
    """A compiled cvxpy formulation of a penalized least-squares problem.

    Build it with :func:`cvxpy_problem`; call :meth:`solve` with any ``lam``.
    Re-solving only changes the value of the ``lam`` parameter, so cvxpy
    reuses its compiled problem.

    Attributes
    ----------
    loss : Datafit
    penalty : Penalty
    x : cvxpy.Variable
        The unknown, of shape ``loss.x_shape``.
    lam : cvxpy.Parameter
        The non-negative regularization strength.
    problem : cvxpy.Problem
    """

    def __init__(self, loss, penalty):
        import cvxpy as cp

        owner = "cvxpy_problem"
        _check_pair(loss, penalty, owner)
        self.loss = loss
        self.penalty = penalty
        A = _dense_operator(loss.A, owner)
        self.x = cp.Variable(loss.x_shape, name="x")
        self.lam = cp.Parameter(nonneg=True, name="lam", value=penalty.lam)
        fit = loss.cvxpy_fit(A @ self.x)
        self.problem = cp.Problem(cp.Minimize(fit + penalty.cvxpy(self.x, self.lam)))
        if not self.problem.is_dcp(dpp=True):  # a penalty expression bug, not a user error
            raise TypeError(f"The cvxpy expression of {penalty!r} is not DPP-compliant in lam.")

    def solve(self, lam=None, solver=None, verbose=False, **solver_opts):
        """Solve for one value of ``lam`` and return a :class:`SolverResult`.

        Parameters
        ----------
        lam : float >= 0, optional
            Regularization strength (default: ``penalty.lam``).
        solver : str, optional
            A cvxpy solver name. By default Clarabel with tight tolerances,
            then Clarabel with its default tolerances, then SCS.
        verbose : bool
            Print the solver's log.
        **solver_opts
            Passed to the solver (only when ``solver`` is given, or to
            replace the tight Clarabel options).

        Returns
        -------
        SolverResult
            ``objective`` is recomputed in numpy from the loss and penalty;
            ``converged`` is True only when the solver reported an optimal
            status; ``history`` holds the status of every attempt.
        """
        import cvxpy as cp

        lam = self.penalty.lam if lam is None else check_scalar(lam, "lam", low=0, owner="CvxpyProblem.solve")
        if solver is not None and not isinstance(solver, str):
            raise ParameterTypeError(f"The 'solver' parameter of solve_cvxpy must be a cvxpy solver name. "
                                     f"Got {solver!r}.")
        self.lam.value = lam
        if solver is None:
            attempts = [("CLARABEL", {**CLARABEL_TIGHT, **solver_opts}),
                        ("CLARABEL", {**_CLARABEL_DEFAULT, **solver_opts}),
                        ("SCS", _SCS_TIGHT)]
        else:
            solver = solver.upper()
            if solver not in cp.installed_solvers():
                raise ParameterError(
                    f"The 'solver' parameter of solve_cvxpy must be an installed cvxpy solver "
                    f"({', '.join(cp.installed_solvers())}). Got {solver!r}."
                )
            attempts = [(solver, dict(solver_opts))]
        owner = "solve_cvxpy"
        _check_solver_opts(attempts[0][0], solver_opts, owner)

        start = time.perf_counter()
        statuses = []
        # The problem is unconstrained, so every returned point is feasible and a lower objective is
        # simply better: keep the best point of all attempts. It is certified when some attempt
        # reached an optimal status (the best point is then at least as good as that one).
        best_x, best_obj, best_name, certified, n_iter = None, np.inf, None, False, 0
        for name, opts in attempts:
            try:
                with warnings.catch_warnings():
                    # cvxpy warns on inaccurate solutions; the status already says so
                    warnings.simplefilter("ignore", UserWarning)
                    self.problem.solve(solver=name, verbose=verbose, **opts)
            except Exception as exc:
                rejected = _rejected_option(name, solver_opts, exc, owner) if solver_opts else None
                if rejected is not None:
                    raise rejected from None
                if not isinstance(exc, cp.error.SolverError):
                    raise
                statuses.append(f"{name}: error ({exc})".replace("\n", " "))
                continue
            status = self.problem.status
            statuses.append(f"{name}: {status}")
            if self.x.value is None or status not in (cp.OPTIMAL, cp.OPTIMAL_INACCURATE):
                continue
            x = np.array(self.x.value, dtype=float).reshape(self.loss.x_shape)
            obj = reference_objective(self.loss, self.penalty, x, lam)
            certified |= status == cp.OPTIMAL
            if obj <= best_obj:
                best_x, best_obj, best_name = x, obj, name
                stats = self.problem.solver_stats
                n_iter = int(stats.num_iters) if stats is not None and stats.num_iters is not None else 0
            if certified:
                break
        elapsed = time.perf_counter() - start

        if best_x is None:
            return SolverResult(x=np.zeros(self.loss.x_shape), objective=np.nan, n_iter=0, converged=False,
                                history={"status": statuses}, time=elapsed, solver="cvxpy",
                                message="cvxpy failed: " + "; ".join(statuses))
        x = best_x
        message = f"cvxpy/{best_name}: " + ("optimal" if certified else "inaccurate (solution not certified optimal)")
        return SolverResult(
            x=x,
            objective=best_obj,
            n_iter=n_iter,
            converged=certified,
            gap=duality_gap(self.loss, self.penalty.with_lam(lam), x),  # independent certificate
            history={"status": statuses},
            time=elapsed,
            solver=f"cvxpy/{best_name}",
            message=message,
        )


def cvxpy_problem(loss, penalty):
    """Compile ``F(A x) + lam * Omega(x)`` once, for repeated solves over ``lam``.

    Parameters
    ----------
    loss : Datafit
        ``A`` dense, scipy.sparse or a LinearOperator (densified by ``A @ I``
        for the reference; an error is raised above
        :data:`MAX_DENSE_ENTRIES` entries); one or several right-hand sides.
    penalty : Penalty
        Any structsparse penalty; its ``lam`` is the default for ``solve``.

    Returns
    -------
    CvxpyProblem

    Examples
    --------
    >>> import numpy as np, structsparse as ss
    >>> A = np.eye(3); y = np.array([3.0, -0.5, 0.2])
    >>> prob = cvxpy_problem(ss.LeastSquares(A, y), ss.L1(1.0))
    >>> (np.round(prob.solve(1.0).x, 6) + 0.0).tolist()  # + 0.0 turns -0.0 into 0.0
    [2.0, 0.0, 0.0]
    """
    return CvxpyProblem(loss, penalty)


def solve_cvxpy(loss, penalty, solver=None, verbose=False, **solver_opts):
    """Reference solution of ``F(A x) + penalty(x)`` by cvxpy.

    Parameters
    ----------
    loss : Datafit
    penalty : Penalty
        Its ``lam`` is used (as the value of a ``cvxpy.Parameter``).
    solver : str, optional
        A cvxpy solver name; default Clarabel with tight tolerances, falling
        back to Clarabel defaults and then SCS.
    verbose : bool
        Print the solver's log.
    **solver_opts
        Options for the cvxpy solver (for Clarabel, its settings such as
        ``max_iter`` or ``tol_gap_rel``). An option the solver does not take
        raises :class:`ParameterError` naming it: checked before solving for
        Clarabel, from the solver's refusal for the others.

    Returns
    -------
    SolverResult
        ``converged=False`` with a message when no solver certified an
        optimal solution; ``objective`` is computed in numpy; ``gap`` is the
        duality gap at the solution where the penalty has a dual norm.
    """
    return cvxpy_problem(loss, penalty).solve(None, solver=solver, verbose=verbose, **solver_opts)
