"""
Group and sparse-group logistic feature selection on real data
==============================================================

scikit-learn's breast cancer data (569 samples, no download): 10
measurements, each summarized by 3 statistics (mean, standard error, worst),
so one group of 3 features per measurement. ``GroupLassoClassifier`` keeps or
drops whole measurements; ``SparseGroupLassoClassifier`` can also drop single
statistics within a kept measurement. ``lam`` is chosen on a validation split
and the test split is scored once, at the end.
"""

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_breast_cancer
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

import structsparse as ss

data = load_breast_cancer()
X_rest, X_test, y_rest, y_test = train_test_split(data.data, data.target, test_size=0.25, random_state=0,
                                                  stratify=data.target)
X_train, X_val, y_train, y_val = train_test_split(X_rest, y_rest, test_size=1 / 3, random_state=0,
                                                  stratify=y_rest)
scaler = StandardScaler().fit(X_train)          # statistics of the training split only
X_train, X_val, X_test = (scaler.transform(Z) for Z in (X_train, X_val, X_test))
groups = [[j, j + 10, j + 20] for j in range(10)]
names = [str(data.feature_names[j]).removeprefix("mean ") for j in range(10)]


def log_loss(clf, X, y):
    proba = np.clip(clf.predict_proba(X)[:, 1], 1e-15, 1 - 1e-15)
    return -np.mean(y * np.log(proba) + (1 - y) * np.log(1 - proba))


# lam_max with an intercept: the gradient at w = 0 is X^T (mean(y) - y)
grad0 = X_train.T @ (y_train - y_train.mean())
fracs = np.geomspace(0.9, 0.005, 15)
curves = {}
for make, pen in (
        (lambda lam: ss.GroupLassoClassifier(lam=lam, groups=groups), ss.GroupLasso(groups, 1.0)),
        (lambda lam: ss.SparseGroupLassoClassifier(lam=lam, l1_ratio=0.3, groups=groups),
         ss.SparseGroupLasso(groups, 1.0, 0.3))):
    label = pen.name  # penalty kinds are named by penalty.name everywhere
    lmax = pen.dual_norm(grad0)
    val = [log_loss(make(f * lmax).fit(X_train, y_train), X_val, y_val) for f in fracs]
    best = fracs[int(np.argmin(val))]
    clf = make(best * lmax).fit(X_train, y_train)
    coef = clf.coef_[0]
    kept = [f"{names[j]}({np.count_nonzero(coef[g])}/3)" for j, g in enumerate(groups) if np.any(coef[g])]
    print(f"{label:18s} lam = {best:.3g} lam_max: {len(kept)} of 10 measurements kept: {', '.join(kept)}")
    print(f"{'':18s} test accuracy {clf.score(X_test, y_test):.3f}, solver {clf.solver_}")
    curves[label] = val

fig, ax = plt.subplots(figsize=(5, 3.5))
for label, val in curves.items():
    ax.semilogx(fracs, val, "o-", ms=3, label=label)
ax.set_xlabel("lam / lam_max")
ax.set_ylabel("validation log-loss")
ax.invert_xaxis()
ax.legend()
fig.tight_layout()
