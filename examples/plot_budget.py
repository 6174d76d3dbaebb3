"""
Least squares under a compute budget
====================================

Each group of features has a cost (say, the price of measuring it). The
problem "fit the data using groups whose total cost is at most B" is
combinatorial; ``ss.solve_budget`` prices the groups (a cost-weighted group
lasso) and bisects on the price until the budget is met, then refits by
least squares on the kept groups. Here the groups that carry the signal cost
exactly the budget, and the priced selection is compared with the exhaustive
optimum over all subsets that fit.
"""

import itertools

import matplotlib.pyplot as plt
import numpy as np

import structsparse as ss

rng = np.random.default_rng(1)
n, n_groups, size = 60, 10, 4
groups = ss.Groups.contiguous(n_features=n_groups * size, size=size)
costs = rng.uniform(1.0, 3.0, n_groups)
active = [1, 4, 7]
x_true = np.zeros(n_groups * size)
for g in active:
    x_true[groups[g]] = rng.standard_normal(size) + np.sign(rng.standard_normal(size))
A = rng.standard_normal((n, n_groups * size))
y = A @ x_true + 0.05 * rng.standard_normal(n)
budget = costs[active].sum()
loss = ss.LeastSquares(A, y)

res = ss.solve_budget(loss, groups, costs, budget, price_power=0.5)
kept = [g for g in range(n_groups) if np.any(res.x[groups[g]])]
print(f"budget {budget:.2f}: kept groups {kept} costing {costs[kept].sum():.2f}, "
      f"loss {0.5 * np.sum((A @ res.x - y) ** 2):.4f}")


def refit_loss(subset):
    cols = np.concatenate([groups[g] for g in subset]) if subset else np.array([], int)
    if cols.size == 0:
        return 0.5 * y @ y
    coef = np.linalg.lstsq(A[:, cols], y, rcond=None)[0]
    return 0.5 * np.sum((A[:, cols] @ coef - y) ** 2)


best = min((refit_loss(list(s)), list(s)) for r in range(n_groups + 1)
           for s in itertools.combinations(range(n_groups), r) if costs[list(s)].sum() <= budget + 1e-12)
print(f"exhaustive search over all {2 ** n_groups} subsets: best {best[1]} with loss {best[0]:.4f}")

fig, ax = plt.subplots(figsize=(6, 3))
ax.bar(range(n_groups), costs, color=["C1" if g in kept else "0.8" for g in range(n_groups)])
ax.set_xlabel("group")
ax.set_ylabel("cost")
ax.set_title(f"kept groups (orange), budget {budget:.2f}", fontsize=9)
fig.tight_layout()
