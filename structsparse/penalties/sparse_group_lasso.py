"""The sparse-group lasso ``lam * ((1 - l1_ratio) sum_g w_g ||x[g]||_2 + l1_ratio ||x||_1)``."""

import numpy as np

from .._numba import NUMBA_ENABLED
from .._validation import check_array, check_scalar
from ..exceptions import ParameterError, ShapeError
from ..prox._group_kernels import TIE_RTOL
from ..prox.operators import _group_shrink
from ._dual_kernels import sparse_group_dual_numba, sparse_group_dual_numpy
from .base import Penalty, as_disjoint_groups, check_penalty_features, group_norms, groups_with_free_singletons

__all__ = ["SparseGroupLasso", "sparse_group_dual_norms"]

_sparse_group_dual = sparse_group_dual_numba if NUMBA_ENABLED else sparse_group_dual_numpy


def sparse_group_dual_norms(values, ptr, a, b):
    """Exact dual norms of ``a[g] ||.||_2 + b[g] ||.||_1`` on the segments of a flat array.

    Parameters
    ----------
    values : ndarray, shape (m,)
        Segment ``g`` is ``values[ptr[g]:ptr[g + 1]]``.
    ptr : ndarray of int64, shape (n_segments + 1,)
    a, b : ndarray, shape (n_segments,)
        Non-negative weights of the l2 and l1 parts of each segment's norm.

    Returns
    -------
    ndarray, shape (n_segments,)
        For each segment the smallest ``t`` with ``||ST(u_g, b_g t)||_2 <= a_g t``
        (``inf`` when both weights are zero and the segment is nonzero).
        Computed exactly by sorting, see :mod:`structsparse.penalties._dual_kernels`.
    """
    owner = "sparse_group_dual_norms"
    values = check_array(values, "values", ndim=1, owner=owner)
    ptr = np.asarray(ptr)
    if (ptr.ndim != 1 or ptr.size < 1 or ptr.dtype.kind not in "iu" or ptr[0] != 0
            or ptr[-1] != values.size or np.any(np.diff(ptr) < 0)):
        raise ShapeError(
            f"The 'ptr' parameter of {owner} must be non-decreasing ints from 0 to len(values) = {values.size}."
        )
    n_seg = ptr.size - 1
    a = check_array(a, "a", shape=(n_seg,), owner=owner)
    b = check_array(b, "b", shape=(n_seg,), owner=owner)
    if np.any(a < 0) or np.any(b < 0):
        raise ParameterError(f"The 'a' and 'b' parameters of {owner} must be non-negative.")
    return _sparse_group_dual(np.ascontiguousarray(np.abs(values)), np.ascontiguousarray(ptr, dtype=np.int64),
                              np.ascontiguousarray(a), np.ascontiguousarray(b))


class SparseGroupLasso(Penalty):
    """Sparse-group lasso over disjoint groups.

    ``lam * ((1 - l1_ratio) * sum_g w_g ||x[g]||_2 + l1_ratio * ||x||_1)``;
    variables in no group get only the l1 part. For matrix variables
    ``(n_features, n_targets)`` a group's norm is over its rows and all
    columns and the l1 norm is entrywise.

    Its prox is exact: soft-threshold every entry by ``tau * l1_ratio``, then
    shrink each group by ``tau * (1 - l1_ratio) * w_g``. Its dual norm is
    computed exactly (no bisection), group by group, see
    :func:`sparse_group_dual_norms`.

    Parameters
    ----------
    groups : Groups or list of lists of int
        Disjoint groups; their weights ``w_g`` are used.
    lam : float >= 0
    l1_ratio : float in [0, 1]
        0 gives the group lasso, 1 the lasso.

    Examples
    --------
    >>> pen = SparseGroupLasso([[0, 1], [2, 3]], lam=1.0, l1_ratio=0.5)
    >>> pen.prox([3.0, 4.0, 0.2, 0.1], step=1.0).round(3).tolist()
    [2.209, 3.093, 0.0, 0.0]
    """

    name = "sparse_group_lasso"
    separable = True

    def __init__(self, groups, lam, l1_ratio):
        super().__init__(lam)
        self.l1_ratio = check_scalar(l1_ratio, "l1_ratio", low=0, high=1, owner="SparseGroupLasso")
        self.groups = as_disjoint_groups(groups, "SparseGroupLasso")
        self._free = ~self.groups.covered  # variables in no group: l1 part only
        self._free.setflags(write=False)

    @property
    def n_features(self):
        return self.groups.n_features

    def omega(self, x):
        r = self.l1_ratio
        return float((1.0 - r) * (self.groups.weights @ group_norms(x, self.groups)) + r * np.abs(x).sum())

    def _prox(self, v, tau):
        v2 = v.reshape(v.shape[0], -1)
        r = self.l1_ratio
        t1 = tau * r
        mag = np.abs(v2)
        # entries within rounding of the threshold count as ties and go to zero (see TIE_RTOL)
        st = np.sign(v2) * np.where(mag > t1 * (1.0 + 0.5 * TIE_RTOL), mag - t1, 0.0)
        out = _group_shrink(st, self.groups.indices, self.groups.ptr, tau * (1.0 - r) * self.groups.weights)
        return out.reshape(v.shape)

    def _dual_norm(self, u):
        u2 = u.reshape(u.shape[0], -1)
        n_cols = u2.shape[1]
        r = self.l1_ratio
        g = self.groups
        a = (1.0 - r) * g.weights
        b = np.full(g.n_groups, r)
        absval = np.abs(u2[g.indices]).ravel()
        best = float(_sparse_group_dual(absval, g.ptr * n_cols, a, b).max())
        free = self._free
        if free.any():
            free_max = float(np.abs(u2[free]).max())
            if free_max > 0:
                best = max(best, free_max / r if r > 0 else np.inf)
        return best

    def block_thresholds(self, n_features):
        check_penalty_features(self, n_features, "SparseGroupLasso.block_thresholds")
        g, r, lam = self.groups, self.l1_ratio, self.lam
        return groups_with_free_singletons(g, lam * r, lam * (1.0 - r) * g.weights, lam * r)

    def norm_groups(self, n_features, n_targets=1):
        if n_targets != 1:  # the l1 part of a matrix row is not a Euclidean norm
            return None
        g, r, n = self.groups, self.l1_ratio, self.groups.n_features
        indices = np.concatenate([g.indices, np.arange(n)])
        ptr = np.concatenate([g.ptr, g.ptr[-1] + 1 + np.arange(n)])
        return indices, ptr, np.concatenate([(1.0 - r) * g.weights, np.full(n, float(r))])

    def cvxpy_omega(self, x):
        import cvxpy as cp

        r = self.l1_ratio
        terms = [w * cp.norm(cp.vec(x[idx], order="C"), 2)
                 for idx, w in zip(self.groups, self.groups.weights) if w > 0]
        group_part = cp.sum(cp.hstack(terms)) if terms else cp.Constant(0.0)
        return (1.0 - r) * group_part + r * cp.sum(cp.abs(x))

    def __repr__(self):
        return f"SparseGroupLasso(n_groups={self.groups.n_groups}, lam={self.lam:g}, l1_ratio={self.l1_ratio:g})"
