"""scikit-learn compatible estimators for every structured penalty and datafit.

Each estimator minimizes ``F(X w + b) + lam * Omega(w)`` with the
package's convention (no ``1 / n_samples`` factor, so ``lam`` scales with the
number of samples; ``ss.lambda_max`` gives the scale), and follows the
estimator contract: ``__init__`` stores the parameters, ``fit`` validates
them and returns ``self``, fitted attributes end in ``_``. Every fit goes
through :func:`structsparse.solve` (``solver="auto"`` by default), which
picks the solver from the declared capabilities of the datafit and the
penalty; the fitted attribute ``solver_`` says which one ran.

The intercept ``b`` (``fit_intercept=True``) is never penalized:

- least squares: ``X`` and ``y`` are centered, the problem is solved on the
  centered data and ``b = mean(y) - mean(X) w``. This is exact for least
  squares (the intercept's optimality condition is ``mean(residual) = 0``)
  and leaves the penalty exactly as given;
- every other datafit (logistic, Huber, Poisson): a column of ones is
  appended to ``X`` and the penalty is extended by one unpenalized variable
  (it keeps every declared capability, the latent structure included, so
  the same solver is chosen).

=============================== ============================= =====================
estimator                       penalty                       ``solver_`` (auto)
=============================== ============================= =====================
StructuredRegressor             any template (default L1)     from its capabilities
StructuredClassifier            any template (default L1)     from its capabilities
GroupLassoRegressor             GroupLasso                    solve_block
SparseGroupLassoRegressor       SparseGroupLasso              solve_block
OverlapGroupLassoRegressor      OverlapGroupLasso             admm
TreeLassoRegressor              TreeLasso                     fista
GroupLassoClassifier            GroupLasso                    solve_block
SparseGroupLassoClassifier      SparseGroupLasso              solve_block
=============================== ============================= =====================

(ADMM reports its linear solver too: ``solver_ == "admm/direct"``.)

Regressors: ``y`` may have several columns (datafits that accept several
right-hand sides); a group's norm is then taken over its features and all
targets (multi-task) and ``coef_`` has shape ``(n_targets, n_features)``.
Classifiers: logistic loss; two classes fit one problem; more than two are
fitted one-vs-rest (one binary problem per class, probabilities normalized
over classes, as ``LogisticRegression(multi_class="ovr")`` did).
"""

import copy
from numbers import Integral

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from ._validation import check_int, check_scalar
from .datafits import Datafit, Huber, LeastSquares, Logistic, Poisson
from .exceptions import ParameterError, ParameterTypeError, ShapeError, StructureError
from .penalties import L1, GroupLasso, Penalty, SparseGroupLasso, TreeLasso
from .structure import Groups, Tree

__all__ = ["StructuredRegressor", "StructuredClassifier", "GroupLassoRegressor", "SparseGroupLassoRegressor",
           "OverlapGroupLassoRegressor", "TreeLassoRegressor", "GroupLassoClassifier",
           "SparseGroupLassoClassifier"]

#: Datafits a regressor accepts by name (the logistic one is the classifiers').
REGRESSION_DATAFITS = {"least_squares": LeastSquares, "huber": Huber, "poisson": Poisson}

#: Solver names accepted by the ``solver`` parameter.
_SOLVERS = ("auto", "solve_block", "fista", "admm", "solve_latent", "cvxpy")


# ---------------------------------------------------------------------- helpers
def _validate(est, *args, **kw):
    """scikit-learn's ``validate_data``; its bare ``ValueError`` is re-raised naming the arguments."""
    try:
        return validate_data(est, *args, **kw)
    except ValueError as exc:
        if type(exc).__module__.startswith("structsparse"):
            raise
        names = "'X' and 'y' parameters" if len(args) > 1 and kw.get("reset", True) else "'X' parameter"
        raise ShapeError(f"The {names} of {type(est).__name__}: {exc}"[:400]) from None


def _resolve_groups(groups, n_features, owner, disjoint):
    """``None`` (one group per feature), an int (contiguous groups of that size), index lists or Groups."""
    if groups is None:
        return Groups.from_sizes([1] * n_features)
    if isinstance(groups, (Integral, np.integer)) and not isinstance(groups, (bool, np.bool_)):
        if groups < 1:
            raise ParameterError(f"The 'groups' parameter of {owner} must be None, a positive int (group size), "
                                 f"a list of index lists or a Groups. Got {groups!r} instead.")
        if n_features % int(groups):
            raise ParameterError(f"The 'groups' parameter of {owner} is a group size ({groups}) that does not divide "
                                 f"the {n_features} features of X; pass index lists or a Groups for unequal groups.")
        return Groups.contiguous(n_features, int(groups))
    if isinstance(groups, Groups):
        resolved = groups
    elif isinstance(groups, (list, tuple)):
        resolved = Groups.from_lists(groups, n_features=n_features)
    else:
        raise ParameterTypeError(f"The 'groups' parameter of {owner} must be None, a positive int (group size), "
                                 f"a list of index lists or a Groups. Got {type(groups).__name__} instead.")
    if resolved.n_features != n_features:
        raise ShapeError(f"The 'groups' parameter of {owner} indexes {resolved.n_features} features but X has "
                         f"{n_features}.")
    if disjoint and not resolved.is_disjoint:
        raise StructureError(f"The 'groups' parameter of {owner} must hold disjoint groups; use "
                             "OverlapGroupLassoRegressor for overlapping ones.")
    return resolved


class _FreeIntercept(Penalty):
    """``inner`` on the first ``n_features`` variables; one more variable (the intercept) left unpenalized.

    It declares the inner penalty's capabilities (block thresholds gain one
    zero-threshold block, group-norm decompositions leave the intercept in
    no group, a latent structure gains one free variable), so a solver that
    accepts the inner penalty accepts it too.
    """

    def __init__(self, inner, n_features):
        self.inner = inner
        self._p = int(n_features)
        self.lam = inner.lam
        self.name = inner.name
        self.separable = inner.separable
        self.has_dual_norm = inner.has_dual_norm
        self.exact_prox = inner.exact_prox
        if "latent" in inner.capabilities:
            # the intercept is one more free variable: solve_latent keeps it as a single unpenalized column
            self.latent = _latent_with_free_row(inner.latent)

    @property
    def n_features(self):
        return self._p + 1

    @property
    def capabilities(self):
        return self.inner.capabilities

    def with_lam(self, lam):
        return _FreeIntercept(self.inner.with_lam(lam), self._p)

    def duplicated_penalty(self):
        """The inner penalty's penalty on the latent copies, with the intercept as the last (free) column."""
        lat = self.inner.latent
        return _FreeIntercept(self.inner.duplicated_penalty(), lat.n_copies + int(np.sum(lat.free)))

    def omega(self, x):
        return self.inner.omega(x[:self._p])

    def _prox(self, v, tau):
        out = np.array(v, dtype=np.float64, copy=True)
        out[:self._p] = self.inner.prox(v[:self._p], tau / self.lam)
        return out

    def _dual_norm(self, u):
        if np.any(u[self._p:]):
            return np.inf
        return self.inner.dual_norm(u[:self._p])

    def cvxpy_omega(self, x):
        return self.inner.cvxpy_omega(x[:self._p])

    def block_thresholds(self, n_features):
        spec = self.inner.block_thresholds(self._p)
        if spec is None:
            return None
        idx, ptr, t1, t2 = spec
        p = self._p
        return (np.append(np.asarray(idx, np.int64), p), np.append(np.asarray(ptr, np.int64), ptr[-1] + 1),
                np.append(np.asarray(t1, float), 0.0), np.append(np.asarray(t2, float), 0.0))

    def norm_groups(self, n_features, n_targets=1):
        return self.inner.norm_groups(self._p, n_targets)

    def free_variables(self, n_features, x_shape=None):
        rest = () if x_shape is None else tuple(x_shape)[1:]
        return np.append(self.inner.free_variables(self._p, (self._p,) + rest), True)

    def __repr__(self):
        return f"{self.inner!r} with a free intercept"


def _latent_with_free_row(latent):
    """A copy of a latent structure with one more variable, free (in no group), after the others."""
    extended = copy.copy(latent)
    extended.free = np.append(latent.free, True)
    extended.n_features = latent.n_features + 1
    return extended


def _with_ones(X):
    """``[X, 1]``: dense or CSC, a new matrix (``X`` is not modified)."""
    ones = np.ones((X.shape[0], 1))
    if sp.issparse(X):
        return sp.hstack([X, sp.csc_matrix(ones)], format="csc")
    return np.hstack([X, ones])


def _iteration_option(max_iter, solver, datafit, penalty):
    """The estimator's ``max_iter`` under the name the chosen solver gives its main loop.

    :func:`~structsparse.solve_block` counts outer working-set iterations
    (``max_outer``); the other solvers count iterations (``max_iter``).
    """
    if max_iter is None:
        return {}
    if solver == "auto":
        from .solvers.capabilities import auto_solver

        solver = auto_solver(datafit, penalty)
    return {"max_outer" if solver == "solve_block" else "max_iter": max_iter}


def _check_bool(value, name, owner):
    if not isinstance(value, (bool, np.bool_)):
        raise ParameterTypeError(f"The '{name}' parameter of {owner} must be a bool. Got {value!r} instead.")


class _StructuredBase(BaseEstimator):
    """Shared parameter checks and the one solve; subclasses build the penalty."""

    def _common_checks(self):
        owner = type(self).__name__
        if self.lam is not None:
            check_scalar(self.lam, "lam", low=0, owner=owner)
        check_scalar(self.tol, "tol", low=0, low_inclusive=False, owner=owner)
        if self.max_iter is not None:
            check_int(self.max_iter, "max_iter", low=1, owner=owner)
        _check_bool(self.fit_intercept, "fit_intercept", owner)
        solver = self._solver_name()
        if not isinstance(solver, str) or solver not in _SOLVERS:
            raise (ParameterError if isinstance(solver, str) else ParameterTypeError)(
                f"The 'solver' parameter of {owner} must be one of "
                                 f"{', '.join(map(repr, _SOLVERS))}. Got {solver!r} instead.")

    def _solver_name(self):
        return "auto"

    def _penalty(self, n_features):  # pragma: no cover - overridden
        raise NotImplementedError

    def _linear_scores(self, X):
        """``X @ coef_.T + intercept_`` for new data (checked against the fit)."""
        check_is_fitted(self)
        X = _validate(self, X, accept_sparse=("csr", "csc"), dtype=np.float64, reset=False)
        return np.asarray(X @ self.coef_.T) + self.intercept_

    def _solve(self, datafit, penalty):
        from .solvers.solve import solve

        options = _iteration_option(self.max_iter, self._solver_name(), datafit, penalty)
        return solve(datafit, penalty, tol=self.tol, solver=self._solver_name(), **options)

    def _fit_free_intercept(self, datafit_cls, X, y, penalty, options):
        """Solve with an unpenalized column of ones when ``fit_intercept``: returns ``(coef, intercept, result)``."""
        p = X.shape[1]
        if self.fit_intercept:
            result = self._solve(datafit_cls(_with_ones(X), y, **options), _FreeIntercept(penalty, p))
            x = np.asarray(result.x)
            return x[:p], x[p], result
        result = self._solve(datafit_cls(X, y, **options), penalty)
        x = np.asarray(result.x)
        return x, np.zeros(x.shape[1:]), result


class StructuredRegressor(RegressorMixin, _StructuredBase):
    """Linear regression with any structsparse penalty and a least-squares, Huber or Poisson datafit.

    Minimizes ``F(X w + b) + lam * Omega(w)`` by :func:`structsparse.solve`.
    The penalty is given as a template: its structure (groups, tree, ...) is
    used and its ``lam`` unless ``lam`` is set here (so ``GridSearchCV`` can
    tune ``lam`` alone).

    Parameters
    ----------
    penalty : Penalty, optional
        A structsparse penalty defined on ``n_features`` features (or on any
        number, like :class:`~structsparse.L1`). ``None``: ``L1``.
    lam : float >= 0, optional
        Penalty strength; ``None`` uses the template's ``lam`` (1.0 without
        a template).
    datafit : {'least_squares', 'huber', 'poisson'} or Datafit subclass, default 'least_squares'
        ``'least_squares'``: ``0.5 ||y - X w - b||^2``; ``'huber'``: Huber
        loss (``datafit_options={'delta': ...}``); ``'poisson'``: Poisson
        deviance with log link (``predict`` returns ``exp(X w + b)``).
        A :class:`~structsparse.Datafit` subclass is built as
        ``cls(X, y, **datafit_options)``.
    datafit_options : dict, optional
        Keyword arguments of the datafit (e.g. ``{'delta': 1.35}``).
    fit_intercept : bool, default True
        Unpenalized intercept: by centering for least squares, by an
        unpenalized column of ones otherwise.
    tol : float, default 1e-6
        Relative tolerance of the solver (a certified relative duality gap
        where it has one; see :func:`structsparse.solve`).
    max_iter : int, optional
        Iteration limit of the solver's main loop (its default when None):
        ``max_iter`` of :func:`~structsparse.fista` and
        :func:`~structsparse.admm`, ``max_outer`` (outer working-set
        iterations) of :func:`~structsparse.solve_block`.
    solver : str, default 'auto'
        ``'auto'`` or a solver name for :func:`structsparse.solve`.

    Attributes
    ----------
    coef_ : ndarray, shape (n_features,) or (n_targets, n_features)
    intercept_ : float or ndarray of shape (n_targets,)
    solver_ : str
        The solver that ran (``SolverResult.solver``).
    n_iter_, converged_, dual_gap_, objective_ : solver report
        ``dual_gap_`` is None for solvers without a gap (ADMM).
    n_features_in_ : int

    Examples
    --------
    >>> import numpy as np, structsparse as ss
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((60, 6)); y = X[:, :2].sum(axis=1) + 3.0
    >>> model = StructuredRegressor(ss.GroupLasso([[0, 1], [2, 3], [4, 5]], lam=1.0)).fit(X, y)
    >>> np.flatnonzero(model.coef_).tolist(), round(model.intercept_, 1), model.solver_
    ([0, 1], 3.0, 'solve_block')
    """

    def __init__(self, penalty=None, lam=None, datafit="least_squares", datafit_options=None, fit_intercept=True,
                 tol=1e-6, max_iter=None, solver="auto"):
        self.penalty = penalty
        self.lam = lam
        self.datafit = datafit
        self.datafit_options = datafit_options
        self.fit_intercept = fit_intercept
        self.tol = tol
        self.max_iter = max_iter
        self.solver = solver

    def _solver_name(self):
        return self.solver

    def _penalty(self, n_features):
        return _template_penalty(self.penalty, self.lam, n_features, type(self).__name__)

    def _datafit(self):
        """The datafit class and its options, validated."""
        owner = type(self).__name__
        datafit = self.datafit
        if isinstance(datafit, str):
            if datafit not in REGRESSION_DATAFITS:
                raise ParameterError(f"The 'datafit' parameter of {owner} must be one of "
                                     f"{', '.join(map(repr, REGRESSION_DATAFITS))} or a Datafit subclass. "
                                     f"Got {datafit!r} instead.")
            cls = REGRESSION_DATAFITS[datafit]
        elif isinstance(datafit, type) and issubclass(datafit, Datafit):
            cls = datafit
        else:
            raise ParameterTypeError(f"The 'datafit' parameter of {owner} must be one of "
                                     f"{', '.join(map(repr, REGRESSION_DATAFITS))} or a Datafit subclass. "
                                     f"Got {datafit!r} instead.")
        options = self.datafit_options
        if options is None:
            options = {}
        elif not isinstance(options, dict):
            raise ParameterTypeError(f"The 'datafit_options' parameter of {owner} must be None or a dict. "
                                 f"Got {type(options).__name__} instead.")
        return cls, dict(options)

    def fit(self, X, y):
        """Fit the model.

        Parameters
        ----------
        X : array_like or scipy.sparse matrix, shape (n_samples, n_features)
            Sparse input stays sparse, except that least squares with
            ``fit_intercept=True`` densifies it (to center it).
        y : array_like, shape (n_samples,) or (n_samples, n_targets)

        Returns
        -------
        self
        """
        X, y = _validate(self, X, y, accept_sparse=("csr", "csc"), dtype=np.float64, multi_output=True,
                             y_numeric=True)
        self._common_checks()
        cls, options = self._datafit()
        penalty = self._penalty(X.shape[1])
        y = np.asarray(y, dtype=np.float64)
        if y.ndim == 2 and y.shape[1] == 1 and not getattr(cls, "multi_target", True):
            y = y[:, 0]
        if issubclass(cls, LeastSquares):
            coef, intercept, result = self._fit_centered(cls, X, y, penalty, options)
        else:
            coef, intercept, result = self._fit_free_intercept(cls, X, y, penalty, options)
        self.coef_ = coef.T.copy() if coef.ndim == 2 else coef
        self.intercept_ = float(intercept) if np.ndim(intercept) == 0 else np.asarray(intercept, dtype=float)
        self._link = "exp" if cls is Poisson else "identity"
        self._record(result)
        return self

    def _fit_centered(self, cls, X, y, penalty, options):
        if self.fit_intercept:
            if sp.issparse(X):
                X = X.toarray()
            X_mean, y_mean = X.mean(axis=0), y.mean(axis=0)
            A, b = X - X_mean, y - y_mean
        else:
            X_mean, y_mean = np.zeros(X.shape[1]), np.zeros(y.shape[1:])
            A, b = X, y
        result = self._solve(cls(A, b, **options), penalty)
        coef = np.asarray(result.x)
        return coef, y_mean - X_mean @ coef, result

    def _record(self, result):
        self.solver_ = str(result.solver)
        self.n_iter_ = int(result.n_iter)
        self.converged_ = bool(result.converged)
        self.dual_gap_ = None if result.gap is None else float(result.gap)
        self.objective_ = float(result.objective)

    def predict(self, X):
        """Predict ``X @ coef_.T + intercept_`` (its exponential for the Poisson datafit).

        Parameters
        ----------
        X : array_like or scipy.sparse matrix, shape (n_samples, n_features)

        Returns
        -------
        ndarray, shape (n_samples,) or (n_samples, n_targets)
        """
        eta = self._linear_scores(X)
        return np.exp(eta) if getattr(self, "_link", "identity") == "exp" else eta

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.target_tags.multi_output = True
        datafit = getattr(self, "datafit", None)
        tags.target_tags.positive_only = datafit == "poisson" or datafit is Poisson
        return tags


def _template_penalty(template, lam, n_features, owner):
    """The penalty to fit: the template (default L1) with ``lam`` replaced when given."""
    if template is None:
        return L1(1.0 if lam is None else lam)
    if not isinstance(template, Penalty):
        raise TypeError(f"The 'penalty' parameter of {owner} must be a structsparse Penalty (ss.GroupLasso, "
                        f"ss.SparseGroupLasso, ...) or None. Got {type(template).__name__} instead.")
    n = template.n_features
    if n is not None and n != n_features:
        raise ShapeError(f"The 'penalty' parameter of {owner} is defined on {n} features but X has "
                         f"{n_features}.")
    return template if lam is None else template.with_lam(lam)


class StructuredClassifier(ClassifierMixin, _StructuredBase):
    """Logistic regression with any structsparse penalty.

    Minimizes ``sum_i log(1 + exp(-y_i (x_i . w + b))) + lam * Omega(w)``
    (labels read as -1 and +1) by :func:`structsparse.solve`, with an
    unpenalized intercept ``b`` (a column of ones outside the penalty). Two
    classes fit one problem; more than two are fitted one-vs-rest.

    Parameters
    ----------
    penalty : Penalty, optional
        A structsparse penalty template (its structure; its ``lam`` unless
        ``lam`` is given). ``None``: ``L1``.
    lam : float >= 0, optional
        Penalty strength; ``None`` uses the template's ``lam`` (1.0 without
        a template).
    fit_intercept : bool, default True
        Fit an unpenalized intercept.
    tol : float, default 1e-6
        Relative tolerance of the solver.
    max_iter : int, optional
        Iteration limit of the solver's main loop (its default when None):
        ``max_iter`` of :func:`~structsparse.fista` and
        :func:`~structsparse.admm`, ``max_outer`` (outer working-set
        iterations) of :func:`~structsparse.solve_block`.
    solver : str, default 'auto'
        ``'auto'`` or a solver name for :func:`structsparse.solve`.
    warm_start : bool, default False
        Start from the previous fit's coefficients (same classes and
        features), which makes a decreasing sequence of ``lam`` a path.

    Attributes
    ----------
    classes_ : ndarray, shape (n_classes,)
    coef_ : ndarray, shape (1, n_features) for two classes, else (n_classes, n_features)
    intercept_ : ndarray, shape (1,) or (n_classes,)
    solver_ : str
        The solver that ran.
    n_iter_, converged_, dual_gap_, objective_ : ndarray, shape (1,) or (n_classes,)
        Solver report of each binary problem (``dual_gap_`` NaN where the
        solver gives no gap).
    n_features_in_ : int

    Examples
    --------
    >>> import numpy as np, structsparse as ss
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((200, 6)); y = np.where(X[:, 0] + X[:, 1] > 0.5, "yes", "no")
    >>> clf = StructuredClassifier(ss.GroupLasso([[0, 1], [2, 3], [4, 5]], lam=2.0)).fit(X, y)
    >>> clf.classes_.tolist(), np.flatnonzero(clf.coef_[0]).tolist(), clf.solver_
    (['no', 'yes'], [0, 1], 'solve_block')
    """

    def __init__(self, penalty=None, lam=None, fit_intercept=True, tol=1e-6, max_iter=None, solver="auto",
                 warm_start=False):
        self.penalty = penalty
        self.lam = lam
        self.fit_intercept = fit_intercept
        self.tol = tol
        self.max_iter = max_iter
        self.solver = solver
        self.warm_start = warm_start

    def _solver_name(self):
        return self.solver

    def _penalty(self, n_features):
        return _template_penalty(self.penalty, self.lam, n_features, type(self).__name__)

    def fit(self, X, y):
        """Fit the model.

        Parameters
        ----------
        X : array_like or scipy.sparse matrix, shape (n_samples, n_features)
        y : array_like, shape (n_samples,)
            Class labels (any hashable values); at least two classes.

        Returns
        -------
        self
        """
        X, y = _validate(self, X, y, accept_sparse=("csr", "csc"), dtype=np.float64)
        try:
            check_classification_targets(y)
        except ValueError as exc:
            raise ParameterError(f"The 'y' parameter of {type(self).__name__} must hold class labels: {exc}") from None
        owner = type(self).__name__
        self._common_checks()
        _check_bool(getattr(self, "warm_start", False), "warm_start", owner)
        classes, y_idx = np.unique(y, return_inverse=True)
        if classes.size < 2:
            raise ParameterError(f"{owner} needs at least two classes in 'y'; got one class: {classes.tolist()[0]!r}.")
        penalty = self._penalty(X.shape[1])
        problems = [1] if classes.size == 2 else list(range(classes.size))
        previous = self._warm_coefs(classes, X.shape[1])
        coefs, intercepts, results = [], [], []
        for row, k in enumerate(problems):
            labels = np.where(y_idx == k, 1.0, -1.0)
            x0 = None if previous is None else previous[row]
            coef, intercept, result = self._fit_binary(X, labels, penalty, x0)
            coefs.append(coef)
            intercepts.append(float(intercept))
            results.append(result)
        self.classes_ = classes
        self.coef_ = np.vstack(coefs)
        self.intercept_ = np.asarray(intercepts)
        self.solver_ = str(results[0].solver)
        self.n_iter_ = np.array([r.n_iter for r in results], dtype=int)
        self.converged_ = np.array([r.converged for r in results], dtype=bool)
        self.dual_gap_ = np.array([np.nan if r.gap is None else r.gap for r in results], dtype=float)
        self.objective_ = np.array([r.objective for r in results], dtype=float)
        return self

    def _warm_coefs(self, classes, n_features):
        """Previous ``[coef, intercept]`` rows for a warm start, or None."""
        if not getattr(self, "warm_start", False) or not hasattr(self, "coef_"):
            return None
        if not np.array_equal(getattr(self, "classes_", None), classes) or self.coef_.shape[1] != n_features:
            return None
        return np.hstack([self.coef_, self.intercept_[:, None]])

    def _fit_binary(self, X, labels, penalty, x0):
        from .solvers.solve import solve

        p = X.shape[1]
        if self.fit_intercept:
            datafit, pen = Logistic(_with_ones(X), labels), _FreeIntercept(penalty, p)
        else:
            datafit, pen = Logistic(X, labels), penalty
            x0 = None if x0 is None else x0[:p]
        options = _iteration_option(self.max_iter, self._solver_name(), datafit, pen)
        result = solve(datafit, pen, tol=self.tol, solver=self._solver_name(), x0=x0, **options)
        x = np.asarray(result.x)
        return x[:p], (x[p] if self.fit_intercept else 0.0), result

    def decision_function(self, X):
        """Scores ``X @ coef_.T + intercept_``: shape (n_samples,) for two classes (positive: ``classes_[1]``).

        Parameters
        ----------
        X : array_like or scipy.sparse matrix, shape (n_samples, n_features)

        Returns
        -------
        ndarray, shape (n_samples,) or (n_samples, n_classes)
        """
        scores = self._linear_scores(X)
        return scores[:, 0] if scores.shape[1] == 1 else scores

    def predict_proba(self, X):
        """Class probabilities: the logistic sigmoid of the scores (one-vs-rest ones normalized over classes).

        Parameters
        ----------
        X : array_like or scipy.sparse matrix, shape (n_samples, n_features)

        Returns
        -------
        ndarray, shape (n_samples, n_classes)
        """
        scores = self.decision_function(X)
        if scores.ndim == 1:
            p1 = np.exp(-np.logaddexp(0.0, -scores))
            return np.column_stack([1.0 - p1, p1])
        prob = np.exp(-np.logaddexp(0.0, -scores))
        return prob / prob.sum(axis=1, keepdims=True)

    def predict_log_proba(self, X):
        """Logarithm of :meth:`predict_proba`.

        Parameters
        ----------
        X : array_like or scipy.sparse matrix, shape (n_samples, n_features)

        Returns
        -------
        ndarray, shape (n_samples, n_classes)
        """
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))

    def predict(self, X):
        """Predicted class labels.

        Parameters
        ----------
        X : array_like or scipy.sparse matrix, shape (n_samples, n_features)

        Returns
        -------
        ndarray, shape (n_samples,)
        """
        scores = self.decision_function(X)
        if scores.ndim == 1:
            return self.classes_[(scores > 0).astype(int)]
        return self.classes_[np.argmax(scores, axis=1)]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags


# ---------------------------------------------------------------------- named regressors
class _GroupLassoTerms:
    """The penalty of the named group-lasso estimators (regressor and classifier alike): ``GroupLasso(groups, lam)``."""

    def _solver_name(self):
        return "auto"

    def _common_checks(self):
        check_scalar(self.lam, "lam", low=0, owner=type(self).__name__)
        super()._common_checks()

    def _penalty(self, n_features):
        return GroupLasso(_resolve_groups(self.groups, n_features, type(self).__name__, True), self.lam)


class _SparseGroupLassoTerms:
    """The penalty of the named sparse-group estimators: ``SparseGroupLasso(groups, lam, l1_ratio)``."""

    def _penalty(self, n_features):
        owner = type(self).__name__
        check_scalar(self.l1_ratio, "l1_ratio", low=0, high=1, owner=owner)
        return SparseGroupLasso(_resolve_groups(self.groups, n_features, owner, True), self.lam, self.l1_ratio)


class GroupLassoRegressor(_GroupLassoTerms, StructuredRegressor):
    """Linear regression with a group-lasso penalty ``lam * sum_g w_g ||w_g||_2`` (disjoint groups).

    Least squares, fitted by :func:`structsparse.solve` (working-set block
    coordinate descent, ``solve_block``).

    Parameters
    ----------
    lam : float >= 0, default 1.0
        Penalty strength (objective ``0.5 ||X w - y||^2 + lam * Omega(w)``, no 1/n).
    groups : None, int, list of lists of int or Groups, default None
        ``None``: one group per feature (the lasso); an int: contiguous
        groups of that size; index lists or a :class:`Groups` (carrying
        weights). Features in no group are unpenalized.
    fit_intercept : bool, default True
        Unpenalized intercept, by centering ``X`` and ``y``.
    tol : float, default 1e-6
        Relative duality gap at which the solver stops.
    max_iter : int, optional
        Outer working-set iterations of the solver (its default when None;
        passed as ``max_outer`` to :func:`~structsparse.solve_block`).

    Attributes
    ----------
    coef_ : ndarray, shape (n_features,) or (n_targets, n_features)
    intercept_ : float or ndarray of shape (n_targets,)
    solver_ : str
        The solver that ran.
    n_iter_, converged_, dual_gap_, objective_ : solver report
    n_features_in_ : int

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((50, 6)); y = X[:, :2].sum(axis=1) + 3.0
    >>> model = GroupLassoRegressor(lam=1.0, groups=2).fit(X, y)
    >>> np.flatnonzero(model.coef_).tolist(), round(model.intercept_, 1)
    ([0, 1], 3.0)
    """

    datafit = "least_squares"
    datafit_options = None

    def __init__(self, lam=1.0, groups=None, fit_intercept=True, tol=1e-6, max_iter=None):
        self.lam = lam
        self.groups = groups
        self.fit_intercept = fit_intercept
        self.tol = tol
        self.max_iter = max_iter


class SparseGroupLassoRegressor(_SparseGroupLassoTerms, GroupLassoRegressor):
    """Linear regression with the sparse-group lasso ``lam ((1 - l1_ratio) sum_g w_g ||w_g|| + l1_ratio ||w||_1)``.

    Least squares, fitted by :func:`structsparse.solve` (``solve_block``).

    Parameters
    ----------
    lam : float >= 0, default 1.0
        Penalty strength (objective ``0.5 ||X w - y||^2 + lam * Omega(w)``, no 1/n).
    l1_ratio : float in [0, 1], default 0.5
        Weight of the l1 part: 0 gives the group lasso, 1 the lasso.
    groups : None, int, list of lists of int or Groups, default None
        As in :class:`GroupLassoRegressor` (disjoint groups); features in no
        group get only the l1 part.
    fit_intercept : bool, default True
        Unpenalized intercept, by centering ``X`` and ``y``.
    tol : float, default 1e-6
        Relative duality gap at which the solver stops.
    max_iter : int, optional
        Outer working-set iterations of the solver (its default when None;
        passed as ``max_outer`` to :func:`~structsparse.solve_block`).

    Attributes
    ----------
    coef_, intercept_, solver_, n_iter_, converged_, dual_gap_, objective_, n_features_in_ :
        As in :class:`GroupLassoRegressor`.
    """

    def __init__(self, lam=1.0, l1_ratio=0.5, groups=None, fit_intercept=True, tol=1e-6, max_iter=None):
        self.lam = lam
        self.l1_ratio = l1_ratio
        self.groups = groups
        self.fit_intercept = fit_intercept
        self.tol = tol
        self.max_iter = max_iter


class OverlapGroupLassoRegressor(GroupLassoRegressor):
    """Linear regression with the overlapping group lasso ``lam * sum_g w_g ||w_g||_2``.

    Groups may share features; the zeros of the solution are unions of
    groups. Fitted by :func:`structsparse.solve` (consensus ADMM, ``admm``).

    Parameters
    ----------
    lam : float >= 0, default 1.0
        Penalty strength (objective ``0.5 ||X w - y||^2 + lam * Omega(w)``, no 1/n).
    groups : None, int, list of lists of int or Groups, default None
        As in :class:`GroupLassoRegressor`, but the groups may overlap.
    fit_intercept : bool, default True
        Unpenalized intercept, by centering ``X`` and ``y``.
    tol : float, default 1e-6
        ADMM's relative tolerance on the primal and dual residuals.
    max_iter : int, optional
        ADMM iterations (its default when None).

    Attributes
    ----------
    coef_, intercept_, solver_, n_iter_, converged_, dual_gap_, objective_, n_features_in_ :
        As in :class:`GroupLassoRegressor` (``dual_gap_`` is None: ADMM reports residuals).
    """

    def _penalty(self, n_features):
        from .penalties import OverlapGroupLasso

        return OverlapGroupLasso(_resolve_groups(self.groups, n_features, type(self).__name__, False), self.lam)


class TreeLassoRegressor(GroupLassoRegressor):
    """Linear regression with the tree lasso ``lam * sum_nodes w_node ||w_group(node)||_2``.

    The group of a node is its own features and all its descendants'; the
    support of the solution is a rooted subtree. Fitted by
    :func:`structsparse.solve` (FISTA with the exact tree prox, ``fista``).

    Parameters
    ----------
    lam : float >= 0, default 1.0
        Penalty strength (objective ``0.5 ||X w - y||^2 + lam * Omega(w)``, no 1/n).
    tree : Tree, optional
        Over the ``n_features`` features. ``None``: no hierarchy, one group
        per feature (the lasso).
    fit_intercept : bool, default True
        Unpenalized intercept, by centering ``X`` and ``y``.
    tol : float, default 1e-6
        Relative duality gap at which FISTA stops.
    max_iter : int, optional
        FISTA iterations (its default when None).

    Attributes
    ----------
    coef_, intercept_, solver_, n_iter_, converged_, dual_gap_, objective_, n_features_in_ :
        As in :class:`GroupLassoRegressor`.
    """

    def __init__(self, lam=1.0, tree=None, fit_intercept=True, tol=1e-6, max_iter=None):
        self.lam = lam
        self.tree = tree
        self.fit_intercept = fit_intercept
        self.tol = tol
        self.max_iter = max_iter

    def _penalty(self, n_features):
        owner = type(self).__name__
        if self.tree is None:
            return L1(self.lam)
        if not isinstance(self.tree, Tree):
            raise ParameterTypeError(f"The 'tree' parameter of {owner} must be None or a Tree. "
                                 f"Got {type(self.tree).__name__} instead.")
        if self.tree.n_features != n_features:
            raise ShapeError(f"The 'tree' parameter of {owner} has {self.tree.n_features} features but X has "
                             f"{n_features}.")
        return TreeLasso(self.tree, self.lam)


# ---------------------------------------------------------------------- named classifiers
class GroupLassoClassifier(_GroupLassoTerms, StructuredClassifier):
    """Logistic regression with a group-lasso penalty ``lam * sum_g w_g ||w_g||_2`` (disjoint groups).

    Minimizes ``sum_i log(1 + exp(-y_i (x_i . w + b))) + lam * Omega(w)``
    with an unpenalized intercept, by :func:`structsparse.solve`
    (``solve_block``). More than two classes: one-vs-rest.

    Parameters
    ----------
    lam : float >= 0, default 1.0
        Penalty strength (no 1/n factor).
    groups : None, int, list of lists of int or Groups, default None
        ``None``: one group per feature (l1-penalized logistic regression);
        an int: contiguous groups of that size; index lists or a
        :class:`Groups` (carrying weights). Features in no group are
        unpenalized.
    fit_intercept : bool, default True
        Fit an unpenalized intercept.
    tol : float, default 1e-6
        Relative tolerance of the solver.
    max_iter : int, optional
        Iteration limit of the solver's main loop (its default when None):
        ``max_iter`` of :func:`~structsparse.fista` and
        :func:`~structsparse.admm`, ``max_outer`` (outer working-set
        iterations) of :func:`~structsparse.solve_block`.
    warm_start : bool, default False
        Start from the previous fit (for paths over ``lam``).

    Attributes
    ----------
    classes_, coef_, intercept_, solver_, n_iter_, converged_, dual_gap_, objective_, n_features_in_ :
        As in :class:`StructuredClassifier`.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((200, 6)); y = (X[:, 2] - X[:, 3] > 0).astype(int)
    >>> clf = GroupLassoClassifier(lam=3.0, groups=2).fit(X, y)
    >>> np.flatnonzero(clf.coef_[0]).tolist(), clf.predict_proba(X[:2]).shape
    ([2, 3], (2, 2))
    """

    def __init__(self, lam=1.0, groups=None, fit_intercept=True, tol=1e-6, max_iter=None, warm_start=False):
        self.lam = lam
        self.groups = groups
        self.fit_intercept = fit_intercept
        self.tol = tol
        self.max_iter = max_iter
        self.warm_start = warm_start


class SparseGroupLassoClassifier(_SparseGroupLassoTerms, GroupLassoClassifier):
    """Logistic regression with the sparse-group lasso ``lam ((1 - l1_ratio) sum_g w_g ||w_g|| + l1_ratio ||w||_1)``.

    Unpenalized intercept; fitted by :func:`structsparse.solve`
    (``solve_block``). More than two classes: one-vs-rest.

    Parameters
    ----------
    lam : float >= 0, default 1.0
        Penalty strength (no 1/n factor).
    l1_ratio : float in [0, 1], default 0.5
        Weight of the l1 part: 0 gives the group lasso, 1 the lasso.
    groups : None, int, list of lists of int or Groups, default None
        As in :class:`GroupLassoClassifier` (disjoint groups); features in
        no group get only the l1 part.
    fit_intercept : bool, default True
        Fit an unpenalized intercept.
    tol : float, default 1e-6
        Relative tolerance of the solver.
    max_iter : int, optional
        Iteration limit of the solver's main loop (its default when None):
        ``max_iter`` of :func:`~structsparse.fista` and
        :func:`~structsparse.admm`, ``max_outer`` (outer working-set
        iterations) of :func:`~structsparse.solve_block`.
    warm_start : bool, default False
        Start from the previous fit (for paths over ``lam``).

    Attributes
    ----------
    classes_, coef_, intercept_, solver_, n_iter_, converged_, dual_gap_, objective_, n_features_in_ :
        As in :class:`StructuredClassifier`.
    """

    def __init__(self, lam=1.0, l1_ratio=0.5, groups=None, fit_intercept=True, tol=1e-6, max_iter=None,
                 warm_start=False):
        self.lam = lam
        self.l1_ratio = l1_ratio
        self.groups = groups
        self.fit_intercept = fit_intercept
        self.tol = tol
        self.max_iter = max_iter
        self.warm_start = warm_start

