"""
A sparse additive model: group lasso on spline features
=======================================================

scikit-learn's diabetes data (442 samples, no download). Each feature is
expanded into a few spline functions (``SplineTransformer``), and the group
lasso with one group per original feature keeps or drops whole features, so
the fitted model is a sum of smooth functions of a few features. ``lam`` is
chosen on a validation split; the test split is scored once.
"""

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_diabetes
from sklearn.linear_model import LinearRegression
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import SplineTransformer

import structsparse as ss

data = load_diabetes()
X_rest, X_test, y_rest, y_test = train_test_split(data.data, data.target, test_size=0.25, random_state=0)
X_train, X_val, y_train, y_val = train_test_split(X_rest, y_rest, test_size=1 / 3, random_state=0)
spline = SplineTransformer(n_knots=5, degree=3, include_bias=False).fit(X_train)
B_train, B_val, B_test = (spline.transform(Z) for Z in (X_train, X_val, X_test))
k = B_train.shape[1] // X_train.shape[1]        # spline functions per feature, contiguous columns

pen = ss.GroupLasso(ss.Groups.contiguous(B_train.shape[1], k), 1.0)
lmax = ss.lambda_max(ss.LeastSquares(B_train - B_train.mean(axis=0), y_train - y_train.mean()), pen)
fracs = np.geomspace(1.0, 1e-3, 20)
val = [np.mean((ss.GroupLassoRegressor(lam=f * lmax, groups=k).fit(B_train, y_train).predict(B_val) - y_val) ** 2)
       for f in fracs]
best = fracs[int(np.argmin(val))]
model = ss.GroupLassoRegressor(lam=best * lmax, groups=k).fit(B_train, y_train)
in_model = np.abs(model.coef_).reshape(-1, k).sum(axis=1) > 0
mse = lambda pred: np.mean((pred - y_test) ** 2)  # noqa: E731
print(f"lam = {best:.3g} lam_max; features kept: {', '.join(np.array(data.feature_names)[in_model])}")
print(f"test MSE {mse(model.predict(B_test)):.0f}; intercept only {mse(np.full_like(y_test, y_train.mean())):.0f}; "
      f"linear least squares {mse(LinearRegression().fit(X_train, y_train).predict(X_test)):.0f}")

grid = np.linspace(X_train.min(axis=0), X_train.max(axis=0), 100)
basis = spline.transform(grid)
fig, ax = plt.subplots(figsize=(6, 3.5))
for j in np.flatnonzero(in_model):
    ax.plot(grid[:, j], basis[:, j * k:(j + 1) * k] @ model.coef_[j * k:(j + 1) * k], label=data.feature_names[j])
ax.set_xlabel("feature value (standardized)")
ax.set_ylabel("contribution")
ax.legend(fontsize=7)
fig.tight_layout()
