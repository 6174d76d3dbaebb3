"""
lambda_max and a regularization path
====================================

``ss.lambda_max(loss, penalty)`` is the smallest ``lam`` whose solution is
zero; for the group lasso it is ``max_g ||A_g^T y||_2 / w_g`` (see the
tutorial "lambda_max and the optimality conditions"). This example checks
that claim on both sides of ``lambda_max``, then draws a warm-started path
(``ss.path``) from ``lambda_max`` down and picks ``lam`` by cross-validation
(``ss.cv_path``).
"""

import matplotlib.pyplot as plt
import numpy as np

import structsparse as ss

rng = np.random.default_rng(0)
n, p = 80, 60
groups = ss.Groups.contiguous(n_features=p, size=5)
x_true = np.zeros(p)
x_true[:10] = rng.standard_normal(10)
A = rng.standard_normal((n, p))
y = A @ x_true + 2.0 * rng.standard_normal(n)
loss = ss.LeastSquares(A, y)
pen = ss.GroupLasso(groups, 1.0)

lmax = ss.lambda_max(loss, pen)
by_hand = max(np.linalg.norm(A[:, g].T @ y) for g in groups)
print(f"lambda_max {lmax:.6f}, by hand max_g ||A_g^T y|| = {by_hand:.6f}")
above = ss.solve(loss, pen.with_lam(1.001 * lmax))
below = ss.solve(loss, pen.with_lam(0.99 * lmax))
print(f"at 1.001 lambda_max: {np.count_nonzero(above.x)} nonzeros; at 0.99 lambda_max: "
      f"{np.count_nonzero(below.x)} nonzeros")

res = ss.path(loss, pen, n_lams=30, eps=1e-2)
cv = ss.cv_path(A, y, pen, n_folds=5, n_lams=30, eps=1e-2, rng=0)
print(f"path: {len(res.lams)} values of lam, solver {res.solver}; cross-validation picks lam = "
      f"{cv.best_lam:.3g} ({cv.best_lam / lmax:.3f} lambda_max)")

fig, ax = plt.subplots(figsize=(6, 3.5))
norms = np.array([[np.linalg.norm(c[g]) for g in groups] for c in res.coefs])
ax.semilogx(res.lams / lmax, norms)
ax.axvline(cv.best_lam / lmax, color="k", ls="--", lw=1, label="chosen by CV")
ax.set_xlabel("lam / lambda_max")
ax.set_ylabel("group norm")
ax.invert_xaxis()
ax.legend()
fig.tight_layout()
