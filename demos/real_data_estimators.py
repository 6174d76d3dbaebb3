"""Structured estimators on real data shipped with scikit-learn (no download).

1. Breast cancer (569 samples): 10 measurements x 3 statistics (mean, error,
   worst), one group of 3 features per measurement. A sparse-group logistic
   path (SparseGroupLassoClassifier, warm-started) on standardized features;
   lam is chosen on a validation split, the test split is scored once. The
   fit at the chosen lam is checked against cvxpy.
2. Diabetes (442 samples): a spline basis per feature (SplineTransformer),
   one group per feature: a group-lasso additive model whose groups drop
   whole features. lam is chosen on a validation split.

Run: python demos/real_data_estimators.py
"""

import time

import numpy as np
from sklearn.datasets import load_breast_cancer, load_diabetes
from sklearn.linear_model import LinearRegression
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import SplineTransformer, StandardScaler

import structsparse as ss

# ---------------------------------------------------------------- breast cancer: sparse-group logistic path
data = load_breast_cancer()
X_rest, X_test, y_rest, y_test = train_test_split(data.data, data.target, test_size=0.25, random_state=0,
                                                  stratify=data.target)
X_train, X_val, y_train, y_val = train_test_split(X_rest, y_rest, test_size=1 / 3, random_state=0, stratify=y_rest)
scaler = StandardScaler().fit(X_train)  # statistics of the training split only
X_train, X_val, X_test = (scaler.transform(Z) for Z in (X_train, X_val, X_test))
groups = [[j, j + 10, j + 20] for j in range(10)]  # feature j: mean, j + 10: error, j + 20: worst
measurements = [str(data.feature_names[j]).removeprefix("mean ") for j in range(10)]
l1_ratio = 0.2

# lam_max: with w = 0 the intercept fits the class frequency; the gradient in w is X^T (mean(y) - y)
lam_max = ss.SparseGroupLasso(groups, 1.0, l1_ratio).dual_norm(X_train.T @ (y_train - y_train.mean()))
clf = ss.SparseGroupLassoClassifier(l1_ratio=l1_ratio, groups=groups, warm_start=True)
print(f"breast cancer: {X_train.shape[0]} train / {X_val.shape[0]} validation / {X_test.shape[0]} test samples; "
      f"sparse-group logistic path, l1_ratio={l1_ratio}")
path = []
start = time.perf_counter()
for frac in np.geomspace(0.99, 0.001, 25):
    clf.set_params(lam=frac * lam_max).fit(X_train, y_train)
    proba = np.clip(clf.predict_proba(X_val)[:, 1], 1e-15, 1 - 1e-15)
    val_loss = -np.mean(y_val * np.log(proba) + (1 - y_val) * np.log(1 - proba))
    coef = clf.coef_[0]
    chosen = [f"{measurements[j]}({np.count_nonzero(coef[g])}/3)" for j, g in enumerate(groups) if np.any(coef[g])]
    path.append((val_loss, frac))
    print(f"  lam = {frac:.3g} lam_max  validation log-loss {val_loss:.4f}  solver {clf.solver_}  "
          f"measurements: {', '.join(chosen)}")
elapsed = time.perf_counter() - start
print(f"  whole path (25 fits, warm-started): {elapsed:.2f} s")

best_frac = min(path)[1]
final = ss.SparseGroupLassoClassifier(lam=best_frac * lam_max, l1_ratio=l1_ratio, groups=groups,
                                      tol=1e-10).fit(X_train, y_train)
kept = [measurements[j] for j, g in enumerate(groups) if np.any(final.coef_[0][g])]
print(f"  chosen on validation: lam = {best_frac:.3g} lam_max, {len(kept)} of 10 measurements: {', '.join(kept)}")
print(f"  test accuracy {final.score(X_test, y_test):.3f} (majority class: "
      f"{max(y_test.mean(), 1 - y_test.mean()):.3f})")

try:
    import cvxpy as cp
except ImportError:  # pragma: no cover - cvxpy is a test dependency
    cp = None
if cp is not None:
    w, b = cp.Variable(30), cp.Variable()
    s = 2.0 * y_train - 1.0
    pen = (1 - l1_ratio) * sum(cp.norm(w[g], 2) for g in groups) + l1_ratio * cp.norm1(w)
    problem = cp.Problem(cp.Minimize(cp.sum(cp.logistic(-cp.multiply(s, X_train @ w + b)))
                                     + best_frac * lam_max * pen))
    t0 = time.perf_counter()
    problem.solve(solver="CLARABEL", tol_gap_abs=1e-10, tol_gap_rel=1e-10, tol_feas=1e-10)
    t_cvxpy = time.perf_counter() - t0
    diff = max(np.abs(final.coef_[0] - w.value).max(), abs(final.intercept_[0] - b.value))
    print(f"  against cvxpy (Clarabel): largest coefficient difference {diff:.1e}; cvxpy took {t_cvxpy:.2f} s")

# ---------------------------------------------------------------- diabetes: group-lasso additive model
data = load_diabetes()
X_rest, X_test, y_rest, y_test = train_test_split(data.data, data.target, test_size=0.25, random_state=0)
X_train, X_val, y_train, y_val = train_test_split(X_rest, y_rest, test_size=1 / 3, random_state=0)
spline = SplineTransformer(n_knots=5, degree=3, include_bias=False).fit(X_train)
B_train, B_val, B_test = (spline.transform(Z) for Z in (X_train, X_val, X_test))
k = B_train.shape[1] // X_train.shape[1]  # basis functions per feature, contiguous in the output
lam_max = ss.lambda_max(ss.LeastSquares(B_train - B_train.mean(axis=0), y_train - y_train.mean()),
                        ss.GroupLasso(ss.Groups.contiguous(B_train.shape[1], k), 1.0))
scores = []
for frac in np.geomspace(1.0, 1e-3, 25):
    model = ss.GroupLassoRegressor(lam=frac * lam_max, groups=k).fit(B_train, y_train)
    scores.append((np.mean((model.predict(B_val) - y_val) ** 2), frac))
best_frac = min(scores)[1]
model = ss.GroupLassoRegressor(lam=best_frac * lam_max, groups=k).fit(B_train, y_train)
in_model = np.abs(model.coef_).reshape(-1, k).sum(axis=1) > 0
test_mse = np.mean((model.predict(B_test) - y_test) ** 2)
print(f"\ndiabetes: {X_train.shape[0]} train / {X_val.shape[0]} validation / {X_test.shape[0]} test samples; "
      f"{k} spline functions per feature, one group each")
print(f"  chosen on validation: lam = {best_frac:.3g} lam_max; dropped features: "
      f"{', '.join(np.array(data.feature_names)[~in_model]) or 'none'}")
print(f"  test MSE {test_mse:.0f}; intercept only {np.mean((y_train.mean() - y_test) ** 2):.0f}; "
      f"linear least squares on the raw features {np.mean((LinearRegression().fit(X_train, y_train).predict(X_test) - y_test) ** 2):.0f}")
