"""Proximal operators on plain arrays, for direct use and for the penalties.

Each function returns a new array; the input is never modified. Vectors of
shape ``(n,)`` and matrices of shape ``(n, k)`` are accepted; for matrices a
group's norm is taken over its rows and all columns.
"""

import numpy as np

from .._numba import NUMBA_ENABLED
from .._validation import check_array, check_scalar
from ..exceptions import ShapeError, StructureError, StructureTypeError
from ..structure import Groups, Tree
from ._group_kernels import group_shrink_numba, group_shrink_numpy
from ._tree_kernels import tree_prox_numba, tree_prox_numpy, tree_prox_vector_numba

__all__ = [
    "soft_threshold",
    "group_soft_threshold",
    "sparse_group_soft_threshold",
    "tree_prox",
    "spectral_prox",
    "as_groups",
]

_group_shrink = group_shrink_numba if NUMBA_ENABLED else group_shrink_numpy


def _tree_prox(v2, var_order, own_ptr, parent, weights, tau):
    """Tree prox kernel on a 2-D array, taking the faster vector kernel for a single column."""
    if not NUMBA_ENABLED:
        return tree_prox_numpy(v2, var_order, own_ptr, parent, weights, tau)
    if v2.shape[1] == 1:
        col = np.ascontiguousarray(v2[:, 0])
        return tree_prox_vector_numba(col, var_order, own_ptr, parent, weights, tau)[:, None]
    return tree_prox_numba(v2, var_order, own_ptr, parent, weights, tau)


def _as_2d(v, name="v", owner=None):
    arr = check_array(v, name, ndim=(1, 2), owner=owner)
    return (arr[:, None], True) if arr.ndim == 1 else (arr, False)


def as_groups(groups, n_features, owner):
    """Accept a :class:`Groups` or a list of index lists; check it fits ``n_features``."""
    if not isinstance(groups, Groups):
        if isinstance(groups, Tree):
            raise StructureTypeError(f"The 'groups' parameter of {owner} must be Groups, not a Tree.")
        try:
            groups = Groups.from_lists(groups, n_features=n_features)
        except StructureError as exc:  # the same class: a wrong type stays a TypeError
            raise type(exc)(f"{exc} (the groups of {owner} index the {n_features} rows of 'v')") from None
    if groups.n_features != n_features:
        raise ShapeError(
            f"The groups of {owner} index {groups.n_features} features but the array has {n_features} rows."
        )
    return groups


def soft_threshold(v, tau):
    """Entrywise soft-thresholding ``sign(v) * max(|v| - tau, 0)`` (prox of ``tau * ||.||_1``).

    Parameters
    ----------
    v : array_like
        Point of any shape.
    tau : float >= 0
        Threshold.

    Returns
    -------
    ndarray
        A new array of the shape of ``v``.
    """
    v = check_array(v, "v", owner="soft_threshold")
    tau = check_scalar(tau, "tau", low=0, owner="soft_threshold")
    return np.sign(v) * np.maximum(np.abs(v) - tau, 0.0)


def group_soft_threshold(v, groups, tau):
    """Block soft-thresholding: the prox of ``tau * sum_g w_g ||v[g]||_2`` for disjoint groups.

    Each group is scaled by ``max(0, 1 - tau * w_g / ||v[g]||)``; variables in
    no group are returned unchanged.

    Parameters
    ----------
    v : array_like, shape (n,) or (n, k)
    groups : Groups or list of lists of int
        Disjoint groups over the ``n`` rows.
    tau : float >= 0

    Examples
    --------
    >>> group_soft_threshold([3.0, 4.0, 1.0, 2.0], [[0, 1], [2, 3]], 3.0)
    array([1.2, 1.6, 0. , 0. ])
    """
    owner = "group_soft_threshold"
    v2, was1d = _as_2d(v, owner=owner)
    groups = as_groups(groups, v2.shape[0], owner)
    if not groups.is_disjoint:
        raise StructureError(
            f"{owner} needs disjoint groups; use OverlapGroupLasso (ADMM) for overlapping ones."
        )
    tau = check_scalar(tau, "tau", low=0, owner=owner)
    out = _group_shrink(v2, groups.indices, groups.ptr, tau * groups.weights)
    return out[:, 0] if was1d else out


def sparse_group_soft_threshold(v, groups, tau, l1_ratio):
    """Prox of ``tau * ((1 - l1_ratio) sum_g w_g ||v[g]|| + l1_ratio ||v||_1)`` for disjoint groups.

    Parameters
    ----------
    v : array_like, shape (n,) or (n, k)
    groups : Groups or list of lists of int
        Disjoint groups over the ``n`` rows.
    tau : float >= 0
    l1_ratio : float in [0, 1]

    The exact prox is the entrywise soft-threshold by ``tau * l1_ratio``
    followed by block soft-thresholding by ``tau * (1 - l1_ratio) * w_g``.
    """
    owner = "sparse_group_soft_threshold"
    l1_ratio = check_scalar(l1_ratio, "l1_ratio", low=0, high=1, owner=owner)
    tau = check_scalar(tau, "tau", low=0, owner=owner)
    v2, was1d = _as_2d(v, owner=owner)
    groups = as_groups(groups, v2.shape[0], owner)
    if not groups.is_disjoint:
        raise StructureError(f"{owner} needs disjoint groups.")
    st = np.sign(v2) * np.maximum(np.abs(v2) - tau * l1_ratio, 0.0)
    out = _group_shrink(st, groups.indices, groups.ptr, tau * (1.0 - l1_ratio) * groups.weights)
    return out[:, 0] if was1d else out


def tree_prox(v, tree, tau):
    """Exact prox of ``tau * sum_nodes w_node ||v[group(node)]||_2`` for a :class:`Tree`, in linear time.

    Parameters
    ----------
    v : array_like, shape (n,) or (n, k)
        One row per variable of the tree.
    tree : Tree
    tau : float >= 0

    Returns
    -------
    ndarray
        A new array of the shape of ``v``.
    """
    owner = "tree_prox"
    if not isinstance(tree, Tree):
        raise TypeError(f"The 'tree' parameter of {owner} must be a Tree. Got {type(tree).__name__}.")
    v2, was1d = _as_2d(v, owner=owner)
    if v2.shape[0] != tree.n_features:
        raise ShapeError(f"The tree of {owner} has {tree.n_features} variables but 'v' has {v2.shape[0]} rows.")
    tau = check_scalar(tau, "tau", low=0, owner=owner)
    out = _tree_prox(v2, *tree.kernel_arrays("level"), tau)
    return out[:, 0] if was1d else out


def spectral_prox(m, vector_prox):
    """Prox of a unitarily invariant matrix function ``f(sigma(M))``.

    Parameters
    ----------
    m : array_like, shape (p, q)
        The matrix.
    vector_prox : callable
        Maps the singular values (non-negative, decreasing) to the prox of
        the vector function ``f`` at them; its output must be non-negative.

    Returns
    -------
    ndarray
        ``U diag(vector_prox(s)) V^T`` where ``M = U diag(s) V^T`` (Lewis 1995).
    """
    owner = "spectral_prox"
    m = check_array(m, "m", ndim=2, owner=owner)
    if not callable(vector_prox):
        raise TypeError(f"The 'vector_prox' parameter of {owner} must be callable. Got {type(vector_prox).__name__}.")
    u, s, vt = np.linalg.svd(m, full_matrices=False)
    p = np.asarray(vector_prox(s.copy()), dtype=float)
    if p.shape != s.shape or not np.all(np.isfinite(p)) or np.any(p < 0):
        raise ShapeError(
            f"The 'vector_prox' parameter of {owner} must map the {s.size} singular values to as many finite, "
            "non-negative values."
        )
    keep = p > 0
    return (u[:, keep] * p[keep]) @ vt[keep]
