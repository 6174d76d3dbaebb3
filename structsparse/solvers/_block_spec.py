"""The flat description of a block-separable penalty used by the block solver.

Every feature is put in exactly one block; each block carries the weight of
the l1 norm (``t1``) and of the Euclidean norm (``t2``) of its entries, with
``lam`` already folded in:

    penalty(x) = sum_g t1[g] * ||x_g||_1 + t2[g] * ||x_g||_2.

Per-feature arrays cost 8 bytes a feature each (32 MB for the four of a lasso at
a million features), so a spec may say what is implicit without storing it: the
weights may be read-only broadcast views of one value (stride 0, no memory), and
``idx`` may be a view of ``ptr`` itself, ``ptr[:-1]`` with ``ptr = arange(p + 1)``:
block ``g`` is feature ``g`` (:attr:`BlockSpec.identity`), an int32 arange
while ``p + 1`` fits (4 bytes a feature; the live groups compacted from it
stay int32, :func:`._block_kernels.split_live_numba`). The values are the
same as those of the stored arrays, so every reader computes the same thing.
"""

from dataclasses import dataclass

import numpy as np

from ..exceptions import ShapeError
from ..penalties import Penalty

__all__ = ["BlockSpec", "block_spec", "block_columns", "is_constant", "is_identity", "take"]


@dataclass(frozen=True)
class BlockSpec:
    """Blocks covering every feature once, with their l1 and l2 weights.

    Attributes
    ----------
    idx : ndarray of int64 (int32 for the identity, see :attr:`identity`)
        Features of all blocks, block after block.
    ptr : ndarray of int64 (int32 for the identity)
        Block ``g`` is ``idx[ptr[g]:ptr[g + 1]]``.
    t1, t2 : ndarray of float64
        Weights (``lam`` included) of the block's l1 and l2 norms (possibly
        read-only broadcast views of one value: see :func:`take`).
    """

    idx: np.ndarray
    ptr: np.ndarray
    t1: np.ndarray
    t2: np.ndarray

    @property
    def n_blocks(self):
        return self.ptr.size - 1

    @property
    def identity(self):
        """Whether block ``g`` is feature ``g`` for every ``g`` (``idx`` is ``ptr[:-1]``, ``ptr = arange(p + 1)``).

        Declared, not searched for: :meth:`L1.block_thresholds` returns ``idx``
        as a view of ``ptr`` (one array for both), which is read here in O(1).
        """
        return is_identity(self.idx, self.ptr)

    @property
    def unpenalized(self):
        """Blocks with no penalty at all (a broadcast view when both weights are)."""
        if is_constant(self.t1) and is_constant(self.t2):
            flag = bool(self.t1.size) and bool(self.t1[0] <= 0) and bool(self.t2[0] <= 0)
            return _broadcast(flag, self.t1.size, bool)
        return (self.t1 <= 0) & (self.t2 <= 0)

    def value(self, x):
        """``sum_g t1[g] ||x_g||_1 + t2[g] ||x_g||_2`` for ``x`` of shape (n_features, k)."""
        if x.shape[1] == 1 and self.ptr.size - 1 == self.idx.size:  # singletons: both norms are |x_j|
            return float((self.t1 + self.t2) @ np.abs(x[self.idx, 0]))
        rows = x[self.idx]
        starts = self.ptr[:-1]
        l1 = np.add.reduceat(np.abs(rows).sum(axis=1), starts)
        l2 = np.sqrt(np.add.reduceat((rows * rows).sum(axis=1), starts))
        return float(self.t1 @ l1 + self.t2 @ l2)


def is_identity(idx, ptr):
    """Whether the blocks ``(idx, ptr)`` are feature ``g`` for block ``g``, declared by ``idx`` being ``ptr[:-1]``.

    ``idx[g]`` is ``ptr[g]`` (one memory): a non-decreasing ``ptr`` whose first ``p`` entries cover every
    feature once is ``0, 1, ..., p - 1``. O(1): nothing is compared entry by entry.
    """
    return (idx.size == ptr.size - 1 and idx.dtype == ptr.dtype and
            idx.__array_interface__["data"][0] == ptr.__array_interface__["data"][0] and
            np.may_share_memory(idx, ptr) and (idx.size == 0 or int(ptr[-1]) == idx.size))


def is_constant(a):
    """Whether ``a`` is a broadcast view of one value (1-D, stride 0): no per-feature memory."""
    return a.ndim == 1 and a.size > 0 and a.strides[0] == 0


def _broadcast(value, size, dtype=float):
    """A read-only view of ``value`` repeated ``size`` times (no memory per entry)."""
    return np.broadcast_to(np.asarray(value, dtype=dtype), (size,))


def take(a, blocks):
    """``a[blocks]``, as a broadcast view again when ``a`` is one (a subset of a constant weight is constant)."""
    if is_constant(a):
        m = np.size(blocks)
        # a prefix of the view is that view (no np.broadcast_to: ~10 us a call, four calls per compaction)
        return a[:m] if m <= a.size else _broadcast(a[0], m, a.dtype)
    return a[blocks]


def block_spec(penalty, n_features, owner="solve_block"):
    """Describe ``penalty`` as blocks with l1 and l2 weights, from its declared ``block_thresholds``.

    Parameters
    ----------
    penalty : Penalty
        A penalty declaring the ``"block_thresholds"`` capability.
    n_features : int
    owner : str
        The solver's name, for messages.

    Returns
    -------
    BlockSpec

    Raises
    ------
    TypeError
        For a non-penalty, or a penalty that declares no block thresholds
        (the message names the solvers that handle it).
    """
    if not isinstance(penalty, Penalty):
        raise TypeError(f"The 'penalty' parameter of {owner} must be a structsparse Penalty. "
                        f"Got {type(penalty).__name__}.")
    n = penalty.n_features
    if n is not None and n != n_features:
        raise ShapeError(f"{owner}: the penalty is defined on {n} features but the datafit has {n_features}.")
    spec = penalty.block_thresholds(n_features)
    if spec is None:
        raise TypeError(f"{owner} needs block-separable thresholds; {type(penalty).__name__} has none; "
                        "use ss.solve (it picks fista or admm).")
    idx, ptr, t1, t2 = spec
    if not (is_identity(idx, ptr) and idx.dtype == np.int32):   # (the identity's int32 index is kept as it is)
        idx, ptr = np.asarray(idx, np.int64), np.asarray(ptr, np.int64)
    return BlockSpec(idx, ptr, np.asarray(t1, float), np.asarray(t2, float))


def block_columns(idx, ptr, blocks):
    """The features of the given blocks, block after block (vectorized ``concatenate(idx[ptr[g]:ptr[g+1]])``)."""
    blocks = np.asarray(blocks, dtype=np.int64)
    if ptr.size - 1 == idx.size:   # single features: block g is idx[g] (no p-length sizes, offsets and repeats)
        return idx[blocks]
    sizes = ptr[blocks + 1] - ptr[blocks]
    if sizes.size == 0:
        return np.zeros(0, dtype=np.int64)
    starts = np.cumsum(sizes) - sizes
    return idx[np.arange(int(sizes.sum()), dtype=np.int64) + np.repeat(ptr[blocks] - starts, sizes)]
