"""
The tree prox on wavelet coefficients
=====================================

A wavelet coefficient's children are the two coefficients at the next finer
scale, so the coefficients form a binary tree. The tree lasso's prox
(``ss.prox.tree_prox``, exact, children before parents) zeroes whole subtrees:
the support it leaves is always a rooted subtree.
"""

import matplotlib.pyplot as plt
import numpy as np

import structsparse as ss

tree = ss.Tree.complete(depth=6)                 # 127 nodes, node i owns coefficient i, heap numbering
rng = np.random.default_rng(1)
v = rng.standard_normal(tree.n_nodes) / (1 + tree.depth())     # coarse coefficients are larger
x = ss.prox.tree_prox(v, tree, tau=0.1)

kept = np.flatnonzero(x)
rooted = all(tree.parents[i] == -1 or x[tree.parents[i]] != 0 for i in kept)
print(f"kept {kept.size} of {tree.n_nodes} coefficients; support is a rooted subtree: {rooted}")
assert rooted

depth = tree.depth()
fig, ax = plt.subplots(figsize=(7, 3))
for i in range(tree.n_nodes):
    level = depth[i]
    pos = (i - (2 ** level - 1) + 0.5) / 2 ** level
    if tree.parents[i] >= 0:
        j = tree.parents[i]
        ax.plot([pos, (j - (2 ** depth[j] - 1) + 0.5) / 2 ** depth[j]], [-level, -depth[j]], color="0.85", lw=0.6)
    ax.plot(pos, -level, "o", ms=4, color="C1" if x[i] != 0 else "0.6")
ax.set_yticks(-np.arange(depth.max() + 1), [f"scale {d}" for d in range(depth.max() + 1)])
ax.set_xticks([])
ax.set_title("kept coefficients (orange) form a rooted subtree", fontsize=9)
fig.tight_layout()
