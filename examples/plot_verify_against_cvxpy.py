"""
Verify a solver against cvxpy
=============================

Every fast solver of structsparse is checked against a cvxpy formulation of
the same problem. Here a group lasso is solved by ``ss.solve`` (which picks
the solver), by FISTA, by the working-set block solver and by cvxpy, each
once untimed first (that call compiles or loads the numba kernels); every
solution is scored with the same objective. Then
:func:`structsparse.verify.verify` runs the same check on random problems
for every valid solver of one datafit and penalty pair (the command
``structsparse verify`` does it for all of them).
"""

import matplotlib.pyplot as plt
import numpy as np

import structsparse as ss
from structsparse.verify import verify

rng = np.random.default_rng(0)
n, p = 100, 200
groups = ss.Groups.contiguous(n_features=p, size=10)
x_true = np.zeros(p)
for g in rng.choice(groups.n_groups, size=4, replace=False):
    x_true[groups[g]] = rng.standard_normal(groups[g].size)
A = rng.standard_normal((n, p))
y = A @ x_true + 0.01 * rng.standard_normal(n)

loss = ss.LeastSquares(A, y)
penalty = ss.GroupLasso(groups, 1.0)
penalty = penalty.with_lam(0.1 * ss.lambda_max(loss, penalty))

# the same tolerance for the three fast solvers (ss.solve runs solve_block here), so that their times compare
solvers = {"ss.solve": lambda: ss.solve(loss, penalty, tol=1e-8), "fista": lambda: ss.fista(loss, penalty, tol=1e-8),
           "solve_block": lambda: ss.solve_block(loss, penalty, tol=1e-8),
           "cvxpy": lambda: ss.solve_cvxpy(loss, penalty)}
# A solver's first call in a process compiles its numba kernels (the first run after an install) or loads them
# from the cache (later runs): one untimed call of each first, so that the times below are those of the solves.
for run in solvers.values():
    run()
results = {name: run() for name, run in solvers.items()}
ref = results["cvxpy"].objective
print(f"valid solvers for this pair: {ss.valid_solvers(loss, penalty)}")
for name, res in results.items():
    print(f"{name:12s} solver={res.solver:16s} objective {res.objective:.10f}  "
          f"relative difference to cvxpy {(res.objective - ref) / abs(ref):+.1e}  time {res.time:.3f} s")

rows = verify(rng=0, datafits=["least_squares"], penalties=["group_lasso"], out=None)
print(f"verify: {sum(r.passed for r in rows)} of {len(rows)} rows passed")

fig, ax = plt.subplots(figsize=(7, 3))
ax.plot(results["cvxpy"].x, color="0.7", lw=3, label="cvxpy")
ax.plot(results["ss.solve"].x, color="C1", lw=1, label=f"ss.solve ({results['ss.solve'].solver})")
ax.set_xlabel("coefficient")
ax.legend(fontsize=8)
fig.tight_layout()
