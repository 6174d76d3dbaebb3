"""The flat description of a block-separable penalty used by the block solver.

Every feature is put in exactly one block; each block carries the weight of
the l1 norm (``t1``) and of the Euclidean norm (``t2``) of its entries, with
``lam`` already folded in:

    penalty(x) = sum_g t1[g] * ||x_g||_1 + t2[g] * ||x_g||_2.
"""

from dataclasses import dataclass

import numpy as np

from ..exceptions import ShapeError
from ..penalties import L1, GroupLasso, Penalty, SparseGroupLasso

__all__ = ["BlockSpec", "block_spec", "SUPPORTED_PENALTIES"]

#: Penalties :func:`block_spec` understands (others may define ``block_thresholds``).
SUPPORTED_PENALTIES = ("L1", "GroupLasso", "SparseGroupLasso")


@dataclass(frozen=True)
class BlockSpec:
    """Blocks covering every feature once, with their l1 and l2 weights.

    Attributes
    ----------
    idx : ndarray of int64
        Features of all blocks, block after block.
    ptr : ndarray of int64
        Block ``g`` is ``idx[ptr[g]:ptr[g + 1]]``.
    t1, t2 : ndarray of float64
        Weights (``lam`` included) of the block's l1 and l2 norms.
    """

    idx: np.ndarray
    ptr: np.ndarray
    t1: np.ndarray
    t2: np.ndarray

    @property
    def n_blocks(self):
        return self.ptr.size - 1

    @property
    def unpenalized(self):
        """Blocks with no penalty at all."""
        return (self.t1 <= 0) & (self.t2 <= 0)

    def value(self, x):
        """``sum_g t1[g] ||x_g||_1 + t2[g] ||x_g||_2`` for ``x`` of shape (n_features, k)."""
        rows = x[self.idx]
        starts = self.ptr[:-1]
        l1 = np.add.reduceat(np.abs(rows).sum(axis=1), starts)
        l2 = np.sqrt(np.add.reduceat((rows * rows).sum(axis=1), starts))
        return float(self.t1 @ l1 + self.t2 @ l2)


def _with_free_singletons(groups, t1_groups, t2_groups, t1_free, n_features):
    """The groups' blocks followed by one singleton per feature that no group holds."""
    free = np.flatnonzero(~groups.covered)
    idx = np.concatenate([groups.indices, free]).astype(np.int64)
    ptr = np.concatenate([groups.ptr, groups.ptr[-1] + np.arange(1, free.size + 1)]).astype(np.int64)
    t1 = np.concatenate([t1_groups, np.full(free.size, t1_free)])
    t2 = np.concatenate([t2_groups, np.zeros(free.size)])
    return BlockSpec(idx, ptr, t1.astype(float), t2.astype(float))


def block_spec(penalty, n_features):
    """Describe ``penalty`` as blocks with l1 and l2 weights.

    Parameters
    ----------
    penalty : L1, GroupLasso or SparseGroupLasso, or a Penalty with a method
        ``block_thresholds(n_features) -> (idx, ptr, t1, t2)``.
    n_features : int

    Returns
    -------
    BlockSpec

    Raises
    ------
    TypeError
        For penalties that are not block-separable (tree, overlapping
        groups, nuclear norms), naming the solvers that handle them.
    """
    if not isinstance(penalty, Penalty):
        raise TypeError(f"The 'penalty' parameter of solve_block must be a structsparse Penalty. "
                        f"Got {type(penalty).__name__}.")
    lam = float(penalty.lam)
    if hasattr(penalty, "block_thresholds"):
        idx, ptr, t1, t2 = penalty.block_thresholds(n_features)
        return BlockSpec(np.asarray(idx, np.int64), np.asarray(ptr, np.int64), np.asarray(t1, float),
                         np.asarray(t2, float))
    if isinstance(penalty, L1):
        return BlockSpec(np.arange(n_features, dtype=np.int64), np.arange(n_features + 1, dtype=np.int64),
                         np.full(n_features, lam), np.zeros(n_features))
    if isinstance(penalty, (GroupLasso, SparseGroupLasso)):
        groups = penalty.groups
        if groups.n_features != n_features:
            raise ShapeError(f"solve_block: the penalty is defined on {groups.n_features} features but the loss "
                             f"has {n_features}.")
        if isinstance(penalty, GroupLasso):
            return _with_free_singletons(groups, np.zeros(groups.n_groups), lam * groups.weights, 0.0, n_features)
        r = penalty.l1_ratio
        return _with_free_singletons(groups, np.full(groups.n_groups, lam * r), lam * (1.0 - r) * groups.weights,
                                     lam * r, n_features)
    raise TypeError(
        f"solve_block handles block-separable penalties ({', '.join(SUPPORTED_PENALTIES)}); got "
        f"{type(penalty).__name__}. Use ss.fista (tree, nuclear) or ss.admm (overlapping groups) instead."
    )
