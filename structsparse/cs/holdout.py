"""Model selection on the measurements: hold-out cross-validation for compressive sensing.

A recovery method has a parameter the truth would settle (the size ``k`` of
the greedy methods, the depth weighting of the tree lasso) but the truth is
never available. Cross-validation for compressed sensing (Ward 2009, "Compressed
sensing with cross validation", IEEE Trans. Inf. Theory 55(7)) settles it from
the measurements alone: hold out a fraction of the rows of ``A`` and of ``y``,
recover from the rest with every candidate value, score each by its residual
on the held-out rows, keep the value with the smallest score and recover
again from all the measurements with it. For sensing matrices with i.i.d.
rows the held-out residual ``||A_val x - y_val||`` estimates the recovery
error ``||x - x_true||`` up to a known factor (Ward 2009, Theorem 1), so the
selection approximates the oracle choice without seeing ``x_true``.

:func:`select_by_holdout` takes only the operator, the measurements and the
model (no truth can reach it) and returns a :class:`HoldoutSelection`.
"""

import time
import warnings
from dataclasses import dataclass

import numpy as np
from scipy.sparse.linalg import LinearOperator

from .._validation import check_array, check_choice, check_int, check_rng, check_scalar
from ..exceptions import ConvergenceWarning, ParameterError, ParameterTypeError
from .models import _WaveletTreeModel, check_model
from .recovery import METHODS, RecoveryResult, _check_measurements, _check_operator, check_reweight_eps, recover

__all__ = ["select_by_holdout", "HoldoutSelection", "row_subset"]

#: The parameters :func:`select_by_holdout` can choose.
PARAMS = ("k", "depth_weight", "reweight_eps")

_K_METHODS = ("cosamp", "model_cosamp", "iht", "model_iht", "block_omp")

#: Default candidate support sizes, as fractions of the number of rows the fits see.
K_FRACTIONS = (1 / 16, 1 / 12, 1 / 8, 1 / 6, 1 / 4, 1 / 3)

#: Default candidate exponents of the tree lasso's depth weights ``2 ** (alpha * depth)``.
DEPTH_WEIGHTS = (-1.0, -0.5, 0.0, 0.5)

#: Default candidate factors of the reweighted tree lasso's ``eps``: no reweighting (``inf``, listed first so
#: that it wins a tie), then a geometric grid around the rank rule of Candes, Wakin and Boyd (factor 1).
REWEIGHT_EPS = (float("inf"), 1.0, 3.0, 10.0)


@dataclass(frozen=True, repr=False)
class HoldoutSelection:
    """Outcome of :func:`select_by_holdout`.

    Attributes
    ----------
    param : str
        The parameter chosen (``"k"``, ``"depth_weight"`` or ``"reweight_eps"``).
    candidates : tuple
        The values tried, in the order given (ties go to the earliest).
    scores : ndarray, shape (n_candidates,)
        Held-out relative residual ``||A_val x - y_val|| / ||y_val||`` of each
        candidate's fit on the remaining rows, averaged over the splits.
    best : int or float
        The chosen value.
    result : RecoveryResult
        The recovery from all the measurements with ``best``.
    n_holdout : int
        Rows held out in each split.
    n_splits : int
        Number of disjoint held-out sets.
    fits_converged : tuple of bool
        Whether every fit of each candidate met its stopping rule.
    time : float
        Wall-clock seconds of the whole selection, refit included.
    """

    param: str
    candidates: tuple
    scores: np.ndarray
    best: object
    result: RecoveryResult
    n_holdout: int
    n_splits: int
    fits_converged: tuple
    time: float

    def __repr__(self):
        return (f"HoldoutSelection(param={self.param!r}, best={self.best!r}, n_candidates={len(self.candidates)}, "
                f"min_score={float(np.min(self.scores)):.3e}, n_holdout={self.n_holdout}, n_splits={self.n_splits}, "
                f"time={self.time:.2f}s)")


class _RowSubset(LinearOperator):
    """The rows ``rows`` of a linear operator, applied through the operator's own products."""

    def __init__(self, A, rows):
        self.A, self.rows = A, rows
        super().__init__(dtype=np.float64, shape=(rows.size, A.shape[1]))

    def _matvec(self, x):
        return np.asarray(self.A.matvec(np.ravel(x))).reshape(-1)[self.rows]

    def _rmatvec(self, r):
        full = np.zeros(self.A.shape[0])
        full[self.rows] = np.ravel(r)
        return np.asarray(self.A.rmatvec(full)).reshape(-1)

    def _adjoint(self):
        return LinearOperator((self.shape[1], self.shape[0]), matvec=self._rmatvec, rmatvec=self._matvec,
                              dtype=np.float64)


def row_subset(A, rows):
    """The rows ``rows`` of a sensing operator (a new matrix, or an operator that never forms one).

    Parameters
    ----------
    A : ndarray, scipy.sparse matrix or LinearOperator, shape (m, n)
        The operator (a ``LinearOperator`` needs ``rmatvec``).
    rows : array_like of int
        Distinct row indices in ``[0, m)``.

    Returns
    -------
    ndarray or LinearOperator, shape (len(rows), n)
        For an array, a copy of its rows; for an operator, ``x -> (A x)[rows]`` with the matching adjoint.
    """
    owner = "row_subset"
    Aop = _check_operator(A, owner)
    rows = check_array(rows, "rows", ndim=1, owner=owner)
    if rows.size == 0 or np.any(rows != np.round(rows)) or rows.min() < 0 or rows.max() >= Aop.shape[0]:
        raise ParameterError(f"The 'rows' parameter of {owner} must hold integers in [0, {Aop.shape[0]}) "
                             f"(the rows of 'A'). Got {rows.size} values.")
    rows = rows.astype(np.int64)
    if np.unique(rows).size != rows.size:
        raise ParameterError(f"The 'rows' parameter of {owner} must not repeat a row.")
    if isinstance(Aop, np.ndarray):
        return Aop[rows]
    return _RowSubset(Aop, rows)


def _default_k(model, m_fit):
    unit = model.n_nonzeros(model.k) / model.k
    ks = sorted({int(np.clip(round(f * m_fit / unit), model.k_min, model.k_max)) for f in K_FRACTIONS})
    return tuple(ks)


def _check_candidates(candidates, param, model, method, owner):
    if isinstance(candidates, (str, bytes)) or not hasattr(candidates, "__iter__"):
        raise ParameterTypeError(f"The 'candidates' parameter of {owner} must be a sequence of values of "
                                 f"{param!r}. Got {candidates!r}.")
    cands = list(candidates)
    if not cands:
        raise ParameterError(f"The 'candidates' parameter of {owner} must hold at least one value.")
    if param == "k":
        out = tuple(check_int(c, "candidates", low=model.k_min, high=model.k_max, owner=owner) for c in cands)
    elif param == "depth_weight":
        out = tuple(check_scalar(c, "candidates", low=-10, high=10, owner=owner) for c in cands)
    else:
        out = tuple(check_reweight_eps(c, "candidates", owner) for c in cands)
    if len(set(out)) != len(out):
        raise ParameterError(f"The 'candidates' parameter of {owner} must not repeat a value. Got {list(out)}.")
    return out


def select_by_holdout(A, y, model, method="model_iht", *, param="k", candidates=None, holdout=0.1, n_splits=1,
                      rtol=None, rng=None, noise=None, tol=None, max_iter=None, depth_weight=0.0, reweight=0,
                      reweight_eps=1.0):
    """Choose a recovery parameter by hold-out validation on the measurements, then recover with it.

    For each of ``n_splits`` disjoint random sets of ``round(holdout * m)``
    rows: recover from the other rows with every candidate value and score
    it by the relative residual on the held-out rows. The value of smallest
    mean score wins; a candidate listed earlier wins when its score is within
    ``rtol`` of the smallest (relatively, or absolutely below ``rtol * 1e-5``,
    where both fits reproduce the held-out rows to rounding): for ``k``,
    listed in increasing order by default, the smallest model that predicts as
    well as the best (an exactly ``k``-sparse signal is fitted to rounding by
    every larger size too). Then :func:`recover` runs on all the rows with it. The
    true signal is never an argument: the choice is made from ``A`` and ``y``
    alone (Ward 2009).

    Parameters
    ----------
    A : ndarray, scipy.sparse matrix or LinearOperator, shape (m, n)
        Sensing operator, as for :func:`recover`.
    y : array_like, shape (m,)
        Measurements.
    model : SignalModel
        The signal model; its ``k`` is ignored when ``param="k"`` (each
        candidate replaces it).
    method : str, default "model_iht"
        A method of :func:`recover`: ``param="k"`` needs a greedy one
        (``cosamp``, ``model_cosamp``, ``iht``, ``model_iht``,
        ``block_omp``); ``param="depth_weight"`` and ``param="reweight_eps"``
        need ``tree_lasso``.
    param : {"k", "depth_weight", "reweight_eps"}, default "k"
        The parameter to choose: the model size ``k`` (in the model's unit),
        the exponent ``alpha`` of the tree lasso's node weights
        ``2 ** (alpha * depth)``, or the ``eps`` factor of the reweighted
        tree lasso (``reweight >= 1`` needed).
    candidates : sequence, optional
        Values to try (default for ``k``: the support sizes ``m_fit / 16,
        m_fit / 12, m_fit / 8, m_fit / 6, m_fit / 4, m_fit / 3`` with ``m_fit``
        the rows each fit sees, in the model's unit and clipped to its range;
        for ``depth_weight``: ``-1, -0.5, 0, 0.5``; for ``reweight_eps``:
        ``inf, 1, 3, 10``, where ``inf`` means no reweighting).
    holdout : float, default 0.1
        Fraction of the rows held out in each split, in ``(0, 0.5]``.
    n_splits : int, default 1
        Number of disjoint held-out sets (``n_splits * holdout <= 1``); the
        scores are averaged over them.
    rtol : float, optional
        Tie tolerance of the scores (see above); 0 keeps the strict minimum.
        Default: ``1e-3`` for ``k``, 0 for ``depth_weight`` and
        ``reweight_eps`` (no value of them is simpler than another).
    rng : None, int or numpy.random.Generator
        Draws the held-out rows.
    noise, tol, max_iter :
        Passed to every call of :func:`recover`.
    depth_weight, reweight, reweight_eps :
        Fixed ``tree_lasso`` options passed to every call of :func:`recover`
        (the one named by ``param`` takes each candidate value instead).

    Returns
    -------
    HoldoutSelection
        The scores, the chosen value and the final recovery (``result``).

    Examples
    --------
    >>> import numpy as np
    >>> from structsparse import cs
    >>> model = cs.TreeSparse(256, 24, "haar")
    >>> x0 = model.sample(rng=0); A = cs.gaussian(120, 256, rng=1)
    >>> sel = cs.select_by_holdout(A, A @ x0, model, "model_cosamp", candidates=[12, 24, 48], rng=2)
    >>> sel.best
    24
    """
    owner = "select_by_holdout"
    start = time.perf_counter()
    model = check_model(model, owner)
    method = check_choice(method, "method", METHODS, owner=owner)
    param = check_choice(param, "param", PARAMS, owner=owner)
    if param == "k" and method not in _K_METHODS:
        raise ParameterError(f"The 'method' parameter of {owner}: param='k' chooses the size of a greedy method "
                             f"({', '.join(_K_METHODS)}). Got {method!r}.")
    if param != "k" and (method != "tree_lasso" or not isinstance(model, _WaveletTreeModel)):
        raise ParameterError(f"The 'method' parameter of {owner}: param={param!r} needs method='tree_lasso' "
                             f"with a TreeSparse or TreeSparse2D model. Got {method!r} with "
                             f"{type(model).__name__}.")
    tree_opts = {"depth_weight": check_scalar(depth_weight, "depth_weight", low=-10, high=10, owner=owner),
                 "reweight": check_int(reweight, "reweight", low=0, high=100, owner=owner),
                 "reweight_eps": check_reweight_eps(reweight_eps, "reweight_eps", owner)}
    if param == "reweight_eps" and tree_opts["reweight"] == 0:
        raise ParameterError(f"The 'reweight' parameter of {owner}: param='reweight_eps' chooses the eps of the "
                             f"reweighting rounds, so reweight must be at least 1. Got reweight=0.")
    if method != "tree_lasso":
        if tree_opts["depth_weight"] != 0 or tree_opts["reweight"] != 0:
            raise ParameterError(f"The 'depth_weight' and 'reweight' parameters of {owner} apply to "
                                 f"method='tree_lasso' only. Got method={method!r}.")
        tree_opts = {}
    Aop, y = _check_measurements(A, y, model, owner)
    m, n = Aop.shape
    holdout = check_scalar(holdout, "holdout", low=0, high=0.5, low_inclusive=False, owner=owner)
    n_splits = check_int(n_splits, "n_splits", low=1, owner=owner)
    rtol = (1e-3 if param == "k" else 0.0) if rtol is None else check_scalar(rtol, "rtol", low=0, owner=owner)
    n_val = int(round(holdout * m))
    if n_val < 1 or n_splits * n_val > m or m - n_val < 2:
        raise ParameterError(f"The 'holdout' parameter of {owner}: {n_splits} split(s) of round({holdout:g} * {m}) "
                             f"= {n_val} held-out rows must fit in the m={m} rows, with at least 2 left to fit.")
    rng = check_rng(rng, owner=owner)
    if candidates is None:
        candidates = {"k": None, "depth_weight": DEPTH_WEIGHTS, "reweight_eps": REWEIGHT_EPS}[param]
        candidates = _default_k(model, m - n_val) if param == "k" else candidates
    cands = _check_candidates(candidates, param, model, method, owner)
    opts = {"noise": noise, "tol": tol, "max_iter": max_iter}

    def fit(Afit, yfit, value, **kw):
        if param == "k":
            return recover(Afit, yfit, model.with_k(value), method, **opts, **tree_opts, **kw)
        return recover(Afit, yfit, model, method, **opts, **{**tree_opts, param: value}, **kw)

    perm = rng.permutation(m)
    scores = np.zeros(len(cands))
    converged = [True] * len(cands)
    for s in range(n_splits):
        val = np.sort(perm[s * n_val:(s + 1) * n_val])
        keep = np.ones(m, bool)
        keep[val] = False
        fit_rows = np.flatnonzero(keep)
        A_fit, A_val = row_subset(Aop, fit_rows), row_subset(Aop, val)
        y_fit, y_val = y[fit_rows], y[val]
        y_val_norm = max(float(np.linalg.norm(y_val)), 1e-300)
        for i, value in enumerate(cands):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)  # reported in fits_converged
                res = fit(A_fit, y_fit, value)
            pred = A_val @ res.x if isinstance(A_val, np.ndarray) else A_val.matvec(res.x)
            scores[i] += float(np.linalg.norm(pred - y_val)) / y_val_norm / n_splits
            converged[i] = converged[i] and res.converged
    low = float(np.min(scores))
    tie = np.flatnonzero(scores <= low * (1 + rtol) + rtol * 1e-5)
    best = cands[int(tie[0])]
    result = fit(Aop, y, best)
    return HoldoutSelection(param=param, candidates=cands, scores=scores, best=best, result=result, n_holdout=n_val,
                            n_splits=n_splits, fits_converged=tuple(converged), time=time.perf_counter() - start)
