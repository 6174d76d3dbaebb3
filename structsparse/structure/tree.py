"""Rooted trees whose nodes own variables (hierarchical group structures).

The group of a node is its own variables plus those of all its
descendants, so any two groups are nested or disjoint. Internally the nodes
are renumbered in depth-first preorder and the variables laid out in that
order, which makes every group a contiguous slice and lets the tree prox run
in time linear in the number of variables.
"""

from numbers import Integral

import numpy as np

from .._validation import check_int
from ..exceptions import ParameterError, ParameterTypeError, StructureError, StructureTypeError
from .groups import Groups, _resolve_weights

__all__ = ["Tree"]


def _readonly(a):
    a = np.ascontiguousarray(a)
    a.setflags(write=False)
    return a


class Tree:
    """An immutable rooted tree whose nodes own one or more variables.

    Build it with :meth:`from_parents` (or :meth:`complete`).

    Attributes
    ----------
    parents : ndarray of int64
        Parent of each node (``-1`` for the root), in the caller's numbering.
    n_nodes, n_features : int
    weights : ndarray of float64
        Weight of each node's group, in the caller's numbering.
    preorder : ndarray of int64
        Nodes in depth-first preorder (children by increasing number).
    """

    __slots__ = ("parents", "n_nodes", "n_features", "weights", "preorder", "root",
                 "_owns_ptr", "_owns_idx", "_pre_parent", "_pre_own_ptr", "_var_order",
                 "_pre_weights", "_subtree_end", "_position", "_level_arrays")

    def __init__(self, *args, **kwargs):
        given = f" (got {', '.join(map(repr, kwargs))})" if kwargs else ""
        raise ParameterTypeError(f"Tree() takes no arguments{given}: build a Tree with "
                                 "Tree.from_parents(parents, owns=None, weights=None).")

    def __setattr__(self, name, value):
        raise AttributeError("Tree is immutable; build a new one (for example with with_weights).")

    def __delattr__(self, name):
        raise AttributeError("Tree is immutable; build a new one (for example with with_weights).")

    # immutable: copies can share it; pickling rebuilds it through the validated constructor
    def __copy__(self):
        return self

    def __deepcopy__(self, memo):
        return self

    def __reduce__(self):
        owns = [np.array(self.owns(i)) for i in range(self.n_nodes)]
        return (_rebuild_tree, (np.array(self.parents), owns, self.n_features, np.array(self.weights)))

    @classmethod
    def from_parents(cls, parents, owns=None, n_features=None, weights=None):
        """Build a tree from the parent of each node.

        Parameters
        ----------
        parents : sequence of int
            ``parents[i]`` is the parent of node ``i``; exactly one node, the
            root, has ``-1``.
        owns : sequence of sequence of int, optional
            Variables owned by each node; by default node ``i`` owns variable
            ``i``. Every variable ``0 .. n_features - 1`` must be owned by
            exactly one node.
        n_features : int, optional
            Number of variables (default: as implied by ``owns``).
        weights : None, 'sqrt_size' or array_like
            Weight of each node's group (``'sqrt_size'``: square root of the
            number of variables in the node's subtree).

        Examples
        --------
        >>> t = Tree.from_parents([-1, 0, 0, 1, 1])
        >>> t.group(1).tolist()
        [1, 3, 4]
        """
        where = "Tree.from_parents"
        try:
            par = np.asarray(parents)
        except (TypeError, ValueError):
            raise StructureError(f"The 'parents' parameter of {where} must be a 1-D list of ints.") from None
        if par.ndim != 1 or par.size == 0 or par.dtype.kind not in "iu":
            # None, a string or text entries are the wrong type; an empty, nested or fractional list a wrong value
            error = StructureTypeError if par.ndim == 0 or (par.size and par.dtype.kind not in "iu") else StructureError
            raise error(f"The 'parents' parameter of {where} must be a non-empty 1-D list of ints. Got {parents!r}.")
        par = par.astype(np.int64)
        n = par.size
        if np.any((par < -1) | (par >= n)):
            bad = int(np.flatnonzero((par < -1) | (par >= n))[0])
            raise StructureError(f"The 'parents' parameter of {where}: the parent of node {bad} is {par[bad]}, out of range [-1, {n - 1}].")
        roots = np.flatnonzero(par == -1)
        if roots.size != 1:
            raise StructureError(f"The 'parents' parameter of {where} must give exactly one root (parent -1). Got {roots.size} roots: nodes {roots.tolist()[:10]}.")
        if np.any(par == np.arange(n)):
            bad = int(np.flatnonzero(par == np.arange(n))[0])
            raise StructureError(f"The 'parents' parameter of {where}: node {bad} is its own parent (a cycle).")
        root = int(roots[0])

        # children lists, then an iterative DFS from the root; nodes never reached lie on a cycle
        order = np.argsort(par, kind="stable")
        child_ptr = np.searchsorted(par[order], np.arange(-1, n + 1))
        preorder = []
        stack = [root]
        while stack:
            node = stack.pop()
            preorder.append(node)
            kids = order[child_ptr[node + 1]:child_ptr[node + 2]]
            stack.extend(kids[::-1].tolist())
        if len(preorder) != n:
            seen = np.zeros(n, bool)
            seen[preorder] = True
            bad = int(np.flatnonzero(~seen)[0])
            raise StructureError(f"The 'parents' parameter of {where} contains a cycle: node {bad} does not reach the root.")
        preorder = np.asarray(preorder, dtype=np.int64)

        # ownership
        if owns is None:
            if n_features is not None and n_features != n:
                raise StructureError(f"The 'n_features' parameter of {where}: without 'owns', node i owns variable i, so n_features must be {n}. Got {n_features!r}.")
            own_lists = [np.array([i]) for i in range(n)]
            n_features = n
        else:
            if isinstance(owns, (str, bytes)) or not hasattr(owns, "__len__") or len(owns) != n:
                error = StructureTypeError if isinstance(owns, (str, bytes)) or not hasattr(owns, "__len__") \
                    else StructureError
                raise error(f"The 'owns' parameter of {where} must list the variables of each of the {n} nodes.")
            own_lists = []
            for i, item in enumerate(owns):
                try:
                    arr = np.atleast_1d(np.asarray(item))
                except (TypeError, ValueError):  # ragged nested lists
                    raise StructureError(
                        f"The 'owns' parameter of {where}: the variables owned by node {i} must be a list of ints. Got {item!r}."
                    ) from None
                if arr.size == 0:
                    raise StructureError(f"The 'owns' parameter of {where}: node {i} owns no variable; every node must own at least one.")
                if arr.ndim != 1 or arr.dtype.kind not in "iu":
                    raise StructureError(f"The 'owns' parameter of {where}: the variables owned by node {i} must be a list of ints. Got {item!r}.")
                own_lists.append(arr.astype(np.int64))
            all_vars = np.concatenate(own_lists)
            if n_features is None:
                n_features = int(all_vars.max()) + 1
            if not isinstance(n_features, (Integral, np.integer)) or isinstance(n_features, bool) or n_features < 1:
                error = StructureError if isinstance(n_features, (Integral, np.integer)) and \
                    not isinstance(n_features, bool) else StructureTypeError
                raise error(f"The 'n_features' parameter of {where} must be a positive int. Got {n_features!r}.")
            if all_vars.min() < 0 or all_vars.max() >= n_features:
                raise StructureError(f"The 'owns' parameter of {where}: owned variables must lie in [0, {n_features - 1}].")
            counts = np.bincount(all_vars, minlength=n_features)
            if np.any(counts != 1):
                v = int(np.flatnonzero(counts != 1)[0])
                raise StructureError(f"The 'owns' parameter of {where}: variable {v} is owned {counts[v]} times; every variable must be owned exactly once.")
        n_features = int(n_features)
        own_sizes = np.array([a.size for a in own_lists], dtype=np.int64)
        owns_ptr = np.concatenate([[0], np.cumsum(own_sizes)])
        owns_idx = np.concatenate(own_lists)

        # preorder layout: node at preorder position k owns var_order[pre_own_ptr[k]:pre_own_ptr[k+1]]
        position = np.empty(n, dtype=np.int64)
        position[preorder] = np.arange(n)
        pre_parent = np.where(par[preorder] >= 0, position[np.maximum(par[preorder], 0)], -1)
        pre_sizes = own_sizes[preorder]
        pre_own_ptr = np.concatenate([[0], np.cumsum(pre_sizes)])
        var_order = np.concatenate([own_lists[i] for i in preorder])
        # subtree of preorder node k spans preorder positions [k, subtree_end[k])
        subtree_end = np.arange(1, n + 1, dtype=np.int64)
        for k in range(n - 1, 0, -1):
            p = pre_parent[k]
            subtree_end[p] = max(subtree_end[p], subtree_end[k])
        # level (breadth-first) layout for the prox kernel: consecutive nodes are independent, so the
        # children-before-parents sweep is not one long dependency chain as it is in preorder
        depth_pre = np.zeros(n, dtype=np.int64)
        for k in range(1, n):
            depth_pre[k] = depth_pre[pre_parent[k]] + 1
        lvl = np.argsort(depth_pre, kind="stable")
        level_nodes = preorder[lvl]
        lpos = np.empty(n, dtype=np.int64)
        lpos[lvl] = np.arange(n)
        lvl_parent = np.where(pre_parent[lvl] >= 0, lpos[np.maximum(pre_parent[lvl], 0)], -1)
        lvl_own_ptr = np.concatenate([[0], np.cumsum(pre_sizes[lvl])])
        lvl_var_order = np.concatenate([own_lists[i] for i in level_nodes])
        group_sizes = pre_own_ptr[subtree_end] - pre_own_ptr[:-1]
        sizes_by_node = np.empty(n, dtype=np.int64)
        sizes_by_node[preorder] = group_sizes
        w = _resolve_weights(weights, sizes_by_node, where)

        self = object.__new__(cls)
        for name, val in (("parents", _readonly(par)), ("n_nodes", n), ("n_features", n_features),
                          ("weights", w), ("preorder", _readonly(preorder)), ("root", root),
                          ("_owns_ptr", _readonly(owns_ptr)), ("_owns_idx", _readonly(owns_idx)),
                          ("_pre_parent", _readonly(pre_parent)), ("_pre_own_ptr", _readonly(pre_own_ptr)),
                          ("_var_order", _readonly(var_order)), ("_pre_weights", _readonly(w[preorder])),
                          ("_subtree_end", _readonly(subtree_end)), ("_position", _readonly(position)),
                          ("_level_arrays", (_readonly(lvl_var_order), _readonly(lvl_own_ptr),
                                             _readonly(lvl_parent), _readonly(w[level_nodes])))):
            object.__setattr__(self, name, val)
        return self

    @classmethod
    def complete(cls, depth, branching=2, weights=None):
        """A complete tree of the given ``depth``, one variable per node.

        ``depth`` counts edges from the root to the leaves: depth 0 is a
        single root and a complete binary tree of depth 10 has
        ``2**11 - 1 = 2047`` nodes. Nodes are numbered level by level
        (breadth-first), as in a heap: the children of ``i`` are
        ``branching * i + 1 .. branching * i + branching``.

        Examples
        --------
        >>> Tree.complete(depth=2).n_nodes
        7
        """
        for name, val, low in (("depth", depth, 0), ("branching", branching, 1)):
            if not isinstance(val, (Integral, np.integer)) or isinstance(val, bool) or val < low:
                error = StructureError if isinstance(val, (Integral, np.integer)) and not isinstance(val, bool) \
                    else StructureTypeError
                raise error(f"The '{name}' parameter of Tree.complete must be an int >= {low}. Got {val!r}.")
        n = sum(branching ** d for d in range(depth + 1))
        parents = np.empty(n, dtype=np.int64)
        parents[0] = -1
        parents[1:] = (np.arange(1, n) - 1) // branching
        return cls.from_parents(parents, weights=weights)

    # ------------------------------------------------------------------ views
    def _node(self, node, where):
        return check_int(node, "node", low=0, high=self.n_nodes - 1, owner=where)

    def owns(self, node):
        """Variables owned by ``node`` itself."""
        node = self._node(node, "Tree.owns")
        return self._owns_idx[self._owns_ptr[node]:self._owns_ptr[node + 1]]

    def group(self, node):
        """Variables in the group of ``node``: its own and all its descendants', sorted."""
        k = self._position[self._node(node, "Tree.group")]
        return np.sort(self._var_order[self._pre_own_ptr[k]:self._pre_own_ptr[self._subtree_end[k]]])

    def children(self, node):
        """Children of ``node``, by increasing number."""
        return np.flatnonzero(self.parents == self._node(node, "Tree.children"))

    def depth(self):
        """Depth of each node (the root has depth 0)."""
        d = np.zeros(self.n_nodes, dtype=np.int64)
        for node in self.preorder[1:]:
            d[node] = d[self.parents[node]] + 1
        return d

    def to_groups(self):
        """The nested groups of all nodes as a :class:`Groups` (one group per node, same order and weights)."""
        return Groups.from_lists([self.group(i) for i in range(self.n_nodes)], n_features=self.n_features,
                                 weights=self.weights)

    def with_weights(self, weights):
        """A copy with other node weights."""
        own = [self.owns(i) for i in range(self.n_nodes)]
        return Tree.from_parents(self.parents, owns=own, n_features=self.n_features, weights=weights)

    def kernel_arrays(self, order="preorder"):
        """Arrays for the tree kernels: ``(var_order, own_ptr, parent, weights)``.

        Parameters
        ----------
        order : {'preorder', 'level'}
            Node numbering of the arrays. Both put every parent before its
            children (``parent[k] < k``, the root at 0), which is all the
            kernels need. In preorder every group is a contiguous slice of
            ``var_order``; in level (breadth-first) order consecutive nodes
            are independent, which makes the prox sweep about 1.5x faster.

        Returns
        -------
        tuple of ndarray
            Node ``k`` owns ``var_order[own_ptr[k]:own_ptr[k + 1]]``, has
            parent ``parent[k]`` (``-1`` for the root) and weight ``weights[k]``.
        """
        if order == "level":
            return self._level_arrays
        if order != "preorder":
            raise ParameterError(f"The 'order' parameter of Tree.kernel_arrays must be 'preorder' or 'level'. "
                                 f"Got {order!r}.")
        return self._var_order, self._pre_own_ptr, self._pre_parent, self._pre_weights

    def __eq__(self, other):
        return (isinstance(other, Tree) and np.array_equal(self.parents, other.parents)
                and np.array_equal(self._owns_ptr, other._owns_ptr) and np.array_equal(self._owns_idx, other._owns_idx)
                and np.array_equal(self.weights, other.weights))

    def __hash__(self):
        return hash((self.parents.tobytes(), self._owns_idx.tobytes(), self.weights.tobytes()))

    def __repr__(self):
        return f"Tree(n_nodes={self.n_nodes}, n_features={self.n_features}, depth={int(self.depth().max())})"


def _rebuild_tree(parents, owns, n_features, weights):
    """Unpickling helper: a Tree rebuilt (and re-validated) from its defining arrays."""
    return Tree.from_parents(parents, owns=owns, n_features=n_features, weights=weights)
