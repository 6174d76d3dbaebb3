"""Regularization paths: solutions over a decreasing grid of ``lam``, warm-started.

``path`` starts at ``lambda_max`` (where the solution is zero) and walks down
a geometric grid, each solve starting from the previous solution; along a
path the solution changes little from one ``lam`` to the next, so each solve
is cheap. ``cv_path`` selects ``lam`` by K-fold cross-validation on the
held-out mean squared error.
"""

import time
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import LinearOperator

from .._validation import check_array, check_int, check_rng, check_scalar
from ..exceptions import ParameterError
from ..datafits import LeastSquares
from ..penalties import Penalty
from .lambda_max import lambda_max

__all__ = ["path", "cv_path", "PathResult", "CVPathResult", "lam_grid", "default_solver"]


@dataclass
class PathResult:
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
class CVPathResult:
    """K-fold cross-validation along a path.

    Attributes
    ----------
    lams : ndarray, shape (n_lams,)
        The grid (decreasing), shared by all folds.
    mse_folds : ndarray, shape (n_folds, n_lams)
        Held-out mean squared error of each fold at each ``lam``.
    mse_mean, mse_std : ndarray, shape (n_lams,)
        Mean and standard deviation (ddof=1) over folds.
    best_index, best_lam :
        The ``lam`` of smallest mean held-out error.
    index_1se, lam_1se :
        The largest ``lam`` whose mean error is within one standard error
        (``mse_std / sqrt(n_folds)``) of the smallest: a sparser model about as good.
    path : PathResult
        The path on all the data over the same grid.
    folds : list of ndarray
        The held-out sample indices of each fold.
    """

    lams: np.ndarray
    mse_folds: np.ndarray
    mse_mean: np.ndarray
    mse_std: np.ndarray
    best_index: int
    best_lam: float
    index_1se: int
    lam_1se: float
    path: PathResult
    folds: list = field(default_factory=list)

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


def _check_lams(lams, owner):
    arr = check_array(lams, "lams", ndim=1, owner=owner)
    if arr.size == 0:
        raise ParameterError(f"The 'lams' parameter of {owner} must hold at least one value.")
    if np.any(arr < 0):
        raise ParameterError(f"The 'lams' parameter of {owner} must be non-negative. Got min {arr.min():g}.")
    return np.sort(arr)[::-1].copy()


def _check_solver(solver, loss, penalty, owner):
    if solver is None:
        return default_solver(loss, penalty)
    if not callable(solver):
        raise ParameterError(f"The 'solver' parameter of {owner} must be None or a callable "
                             f"solver(loss, penalty, x0=..., **kw). Got {solver!r}.")
    return solver


def path(loss, penalty, lams=None, n_lams=50, eps=1e-3, solver=None, tol=None, **kw):
    """Solutions of ``loss + penalty.with_lam(lam)`` along a decreasing grid of ``lam``, warm-started.

    Parameters
    ----------
    loss : LeastSquares
    penalty : Penalty
        Its structure is used; its own ``lam`` is ignored.
    lams : array_like, optional
        The values to solve for; sorted decreasing. Default: ``n_lams``
        values from ``lambda_max`` down to ``eps * lambda_max``, geometric.
    n_lams : int, default 50
    eps : float in (0, 1], default 1e-3
    solver : callable, optional
        ``solver(loss, penalty, x0=..., **kw) -> SolverResult`` (``tol=``
        is passed when given); default :func:`default_solver`.
    tol : float, optional
        Passed to the solver; default: the solver's own (1e-8 relative gap
        for :func:`solve_block` and :func:`fista`, 1e-6 residuals for
        :func:`admm`).
    **kw
        Passed to the solver (e.g. ``max_iter``).

    Returns
    -------
    PathResult

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
    if not hasattr(loss, "x_shape") or not hasattr(loss, "A"):
        raise TypeError(f"The 'loss' parameter of {owner} must be a LeastSquares loss. Got {type(loss).__name__}.")
    if tol is not None:
        kw["tol"] = check_scalar(tol, "tol", low=0, low_inclusive=False, owner=owner)
    lam_zero = np.inf  # from this lam on, zero is the exact solution (known when the grid is ours)
    if lams is None:
        lam_zero = lambda_max(loss, penalty)
        lams = lam_grid(lam_zero, n_lams=n_lams, eps=eps)
    else:
        lams = _check_lams(lams, owner)
    solve = _check_solver(solver, loss, penalty, owner)

    x_shape = tuple(loss.x_shape)
    coefs = np.zeros((lams.size,) + x_shape)
    objectives = np.zeros(lams.size)
    n_iters = np.zeros(lams.size, dtype=int)
    converged = np.zeros(lams.size, dtype=bool)
    gaps = np.full(lams.size, np.nan)
    times = np.zeros(lams.size)
    x = None
    for i, lam in enumerate(lams):
        start = time.perf_counter()
        if lam >= lam_zero:
            # the optimality condition at zero holds by definition of lambda_max; solving this degenerate
            # problem would only slow solvers such as ADMM down (sublinear convergence at lambda_max)
            objectives[i] = loss.value(np.zeros(x_shape))
            converged[i], gaps[i], times[i] = True, 0.0, time.perf_counter() - start
            continue
        res = solve(loss, penalty.with_lam(float(lam)), x0=x, **kw)
        times[i] = time.perf_counter() - start
        x = res.x
        coefs[i] = x
        objectives[i] = res.objective
        n_iters[i] = res.n_iter
        converged[i] = res.converged
        if res.gap is not None:
            gaps[i] = res.gap
    rows = coefs.reshape(lams.size, x_shape[0], -1)
    supports = np.any(rows != 0, axis=2)
    return PathResult(lams=lams, coefs=coefs, objectives=objectives, supports=supports, n_iters=n_iters,
                      converged=converged, gaps=gaps, times=times, solver=getattr(solve, "__name__", str(solve)))


def _rows(A, idx):
    if sp.issparse(A):
        return A.tocsr()[idx]
    return A[idx]


def cv_path(A, y, penalty, n_folds=5, lams=None, n_lams=50, eps=1e-3, rng=None, solver=None, tol=None, **kw):
    """Choose ``lam`` by K-fold cross-validation of the held-out mean squared error.

    The grid comes from ``lambda_max`` on all the data and is shared by the
    folds; each fold fits a warm-started :func:`path` on the other folds and
    scores ``mean((y_test - A_test x)^2)`` at every ``lam``.

    Parameters
    ----------
    A : ndarray or scipy.sparse matrix, shape (n_samples, n_features)
    y : array_like, shape (n_samples,) or (n_samples, n_targets)
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

    Returns
    -------
    CVPathResult
        Errors per fold and ``lam``, their mean and standard deviation,
        the best ``lam``, the one-standard-error ``lam``, and the path on
        all the data.
    """
    owner = "cv_path"
    if isinstance(A, LinearOperator):
        raise TypeError(f"The 'A' parameter of {owner} must be a dense array or a scipy.sparse matrix: "
                        "cross-validation selects rows. Got a LinearOperator.")
    if not isinstance(penalty, Penalty):
        raise TypeError(f"The 'penalty' parameter of {owner} must be a structsparse Penalty. "
                        f"Got {type(penalty).__name__}.")
    loss = LeastSquares(A, y)
    n = loss.n_samples
    n_folds = check_int(n_folds, "n_folds", low=2, owner=owner)
    if n_folds > n:
        raise ParameterError(f"The 'n_folds' parameter of {owner} must be at most n_samples={n}. Got {n_folds}.")
    rng = check_rng(rng)
    if tol is not None:
        tol = check_scalar(tol, "tol", low=0, low_inclusive=False, owner=owner)
    if lams is None:
        lams = lam_grid(lambda_max(loss, penalty), n_lams=n_lams, eps=eps)
    else:
        lams = _check_lams(lams, owner)
    solve = _check_solver(solver, loss, penalty, owner)

    folds = np.array_split(rng.permutation(n), n_folds)
    Y = np.asarray(loss.y)
    mse = np.zeros((n_folds, lams.size))
    for f, test in enumerate(folds):
        train = np.setdiff1d(np.arange(n), test)
        A_train, A_test = _rows(loss.A, train), _rows(loss.A, test)
        fold_path = path(LeastSquares(A_train, Y[train]), penalty, lams=lams, solver=solve, tol=tol, **kw)
        for i in range(lams.size):
            pred = np.asarray(A_test @ fold_path.coefs[i])
            mse[f, i] = float(np.mean((Y[test] - pred) ** 2))
    mean = mse.mean(axis=0)
    std = mse.std(axis=0, ddof=1)
    best = int(np.argmin(mean))
    threshold = mean[best] + std[best] / np.sqrt(n_folds)
    # lams decrease: the first index within the threshold is the largest such lam
    index_1se = int(np.flatnonzero(mean <= threshold)[0])
    full = path(loss, penalty, lams=lams, solver=solve, tol=tol, **kw)
    return CVPathResult(lams=lams, mse_folds=mse, mse_mean=mean, mse_std=std, best_index=best,
                        best_lam=float(lams[best]), index_1se=index_1se, lam_1se=float(lams[index_1se]),
                        path=full, folds=folds)
