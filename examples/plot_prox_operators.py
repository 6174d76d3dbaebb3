"""
Proximal operators, by hand and on arrays
=========================================

The prox of ``tau * sum_g ||v_g||_2`` is block soft-thresholding: each group
is shrunk towards zero by ``tau`` in norm, and vanishes when its norm is
below ``tau``. The worked example of the theory page: ``v = [3, 4, 1, 2]``,
groups ``[[0, 1], [2, 3]]``, ``tau = 3``. The first group has norm 5 and
becomes ``[3, 4] * (1 - 3/5) = [1.2, 1.6]``; the second has norm 2.24 < 3 and
becomes ``[0, 0]``. The figure compares the 1-D shapes of the l1, group and
sparse-group proxes along a line.
"""

import matplotlib.pyplot as plt
import numpy as np

import structsparse as ss

v = np.array([3.0, 4.0, 1.0, 2.0])
groups = ss.Groups.from_lists([[0, 1], [2, 3]], n_features=4)
x = ss.prox.group_soft_threshold(v, groups, 3.0)
print("group soft-thresholding of", v, "->", x)
assert np.allclose(x, [1.2, 1.6, 0.0, 0.0])

# the same through a penalty object: GroupLasso(groups, lam).prox(v, step) is the prox of step * lam * Omega
print("GroupLasso(lam=1).prox(v, step=3) ->", ss.GroupLasso(groups, 1.0).prox(v, 3.0))
print("L1(lam=1).prox(v, step=1.5)       ->", ss.L1(1.0).prox(v, 1.5))
print("SparseGroupLasso(lam=2, l1_ratio=0.5).prox(v, 1) ->", ss.SparseGroupLasso(groups, 2.0, 0.5).prox(v, 1.0))

# along the line v = t * [1, 0.5] (one group of two entries), first coordinate of each prox
t = np.linspace(-4, 4, 401)
line = np.stack([t, 0.5 * t], axis=1)
one = ss.Groups.from_lists([[0, 1]], n_features=2)
out = {
    "l1 (soft-threshold)": [ss.L1(1.0).prox(p, 1.0)[0] for p in line],
    "group lasso": [ss.GroupLasso(one, 1.0).prox(p, 1.0)[0] for p in line],
    "sparse-group, l1_ratio 0.5": [ss.SparseGroupLasso(one, 1.0, 0.5).prox(p, 1.0)[0] for p in line],
}
fig, ax = plt.subplots(figsize=(5, 3.5))
ax.plot(t, t, color="0.8", label="identity")
for name, val in out.items():
    ax.plot(t, val, label=name)
ax.set_xlabel("t  (input t * [1, 0.5])")
ax.set_ylabel("first coordinate of the prox")
ax.legend(fontsize=8)
fig.tight_layout()
