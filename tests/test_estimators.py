"""scikit-learn estimators: the estimator contract, agreement with direct solves and with sklearn's lasso."""

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.linear_model import Lasso, MultiTaskLasso
from sklearn.model_selection import GridSearchCV
from sklearn.utils.estimator_checks import parametrize_with_checks

import structsparse as ss
from structsparse.exceptions import ParameterError, ShapeError, StructureError

ESTIMATORS = [ss.GroupLassoRegressor(), ss.SparseGroupLassoRegressor(), ss.OverlapGroupLassoRegressor(),
              ss.TreeLassoRegressor(), ss.StructuredRegressor(), ss.StructuredRegressor(datafit="huber"),
              ss.StructuredClassifier(), ss.GroupLassoClassifier(), ss.SparseGroupLassoClassifier()]


@parametrize_with_checks(ESTIMATORS)
def test_sklearn_compatible(estimator, check):
    """scikit-learn's check_estimator suite, one check per test: each check_* raises AssertionError on failure."""
    check(estimator)


def _data(seed=0, n=50, p=12, k=None):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p)) + 0.5
    coef = np.zeros(p) if k is None else np.zeros((p, k))
    coef[:4] = rng.standard_normal(coef[:4].shape) + 1.0
    y = X @ coef + 2.0 + 0.1 * rng.standard_normal((n,) if k is None else (n, k))
    return X, y


def test_group_lasso_fit_equals_direct_solve_on_centered_data():
    X, y = _data()
    groups = ss.Groups.from_sizes([4, 3, 5], weights=[1.0, 2.0, 0.5])
    model = ss.GroupLassoRegressor(lam=5.0, groups=groups, tol=1e-10).fit(X, y)
    Xc, yc = X - X.mean(axis=0), y - y.mean()
    direct = ss.solve_block(ss.LeastSquares(Xc, yc), ss.GroupLasso(groups, 5.0), tol=1e-10)
    np.testing.assert_allclose(model.coef_, direct.x, atol=1e-8)
    assert model.intercept_ == pytest.approx(y.mean() - X.mean(axis=0) @ direct.x)
    np.testing.assert_allclose(model.predict(X), X @ direct.x + model.intercept_)
    assert model.converged_ and model.objective_ == pytest.approx(direct.objective)
    # without intercept the raw data are used
    raw = ss.GroupLassoRegressor(lam=5.0, groups=groups, fit_intercept=False, tol=1e-10).fit(X, y)
    direct_raw = ss.solve_block(ss.LeastSquares(X, y), ss.GroupLasso(groups, 5.0), tol=1e-10)
    np.testing.assert_allclose(raw.coef_, direct_raw.x, atol=1e-8)
    assert raw.intercept_ == 0.0


def test_groups_none_is_sklearn_lasso():
    X, y = _data(1)
    lam, n = 4.0, X.shape[0]
    ours = ss.GroupLassoRegressor(lam=lam, tol=1e-12).fit(X, y)
    theirs = Lasso(alpha=lam / n, tol=1e-12, max_iter=100_000).fit(X, y)
    np.testing.assert_allclose(ours.coef_, theirs.coef_, atol=1e-7)
    assert ours.intercept_ == pytest.approx(theirs.intercept_, abs=1e-7)
    # the other estimators reduce to the lasso too with their defaults
    for other in (ss.SparseGroupLassoRegressor(lam=lam, l1_ratio=1.0, groups=3, tol=1e-12),
                  ss.TreeLassoRegressor(lam=lam, tol=1e-12)):
        np.testing.assert_allclose(other.fit(X, y).coef_, theirs.coef_, atol=1e-6)
    overlap = ss.OverlapGroupLassoRegressor(lam=lam, tol=1e-9).fit(X, y)
    np.testing.assert_allclose(overlap.coef_, theirs.coef_, atol=1e-4)


def test_multi_target_is_sklearn_multitask_lasso():
    X, Y = _data(2, k=3)
    lam, n = 6.0, X.shape[0]
    ours = ss.GroupLassoRegressor(lam=lam, tol=1e-12).fit(X, Y)
    theirs = MultiTaskLasso(alpha=lam / n, tol=1e-12, max_iter=100_000).fit(X, Y)
    assert ours.coef_.shape == (3, X.shape[1]) and ours.intercept_.shape == (3,)
    np.testing.assert_allclose(ours.coef_, theirs.coef_, atol=1e-7)
    np.testing.assert_allclose(ours.predict(X), theirs.predict(X), atol=1e-6)


def test_sparse_group_limits_and_sparse_input():
    X, y = _data(3)
    groups = [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10, 11]]
    sgl0 = ss.SparseGroupLassoRegressor(lam=3.0, l1_ratio=0.0, groups=groups, tol=1e-12).fit(X, y)
    gl = ss.GroupLassoRegressor(lam=3.0, groups=groups, tol=1e-12).fit(X, y)
    np.testing.assert_allclose(sgl0.coef_, gl.coef_, atol=1e-8)
    dense = ss.SparseGroupLassoRegressor(lam=3.0, groups=groups, fit_intercept=False, tol=1e-12).fit(X, y)
    sparse = ss.SparseGroupLassoRegressor(lam=3.0, groups=groups, fit_intercept=False,
                                          tol=1e-12).fit(sp.csr_matrix(X), y)
    np.testing.assert_allclose(dense.coef_, sparse.coef_, atol=1e-8)
    np.testing.assert_allclose(sparse.predict(sp.csr_matrix(X)), dense.predict(X), atol=1e-8)
    with_intercept = ss.SparseGroupLassoRegressor(lam=3.0, groups=groups, tol=1e-12)
    np.testing.assert_allclose(with_intercept.fit(sp.csc_matrix(X), y).coef_,
                               ss.SparseGroupLassoRegressor(lam=3.0, groups=groups, tol=1e-12).fit(X, y).coef_)


def test_overlap_and_tree_match_cvxpy():
    X, y = _data(4)
    Xc, yc = X - X.mean(axis=0), y - y.mean()
    loss = ss.LeastSquares(Xc, yc)
    overlap_groups = [[0, 1, 2, 3, 4], [3, 4, 5, 6], [6, 7, 8], [8, 9, 10, 11]]
    model = ss.OverlapGroupLassoRegressor(lam=8.0, groups=overlap_groups, tol=1e-8).fit(X, y)
    pen = ss.OverlapGroupLasso(overlap_groups, 8.0)
    ref = ss.solve_cvxpy(loss, pen)
    assert abs(model.objective_ - ref.objective) <= 1e-5 * ref.objective
    ours = 0.5 * np.sum((yc - Xc @ model.coef_) ** 2) + pen(model.coef_)
    assert abs(ours - ref.objective) <= 1e-5 * ref.objective

    tree = ss.Tree.from_parents([-1, 0, 0, 1, 1, 2, 2, 3, 3, 4, 5, 6])
    tmodel = ss.TreeLassoRegressor(lam=8.0, tree=tree, tol=1e-10).fit(X, y)
    tpen = ss.TreeLasso(tree, 8.0)
    tref = ss.solve_cvxpy(loss, tpen)
    assert abs(tmodel.objective_ - tref.objective) <= 1e-6 * tref.objective
    # the support of a tree lasso is closed under taking parents
    support = set(np.flatnonzero(tmodel.coef_))
    assert all(tree.parents[i] in support for i in support if tree.parents[i] >= 0)


def test_grid_search_over_lam():
    X, y = _data(5, n=80)
    search = GridSearchCV(ss.GroupLassoRegressor(groups=4), {"lam": [0.1, 10.0, 1e4]}, cv=3).fit(X, y)
    assert search.best_params_["lam"] in (0.1, 10.0)
    assert search.best_estimator_.score(X, y) > 0.9


def test_bad_parameters_are_reported_at_fit():
    X, y = _data(6)
    cases = [
        (ss.GroupLassoRegressor(lam=-1.0), ParameterError, "'lam' parameter of GroupLassoRegressor"),
        (ss.GroupLassoRegressor(tol=0.0), ParameterError, "'tol'"),
        (ss.GroupLassoRegressor(max_iter=0), ParameterError, "'max_iter'"),
        (ss.GroupLassoRegressor(fit_intercept="yes"), ParameterError, "'fit_intercept'"),
        (ss.GroupLassoRegressor(groups=0), ParameterError, "'groups'"),
        (ss.GroupLassoRegressor(groups="abc"), ParameterError, "'groups'"),
        (ss.GroupLassoRegressor(groups=ss.Groups.contiguous(5, 1)), ShapeError, "'groups'"),
        (ss.GroupLassoRegressor(groups=[[0, 1], [1, 2]]), StructureError, "disjoint"),
        (ss.SparseGroupLassoRegressor(l1_ratio=1.5), ParameterError, "'l1_ratio'"),
        (ss.OverlapGroupLassoRegressor(groups=[[0, 20]]), Exception, "20"),
        (ss.TreeLassoRegressor(tree=[0, 1]), ParameterError, "'tree'"),
        (ss.TreeLassoRegressor(tree=ss.Tree.from_parents([-1, 0, 0])), ShapeError, "'tree'"),
    ]
    for model, error, match in cases:
        with pytest.raises(error, match=match):
            model.fit(X, y)
    # __init__ stores parameters untouched, even invalid ones
    assert ss.GroupLassoRegressor(lam=-1.0).get_params()["lam"] == -1.0
