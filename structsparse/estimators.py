"""scikit-learn compatible regressors for the structured penalties.

Each minimizes ``0.5 * ||X w - y||^2 + lam * Omega(w)`` (the package's
convention: no ``1 / n_samples`` factor, so ``lam`` scales with the number
of samples; ``ss.lambda_max`` gives the scale) and follows the estimator
contract: ``__init__`` stores the parameters, ``fit`` validates them and
returns ``self``, fitted attributes end in ``_``. ``fit_intercept=True``
centers ``X`` and ``y`` and leaves the intercept unpenalized.

============================== ===================== ======================
estimator                      penalty               solver
============================== ===================== ======================
GroupLassoRegressor            GroupLasso            solve_block
SparseGroupLassoRegressor      SparseGroupLasso      solve_block
OverlapGroupLassoRegressor     OverlapGroupLasso     admm
TreeLassoRegressor             TreeLasso             fista
============================== ===================== ======================

``y`` may have several columns: a group's norm is then taken over its
features and all targets (multi-task), and ``coef_`` has shape
``(n_targets, n_features)`` as in scikit-learn.
"""

from numbers import Integral

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from ._validation import check_int, check_scalar
from .exceptions import ParameterError, ShapeError, StructureError
from .losses import LeastSquares
from .penalties import L1, GroupLasso, SparseGroupLasso, TreeLasso
from .structure import Groups, Tree

__all__ = ["GroupLassoRegressor", "SparseGroupLassoRegressor", "OverlapGroupLassoRegressor", "TreeLassoRegressor"]


def _resolve_groups(groups, n_features, owner, disjoint):
    """``None`` (one group per feature), an int (contiguous groups of that size), index lists or Groups."""
    if groups is None:
        return Groups.from_sizes([1] * n_features)
    if isinstance(groups, (Integral, np.integer)) and not isinstance(groups, bool):
        if groups < 1:
            raise ParameterError(f"The 'groups' parameter of {owner} must be None, a positive int (group size), "
                                 f"a list of index lists or a Groups. Got {groups!r} instead.")
        return Groups.contiguous(n_features, int(groups))
    if isinstance(groups, Groups):
        resolved = groups
    elif isinstance(groups, (list, tuple)):
        resolved = Groups.from_lists(groups, n_features=n_features)
    else:
        raise ParameterError(f"The 'groups' parameter of {owner} must be None, a positive int (group size), "
                             f"a list of index lists or a Groups. Got {type(groups).__name__} instead.")
    if resolved.n_features != n_features:
        raise ShapeError(f"The 'groups' parameter of {owner} indexes {resolved.n_features} features but X has "
                         f"{n_features}.")
    if disjoint and not resolved.is_disjoint:
        raise StructureError(f"The 'groups' parameter of {owner} must hold disjoint groups; use "
                             "OverlapGroupLassoRegressor for overlapping ones.")
    return resolved


class _StructuredRegressor(RegressorMixin, BaseEstimator):
    """Shared fit/predict; subclasses build the penalty and pick the solver."""

    def _common_checks(self):
        owner = type(self).__name__
        check_scalar(self.lam, "lam", low=0, owner=owner)
        check_scalar(self.tol, "tol", low=0, low_inclusive=False, owner=owner)
        if self.max_iter is not None:
            check_int(self.max_iter, "max_iter", low=1, owner=owner)
        if not isinstance(self.fit_intercept, (bool, np.bool_)):
            raise ParameterError(f"The 'fit_intercept' parameter of {owner} must be a bool. "
                                 f"Got {self.fit_intercept!r} instead.")

    def _solve(self, loss, penalty):  # pragma: no cover - overridden
        raise NotImplementedError

    def fit(self, X, y):
        """Fit the model.

        Parameters
        ----------
        X : array_like or scipy.sparse matrix, shape (n_samples, n_features)
            Sparse input is kept sparse when ``fit_intercept=False`` and
            densified (to be centered) otherwise.
        y : array_like, shape (n_samples,) or (n_samples, n_targets)

        Returns
        -------
        self
        """
        X, y = validate_data(self, X, y, accept_sparse=("csr", "csc"), dtype=np.float64, multi_output=True,
                             y_numeric=True)
        self._common_checks()
        penalty = self._penalty(X.shape[1])
        y = np.asarray(y, dtype=np.float64)
        if self.fit_intercept:
            if sp.issparse(X):
                X = X.toarray()
            X_mean = X.mean(axis=0)
            y_mean = y.mean(axis=0)
            A, b = X - X_mean, y - y_mean
        else:
            X_mean = np.zeros(X.shape[1])
            y_mean = np.zeros(y.shape[1:]) if y.ndim == 2 else 0.0
            A, b = X, y
        result = self._solve(LeastSquares(A, b), penalty)
        coef = np.asarray(result.x)
        self.coef_ = coef.T.copy() if y.ndim == 2 else coef
        intercept = y_mean - X_mean @ coef
        self.intercept_ = float(intercept) if y.ndim == 1 else np.asarray(intercept)
        self.n_iter_ = int(result.n_iter)
        self.converged_ = bool(result.converged)
        self.dual_gap_ = result.gap
        self.objective_ = float(result.objective)
        return self

    def predict(self, X):
        """Predict ``X @ coef_.T + intercept_``."""
        check_is_fitted(self)
        X = validate_data(self, X, accept_sparse=("csr", "csc"), dtype=np.float64, reset=False)
        return np.asarray(X @ self.coef_.T) + self.intercept_

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.target_tags.multi_output = True
        return tags


class GroupLassoRegressor(_StructuredRegressor):
    """Linear regression with a group-lasso penalty ``lam * sum_g w_g ||w_g||_2`` (disjoint groups).

    Solved by working-set block coordinate descent (:func:`structsparse.solve_block`).

    Parameters
    ----------
    lam : float >= 0, default 1.0
        Penalty strength (objective ``0.5 ||X w - y||^2 + lam * Omega(w)``, no 1/n).
    groups : None, int, list of lists of int or Groups, default None
        ``None``: one group per feature (the lasso); an int: contiguous
        groups of that size; index lists or a :class:`Groups` (carrying
        weights). Features in no group are unpenalized.
    fit_intercept : bool, default True
    tol : float, default 1e-6
        Relative duality gap at which the solver stops.
    max_iter : int, optional
        Outer iterations of the solver (its default when None).

    Attributes
    ----------
    coef_ : ndarray, shape (n_features,) or (n_targets, n_features)
    intercept_ : float or ndarray of shape (n_targets,)
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

    def __init__(self, lam=1.0, groups=None, fit_intercept=True, tol=1e-6, max_iter=None):
        self.lam = lam
        self.groups = groups
        self.fit_intercept = fit_intercept
        self.tol = tol
        self.max_iter = max_iter

    def _penalty(self, n_features):
        return GroupLasso(_resolve_groups(self.groups, n_features, type(self).__name__, True), self.lam)

    def _solve(self, loss, penalty):
        from .solvers.working_set import solve_block

        kw = {} if self.max_iter is None else {"max_iter": self.max_iter}
        return solve_block(loss, penalty, tol=self.tol, **kw)


class SparseGroupLassoRegressor(_StructuredRegressor):
    """Linear regression with the sparse-group lasso ``lam ((1 - l1_ratio) sum_g w_g ||w_g|| + l1_ratio ||w||_1)``.

    Solved by :func:`structsparse.solve_block`.

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
    tol : float, default 1e-6
        Relative duality gap at which the solver stops.
    max_iter : int, optional
        Outer iterations of the solver (its default when None).

    Attributes
    ----------
    coef_, intercept_, n_iter_, converged_, dual_gap_, objective_, n_features_in_ :
        As in :class:`GroupLassoRegressor`.
    """

    def __init__(self, lam=1.0, l1_ratio=0.5, groups=None, fit_intercept=True, tol=1e-6, max_iter=None):
        self.lam = lam
        self.l1_ratio = l1_ratio
        self.groups = groups
        self.fit_intercept = fit_intercept
        self.tol = tol
        self.max_iter = max_iter

    def _penalty(self, n_features):
        owner = type(self).__name__
        check_scalar(self.l1_ratio, "l1_ratio", low=0, high=1, owner=owner)
        return SparseGroupLasso(_resolve_groups(self.groups, n_features, owner, True), self.lam, self.l1_ratio)

    def _solve(self, loss, penalty):
        from .solvers.working_set import solve_block

        kw = {} if self.max_iter is None else {"max_iter": self.max_iter}
        return solve_block(loss, penalty, tol=self.tol, **kw)


class OverlapGroupLassoRegressor(_StructuredRegressor):
    """Linear regression with the overlapping group lasso ``lam * sum_g w_g ||w_g||_2``.

    Groups may share features; the zeros of the solution are unions of
    groups. Solved by consensus ADMM (:func:`structsparse.admm`).

    Parameters
    ----------
    lam : float >= 0, default 1.0
        Penalty strength (objective ``0.5 ||X w - y||^2 + lam * Omega(w)``, no 1/n).
    groups : None, int, list of lists of int or Groups, default None
        As in :class:`GroupLassoRegressor`, but the groups may overlap.
    fit_intercept : bool, default True
    tol : float, default 1e-6
        ADMM's relative tolerance on the primal and dual residuals.
    max_iter : int, optional
        ADMM iterations (its default when None).

    Attributes
    ----------
    coef_, intercept_, n_iter_, converged_, dual_gap_, objective_, n_features_in_ :
        As in :class:`GroupLassoRegressor` (``dual_gap_`` is None: ADMM reports residuals).
    """

    def __init__(self, lam=1.0, groups=None, fit_intercept=True, tol=1e-6, max_iter=None):
        self.lam = lam
        self.groups = groups
        self.fit_intercept = fit_intercept
        self.tol = tol
        self.max_iter = max_iter

    def _penalty(self, n_features):
        from .penalties import OverlapGroupLasso

        return OverlapGroupLasso(_resolve_groups(self.groups, n_features, type(self).__name__, False), self.lam)

    def _solve(self, loss, penalty):
        from .solvers.admm import admm

        return admm(loss, penalty, tol=self.tol, max_iter=self.max_iter)


class TreeLassoRegressor(_StructuredRegressor):
    """Linear regression with the tree lasso ``lam * sum_nodes w_node ||w_group(node)||_2``.

    The group of a node is its own features and all its descendants'; the
    support of the solution is a rooted subtree. Solved by FISTA
    (:func:`structsparse.fista`) with the exact tree prox.

    Parameters
    ----------
    lam : float >= 0, default 1.0
    tree : Tree, optional
        Over the ``n_features`` features. ``None``: no hierarchy, one group
        per feature (the lasso).
    fit_intercept, tol, max_iter :
        As in :class:`GroupLassoRegressor` (``tol`` is FISTA's relative gap).
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
            raise ParameterError(f"The 'tree' parameter of {owner} must be None or a Tree. "
                                 f"Got {type(self.tree).__name__} instead.")
        if self.tree.n_features != n_features:
            raise ShapeError(f"The 'tree' parameter of {owner} has {self.tree.n_features} features but X has "
                             f"{n_features}.")
        return TreeLasso(self.tree, self.lam)

    def _solve(self, loss, penalty):
        from .solvers.fista import fista

        return fista(loss, penalty, tol=self.tol, max_iter=self.max_iter)
