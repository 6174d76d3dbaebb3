"""Real data: a sparse-group logistic path on breast cancer, a group-lasso additive model on diabetes.

Both datasets ship with scikit-learn (no download). cvxpy (Clarabel) is the
judge for the logistic fits, written here from its own atoms, independently
of the package's penalty and datafit code.
"""

import warnings

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer, load_diabetes
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import SplineTransformer, StandardScaler

import structsparse as ss
from structsparse.exceptions import ConvergenceWarning

cp = pytest.importorskip("cvxpy")

L1_RATIO = 0.2


def _breast_cancer():
    """Standardized features; groups of the 3 statistics (mean, error, worst) of each of the 10 measurements."""
    data = load_breast_cancer()
    X = StandardScaler().fit_transform(data.data)
    groups = [[j, j + 10, j + 20] for j in range(10)]
    measurements = [str(data.feature_names[j]).removeprefix("mean ") for j in range(10)]
    return X, data.target, groups, measurements


def _lam_max(X, y, groups, l1_ratio):
    """Smallest lam with all coefficients zero: at w = 0 the intercept fits the class frequency.

    The optimal intercept is then logit(mean(y)), the gradient in w is
    ``X^T (mean(y) - y)``, and lam_max is the penalty's dual norm of it.
    """
    u = X.T @ (y - y.mean())
    return ss.SparseGroupLasso(groups, 1.0, l1_ratio).dual_norm(u)


class _CvxpyLogistic:
    """``sum log(1 + exp(-s (X w + b))) + lam ((1 - r) sum_g ||w_g|| + r ||w||_1)`` with lam a parameter."""

    def __init__(self, X, y, groups, l1_ratio):
        self.w = cp.Variable(X.shape[1])
        self.b = cp.Variable()
        self.lam = cp.Parameter(nonneg=True)
        s = 2.0 * y - 1.0
        fit = cp.sum(cp.logistic(-cp.multiply(s, X @ self.w + self.b)))
        pen = (1 - l1_ratio) * sum(cp.norm(self.w[g], 2) for g in groups) + l1_ratio * cp.norm1(self.w)
        self.problem = cp.Problem(cp.Minimize(fit + self.lam * pen))

    def solve(self, lam):
        self.lam.value = lam
        self.problem.solve(solver="CLARABEL", tol_gap_abs=1e-10, tol_gap_rel=1e-10, tol_feas=1e-10)
        assert self.problem.status == "optimal", self.problem.status
        return self.w.value.copy(), float(self.b.value)


def _check_path(fractions):
    X, y, groups, _ = _breast_cancer()
    lam_max = _lam_max(X, y, groups, L1_RATIO)
    ref = _CvxpyLogistic(X, y, groups, L1_RATIO)
    clf = ss.SparseGroupLassoClassifier(l1_ratio=L1_RATIO, groups=groups, tol=1e-12, warm_start=True)
    supports, coefs = [], []
    for frac in fractions:
        clf.set_params(lam=frac * lam_max).fit(X, y)
        w, b = ref.solve(frac * lam_max)
        assert clf.solver_ == "solve_block" and clf.converged_.all()
        np.testing.assert_allclose(clf.coef_[0], w, rtol=0, atol=1e-5, err_msg=f"lam = {frac} lam_max")
        assert clf.intercept_[0] == pytest.approx(b, abs=1e-5)
        supports.append([j for j, g in enumerate(groups) if np.any(clf.coef_[0][g] != 0)])
        coefs.append(clf.coef_[0].copy())
    return coefs, supports


def test_breast_cancer_sparse_group_logistic_matches_cvxpy_and_selects_whole_measurements():
    _, _, groups, names = _breast_cancer()
    coefs, supports = _check_path([0.3, 0.05])
    # at 0.3 lam_max a few measurements are in, each with all three of its statistics
    coef, selected = coefs[0], supports[0]
    assert 1 <= len(selected) <= 4, [names[j] for j in selected]
    assert all(np.count_nonzero(coef[groups[j]]) == 3 for j in selected)
    # the path is nested at these two values: more measurements enter as lam decreases
    assert set(supports[0]) < set(supports[1])


def test_breast_cancer_lam_max_is_where_the_path_starts():
    X, y, groups, _ = _breast_cancer()
    lam_max = _lam_max(X, y, groups, L1_RATIO)
    above = ss.SparseGroupLassoClassifier(lam=1.001 * lam_max, l1_ratio=L1_RATIO, groups=groups, tol=1e-10).fit(X, y)
    assert not np.any(above.coef_)
    # all coefficients zero: the intercept alone fits the class frequency
    assert above.intercept_[0] == pytest.approx(np.log(y.mean() / (1 - y.mean())), abs=1e-7)
    np.testing.assert_allclose(above.predict_proba(X)[:, 1], y.mean(), atol=1e-7)
    below = ss.SparseGroupLassoClassifier(lam=0.99 * lam_max, l1_ratio=L1_RATIO, groups=groups, tol=1e-10).fit(X, y)
    assert np.any(below.coef_)


@pytest.mark.slow
def test_breast_cancer_whole_path_matches_cvxpy():
    # the path starts just below lam_max (at lam_max itself the closed form is the judge, see above)
    fractions = np.geomspace(0.99, 0.01, 20)
    coefs, supports = _check_path(fractions)
    _, _, groups, _ = _breast_cancer()
    assert 1 <= len(supports[0]) and len(supports[-1]) >= 6
    # the first measurements enter whole: down to 0.25 lam_max each selected one has all three statistics
    # (below, the l1 part drops single statistics; the path need not be nested either: perimeter enters first
    # and leaves when radius, nearly collinear with it, comes in)
    early = np.flatnonzero(fractions >= 0.25)
    for i in early:
        assert all(np.count_nonzero(coefs[i][groups[j]]) == 3 for j in supports[i]), fractions[i]


def _diabetes_splits():
    data = load_diabetes()
    X_rest, X_test, y_rest, y_test = train_test_split(data.data, data.target, test_size=0.25, random_state=0)
    X_train, X_val, y_train, y_val = train_test_split(X_rest, y_rest, test_size=1 / 3, random_state=0)
    return data.feature_names, (X_train, y_train), (X_val, y_val), (X_test, y_test)


def test_diabetes_group_lasso_additive_model():
    """Spline basis per feature, one group per feature; lam chosen on the validation split only."""
    names, (X_train, y_train), (X_val, y_val), (X_test, y_test) = _diabetes_splits()
    spline = SplineTransformer(n_knots=5, degree=3, include_bias=False).fit(X_train)
    B_train, B_val, B_test = (spline.transform(Z) for Z in (X_train, X_val, X_test))
    k = B_train.shape[1] // X_train.shape[1]  # basis functions of one feature, contiguous in the output
    assert k * X_train.shape[1] == B_train.shape[1]
    groups = ss.Groups.contiguous(B_train.shape[1], k)
    centered = ss.LeastSquares(B_train - B_train.mean(axis=0), y_train - y_train.mean())
    lam_max = ss.lambda_max(centered, ss.GroupLasso(groups, 1.0))

    val_mse = []
    for frac in np.geomspace(1.0, 1e-3, 25):
        model = ss.GroupLassoRegressor(lam=frac * lam_max, groups=k).fit(B_train, y_train)
        val_mse.append((np.mean((model.predict(B_val) - y_val) ** 2), frac))
    best_frac = min(val_mse)[1]
    assert 1e-3 < best_frac < 1.0  # an interior choice, not an end of the grid
    model = ss.GroupLassoRegressor(lam=best_frac * lam_max, groups=k).fit(B_train, y_train)
    assert model.solver_ == "solve_block" and model.converged_

    per_feature = np.abs(model.coef_).reshape(-1, k).sum(axis=1)
    dropped = [names[j] for j in np.flatnonzero(per_feature == 0)]
    assert 1 <= len(dropped) < len(names), dropped
    test_mse = np.mean((model.predict(B_test) - y_test) ** 2)
    intercept_only = np.mean((y_train.mean() - y_test) ** 2)
    assert test_mse < 0.8 * intercept_only


def test_free_intercept_is_fitted_past_the_value_rounding_so_a_tight_gap_certifies():
    # at 0.78 lam_max (standardized breast cancer, tol 1e-12) the intercept's Newton steps stopped once their
    # decrease fell below the objective's rounding, leaving a gradient of 4e-7; the projected dual point then held
    # the gap at 3.7e-10 relative for all 100 outer iterations. Default suite: one fit, a tenth of a second.
    X, y, groups, _ = _breast_cancer()
    lam = 0.7773 * _lam_max(X, y, groups, L1_RATIO)
    clf = ss.SparseGroupLassoClassifier(lam=lam, l1_ratio=L1_RATIO, groups=groups, tol=1e-12)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        clf.fit(X, y)
    assert clf.converged_.all()
    # the intercept's optimality condition, sum(p - y) = 0, holds to rounding
    assert abs(float(np.sum(clf.predict_proba(X)[:, 1] - y))) <= 1e-9
