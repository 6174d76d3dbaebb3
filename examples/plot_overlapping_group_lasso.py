"""
Overlapping group lasso and the latent group lasso
==================================================

Groups are sliding windows of 10 variables overlapping by 5. The overlapping
group lasso (``ss.OverlapGroupLasso``, solved by consensus ADMM, ``ss.admm``)
has zeros that are unions of groups; the latent group lasso
(``ss.LatentGroupLasso``, solved by column duplication, ``ss.solve_latent``)
has a support that is a union of groups. The signal here is one window's
worth of nonzeros, so both find it; cvxpy checks the ADMM solution.
"""

import matplotlib.pyplot as plt
import numpy as np

import structsparse as ss

rng = np.random.default_rng(0)
n, p = 80, 200
windows = [list(range(s, s + 10)) for s in range(0, p - 9, 5)]
x_true = np.zeros(p)
x_true[50:60] = rng.standard_normal(10) + 2.0
x_true[125:135] = -rng.standard_normal(10) - 2.0
A = rng.standard_normal((n, p))
y = A @ x_true + 0.05 * rng.standard_normal(n)
loss = ss.LeastSquares(A, y)

ovl = ss.OverlapGroupLasso(windows, 1.0)
ovl = ovl.with_lam(0.1 * ss.lambda_max(loss, ovl))
res = ss.admm(loss, ovl)
ref = ss.solve_cvxpy(loss, ovl)
lat_pen = ss.LatentGroupLasso(windows, ovl.lam)
lat = ss.solve_latent(loss, lat_pen)
print(f"ADMM: objective {res.objective:.8f} in {res.n_iter} iterations, cvxpy {ref.objective:.8f} "
      f"(relative difference {(res.objective - ref.objective) / ref.objective:+.1e})")
for name, x in (("overlapping", res.x), ("latent", lat.x)):
    print(f"{name:12s} nonzeros {np.count_nonzero(np.abs(x) > 1e-8):3d}  "
          f"relative error {np.linalg.norm(x - x_true) / np.linalg.norm(x_true):.3f}")

fig, ax = plt.subplots(figsize=(7, 3))
ax.plot(x_true, color="0.7", lw=3, label="true")
ax.plot(res.x, lw=1, label="overlapping (ADMM)")
ax.plot(lat.x, lw=1, ls="--", label="latent")
ax.legend(fontsize=8)
fig.tight_layout()
