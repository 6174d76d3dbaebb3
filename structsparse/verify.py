"""``structsparse verify``: every penalty solved by FISTA and by cvxpy on random problems.

Each problem draws a penalty from the penalty registry (unequal group sizes,
random weights, trees of varied shapes), a design ``A`` that is in turn a
dense array, a scipy.sparse matrix and a ``LinearOperator``, one or several
right-hand sides (matrix unknowns for the low-rank penalties), and ``lam`` a
random fraction of ``lambda_max``. FISTA and the cvxpy reference each solve
it; both solutions are scored by the same numpy function
``0.5 ||A x - y||^2 + penalty(x)``, and the problem passes when the relative
difference of the two objectives is at most ``tol``.
"""

import time
import warnings
from dataclasses import asdict, dataclass

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import LinearOperator

from ._validation import check_int, check_rng, check_scalar
from .exceptions import ParameterError
from .losses import LeastSquares
from .solvers.cvxpy_reference import reference_objective, solve_cvxpy
from .solvers.fista import fista
from .solvers.lambda_max import lambda_max

__all__ = ["verify", "random_problem", "compare", "VerifyRow", "Problem", "rows_as_dicts", "write_json", "register",
           "OPERATOR_KINDS"]

#: The three kinds of design matrix drawn in turn.
OPERATOR_KINDS = ("dense", "sparse", "operator")

# penalties whose unknown is a matrix by nature: always several right-hand sides
_MATRIX_PENALTIES = ("nuclear_norm",)


def _registry():
    """``(names, random_penalty)`` from the penalty registry."""
    from .penalties.registry import PENALTY_NAMES, random_penalty

    return tuple(PENALTY_NAMES), random_penalty


@dataclass
class Problem:
    """A random verification problem: a loss, a penalty and how they were drawn."""

    loss: LeastSquares
    penalty: object
    kind: str
    lam_ratio: float

    @property
    def size(self):
        """``n_samples x n_features`` (``x n_targets`` for matrix unknowns)."""
        shape = (self.loss.n_samples,) + self.loss.x_shape
        return "x".join(str(s) for s in shape)


@dataclass
class VerifyRow:
    """One line of the verification table."""

    penalty: str
    kind: str
    size: str
    lam_ratio: float
    rel_obj_diff: float
    max_coef_diff: float
    time_fista: float
    time_cvxpy: float
    passed: bool
    note: str = ""


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


def random_problem(name, rng, kind="dense", n_targets=None, max_features=40):
    """Draw a random penalized least-squares problem for the penalty ``name``.

    Parameters
    ----------
    name : str
        A name from the penalty registry (``PENALTY_NAMES``).
    rng : int or numpy.random.Generator
    kind : {'dense', 'sparse', 'operator'}
        How ``A`` is given.
    n_targets : int, optional
        Number of right-hand sides (``None``: a vector unknown). Matrix
        penalties always get at least 2.
    max_features : int
        Largest number of features drawn.

    Returns
    -------
    Problem
    """
    rng = check_rng(rng)
    names, random_penalty = _registry()
    if name not in names:
        raise ParameterError(f"Unknown penalty {name!r}; choose from {', '.join(names)}.")
    if kind not in OPERATOR_KINDS:
        raise ParameterError(f"The 'kind' parameter must be one of {OPERATOR_KINDS}. Got {kind!r}.")
    max_features = check_int(max_features, "max_features", low=4, owner="random_problem")
    if name in _MATRIX_PENALTIES and n_targets is None:
        n_targets = int(rng.integers(2, 5))
    n_features = int(rng.integers(max(4, max_features // 4), max_features + 1))
    n_samples = int(rng.integers(max(4, n_features // 2), 2 * n_features + 1))
    penalty = random_penalty(name, n_features, rng, n_targets=n_targets)
    A = _random_design(n_samples, n_features, kind, rng)

    # a planted solution with about half of its rows zero, plus noise
    x_shape = (n_features,) if n_targets is None else (n_features, n_targets)
    x_true = rng.standard_normal(x_shape) * (rng.random(n_features) < 0.5).reshape((-1,) + (1,) * (len(x_shape) - 1))
    y = np.asarray(A @ x_true) + 0.1 * rng.standard_normal((n_samples,) + x_shape[1:])
    loss = LeastSquares(A, y)

    lmax = lambda_max(loss, penalty)
    ratio = float(rng.uniform(0.05, 0.8))
    lam = ratio * lmax if lmax > 0 else 1.0
    return Problem(loss=loss, penalty=penalty.with_lam(lam), kind=kind, lam_ratio=ratio)


def compare(problem, tol=1e-6):
    """Solve ``problem`` with FISTA and with cvxpy and score the two solutions.

    Returns
    -------
    VerifyRow
    """
    loss, penalty = problem.loss, problem.penalty
    notes = []
    # the gap bounds the suboptimality, so a gap 100x below tol leaves room for the reference's own error;
    # below 1e-13 rounding makes the stopping test unreachable
    fista_tol = max(tol * 1e-2, 1e-13)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            res_f = fista(loss, penalty, tol=fista_tol, max_iter=100_000)
        except Exception as exc:  # a broken solver is a failed row, not a crash of the whole run
            res_f = None
            notes.append(f"fista raised {type(exc).__name__}: {exc}")
    if res_f is not None and not res_f.converged:
        notes.append(f"fista: {res_f.message}")
    notes += [f"warning: {w.message}" for w in caught if res_f is not None and res_f.converged]
    try:
        res_c = solve_cvxpy(loss, penalty)
    except Exception as exc:
        res_c = None
        notes.append(f"cvxpy raised {type(exc).__name__}: {exc}")
    if res_c is not None and not res_c.converged:
        notes.append(res_c.message)

    if res_f is None or res_c is None or res_c.x is None or not np.isfinite(res_c.objective):
        return VerifyRow(penalty.name, problem.kind, problem.size, problem.lam_ratio, np.inf, np.inf,
                         getattr(res_f, "time", np.nan), getattr(res_c, "time", np.nan), False, "; ".join(notes))
    x_f = np.asarray(res_f.x, dtype=float)
    if x_f.shape != res_c.x.shape or not np.all(np.isfinite(x_f)):
        notes.append(f"fista returned shape {x_f.shape} / non-finite values")
        rel, coef = np.inf, np.inf
    else:
        # both objectives by the same numpy function, whatever each solver reports about itself
        obj_f = reference_objective(loss, penalty, x_f)
        obj_c = reference_objective(loss, penalty, res_c.x)
        rel = abs(obj_f - obj_c) / max(abs(obj_c), abs(obj_f), np.finfo(float).tiny)
        coef = float(np.max(np.abs(x_f - res_c.x))) if x_f.size else 0.0
    passed = bool(rel <= tol)
    return VerifyRow(penalty.name, problem.kind, problem.size, problem.lam_ratio, float(rel), coef,
                     res_f.time, res_c.time, passed, "; ".join(notes))


_HEADER = f"{'penalty':<19} {'A':<8} {'size':<11} {'lam/lmax':>8} {'rel obj diff':>12} {'max |dx|':>9} " \
          f"{'fista s':>8} {'cvxpy s':>8}  result"


def _format_row(row):
    line = (f"{row.penalty:<19} {row.kind:<8} {row.size:<11} {row.lam_ratio:>8.3f} {row.rel_obj_diff:>12.2e} "
            f"{row.max_coef_diff:>9.1e} {row.time_fista:>8.3f} {row.time_cvxpy:>8.3f}  "
            f"{'pass' if row.passed else 'FAIL'}")
    return line + (f"  ({row.note})" if row.note and not row.passed else "")


def verify(seed=0, n_problems=10, tol=1e-6, penalties=None, out=print, max_features=40):
    """Check FISTA against the cvxpy reference on random problems for every penalty.

    Parameters
    ----------
    seed : int
        Seed of every random draw.
    n_problems : int
        Problems per penalty. The design kind (dense, sparse, operator)
        cycles over them; about half have several right-hand sides.
    tol : float
        Pass when the relative objective difference is at most ``tol``.
    penalties : sequence of str, optional
        Registry names to check (default: all).
    out : callable or None
        Where table lines go (default ``print``; ``None`` for silence).
    max_features : int
        Largest number of features per problem.

    Returns
    -------
    list of VerifyRow
        One row per problem; ``all(r.passed for r in rows)`` is the verdict.
    """
    seed = check_int(seed, "seed", low=0, owner="verify")
    n_problems = check_int(n_problems, "n_problems", low=1, owner="verify")
    tol = check_scalar(tol, "tol", low=0, low_inclusive=False, owner="verify")
    if out is not None and not callable(out):
        raise ParameterError(f"The 'out' parameter of verify must be callable or None. Got {out!r}.")
    names, _ = _registry()
    if penalties is None:
        chosen = list(names)
    else:
        if isinstance(penalties, str):
            penalties = [penalties]
        chosen = list(penalties)
        unknown = [p for p in chosen if p not in names]
        if unknown or not chosen:
            raise ParameterError(
                f"The 'penalties' parameter of verify must list names from {', '.join(names)}. Got {penalties!r}."
            )
    emit = out if out is not None else (lambda *_: None)
    rng = np.random.default_rng(seed)
    emit(f"FISTA vs cvxpy reference: {n_problems} random problem(s) per penalty, seed {seed}, "
         f"pass if relative objective difference <= {tol:g}")
    emit(_HEADER)
    emit("-" * len(_HEADER))
    rows = []
    start = time.perf_counter()
    for name in chosen:
        for i in range(n_problems):
            kind = OPERATOR_KINDS[i % len(OPERATOR_KINDS)]
            n_targets = None if rng.random() < 0.5 else int(rng.integers(2, 4))
            problem = random_problem(name, rng, kind=kind, n_targets=n_targets, max_features=max_features)
            row = compare(problem, tol)
            rows.append(row)
            emit(_format_row(row))
    n_failed = sum(not r.passed for r in rows)
    worst = max(r.rel_obj_diff for r in rows)
    emit("-" * len(_HEADER))
    emit(f"{len(rows) - n_failed}/{len(rows)} passed, worst relative objective difference {worst:.2e}, "
         f"{time.perf_counter() - start:.1f} s")
    return rows


def rows_as_dicts(rows):
    """The rows as plain dicts (for saving as JSON or CSV)."""
    return [asdict(r) for r in rows]


def write_json(rows, path):
    """Save the rows as a JSON list, atomically (temporary file in the same folder, then rename)."""
    import json

    from ._atomic import atomic_write_text

    atomic_write_text(path, json.dumps(rows_as_dicts(rows), indent=1))


def _cli(args):
    rows = verify(seed=args.seed, n_problems=args.n_problems, tol=args.tol, penalties=args.penalties,
                  max_features=args.max_features)
    if args.json:
        write_json(rows, args.json)
        print(f"rows written to {args.json}")
    return 0 if all(r.passed for r in rows) else 1


def register(subparsers):
    """Add the ``verify`` subcommand."""
    p = subparsers.add_parser(
        "verify", help="check FISTA against cvxpy on random problems for every penalty",
        description=__doc__.splitlines()[0],
    )
    p.add_argument("--seed", type=int, default=0, help="random seed (default: %(default)s)")
    p.add_argument("--n-problems", type=int, default=10, help="problems per penalty (default: %(default)s)")
    p.add_argument("--tol", type=float, default=1e-6,
                   help="largest relative objective difference that passes (default: %(default)s)")
    p.add_argument("--max-features", type=int, default=40,
                   help="largest number of features per problem (default: %(default)s)")
    p.add_argument("--penalties", nargs="*", metavar="NAME",
                   help=f"subset of penalties (default: all of {', '.join(_registry()[0])})")
    p.add_argument("--json", metavar="PATH", help="also save the table as JSON")
    p.set_defaults(func=_cli)
