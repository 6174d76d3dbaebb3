"""The tree prox on the coefficient tree of a wavelet transform: whole subtrees vanish together.

Run: python demos/tree_prox_on_wavelets.py
"""

import numpy as np

import structsparse as ss

tree = ss.Tree.complete(depth=6)            # 127 nodes, node i owns coefficient i, heap numbering
rng = np.random.default_rng(1)
v = rng.standard_normal(tree.n_nodes) / (1 + tree.depth())     # coarse coefficients are larger
x = ss.prox.tree_prox(v, tree, tau=0.1)

kept = np.flatnonzero(x)
print(f"kept {kept.size} of {tree.n_nodes} coefficients")
# the support of the tree prox is a rooted subtree: every kept node's parent is kept too
assert all(tree.parents[i] == -1 or x[tree.parents[i]] != 0 for i in kept)
print("support is a rooted subtree: ok")
