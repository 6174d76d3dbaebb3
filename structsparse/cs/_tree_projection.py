"""Exact tree projection by dynamic programming (Cartis and Thompson 2013).

Given the energy of every node of a rooted tree (the sum of squares of the
coefficients it owns) and the number of coefficients each node owns, find
the rooted subtree holding exactly ``k`` coefficients with the largest
energy. ``f[v, j]`` is the best energy of a subtree rooted at ``v`` with
``j`` coefficients; a node's children are merged one at a time by a
max-plus convolution, and the chosen split is stored for backtracking.
The tree may be any rooted tree (binary wavelet trees, quadtrees of 2-D
wavelets, or anything else).

Storage is ragged: node ``v`` keeps only ``min(k, subtree size of v) + 1``
entries of ``f`` and ``g`` (and of the split table, sized by its parent), so
memory is ``O(sum_v min(k, |subtree(v)|))`` (``O(n log n)`` for a balanced
wavelet tree) instead of ``O(n k)``; work is at most ``O(n k)``.

Nodes must be numbered so that every parent comes before its children
(``parent[v] < v``; breadth-first numbering does this). The numba kernel and
its numpy twin return the same support.
"""

import heapq

import numpy as np

from .._numba import NUMBA_ENABLED, njit

__all__ = ["tree_projection", "tree_projection_numba", "tree_projection_numpy", "count_rooted_subtrees", "cssa",
           "cssa_numba", "cssa_python",
           "ragged_layout"]


def ragged_layout(size, parent, k):
    """Row caps and offsets of the ragged tables: ``(cap, off, soff, total, stotal)``.

    ``cap[v] = min(k, coefficients in the subtree of v)``; the rows of ``f``
    and ``g`` of node ``v`` start at ``off[v]`` (length ``cap[v] + 1``) and
    its split row at ``soff[v]`` (length ``cap[parent[v]] + 1``).
    """
    n_nodes = size.shape[0]
    sub = np.asarray(size, dtype=np.int64).copy()
    for v in range(n_nodes - 1, 0, -1):
        sub[parent[v]] += sub[v]
    cap = np.minimum(sub, k)
    lens = cap + 1
    off = np.zeros(n_nodes + 1, dtype=np.int64)
    np.cumsum(lens, out=off[1:])
    slens = np.ones(n_nodes, dtype=np.int64)
    par = np.asarray(parent, dtype=np.int64)
    slens[1:] = lens[par[1:]] if n_nodes > 1 else slens[1:]
    slens[par < 0] = 1
    soff = np.zeros(n_nodes + 1, dtype=np.int64)
    np.cumsum(slens, out=soff[1:])
    return cap, off, soff


def _tree_projection_impl(energy, size, parent, child_ptr, child_idx, k, cap_v, off, soff):
    n_nodes = energy.shape[0]
    neg = -np.inf
    total = off[n_nodes]
    f = np.full(total, neg)
    g = np.full(total, neg)
    split = np.zeros(soff[n_nodes], dtype=np.int64)
    cap = np.zeros(n_nodes, dtype=np.int64)  # largest useful count in g[v]
    for v in range(n_nodes):
        g[off[v]] = 0.0
    tmp = np.empty(k + 1)
    for v in range(n_nodes - 1, -1, -1):
        # f[v]: v itself plus what its children contribute
        s = size[v]
        fo = off[v]
        f[fo] = 0.0
        top = min(k, cap[v] + s)
        for j in range(s, top + 1):
            f[fo + j] = g[fo + j - s] + energy[v]
        fcap = top
        p = parent[v]
        if p < 0:
            continue
        # merge f[v] into g[p]
        go = off[p]
        so = soff[v]
        gcap = cap[p]
        newcap = min(k, gcap + fcap)
        for j in range(newcap + 1):
            tmp[j] = neg
        for a in range(gcap + 1):
            ga = g[go + a]
            if ga == neg:
                continue
            for b in range(min(fcap, newcap - a) + 1):
                fb = f[fo + b]
                if fb == neg:
                    continue
                val = ga + fb
                if val > tmp[a + b]:
                    tmp[a + b] = val
                    split[so + a + b] = b
        for j in range(newcap + 1):
            g[go + j] = tmp[j]
        cap[p] = newcap
    # backtrack from the root (node 0) with budget k
    keep = np.zeros(n_nodes, dtype=np.bool_)
    budget = np.zeros(n_nodes, dtype=np.int64)
    budget[0] = k
    if k > cap_v[0] or f[off[0] + k] == neg:
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
            share = split[soff[c] + rem]
            budget[c] = share
            rem -= share
    return keep, f[off[0] + k]


_tree_projection_kernel = njit(_tree_projection_impl)


def tree_projection_numba(energy, size, parent, child_ptr, child_idx, k):
    """The compiled kernel (plain Python when numba is disabled): (node mask, its energy)."""
    cap, off, soff = ragged_layout(size, parent, int(k))
    return _tree_projection_kernel(np.ascontiguousarray(energy, dtype=np.float64), size, parent, child_ptr,
                                   child_idx, int(k), cap, off, soff)


def tree_projection_numpy(energy, size, parent, child_ptr, child_idx, k):
    """Numpy twin of the kernel: the same recursion, each merge vectorized over one count."""
    n_nodes = energy.shape[0]
    k = int(k)
    cap_v, off, soff = ragged_layout(size, parent, k)
    neg = -np.inf
    f = [None] * n_nodes
    g = [None] * n_nodes
    split = [None] * n_nodes
    for v in range(n_nodes):
        g[v] = np.full(cap_v[v] + 1, neg)
        g[v][0] = 0.0
    cap = np.zeros(n_nodes, dtype=np.int64)
    for v in range(n_nodes - 1, -1, -1):
        s = int(size[v])
        fv = np.full(cap_v[v] + 1, neg)
        fv[0] = 0.0
        top = min(k, int(cap[v]) + s)
        fv[s:top + 1] = g[v][:top + 1 - s] + energy[v]
        f[v] = fv
        g[v] = None  # no longer needed
        p = int(parent[v])
        if p < 0:
            continue
        gcap, fcap = int(cap[p]), top
        newcap = min(k, gcap + fcap)
        # table[a, b] = g[p, a] + f[v, b]; the best split of each total a + b, ties to the smallest a
        table = g[p][:gcap + 1, None] + fv[None, :fcap + 1]
        a_idx, b_idx = np.meshgrid(np.arange(gcap + 1), np.arange(fcap + 1), indexing="ij")
        tot = (a_idx + b_idx).ravel()
        vals = table.ravel()
        ok = (tot <= newcap) & np.isfinite(vals)
        tot, vals, bs, as_ = tot[ok], vals[ok], b_idx.ravel()[ok], a_idx.ravel()[ok]
        # sort by (total, -value, a) so that the first entry of each total is the kernel's choice
        order = np.lexsort((as_, -vals, tot))
        tot, vals, bs = tot[order], vals[order], bs[order]
        first = np.ones(tot.size, bool)
        first[1:] = tot[1:] != tot[:-1]
        new = np.full(cap_v[p] + 1, neg)
        new[tot[first]] = vals[first]
        g[p] = new
        sp = np.zeros(cap_v[p] + 1, dtype=np.int64)
        sp[tot[first]] = bs[first]
        split[v] = sp
        f[v] = fv[:fcap + 1] if v else fv
        cap[p] = newcap
    keep = np.zeros(n_nodes, dtype=bool)
    if k > cap_v[0] or f[0][k] == neg:
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
            share = split[c][rem]
            budget[c] = share
            rem -= share
    return keep, f[0][k]


def tree_projection(energy, size, parent, child_ptr, child_idx, k):
    """Best rooted subtree with exactly ``k`` coefficients: (node mask, its energy)."""
    impl = tree_projection_numba if NUMBA_ENABLED else tree_projection_numpy
    return impl(np.ascontiguousarray(energy, dtype=np.float64), size, parent, child_ptr, child_idx, int(k))


def count_rooted_subtrees(size, parent, k, log=False):
    """Number of rooted subtrees holding exactly ``k`` coefficients (a float; may be huge).

    Same recursion as the projection with (+, *) in place of (max, +). Each
    row is stored as ``values * exp(scale)`` with its largest value 1, so
    ``log=True`` gives the natural log of the count without overflow on
    large trees (the plain count overflows to ``inf`` there). When the
    count for ``k`` is more than ~1e308 times smaller than the largest
    count of another size, it underflows and ``nan`` is returned.
    """
    n_nodes = size.shape[0]
    k = int(k)
    cap_v, _, _ = ragged_layout(size, parent, k)
    g = [None] * n_nodes
    gl = np.zeros(n_nodes)  # log scale of each row of g
    for v in range(n_nodes - 1, -1, -1):
        s = int(size[v])
        a = g[v] if g[v] is not None else np.array([1.0])
        g[v] = None
        # f = [1 (empty subtree), 0 ..., g shifted by s], with the scale of g
        f = np.zeros(cap_v[v] + 1)
        f[0] = np.exp(-gl[v])
        if s <= k:
            m = min(a.size, f.size - s)
            f[s:s + m] = a[:m]
        fl = gl[v]
        p = int(parent[v])
        if p < 0:
            if f.size <= k or k < s:
                return -np.inf if log else 0.0
            if f[k] == 0:  # underflow against the row's largest count: out of floating-point range
                return np.nan
            return float(np.log(f[k]) + fl) if log else float(f[k] * np.exp(fl))
        gp = g[p] if g[p] is not None else np.array([1.0])
        new = np.convolve(gp, f)[:cap_v[p] + 1]
        lg = gl[p] + fl
        top = new.max()
        if log and top > 0:  # exact integer arithmetic for small counts when log=False
            new = new / top
            lg += np.log(top)
        g[p], gl[p] = new, lg
    return -np.inf if log else 0.0


# ---------------------------------------------------------------------------- CSSA (approximate, fast)

def _find_impl(link, v):
    r = v
    while link[r] != r:
        r = link[r]
    while link[v] != r:  # path compression
        nxt = link[v]
        link[v] = r
        v = nxt
    return r


_find = njit(_find_impl)


def _cssa_impl(energy, size, parent, child_ptr, child_idx, k):
    """Condensing sort and select (Baraniuk 1994; Baraniuk, Cevher, Duarte, Hegde 2010).

    Greedy selection of supernodes by their average energy per coefficient:
    pop the supernode of largest average; if its parent is selected, select
    all of it, otherwise condense it into its parent's supernode (average of
    the two) and push the result back. The root starts selected. When a
    supernode no longer fits in the budget ``k``, its nodes are added one at
    a time from its top, largest energy first among the nodes whose parent
    is selected, so the result is a rooted subtree of exactly ``k``
    coefficients (when ``k`` is reachable). ``O(n log n)``.
    """
    n = energy.shape[0]
    keep = np.zeros(n, dtype=np.bool_)
    keep[0] = True
    count = size[0]
    if n == 1 or count >= k:
        return keep, energy[0]
    link = np.arange(n)
    sn_energy = energy.astype(np.float64).copy()
    sn_count = size.astype(np.int64).copy()
    nxt = np.full(n, -1, dtype=np.int64)
    tail = np.arange(n)
    version = np.zeros(n, dtype=np.int64)
    heap = [(-sn_energy[1] / sn_count[1], 1, 0)]
    for v in range(2, n):
        heap.append((-sn_energy[v] / sn_count[v], v, 0))
    heapq.heapify(heap)
    while count < k and len(heap) > 0:
        item = heapq.heappop(heap)
        s = item[1]
        if item[2] != version[s] or link[s] != s or keep[s]:
            continue
        p = _find(link, parent[s])
        if keep[p]:
            if count + sn_count[s] <= k:
                v = s
                while v >= 0:
                    keep[v] = True
                    v = nxt[v]
                count += sn_count[s]
            else:
                # partial: grow a rooted subtree inside the supernode, largest energy first
                in_s = np.zeros(n, dtype=np.bool_)
                v = s
                while v >= 0:
                    in_s[v] = True
                    v = nxt[v]
                front = [(-energy[s], s)]
                while count < k and len(front) > 0:
                    it2 = heapq.heappop(front)
                    u = it2[1]
                    if count + size[u] > k:
                        continue
                    keep[u] = True
                    count += size[u]
                    for t in range(child_ptr[u], child_ptr[u + 1]):
                        c = child_idx[t]
                        if in_s[c]:
                            heapq.heappush(front, (-energy[c], c))
                break
        else:
            # condense s into the supernode of its parent
            nxt[tail[p]] = s
            tail[p] = tail[s]
            link[s] = p
            sn_energy[p] += sn_energy[s]
            sn_count[p] += sn_count[s]
            version[p] += 1
            heapq.heappush(heap, (-sn_energy[p] / sn_count[p], p, version[p]))
    total = 0.0
    for v in range(n):
        if keep[v]:
            total += energy[v]
    return keep, total


cssa_numba = njit(_cssa_impl)
cssa_python = _cssa_impl


def cssa(energy, size, parent, child_ptr, child_idx, k):
    """Approximate tree projection by CSSA: (node mask, its energy). See :func:`_cssa_impl`."""
    impl = cssa_numba if NUMBA_ENABLED else cssa_python
    return impl(np.ascontiguousarray(energy, dtype=np.float64), np.asarray(size, dtype=np.int64),
                np.asarray(parent, dtype=np.int64), child_ptr, child_idx, int(k))
