"""Exact tree projection by dynamic programming (Cartis and Thompson 2013).

Given the energy of every node of a rooted tree (the sum of squares of the
coefficients it owns) and the number of coefficients each node owns, find
the rooted subtree holding exactly ``k`` coefficients with the largest
energy. ``f[v, j]`` is the best energy of a subtree rooted at ``v`` with
``j`` coefficients; a node's children are merged one at a time by a
max-plus convolution, and the chosen split is stored for backtracking.
Work is ``O(n k)`` because each merge is bounded by the subtree sizes.

Nodes must be numbered so that every parent comes before its children
(``parent[v] < v``; breadth-first numbering does this). The numba kernel and
its numpy twin return the same support.
"""

import numpy as np

from .._numba import NUMBA_ENABLED, njit

__all__ = ["tree_projection", "tree_projection_numba", "tree_projection_numpy", "count_rooted_subtrees"]


def _tree_projection_impl(energy, size, parent, child_ptr, child_idx, k):
    n_nodes = energy.shape[0]
    neg = -np.inf
    f = np.full((n_nodes, k + 1), neg)
    g = np.full((n_nodes, k + 1), neg)
    split = np.zeros((n_nodes, k + 1), dtype=np.int64)
    cap = np.zeros(n_nodes, dtype=np.int64)  # largest useful count in g[v]
    for v in range(n_nodes):
        g[v, 0] = 0.0
    tmp = np.empty(k + 1)
    for v in range(n_nodes - 1, -1, -1):
        # f[v]: v itself plus what its children contribute
        s = size[v]
        f[v, 0] = 0.0
        top = min(k, cap[v] + s)
        for j in range(s, top + 1):
            f[v, j] = g[v, j - s] + energy[v]
        fcap = top
        p = parent[v]
        if p < 0:
            continue
        # merge f[v] into g[p]
        gcap = cap[p]
        newcap = min(k, gcap + fcap)
        for j in range(newcap + 1):
            tmp[j] = neg
        for a in range(gcap + 1):
            ga = g[p, a]
            if ga == neg:
                continue
            for b in range(min(fcap, newcap - a) + 1):
                fb = f[v, b]
                if fb == neg:
                    continue
                val = ga + fb
                if val > tmp[a + b]:
                    tmp[a + b] = val
                    split[v, a + b] = b
        for j in range(newcap + 1):
            g[p, j] = tmp[j]
        cap[p] = newcap
    # backtrack from the root (node 0) with budget k
    keep = np.zeros(n_nodes, dtype=np.bool_)
    budget = np.zeros(n_nodes, dtype=np.int64)
    budget[0] = k
    if f[0, k] == neg:
        return keep, neg
    for v in range(n_nodes):
        b = budget[v]
        if b == 0:
            continue
        keep[v] = True
        rem = b - size[v]
        # children were merged in decreasing index order: undo from the smallest index up
        for t in range(child_ptr[v], child_ptr[v + 1]):
            c = child_idx[t]
            share = split[c, rem]
            budget[c] = share
            rem -= share
    return keep, f[0, k]


tree_projection_numba = njit(_tree_projection_impl)


def tree_projection_numpy(energy, size, parent, child_ptr, child_idx, k):
    """Numpy twin of the kernel: the same recursion, each merge vectorized over one count."""
    n_nodes = energy.shape[0]
    neg = -np.inf
    f = np.full((n_nodes, k + 1), neg)
    g = np.full((n_nodes, k + 1), neg)
    g[:, 0] = 0.0
    split = np.zeros((n_nodes, k + 1), dtype=np.int64)
    cap = np.zeros(n_nodes, dtype=np.int64)
    for v in range(n_nodes - 1, -1, -1):
        s = int(size[v])
        f[v, 0] = 0.0
        top = min(k, int(cap[v]) + s)
        f[v, s:top + 1] = g[v, :top + 1 - s] + energy[v]
        p = int(parent[v])
        if p < 0:
            continue
        gcap, fcap = int(cap[p]), top
        newcap = min(k, gcap + fcap)
        # table[a, b] = g[p, a] + f[v, b]; the best split of each total a + b, ties to the smallest a
        table = g[p, :gcap + 1, None] + f[v, None, :fcap + 1]
        a_idx, b_idx = np.meshgrid(np.arange(gcap + 1), np.arange(fcap + 1), indexing="ij")
        total = (a_idx + b_idx).ravel()
        vals = table.ravel()
        ok = (total <= newcap) & np.isfinite(vals)
        total, vals, bs, as_ = total[ok], vals[ok], b_idx.ravel()[ok], a_idx.ravel()[ok]
        # sort by (total, -value, a) so that the first entry of each total is the kernel's choice
        order = np.lexsort((as_, -vals, total))
        total, vals, bs = total[order], vals[order], bs[order]
        first = np.ones(total.size, bool)
        first[1:] = total[1:] != total[:-1]
        new = np.full(k + 1, neg)
        new[total[first]] = vals[first]
        g[p] = new
        split[v, total[first]] = bs[first]
        cap[p] = newcap
    keep = np.zeros(n_nodes, dtype=bool)
    if f[0, k] == neg:
        return keep, neg
    budget = np.zeros(n_nodes, dtype=np.int64)
    budget[0] = k
    for v in range(n_nodes):
        b = budget[v]
        if b == 0:
            continue
        keep[v] = True
        rem = b - size[v]
        for t in range(child_ptr[v], child_ptr[v + 1]):
            c = child_idx[t]
            share = split[c, rem]
            budget[c] = share
            rem -= share
    return keep, f[0, k]


def tree_projection(energy, size, parent, child_ptr, child_idx, k):
    """Best rooted subtree with exactly ``k`` coefficients: (node mask, its energy)."""
    impl = tree_projection_numba if NUMBA_ENABLED else tree_projection_numpy
    return impl(np.ascontiguousarray(energy, dtype=np.float64), size, parent, child_ptr, child_idx, int(k))


def count_rooted_subtrees(size, parent, k):
    """Number of rooted subtrees holding exactly ``k`` coefficients (a float; may be huge).

    Same recursion as the projection with (+, *) in place of (max, +).
    """
    n_nodes = size.shape[0]
    g = np.zeros((n_nodes, k + 1))
    g[:, 0] = 1.0
    for v in range(n_nodes - 1, -1, -1):
        s = int(size[v])
        f = np.zeros(k + 1)
        f[0] = 1.0
        if s <= k:
            f[s:] += g[v, :k + 1 - s]
        p = int(parent[v])
        if p < 0:
            return float(f[k])
        g[p] = np.convolve(g[p], f)[:k + 1]
    return 0.0
