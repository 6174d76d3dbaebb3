"""Group Frobenius + nuclear norm hybrid: ``lam * sum_g w_g ((1 - rank_weight) ||X_g||_F + rank_weight ||X_g||_*)``."""

import numpy as np

from .._validation import check_scalar
from ..exceptions import ShapeError, ShapeTypeError
from ..prox._group_kernels import TIE_RTOL
from .base import Penalty, as_disjoint_groups
from .nuclear_norm import check_matrix_shape
from .sparse_group_lasso import _sparse_group_dual

__all__ = ["GroupNuclear"]


class GroupNuclear(Penalty):
    """Per matrix group, a mix of the Frobenius norm (whole group off) and the nuclear norm (low rank).

    Group ``g``'s block ``x[g]`` (rows of ``x`` listed by the group, in group
    order; for a matrix variable ``(n_features, n_targets)`` those rows with
    all their columns) is flattened in C (row-major) order and reshaped to
    ``shape_g``, giving ``X_g``. So ``len(g) * n_targets`` must equal
    ``shape_g[0] * shape_g[1]``; the constructor infers ``n_targets`` (the
    same for all groups; 1 means a vector variable) and :meth:`check_x`
    enforces it. With row groups of a ``(n_features, k)`` variable and
    ``shape_g = (len(g), k)``, ``X_g`` is simply ``x[g]``.

    Since ``a ||X||_F + b ||X||_*`` is ``a ||s||_2 + b ||s||_1`` of the
    singular values ``s``, the prox per group is ``U diag(p(s)) V^T`` with
    ``p`` the sparse-group prox of ``s`` (soft-threshold by
    ``tau w_g rank_weight``, then shrink the vector by
    ``tau w_g (1 - rank_weight)``), and the dual norm is the exact
    sparse-group dual norm of the singular values (max over groups).
    Variables in no group are not penalized.

    Parameters
    ----------
    groups : Groups or list of lists of int
        Disjoint groups; their weights ``w_g`` are used.
    lam : float >= 0
    rank_weight : float in [0, 1]
        0 gives a group lasso over the blocks, 1 a sum of nuclear norms.
    shape : (int, int) or list of (int, int)
        Shape of every block, or one shape per group.

    Examples
    --------
    >>> pen = GroupNuclear([[0, 1, 2, 3]], lam=1.0, rank_weight=1.0, shape=(2, 2))
    >>> pen([3.0, 0.0, 0.0, 4.0])
    7.0
    """

    name = "group_nuclear"
    separable = True

    def __init__(self, groups, lam, rank_weight, shape):
        super().__init__(lam)
        owner = "GroupNuclear"
        self.rank_weight = check_scalar(rank_weight, "rank_weight", low=0, high=1, owner=owner)
        self.groups = groups = as_disjoint_groups(groups, "GroupNuclear")
        self.shapes, self._n_targets = self._resolve_shapes(shape, groups, owner)
        self.shape = self.shapes[0] if len(set(self.shapes)) == 1 else None
        self._free = ~self.groups.covered  # variables in no group are not penalized
        self._free.setflags(write=False)
        self._bucket_cache = None

    @staticmethod
    def _resolve_shapes(shape, groups, owner):
        single = (isinstance(shape, (tuple, list, np.ndarray)) and len(shape) == 2
                  and all(np.isscalar(d) for d in shape))
        if single:
            shapes = [check_matrix_shape(shape, "shape", owner)] * groups.n_groups
        else:
            if isinstance(shape, (str, bytes)) or not hasattr(shape, "__len__") or len(shape) != groups.n_groups:
                wrong_type = isinstance(shape, (str, bytes)) or not hasattr(shape, "__len__")
                raise (ShapeTypeError if wrong_type else ShapeError)(
                    f"The 'shape' parameter of {owner} must be a pair (n_rows, n_cols) or one pair per group "
                    f"({groups.n_groups}). Got {shape!r}."
                )
            shapes = [check_matrix_shape(s, "shape", owner) for s in shape]
        n_targets = None
        for g, (size, shp) in enumerate(zip(groups.sizes, shapes)):
            entries = shp[0] * shp[1]
            if entries % size:
                raise ShapeError(
                    f"The 'shape' parameter of {owner}: group {g} has {size} rows, which cannot fill a "
                    f"{shp} block (its {entries} entries must be len(group) * n_targets)."
                )
            k = entries // size
            if n_targets is None:
                n_targets = k
            elif k != n_targets:
                raise ShapeError(
                    f"The 'shape' parameter of {owner}: group {g} implies {k} columns per row but group 0 "
                    f"implies {n_targets}; len(group) * n_targets must equal the block size for every group."
                )
        return tuple(shapes), n_targets

    @property
    def n_features(self):
        return self.groups.n_features

    @property
    def n_targets(self):
        """Columns the variable must have (1: a vector ``(n_features,)`` or ``(n_features, 1)``)."""
        return self._n_targets

    def check_x(self, x, name="x"):
        arr = super().check_x(x, name)
        cols = 1 if arr.ndim == 1 else arr.shape[1]
        if cols != self.n_targets:
            want = f"({self.n_features},)" if self.n_targets == 1 else f"({self.n_features}, {self.n_targets})"
            raise ShapeError(
                f"The '{name}' parameter of GroupNuclear must have shape {want} so that every group fills its "
                f"block shape. Got {arr.shape}."
            )
        return arr

    def _buckets(self):
        """Groups of equal block shape, for batched SVDs: (shape, group ids, row indices (n_in_bucket, rows))."""
        if self._bucket_cache is None:
            by_shape = {}
            for g, shp in enumerate(self.shapes):
                by_shape.setdefault(shp, []).append(g)
            buckets = []
            for shp, ids in by_shape.items():
                ids = np.asarray(ids)
                rows = np.stack([self.groups[g] for g in ids])
                buckets.append((shp, ids, rows))
            self._bucket_cache = buckets
        return self._bucket_cache

    def _stacked(self, x2, shp, rows):
        """Blocks ``X_g`` of one bucket, shape (n_in_bucket, *shp): rows of x flattened in C order."""
        return x2[rows].reshape((rows.shape[0],) + shp)

    def omega(self, x):
        x2 = x.reshape(x.shape[0], -1)
        rw = self.rank_weight
        total = 0.0
        for shp, ids, rows in self._buckets():
            s = np.linalg.svd(self._stacked(x2, shp, rows), compute_uv=False)
            per_block = (1.0 - rw) * np.sqrt(np.sum(s * s, axis=1)) + rw * s.sum(axis=1)
            total += float(self.groups.weights[ids] @ per_block)
        return float(total)

    def _prox(self, v, tau):
        v2 = v.reshape(v.shape[0], -1)
        out = v2.copy()
        rw = self.rank_weight
        for shp, ids, rows in self._buckets():
            w = self.groups.weights[ids][:, None]
            stacked = self._stacked(v2, shp, rows)
            u, s, vt = np.linalg.svd(stacked, full_matrices=False)
            # values within rounding of a threshold count as ties and go to zero (see TIE_RTOL)
            t1 = tau * w * rw
            p = np.where(s > t1 * (1.0 + 0.5 * TIE_RTOL), s - t1, 0.0)
            sq = np.sum(p * p, axis=1, keepdims=True)
            t2 = tau * w * (1.0 - rw)
            with np.errstate(divide="ignore", invalid="ignore"):
                scale = np.where(sq > t2 * t2 * (1.0 + TIE_RTOL), 1.0 - t2 / np.sqrt(sq), 0.0)
            blocks = np.matmul(u * (p * scale)[:, None, :], vt)
            unpenalized = w[:, 0] == 0
            blocks[unpenalized] = stacked[unpenalized]  # weight zero: the block is left exactly as it is
            out[rows] = blocks.reshape(rows.shape + (v2.shape[1],))
        return out.reshape(v.shape)

    def _dual_norm(self, u):
        u2 = u.reshape(u.shape[0], -1)
        if self._free.any() and np.any(u2[self._free] != 0):
            return np.inf
        rw = self.rank_weight
        best = 0.0
        for shp, ids, rows in self._buckets():
            s = np.linalg.svd(self._stacked(u2, shp, rows), compute_uv=False)
            ptr = np.arange(0, s.size + 1, s.shape[1], dtype=np.int64)
            w = self.groups.weights[ids]
            per_group = _sparse_group_dual(np.ascontiguousarray(s.ravel()), ptr, (1.0 - rw) * w, rw * w)
            best = max(best, float(per_group.max()))
        return best

    def cvxpy_omega(self, x):
        import cvxpy as cp

        rw = self.rank_weight
        terms = []
        for g, (idx, shp) in enumerate(zip(self.groups, self.shapes)):
            w = self.groups.weights[g]
            if w == 0:
                continue
            flat = cp.vec(x[idx], order="C")
            terms.append(w * ((1.0 - rw) * cp.norm(flat, 2) + rw * cp.normNuc(cp.reshape(flat, shp, order="C"))))
        return cp.sum(cp.hstack(terms)) if terms else cp.Constant(0.0)

    def __repr__(self):
        return (f"GroupNuclear(n_groups={self.groups.n_groups}, lam={self.lam:g}, "
                f"rank_weight={self.rank_weight:g})")
