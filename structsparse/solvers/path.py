"""Regularization paths: solutions over a decreasing grid of ``lam``, warm-started.

``path`` starts at ``lambda_max`` (where the solution is zero) and walks down
a geometric grid, each solve starting from the previous solution; along a
path the solution changes little from one ``lam`` to the next, so each solve
is cheap. ``cv_path`` selects ``lam`` by K-fold cross-validation, scored by
the datafit's own loss on the held-out folds (the mean squared error for
least squares, the logistic loss for classification, ...).

Both take any datafit whose capabilities the chosen solver accepts (checked
by :func:`~structsparse.solvers.capabilities.check_triple`, not by class), and an
``executor`` (any ``concurrent.futures.Executor``: a local
``ProcessPoolExecutor``, or a dask.distributed client's
``client.get_executor()``) to run folds, or contiguous chunks of the ``lam``
grid, in parallel. Results depend only on the inputs and ``n_chunks``, never
on the executor: the same tasks run, in the same way, wherever they run.
"""

import contextlib
import mmap
import os
import sys
import time
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import LinearOperator

from .._linalg import single_blas_thread
from .._validation import accepted_options, check_array, check_int, check_options, check_rng, check_scalar
from ..exceptions import ParameterError, ParameterTypeError
from ..datafits import Datafit
from ..datafits.base import check_design
from ..datafits.registry import datafit_names
from ..penalties import Penalty
from .lambda_max import lambda_max
from .result import FrozenResult

__all__ = ["path", "cv_path", "PathResult", "CVPathResult", "lam_grid", "default_solver"]


@dataclass
class PathResult(FrozenResult):
    """Solutions along a path of ``lam`` values (decreasing).

    Attributes
    ----------
    lams : ndarray, shape (n_lams,)
    coefs : ndarray, shape (n_lams, n_features) or (n_lams, n_features, n_targets)
    objectives : ndarray, shape (n_lams,)
    supports : ndarray of bool, shape (n_lams, n_features)
        Rows (features) that are nonzero at each ``lam``.
    n_iters : ndarray of int, shape (n_lams,)
    converged : ndarray of bool, shape (n_lams,)
    gaps : ndarray, shape (n_lams,)
        Duality gaps where the solver reports one (NaN otherwise).
    times : ndarray, shape (n_lams,)
        Seconds per solve.
    solver : str
        The name the solves report (``SolverResult.solver``, as :func:`~structsparse.solve`
        records it: ``"solve_block"``, ``"admm/direct"``, ``"solve_latent/solve_block"``, ...);
        names separated by ``", "`` if the solves along the path differ.
    """

    lams: np.ndarray
    coefs: np.ndarray
    objectives: np.ndarray
    supports: np.ndarray
    n_iters: np.ndarray
    converged: np.ndarray
    gaps: np.ndarray
    times: np.ndarray
    solver: str = ""

    @property
    def support_sizes(self):
        """Number of nonzero features at each ``lam``."""
        return self.supports.sum(axis=1)

    def __len__(self):
        return self.lams.size

    def __repr__(self):
        return (f"PathResult(n_lams={self.lams.size}, lams=[{self.lams[0]:.4g} .. {self.lams[-1]:.4g}], "
                f"solver={self.solver!r}, all converged={bool(self.converged.all())})")


@dataclass
class CVPathResult(FrozenResult):
    """K-fold cross-validation along a path.

    Attributes
    ----------
    lams : ndarray, shape (n_lams,)
        The grid (decreasing), shared by all folds.
    loss_folds : ndarray, shape (n_folds, n_lams)
        Held-out loss of each fold at each ``lam``: the datafit's value on
        the held-out samples divided by the number of held-out targets
        (``y_test.size``), so folds of different sizes compare.
    loss_mean, loss_std : ndarray, shape (n_lams,)
        Mean and standard deviation (ddof=1) over folds.
    best_index, best_lam :
        The ``lam`` of smallest mean held-out loss.
    index_1se, lam_1se :
        The largest ``lam`` whose mean loss is within one standard error
        (``loss_std / sqrt(n_folds)``) of the smallest: a sparser model about as good.
    path : PathResult
        The path on all the data over the same grid.
    folds : list of ndarray
        The held-out sample indices of each fold.
    datafit : str
        The datafit's name (``"least_squares"``, ``"logistic"``, ...).

    For least squares, ``mse_folds``, ``mse_mean`` and ``mse_std`` give the
    held-out mean squared error (twice the loss per target, ``0.5 r^2``).
    """

    lams: np.ndarray
    loss_folds: np.ndarray
    loss_mean: np.ndarray
    loss_std: np.ndarray
    best_index: int
    best_lam: float
    index_1se: int
    lam_1se: float
    path: PathResult
    folds: list = field(default_factory=list)
    datafit: str = "least_squares"

    def _mse(self, value):
        if self.datafit != "least_squares":
            raise AttributeError(f"mean squared errors are for least squares; this cross-validation scored the "
                                 f"{self.datafit!r} datafit: use loss_folds / loss_mean / loss_std.")
        return 2.0 * value

    @property
    def mse_folds(self):
        """Held-out mean squared error per fold and ``lam`` (least squares only)."""
        return self._mse(self.loss_folds)

    @property
    def mse_mean(self):
        """Mean over folds of the held-out mean squared error (least squares only)."""
        return self._mse(self.loss_mean)

    @property
    def mse_std(self):
        """Standard deviation over folds of the held-out mean squared error (least squares only)."""
        return self._mse(self.loss_std)

    def __repr__(self):
        return (f"CVPathResult(datafit={self.datafit!r}, n_folds={self.loss_folds.shape[0]}, "
                f"n_lams={self.lams.size}, best_lam={self.best_lam:.4g}, lam_1se={self.lam_1se:.4g})")

    @property
    def coef_best(self):
        """Solution on all the data at ``best_lam``."""
        return self.path.coefs[self.best_index]

    @property
    def coef_1se(self):
        """Solution on all the data at ``lam_1se``."""
        return self.path.coefs[self.index_1se]


def default_solver(loss, penalty):
    """The solver a path uses by default: the one ``ss.solve(..., solver="auto")`` picks.

    Chosen from the declared capabilities (:func:`structsparse.solvers.capabilities.auto_solver`):
    block coordinate descent for block-separable penalties with an explicit
    matrix, duplication for latent groups, FISTA for exact proxes, ADMM for
    iterative proxes with least squares.
    """
    from .capabilities import SOLVER_SPECS, auto_solver

    return SOLVER_SPECS[auto_solver(loss, penalty)].function()


def lam_grid(lam_max, n_lams=50, eps=1e-3):
    """Geometric grid from ``lam_max`` down to ``eps * lam_max`` (``n_lams`` values)."""
    lam_max = check_scalar(lam_max, "lam_max", low=0, owner="lam_grid")
    n_lams = check_int(n_lams, "n_lams", low=1, owner="lam_grid")
    eps = check_scalar(eps, "eps", low=0, high=1, low_inclusive=False, owner="lam_grid")
    if n_lams == 1:
        return np.array([lam_max])
    return lam_max * np.geomspace(1.0, eps, n_lams)


def _check_grid(n_lams, eps, owner):
    """The default grid's size and range, checked in the name of the caller (``path`` or ``cv_path``)."""
    return (check_int(n_lams, "n_lams", low=1, owner=owner),
            check_scalar(eps, "eps", low=0, high=1, low_inclusive=False, owner=owner))


def _check_lams(lams, owner):
    arr = check_array(lams, "lams", ndim=1, owner=owner)
    if arr.size == 0:
        raise ParameterError(f"The 'lams' parameter of {owner} must hold at least one value.")
    if np.any(arr < 0):
        raise ParameterError(f"The 'lams' parameter of {owner} must be non-negative. Got min {arr.min():g}.")
    return np.sort(arr)[::-1].copy()


def _check_solver(solver, loss, penalty, owner):
    """The solver function: the default (``None`` or ``"auto"``, :func:`ss.solve`'s choice), a named one
    (checked against the pair's capabilities), or a callable."""
    from .capabilities import SOLVER_SPECS, check_triple

    if solver is None or (isinstance(solver, str) and solver == "auto"):
        return default_solver(loss, penalty)
    if isinstance(solver, str):
        if solver not in SOLVER_SPECS or solver == "cvxpy":
            names = ", ".join(repr(k) for k in ("auto", *SOLVER_SPECS) if k != "cvxpy")
            why = (" The cvxpy reference cannot start from the previous lam's solution, so it runs no path: "
                   "call ss.solve_cvxpy at each lam." if solver == "cvxpy" else "")
            raise ParameterError(f"The 'solver' parameter of {owner} must be None, a callable or one of {names}. "
                                 f"Got {solver!r}.{why}")
        check_triple(loss, penalty, solver)
        return SOLVER_SPECS[solver].function()
    if not callable(solver):
        raise ParameterTypeError(f"The 'solver' parameter of {owner} must be None, a solver name or a callable "
                             f"solver(loss, penalty, x0=..., **kw). Got {solver!r}.")
    return solver


def _check_solver_options(solve, kw, owner):
    """Refuse options the solver does not take, naming ``owner`` (``path`` or ``cv_path``) and the solver.

    ``max_iter`` for :func:`solve_block` (deprecated, now ``max_outer``) is renamed with one warning.
    """
    from .solve import outer_alias
    from .working_set import solve_block

    if solve is solve_block and "max_iter" in kw:
        kw = outer_alias(owner, kw, stacklevel=4)
    accepted = accepted_options(solve, exclude=("loss", "penalty", "x0", "tol"))
    name = getattr(solve, "__name__", type(solve).__name__)
    return check_options(owner, kw, accepted, target=f"the solver {name!r}")


def _check_datafit(loss, owner):
    """A datafit is anything declaring its capabilities (what solvers check), not a particular class."""
    if not isinstance(getattr(loss, "capabilities", None), frozenset) or not hasattr(loss, "x_shape"):
        raise TypeError(f"The 'loss' parameter of {owner} must be a structsparse datafit declaring its capabilities "
                        f"(ss.LeastSquares, ss.Logistic, ss.Huber, ss.Poisson, ...). Got {type(loss).__name__}.")


def _check_executor(executor, owner):
    if executor is not None and not isinstance(executor, Executor) and not callable(getattr(executor, "submit", None)):
        raise ParameterTypeError(f"The 'executor' parameter of {owner} must be a concurrent.futures.Executor (or have "
                             f"a submit method, as a dask.distributed client's executor). Got {type(executor).__name__}.")
    return executor


def _n_workers(executor):
    return getattr(executor, "_max_workers", None) or os.cpu_count() or 1


def _solve_chunk(loss, penalty, lams, lam_zero, solve, kw):
    """Solve a contiguous, decreasing run of ``lams``, warm-started from the first (which starts at zero).

    For :func:`solve_block` on least squares with a dense design, one
    :class:`~structsparse.solvers._path_block.BlockPath` keeps the solver's
    state (residual, ``A^T r``, Lipschitz constants, working set, the Gram
    matrix of the supports) from one ``lam`` to the next; every ``lam`` still
    stops on the certified duality gap. Otherwise each ``lam`` is one solver
    call from the previous solution.
    """
    from ._path_block import BlockPath, applies

    x_shape = tuple(loss.x_shape)
    k = lams.size
    out = {"coefs": np.zeros((k,) + x_shape), "objectives": np.zeros(k), "n_iters": np.zeros(k, dtype=int),
           "converged": np.zeros(k, dtype=bool), "gaps": np.full(k, np.nan), "times": np.zeros(k),
           "solvers": []}   # the names the solves report, as ss.solve's result does
    x = None
    state = None
    if applies(loss, penalty, solve, kw):
        tol = kw.get("tol", 1e-8)   # solve_block's default
        state = BlockPath(loss, penalty, **{key: val for key, val in kw.items() if key != "tol"})
    for i, lam in enumerate(lams):
        start = time.perf_counter()
        if lam >= lam_zero:
            # the optimality condition at zero holds by definition of lambda_max; solving this degenerate
            # problem would only slow solvers such as ADMM down (sublinear convergence at lambda_max)
            out["objectives"][i] = loss.value(np.zeros(x_shape))
            out["converged"][i], out["gaps"][i], out["times"][i] = True, 0.0, time.perf_counter() - start
            continue
        spec = None if state is None else state.spec_at(lam)
        if spec is not None:
            res = state.solve(float(lam), spec, tol)
            name = "solve_block"   # the path state applies to solve_block only (its results carry no name)
        else:
            state = None   # a layout this state does not handle: the plain loop from here on
            res = solve(loss, penalty.with_lam(float(lam)), x0=x, **kw)
            name = getattr(res, "solver", "") or getattr(solve, "__name__", str(solve))
        out["times"][i] = time.perf_counter() - start
        out["solvers"].append(name)
        x = res.x
        out["coefs"][i] = x
        out["objectives"][i] = res.objective
        out["n_iters"][i] = res.n_iter
        out["converged"][i] = res.converged
        if res.gap is not None:
            out["gaps"][i] = res.gap
    return out


def _chunk_task(loss, penalty, lams, lam_zero, solve, kw):
    """:func:`_solve_chunk` on an executor's worker, with one BLAS thread (see :func:`_blas`)."""
    with _blas(True):
        return _solve_chunk(loss, penalty, lams, lam_zero, solve, kw)


def path(loss, penalty, lams=None, n_lams=50, eps=1e-3, solver=None, tol=None, executor=None, n_chunks=None, **kw):
    """Solutions of ``loss + penalty.with_lam(lam)`` along a decreasing grid of ``lam``, warm-started.

    Parameters
    ----------
    loss : Datafit
        Any datafit (least squares, logistic, Huber, Poisson, ...) that the
        solver accepts, as declared by its capabilities.
    penalty : Penalty
        Its structure is used; its own ``lam`` is ignored.
    lams : array_like, optional
        The values to solve for; sorted decreasing. Default: ``n_lams``
        values from ``lambda_max`` down to ``eps * lambda_max``, geometric.
    n_lams : int, default 50
    eps : float in (0, 1], default 1e-3
    solver : str or callable, optional
        ``"auto"`` (the default, also ``None``: :func:`default_solver`, the
        choice of ``ss.solve``), a solver name (``"solve_block"``,
        ``"fista"``, ``"admm"``, ``"solve_latent"``; checked against the
        datafit's and the penalty's capabilities) or
        ``solver(loss, penalty, x0=..., **kw) -> SolverResult`` (``tol=`` is
        passed when given). Not ``"cvxpy"``: the reference solver cannot
        start from the previous solution.
    tol : float, optional
        Passed to the solver; default: the solver's own (1e-8 relative gap
        for :func:`solve_block` and :func:`fista`, 1e-6 residuals for
        :func:`admm`).
    executor : concurrent.futures.Executor, optional
        Runs the chunks of the grid in parallel (a ``ProcessPoolExecutor``,
        or ``client.get_executor()`` of a dask.distributed client). The
        datafit, penalty and solver must then be picklable. Each task runs
        with one BLAS thread (workers do not compete for the cores).
    n_chunks : int, optional
        Split the grid into this many contiguous runs of ``lam``, each
        warm-started along itself from zero (default: 1 without an executor,
        the executor's number of workers with one). The solutions depend
        only on the grid and ``n_chunks`` (each within the solver's
        tolerance of the exact one), not on the executor.
    **kw
        Passed to the solver (e.g. ``max_iter`` for :func:`fista`). A key
        the solver does not take raises :class:`ParameterError` naming it.

    Returns
    -------
    PathResult

    Notes
    -----
    With :func:`solve_block` (the default for L1, group and sparse-group
    penalties) on least squares with a dense design, the path keeps one
    solver state from ``lam`` to ``lam``: the residual and ``A^T r``, the
    Lipschitz constants, a working set seeded by the support and the groups
    that violate their condition at the new ``lam``, and, for l1 penalties,
    a Cholesky factor of the support's Gram matrix, updated as features
    enter and leave, with which the coordinate-descent iterate is polished
    to the exact minimizer on its signed support (homotopy steps). Every
    ``lam`` still stops on the certified duality gap, ``gap <= tol * P(x)``.

    Examples
    --------
    >>> import numpy as np, structsparse as ss
    >>> rng = np.random.default_rng(0)
    >>> A = rng.standard_normal((40, 30)); y = A[:, :3].sum(axis=1)
    >>> res = ss.path(ss.LeastSquares(A, y), ss.GroupLasso(ss.Groups.contiguous(30, 3), 1.0), n_lams=5)
    >>> res.support_sizes.tolist()[0], bool(res.converged.all())
    (0, True)
    """
    owner = "path"
    if not isinstance(penalty, Penalty):
        raise TypeError(f"The 'penalty' parameter of {owner} must be a structsparse Penalty. "
                        f"Got {type(penalty).__name__}.")
    _check_datafit(loss, owner)
    executor = _check_executor(executor, owner)
    if n_chunks is not None:
        n_chunks = check_int(n_chunks, "n_chunks", low=1, owner=owner)
    solve = _check_solver(solver, loss, penalty, owner)
    kw = _check_solver_options(solve, kw, owner)
    if tol is not None:
        kw["tol"] = check_scalar(tol, "tol", low=0, low_inclusive=False, owner=owner)
    n_lams, eps = _check_grid(n_lams, eps, owner)
    lam_zero = np.inf  # from this lam on, zero is the exact solution (known when the grid is ours)
    if lams is None:
        lam_zero = lambda_max(loss, penalty)
        lams = lam_grid(lam_zero, n_lams=n_lams, eps=eps)
    else:
        lams = _check_lams(lams, owner)
    if n_chunks is None:
        n_chunks = 1 if executor is None else _n_workers(executor)
    chunks = [c for c in np.array_split(np.arange(lams.size), min(n_chunks, lams.size)) if c.size]
    if executor is None:
        parts = [_solve_chunk(loss, penalty, lams[c], lam_zero, solve, kw) for c in chunks]
    else:
        futures = [executor.submit(_chunk_task, loss, penalty, lams[c], lam_zero, solve, kw) for c in chunks]
        parts = [f.result() for f in futures]
    names = list(dict.fromkeys(name for part in parts for name in part.pop("solvers")))
    # one chunk is the whole path: no copy of the coefficients (n_lams x p: 400 MB at p = 1e6)
    out = parts[0] if len(parts) == 1 else {key: np.concatenate([p[key] for p in parts]) for key in parts[0]}
    x_shape = tuple(loss.x_shape)
    rows = out["coefs"].reshape(lams.size, x_shape[0], -1)
    supports = np.any(rows != 0, axis=2)
    return PathResult(lams=lams, coefs=out["coefs"], objectives=out["objectives"], supports=supports,
                      n_iters=out["n_iters"], converged=out["converged"], gaps=out["gaps"], times=out["times"],
                      solver=", ".join(names) or getattr(solve, "__name__", str(solve)))


def _rows(A, idx):
    if sp.issparse(A):
        return A.tocsr()[idx]
    return A[idx]


def _datafit_class(datafit, owner):
    """The datafit class for a registered name (its ``name`` attribute) or a Datafit subclass."""
    if isinstance(datafit, type) and issubclass(datafit, Datafit):
        return datafit
    if isinstance(datafit, str):
        found = {}
        stack = list(Datafit.__subclasses__())
        while stack:
            cls = stack.pop()
            found.setdefault(getattr(cls, "name", None), cls)
            stack.extend(cls.__subclasses__())
        if datafit in datafit_names() and datafit in found:
            return found[datafit]
        raise ParameterError(f"The 'datafit' parameter of {owner} must be a registered datafit name "
                             f"({', '.join(map(repr, datafit_names()))}) or a Datafit class. Got {datafit!r}.")
    raise TypeError(f"The 'datafit' parameter of {owner} must be a datafit name or a Datafit class (not an "
                    f"instance: cross-validation builds one per fold). Got {type(datafit).__name__}.")


def _blas(one_thread):
    """One BLAS thread for a task on an executor: two workers with two BLAS threads each would fight for the cores."""
    return single_blas_thread() if one_thread else contextlib.nullcontext()


class _SharedDesign:
    """A dense design in shared memory for the tasks of a local process pool: each task carries row indices.

    Pickling each fold's rows cost the parent about 3 ms per task and 4 MB
    through a pipe at 500 x 1000 (5 folds and the full path: 24 MB); here the
    parent copies the design once into shared memory and every task pickles
    as its indices (:class:`_SharedRows`); a worker copies its rows out, as the
    serial run does. Only C-ordered float64 designs (the copied rows then
    have the layout of the serial run's, so results are bit-identical).
    """

    def __init__(self, A):
        from multiprocessing.shared_memory import SharedMemory

        self.shm = SharedMemory(create=True, size=max(A.nbytes, 1))
        self.shape, self.dtype = A.shape, A.dtype.str
        np.ndarray(A.shape, dtype=A.dtype, buffer=self.shm.buf)[...] = A

    @classmethod
    def open(cls, A):
        """The shared copy of ``A``, or ``None`` (then the rows are pickled): another layout, or no room for it."""
        if not isinstance(A, np.ndarray) or A.dtype != np.float64 or not A.flags.c_contiguous or A.size == 0:
            return None
        try:  # a full /dev/shm (64 MB in a default container) would fail on the first write, with SIGBUS
            fs = os.statvfs("/dev/shm")
            if A.nbytes > fs.f_bavail * fs.f_frsize // 2:
                return None
        except (OSError, AttributeError):  # no /dev/shm to ask (not Linux): shared memory is allocated otherwise
            pass
        try:
            return cls(A)
        except OSError:
            return None

    def rows(self, idx):
        return _SharedRows(self.shm.name, self.shape, self.dtype, np.asarray(idx, dtype=np.int64))

    def close(self):
        self.shm.close()
        self.shm.unlink()


class _SharedRows:
    """Rows ``idx`` of a design in shared memory; :meth:`get` copies them out (in a worker)."""

    def __init__(self, name, shape, dtype, idx):
        self.name, self.shape, self.dtype, self.idx = name, shape, dtype, idx

    def get(self):
        """A copy of the rows, read without registering the block with this worker's resource tracker.

        The parent created the block, registered it and unlinks it. A worker
        forked before the parent's resource tracker started (a pool that ran
        a task before, or a :func:`path` before this :func:`cv_path`) runs a
        tracker of its own: had the worker registered the block there, that
        tracker would report it as leaked at shutdown and fail to unlink it
        (the parent already did).
        """
        from multiprocessing.shared_memory import SharedMemory

        if sys.version_info >= (3, 13):
            return self._copy(SharedMemory(name=self.name, track=False))
        shm_file = os.path.join("/dev/shm", self.name.lstrip("/"))
        if os.path.exists(shm_file):  # Linux: the block is a file there, and a plain mmap of it registers nothing
            with open(shm_file, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as buf:
                return self._rows_of(buf)
        # elsewhere workers are spawned (they share the parent's tracker): registering again changes nothing
        return self._copy(SharedMemory(name=self.name))

    def _copy(self, shm):
        try:
            return self._rows_of(shm.buf)
        finally:
            shm.close()

    def _rows_of(self, buf):
        A = np.ndarray(self.shape, dtype=self.dtype, buffer=buf)
        out = A[self.idx]   # a copy: nothing points into the shared block once it is closed
        del A
        return out


class _Deferred:
    """A datafit built in the worker from shared rows (the path on all the data)."""

    def __init__(self, make, params, rows, y):
        self.make, self.params, self.rows, self.y = make, params, rows, y

    def build(self):
        return self.make(self.rows.get(), self.y, **self.params)


def _fold_losses(make, params, A_train, y_train, A_test, y_test, penalty, lams, solve, tol, kw, one_thread=False):
    """Held-out loss per target at every ``lam`` of a path fitted on the training rows (one task)."""
    if isinstance(A_train, _SharedRows):
        A_train, A_test = A_train.get(), A_test.get()
    with _blas(one_thread):
        fold_path = path(make(A_train, y_train, **params), penalty, lams=lams, solver=solve, tol=tol, **kw)
        test = make(A_test, y_test, **params)
        return np.array([test.value(c) / y_test.size for c in fold_path.coefs])


def _full_path(loss, penalty, lams, solve, tol, kw, one_thread=False):
    if isinstance(loss, _Deferred):
        loss = loss.build()
    with _blas(one_thread):
        return path(loss, penalty, lams=lams, solver=solve, tol=tol, **kw)


def cv_path(A, y, penalty, n_folds=5, lams=None, n_lams=50, eps=1e-3, rng=None, solver=None, tol=None,
            datafit="least_squares", datafit_params=None, executor=None, **kw):
    """Choose ``lam`` by K-fold cross-validation, scored by the datafit's own loss on the held-out folds.

    The grid comes from ``lambda_max`` on all the data and is shared by the
    folds; each fold fits a warm-started :func:`path` on the other folds and
    scores the datafit on the held-out samples at every ``lam`` (the mean
    squared error for least squares, the logistic loss for ``"logistic"``).

    Parameters
    ----------
    A : ndarray or scipy.sparse matrix, shape (n_samples, n_features)
    y : array_like, shape (n_samples,) or (n_samples, n_targets)
        Targets in the datafit's encoding (labels in {-1, 1} or {0, 1} for logistic).
    penalty : Penalty
        Its structure is used; its own ``lam`` is ignored.
    n_folds : int, default 5
        At least 2 and at most ``n_samples``.
    lams : array_like, optional
        The grid (sorted decreasing); default as in :func:`path`.
    n_lams, eps :
        The default grid's size and range.
    rng : int or numpy.random.Generator, optional
        Shuffles the samples before splitting them into folds.
    solver, tol, **kw :
        As in :func:`path`.
    datafit : str or Datafit class, default "least_squares"
        A registered datafit name (``ss.datafits.datafit_names()``:
        ``"least_squares"``, ``"logistic"``, ``"huber"``, ``"poisson"``, ...)
        or a Datafit subclass; one is built per fold.
    datafit_params : dict, optional
        Keyword arguments of the datafit (e.g. ``{"delta": 1.0}`` for Huber).
    executor : concurrent.futures.Executor, optional
        Runs the folds (and the path on all the data) in parallel: a
        ``ProcessPoolExecutor`` or a dask.distributed client's
        ``client.get_executor()``. The results are those of the serial run.
        Each task runs with one BLAS thread (workers do not compete for the
        cores).

    Returns
    -------
    CVPathResult
        Held-out losses per fold and ``lam``, their mean and standard
        deviation, the best ``lam``, the one-standard-error ``lam``, and the
        path on all the data.

    Examples
    --------
    >>> import numpy as np, structsparse as ss
    >>> rng = np.random.default_rng(0)
    >>> A = rng.standard_normal((80, 12)); y = np.sign(A[:, 0] + 0.5 * rng.standard_normal(80))
    >>> cv = ss.cv_path(A, y, ss.L1(1.0), datafit="logistic", n_folds=4, n_lams=8, rng=0)
    >>> cv.datafit, cv.loss_folds.shape
    ('logistic', (4, 8))
    """
    owner = "cv_path"
    if isinstance(A, LinearOperator):
        raise TypeError(f"The 'A' parameter of {owner} must be a dense array or a scipy.sparse matrix: "
                        "cross-validation selects rows. Got a LinearOperator.")
    if not isinstance(penalty, Penalty):
        raise TypeError(f"The 'penalty' parameter of {owner} must be a structsparse Penalty. "
                        f"Got {type(penalty).__name__}.")
    make = _datafit_class(datafit, owner)
    if datafit_params is not None and not isinstance(datafit_params, dict):
        raise TypeError(f"The 'datafit_params' parameter of {owner} must be a dict. Got {type(datafit_params).__name__}.")
    params = dict(datafit_params or {})
    check_design(A, owner)  # errors name cv_path, not the datafit it builds
    loss = make(A, y, **params)
    executor = _check_executor(executor, owner)
    n = loss.n_samples
    n_folds = check_int(n_folds, "n_folds", low=2, owner=owner)
    if n_folds > n:
        raise ParameterError(f"The 'n_folds' parameter of {owner} must be at most n_samples={n}. Got {n_folds}.")
    rng = check_rng(rng)
    solve = _check_solver(solver, loss, penalty, owner)
    kw = _check_solver_options(solve, kw, owner)
    if tol is not None:
        tol = check_scalar(tol, "tol", low=0, low_inclusive=False, owner=owner)
    n_lams, eps = _check_grid(n_lams, eps, owner)
    if lams is None:
        lams = lam_grid(lambda_max(loss, penalty), n_lams=n_lams, eps=eps)
    else:
        lams = _check_lams(lams, owner)

    folds = np.array_split(rng.permutation(n), n_folds)
    Y = np.asarray(loss.y)  # the datafit's own encoding (logistic labels as -1 / 1)
    shared = _SharedDesign.open(loss.A) if isinstance(executor, ProcessPoolExecutor) else None
    try:
        rows = (lambda idx: _rows(loss.A, idx)) if shared is None else shared.rows
        tasks = []
        for test in folds:
            train = np.setdiff1d(np.arange(n), test)
            tasks.append((_fold_losses, (make, params, rows(train), Y[train], rows(test), Y[test],
                                         penalty, lams, solve, tol, kw)))
        # the path on all the data is the largest task (every sample): first, so that on a pool it does not
        # start last and run alone while the other workers idle (longest task first)
        whole = loss if shared is None else _Deferred(make, params, rows(np.arange(n)), Y)
        tasks.insert(0, (_full_path, (whole, penalty, lams, solve, tol, kw)))
        if executor is None:
            results = [fn(*args) for fn, args in tasks]
        else:
            futures = [executor.submit(fn, *args, one_thread=True) for fn, args in tasks]
            results = [f.result() for f in futures]
    finally:
        if shared is not None:
            shared.close()
    full = results[0]
    losses = np.array(results[1:])
    mean = losses.mean(axis=0)
    std = losses.std(axis=0, ddof=1)
    best = int(np.argmin(mean))
    threshold = mean[best] + std[best] / np.sqrt(n_folds)
    # lams decrease: the first index within the threshold is the largest such lam
    index_1se = int(np.flatnonzero(mean <= threshold)[0])
    return CVPathResult(lams=lams, loss_folds=losses, loss_mean=mean, loss_std=std, best_index=best,
                        best_lam=float(lams[best]), index_1se=index_1se, lam_1se=float(lams[index_1se]),
                        path=full, folds=folds, datafit=str(getattr(make, "name", make.__name__)))
