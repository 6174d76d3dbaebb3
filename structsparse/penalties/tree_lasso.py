"""The tree lasso ``lam * sum_nodes w_node ||x[group(node)]||_2`` over a hierarchy of nested groups."""

import numpy as np

from .._numba import NUMBA_ENABLED
from ..prox._group_kernels import TIE_RTOL
from ..prox._tree_kernels import (
    tree_group_sq_norms_numba,
    tree_group_sq_norms_numpy,
    tree_root_excess_numba,
    tree_root_excess_numpy,
)
from ..prox.operators import _tree_prox
from ..structure import Tree
from .base import Penalty

__all__ = ["TreeLasso"]

_tree_group_sq_norms = tree_group_sq_norms_numba if NUMBA_ENABLED else tree_group_sq_norms_numpy
_tree_root_excess = tree_root_excess_numba if NUMBA_ENABLED else tree_root_excess_numpy

# relative width at which the dual-norm bisection stops
_DUAL_RTOL = 1e-13


class TreeLasso(Penalty):
    """Tree-structured group lasso (hierarchical sparsity).

    The group of a node is its own variables plus all its descendants', so a
    variable can be nonzero only if all its ancestors' groups are active.

    Prox
        Exact, in time linear in the number of variables: the composition
        of the single-group proxes children before parents (Jenatton et al.,
        JMLR 2011), see :func:`structsparse.prox.tree_prox`.
    Dual norm
        ``Omega^*(u)`` is the smallest ``t`` with ``prox_{t Omega}(u) == 0``
        (zero is the prox exactly when ``u`` lies in ``t`` times the dual
        ball, and the balls grow with ``t``). With a positive root weight
        the prox vanishes exactly when the root's group, after all its
        descendants' shrinks, has norm ``<= t w_root``; that excess
        decreases strictly in ``t``, so its root is found by Brent's method
        (a handful of upward passes, each linear in the number of
        variables) to relative precision ~1e-15. With a root of weight zero
        it falls back to bisection on "the prox vanishes", down to a
        relative width of 1e-13, returning the upper end. Both start from
        the bracket ``||u||^2 / Omega(u) <= Omega^*(u) <= max_g ||xi_g|| / w_g``
        where ``xi`` gives each variable to the heaviest group that holds
        it. The value is ``inf`` when ``u`` is nonzero on a variable that no
        positive-weight group holds.

    Parameters
    ----------
    tree : Tree
        The hierarchy; its node weights ``w_node`` are used.
    lam : float >= 0

    Examples
    --------
    >>> t = Tree.from_parents([-1, 0, 0])
    >>> TreeLasso(t, lam=1.0)([3.0, 0.0, 4.0])
    9.0
    """

    name = "tree_lasso"
    separable = False

    def __init__(self, tree, lam):
        super().__init__(lam)
        if not isinstance(tree, Tree):
            raise TypeError(f"The 'tree' parameter of TreeLasso must be a Tree. Got {type(tree).__name__}.")
        self.tree = tree
        var_order, own_ptr, parent, weights = tree.kernel_arrays()
        # for the dual-norm upper bound: each node's heaviest ancestor-or-self, in preorder positions
        best = np.arange(tree.n_nodes)
        for k in range(1, tree.n_nodes):
            p = best[parent[k]]
            if weights[p] > weights[k]:
                best[k] = p
        owner_pos = np.repeat(np.arange(tree.n_nodes), np.diff(own_ptr))
        assign = np.empty(tree.n_features, dtype=np.int64)
        assign[var_order] = best[owner_pos]
        self._assign = assign
        self._free = weights[assign] == 0

    @property
    def n_features(self):
        return self.tree.n_features

    def group_norms(self, x):
        """Norm of every node's group, in the tree's node numbering."""
        x = self.check_x(x)
        x2 = x.reshape(x.shape[0], -1)
        return self._group_norms(x2)

    def _group_norms(self, x2):
        var_order, own_ptr, parent, _ = self.tree.kernel_arrays()
        sq = _tree_group_sq_norms(x2, var_order, own_ptr, parent)
        out = np.empty(self.tree.n_nodes)
        out[self.tree.preorder] = np.sqrt(sq)
        return out

    def omega(self, x):
        return float(self.tree.weights @ self._group_norms(x.reshape(x.shape[0], -1)))

    def _prox(self, v, tau):
        v2 = v.reshape(v.shape[0], -1)
        return _tree_prox(v2, *self.tree.kernel_arrays("level"), tau).reshape(v.shape)

    def _dual_norm(self, u):
        u2 = u.reshape(u.shape[0], -1)
        row_sq = (u2 * u2).sum(axis=1)
        if not np.any(row_sq > 0):
            return 0.0
        if np.any(row_sq[self._free] > 0):
            return np.inf
        weights = self.tree.kernel_arrays()[3]
        held = np.bincount(self._assign, weights=row_sq, minlength=self.tree.n_nodes)
        pos = weights > 0
        hi = float(np.max(np.sqrt(held[pos]) / weights[pos]))
        lo = min(float(row_sq.sum() / self.omega(u2)), hi)
        arrays = self.tree.kernel_arrays()
        if weights[0] > 0:
            # the root of the strictly decreasing excess, by Brent's method (a handful of linear passes)
            def excess(t):
                return _tree_root_excess(u2, *arrays, t)

            grow = 1e-14
            while excess(hi) > 0:  # the bound is exact in theory; this only absorbs rounding
                hi *= 1.0 + grow
                grow *= 10.0
            if excess(lo) <= 0:
                return lo
            from scipy.optimize import brentq  # imported here: scipy.optimize adds ~0.15 s to every import

            return float(brentq(excess, lo, hi, xtol=1e-15 * hi, rtol=4 * np.finfo(float).eps))

        # root of weight zero: bisection on "the prox vanishes"
        def is_zero(t):
            # evaluated a little below t: the kernel zeroes near-ties (TIE_RTOL), so without this the
            # bisection would settle on the edge of that tie band and other step sizes could round
            # across it; this way the result is an upper bound within ~1e-13 at which the prox
            # vanishes with a rounding margin
            return not np.any(_tree_prox(u2, *arrays, t * (1.0 - TIE_RTOL)))

        grow = 1e-12
        while not is_zero(hi):  # the bound is exact in theory; this only absorbs rounding
            hi *= 1.0 + grow
            grow *= 10.0
        while hi - lo > _DUAL_RTOL * hi:
            mid = 0.5 * (lo + hi)
            if is_zero(mid):
                hi = mid
            else:
                lo = mid
        return hi

    def norm_groups(self, n_features, n_targets=1):
        g = self.tree.to_groups()
        return g.indices, g.ptr, g.weights

    def cvxpy_omega(self, x):
        import cvxpy as cp

        terms = [w * cp.norm(cp.vec(x[self.tree.group(node)], order="C"), 2)
                 for node, w in enumerate(self.tree.weights) if w > 0]
        return cp.sum(cp.hstack(terms)) if terms else cp.Constant(0.0)

    def __repr__(self):
        return f"TreeLasso(n_nodes={self.tree.n_nodes}, n_features={self.tree.n_features}, lam={self.lam:g})"
