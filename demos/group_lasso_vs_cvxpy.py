"""Group lasso on a synthetic problem: FISTA, the working-set solver and cvxpy agree.

Run: python demos/group_lasso_vs_cvxpy.py
"""

import numpy as np

import structsparse as ss

rng = np.random.default_rng(0)
n, p = 200, 500
groups = ss.Groups.contiguous(n_features=p, size=10)
x_true = np.zeros(p)
for g in rng.choice(groups.n_groups, size=5, replace=False):
    x_true[groups[g]] = rng.standard_normal(groups[g].size)
A = rng.standard_normal((n, p))
y = A @ x_true + 0.01 * rng.standard_normal(n)

loss = ss.LeastSquares(A, y)
lam = 0.1 * ss.lambda_max(loss, "group", groups)
penalty = ss.GroupLasso(groups, lam)

for name, solve in (("fista", ss.fista), ("solve_block", ss.solve_block), ("cvxpy", ss.solve_cvxpy)):
    res = solve(loss, penalty)
    # interior-point solutions are never exactly zero: count groups above a small threshold
    found = {g for g in range(groups.n_groups) if np.linalg.norm(res.x[groups[g]]) > 1e-6}
    print(f"{name:12s} objective {res.objective:.10f}  groups kept {len(found):3d}  "
          f"time {res.time:.3f} s  converged {res.converged}")
