"""The group lasso ``lam * sum_g w_g ||x[g]||_2`` over disjoint groups."""

import numpy as np

from ..prox.operators import _group_shrink
from .base import Penalty, as_disjoint_groups, check_penalty_features, group_norms, groups_with_free_singletons

__all__ = ["GroupLasso"]


class GroupLasso(Penalty):
    """Group lasso over disjoint groups; its prox is block soft-thresholding.

    Variables in no group are not penalized. For groups that share
    variables use :class:`OverlapGroupLasso`.

    Parameters
    ----------
    groups : Groups or list of lists of int
        Disjoint groups; their weights ``w_g`` are used.
    lam : float >= 0
    """

    name = "group_lasso"
    separable = True

    def __init__(self, groups, lam):
        super().__init__(lam)
        self.groups = as_disjoint_groups(groups, "GroupLasso")

    @property
    def n_features(self):
        return self.groups.n_features

    def omega(self, x):
        return float(self.groups.weights @ group_norms(x, self.groups))

    def _prox(self, v, tau):
        v2 = v.reshape(v.shape[0], -1)
        return _group_shrink(v2, self.groups.indices, self.groups.ptr, tau * self.groups.weights).reshape(v.shape)

    def _dual_norm(self, u):
        u = np.asarray(u, dtype=float)
        norms = group_norms(u, self.groups)
        return _weighted_max(norms, self.groups.weights, _free_norm(u, self.groups))

    def block_thresholds(self, n_features):
        check_penalty_features(self, n_features, "GroupLasso.block_thresholds")
        g = self.groups
        return groups_with_free_singletons(g, 0.0, self.lam * g.weights, 0.0)

    def norm_groups(self, n_features, n_targets=1):
        g = self.groups
        return g.indices, g.ptr, g.weights

    def cvxpy_omega(self, x):
        import cvxpy as cp

        terms = [w * cp.norm(cp.vec(x[idx], order="C"), 2)
                 for idx, w in zip(self.groups, self.groups.weights) if w > 0]
        return cp.sum(cp.hstack(terms)) if terms else cp.Constant(0.0)


def _free_norm(u, groups):
    """Largest absolute entry of ``u`` on variables that no group penalizes."""
    free = ~groups.covered
    return float(np.abs(u[free]).max()) if free.any() else 0.0


def _weighted_max(norms, weights, free_norm):
    """``max_g norms[g] / weights[g]``, infinite where a zero weight meets a nonzero norm."""
    if free_norm > 0:
        return np.inf
    pos = weights > 0
    if np.any(norms[~pos] > 0):
        return np.inf
    return float(np.max(norms[pos] / weights[pos])) if pos.any() else 0.0
