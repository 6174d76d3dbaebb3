"""Registry of every penalty, with random instances for property tests and ``structsparse verify``.

``random_penalty(name, n_features, rng, n_targets=None)`` draws a penalty
whose variable has shape ``(n_features,)`` (``n_targets=None``) or
``(n_features, n_targets)``, with a varied structure:

- ``l1``: the lasso.
- ``group_lasso``: groups of unequal sizes over shuffled features, random
  weights, some features in no group.
- ``sparse_group_lasso``: the same kind of groups and a random ``l1_ratio``.
- ``tree_lasso``: random trees of varied shapes (chains, stars, complete
  binary trees, random parents), shuffled node numbers, nodes owning
  several variables, random weights.
- ``nuclear_norm``: the unknown as a matrix (``(n_features, n_targets)``,
  or for a vector an exact factorization of ``n_features``).
- ``group_nuclear``: row groups whose blocks are reshaped to a random
  factorization of their size, random weights, some rows in no group.
- ``overlap_group_lasso``: overlapping groups (:func:`random_overlapping_groups`:
  sliding windows over shuffled features, or random subsets), random
  weights, some features in no group (free).
- ``latent_group_lasso``: the same kind of overlapping groups, for the latent
  group lasso (its support is a union of groups).

Penalties whose prox is iterative (``"iterative_prox"`` in their
``capabilities``: the overlapping and latent group lassos) are exact only to
their inner solver's tolerance; :func:`exact_prox_names` lists the others.

``lam`` is drawn in ``[0.1, 1]``; callers usually rescale it with
``penalty.with_lam(ratio * lambda_max)``.

Examples
--------
>>> pen = random_penalty("tree_lasso", 12, rng=0)
>>> pen.n_features
12
"""

import numpy as np

from .._validation import check_int, check_rng
from ..exceptions import ParameterError
from ..structure import Groups, Tree
from .group_lasso import GroupLasso
from .group_nuclear import GroupNuclear
from .l1 import L1
from .latent_group_lasso import LatentGroupLasso
from .nuclear_norm import NuclearNorm
from .overlap_group_lasso import OverlapGroupLasso
from .sparse_group_lasso import SparseGroupLasso
from .tree_lasso import TreeLasso

__all__ = ["PENALTY_REGISTRY", "PENALTY_NAMES", "random_penalty", "register_penalty", "random_groups", "random_tree",
           "random_overlapping_groups", "penalty_names", "exact_prox_names"]

#: Kinds of overlapping groups that :func:`random_overlapping_groups` draws from.
OVERLAP_KINDS = ("windows", "subsets")

#: Shapes that :func:`random_tree` draws from.
TREE_SHAPES = ("chain", "star", "binary", "random")


def _split(n_items, n_parts, rng):
    """Random sizes ``>= 1`` of ``n_parts`` parts summing to ``n_items``."""
    cuts = np.sort(rng.choice(np.arange(1, n_items), size=n_parts - 1, replace=False)) if n_parts > 1 else []
    return np.diff(np.concatenate([[0], cuts, [n_items]])).astype(int)


def random_groups(n_features, rng, max_size=6, uncovered=True, weights=True):
    """Disjoint groups of unequal sizes over shuffled features.

    Parameters
    ----------
    n_features : int >= 1
    rng : int or numpy.random.Generator
    max_size : int
        Largest group size.
    uncovered : bool
        Leave about 15 % of the features (at least one when ``n_features >= 3``) in no group.
    weights : bool
        Draw weights in ``[0.5, 2]`` (otherwise all 1).

    Returns
    -------
    Groups
    """
    rng = check_rng(rng)
    n_features = check_int(n_features, "n_features", low=1, owner="random_groups")
    perm = rng.permutation(n_features)
    n_free = 0
    if uncovered and n_features >= 3:
        n_free = max(1, int(round(0.15 * n_features)))
    covered = perm[: n_features - n_free]
    sizes = []
    while sum(sizes) < covered.size:
        sizes.append(int(min(rng.integers(1, max_size + 1), covered.size - sum(sizes))))
    ptr = np.concatenate([[0], np.cumsum(sizes)])
    lists = [covered[ptr[g]:ptr[g + 1]] for g in range(len(sizes))]
    w = rng.uniform(0.5, 2.0, len(sizes)) if weights else None
    return Groups.from_lists(lists, n_features=n_features, weights=w)


def random_overlapping_groups(n_features, rng, kind=None, uncovered=True, weights=True, max_size=6):
    """Overlapping groups: sliding windows over shuffled features, or random subsets.

    Parameters
    ----------
    n_features : int >= 1
    rng : int or numpy.random.Generator
    kind : {'windows', 'subsets'}, optional
        ``'windows'``: windows of a random size ``s`` moved by a stride
        below ``s`` (consecutive windows share variables) over the features
        in a shuffled order; ``'subsets'``: random subsets of random sizes,
        every covered feature in at least one. Drawn at random when omitted.
    uncovered : bool
        Leave about 15 % of the features (at least one when ``n_features >= 3``)
        in no group: the penalty leaves them free.
    weights : bool
        Draw weights in ``[0.5, 2]`` (otherwise all 1).
    max_size : int >= 2
        Largest group size.

    Returns
    -------
    Groups
        With at least two groups sharing a variable whenever two or more
        features are covered.
    """
    rng = check_rng(rng)
    n_features = check_int(n_features, "n_features", low=1, owner="random_overlapping_groups")
    max_size = check_int(max_size, "max_size", low=2, owner="random_overlapping_groups")
    if kind is None:
        kind = OVERLAP_KINDS[int(rng.integers(len(OVERLAP_KINDS)))]
    if kind not in OVERLAP_KINDS:
        raise ParameterError(f"The 'kind' parameter of random_overlapping_groups must be one of {OVERLAP_KINDS}. "
                             f"Got {kind!r}.")
    perm = rng.permutation(n_features)
    n_free = max(1, int(round(0.15 * n_features))) if uncovered and n_features >= 3 else 0
    covered = perm[: n_features - n_free]
    m = covered.size
    if m == 1:
        lists = [covered]
    elif kind == "windows":
        size = int(rng.integers(2, min(max_size, m) + 1))
        stride = int(rng.integers(1, size)) if size > 1 else 1
        starts = list(range(0, max(m - size, 0) + 1, stride))
        if starts[-1] + size < m:
            starts.append(m - size)
        lists = [covered[s:s + size] for s in starts]
        if len(lists) == 1:  # a single window covers everything: add one that overlaps it
            lists.append(covered[: max(1, m // 2)])
    else:
        n_groups = max(2, m // 2)
        lists = [rng.choice(covered, size=int(rng.integers(1, min(max_size, m) + 1)), replace=False)
                 for _ in range(n_groups)]
        held = np.zeros(n_features, dtype=bool)
        for g in lists:
            held[g] = True
        for j in covered[~held[covered]]:  # every covered feature in some group
            k = int(rng.integers(len(lists)))
            lists[k] = np.append(lists[k], j)
        # make sure two groups overlap: give the first group a member of the second
        if not np.intersect1d(lists[0], lists[1]).size:
            lists[0] = np.append(lists[0], lists[1][0])
    w = rng.uniform(0.5, 2.0, len(lists)) if weights else None
    return Groups.from_lists([np.asarray(g, dtype=np.int64) for g in lists], n_features=n_features, weights=w)


def random_tree(n_features, rng, shape=None, weights=True):
    """A random tree over ``n_features`` variables; nodes may own several variables.

    Parameters
    ----------
    n_features : int >= 1
    rng : int or numpy.random.Generator
    shape : {'chain', 'star', 'binary', 'random'}, optional
        Drawn at random when omitted.
    weights : bool
        Draw node weights in ``[0.3, 2]`` (otherwise all 1).

    Returns
    -------
    Tree
        Node numbers are shuffled (the root is not always node 0) and the
        variables are dealt to the nodes in a random order.
    """
    rng = check_rng(rng)
    n_features = check_int(n_features, "n_features", low=1, owner="random_tree")
    if shape is None:
        shape = TREE_SHAPES[int(rng.integers(len(TREE_SHAPES)))]
    if shape not in TREE_SHAPES:
        raise ParameterError(f"The 'shape' parameter of random_tree must be one of {TREE_SHAPES}. Got {shape!r}.")
    n_nodes = int(rng.integers(max(1, n_features // 3), n_features + 1))
    # parents in topological order (parent index < child index), relabelled below
    if shape == "chain":
        topo = np.arange(-1, n_nodes - 1)
    elif shape == "star":
        topo = np.zeros(n_nodes, dtype=int)
    elif shape == "binary":
        topo = (np.arange(n_nodes) - 1) // 2
    else:
        topo = np.array([rng.integers(0, i) if i else 0 for i in range(n_nodes)])
    topo[0] = -1
    label = rng.permutation(n_nodes)
    parents = np.empty(n_nodes, dtype=np.int64)
    parents[label] = np.where(topo >= 0, label[np.maximum(topo, 0)], -1)
    sizes = _split(n_features, n_nodes, rng)
    perm = rng.permutation(n_features)
    ptr = np.concatenate([[0], np.cumsum(sizes)])
    owns = [None] * n_nodes
    for k in range(n_nodes):
        owns[label[k]] = perm[ptr[k]:ptr[k + 1]]
    w = rng.uniform(0.3, 2.0, n_nodes) if weights else None
    return Tree.from_parents(parents, owns=owns, n_features=n_features, weights=w)


def _factor_pair(n, rng):
    """A random pair ``(r, c)`` with ``r * c == n``."""
    divisors = [d for d in range(1, n + 1) if n % d == 0]
    r = int(divisors[int(rng.integers(len(divisors)))])
    return (r, n // r)


def _lam(rng):
    return float(rng.uniform(0.1, 1.0))


def _make_l1(n_features, rng, n_targets):
    return L1(_lam(rng))


def _make_group_lasso(n_features, rng, n_targets):
    return GroupLasso(random_groups(n_features, rng), _lam(rng))


def _make_sparse_group_lasso(n_features, rng, n_targets):
    return SparseGroupLasso(random_groups(n_features, rng), _lam(rng), float(rng.uniform(0.1, 0.9)))


def _make_tree_lasso(n_features, rng, n_targets):
    return TreeLasso(random_tree(n_features, rng), _lam(rng))


def _make_nuclear_norm(n_features, rng, n_targets):
    shape = (n_features, n_targets) if n_targets is not None else _factor_pair(n_features, rng)
    return NuclearNorm(_lam(rng), shape)


def _make_group_nuclear(n_features, rng, n_targets):
    k = 1 if n_targets is None else n_targets
    groups = random_groups(n_features, rng, max_size=4 if k > 1 else 9)
    shapes = [_factor_pair(size * k, rng) for size in groups.sizes]
    return GroupNuclear(groups, _lam(rng), float(rng.uniform(0.2, 0.8)), shapes)


def _make_overlap_group_lasso(n_features, rng, n_targets):
    return OverlapGroupLasso(random_overlapping_groups(n_features, rng), _lam(rng))


def _make_latent_group_lasso(n_features, rng, n_targets):
    return LatentGroupLasso(random_overlapping_groups(n_features, rng), _lam(rng))


#: name -> factory ``(n_features, rng, n_targets) -> Penalty``.
PENALTY_REGISTRY = {
    "l1": _make_l1,
    "group_lasso": _make_group_lasso,
    "sparse_group_lasso": _make_sparse_group_lasso,
    "tree_lasso": _make_tree_lasso,
    "nuclear_norm": _make_nuclear_norm,
    "group_nuclear": _make_group_nuclear,
    "overlap_group_lasso": _make_overlap_group_lasso,
    "latent_group_lasso": _make_latent_group_lasso,
}

#: Names of all registered penalties (``penalty.name`` of what they build).
PENALTY_NAMES = tuple(PENALTY_REGISTRY)


def register_penalty(name, factory):
    """Add a penalty kind to the registry (for penalties defined elsewhere).

    Parameters
    ----------
    name : str
        New name; it joins :data:`PENALTY_NAMES`.
    factory : callable
        ``factory(n_features, rng, n_targets) -> Penalty`` whose variable has
        shape ``(n_features,)`` or ``(n_features, n_targets)``. The registry
        drives the property tests (prox optimality, Moreau identity...) and
        ``structsparse verify`` (every solver valid for the penalty, and
        ``ss.solve``, against cvxpy), so the penalty needs a prox (exact, or
        iterative declared as ``"iterative_prox"``) and a cvxpy expression.
    """
    global PENALTY_NAMES
    if not isinstance(name, str) or not name:
        raise ParameterError(f"The 'name' parameter of register_penalty must be a non-empty str. Got {name!r}.")
    if name in PENALTY_REGISTRY:
        raise ParameterError(f"The 'name' parameter of register_penalty must be a new name: {name!r} is already "
                             f"registered (remove it from PENALTY_REGISTRY first to replace it).")
    if not callable(factory):
        raise TypeError(f"The 'factory' parameter of register_penalty must be callable. Got {type(factory).__name__}.")
    PENALTY_REGISTRY[name] = factory
    PENALTY_NAMES = tuple(PENALTY_REGISTRY)


def penalty_names():
    """Names of every registered penalty, built-in and added at runtime (the live :data:`PENALTY_NAMES`).

    Returns
    -------
    tuple of str
    """
    return tuple(PENALTY_REGISTRY)


def exact_prox_names():
    """Names of the registered penalties whose prox is exact (no inner iterative solver).

    Returns
    -------
    tuple of str
        Those whose random instance declares ``"prox"`` in its ``capabilities``
        (the overlapping and latent group lassos declare ``"iterative_prox"``).
    """
    return tuple(name for name in PENALTY_REGISTRY
                 if "prox" in random_penalty(name, 6, np.random.default_rng(0)).capabilities)


def random_penalty(name, n_features, rng, n_targets=None):
    """Draw a random penalty of the registered kind ``name``.

    Parameters
    ----------
    name : str
        One of :data:`PENALTY_NAMES`.
    n_features : int >= 1
        Rows of the variable.
    rng : int or numpy.random.Generator
    n_targets : int >= 1, optional
        Columns of the variable; ``None`` for a vector ``(n_features,)``.

    Returns
    -------
    Penalty
        Defined on variables of shape ``(n_features,)`` or ``(n_features, n_targets)``.
    """
    if name not in PENALTY_REGISTRY:
        raise ParameterError(
            f"The 'name' parameter of random_penalty must be one of {', '.join(PENALTY_NAMES)}. Got {name!r}."
        )
    n_features = check_int(n_features, "n_features", low=1, owner="random_penalty")
    if n_targets is not None:
        n_targets = check_int(n_targets, "n_targets", low=1, owner="random_penalty")
    return PENALTY_REGISTRY[name](n_features, check_rng(rng), n_targets)
