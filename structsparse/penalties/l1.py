"""The lasso penalty ``lam * ||x||_1``."""

import numpy as np

from .base import Penalty

__all__ = ["L1"]


class L1(Penalty):
    """``lam * sum_i |x_i|`` (entrywise, also for matrix variables).

    Parameters
    ----------
    lam : float >= 0
    """

    name = "l1"
    separable = True

    @property
    def n_features(self):
        return None

    def omega(self, x):
        return float(np.abs(x).sum())

    def _prox(self, v, tau):
        return np.sign(v) * np.maximum(np.abs(v) - tau, 0.0)

    def _dual_norm(self, u):
        return float(np.abs(u).max()) if np.size(u) else 0.0

    def block_thresholds(self, n_features):
        # nothing per feature is stored: block g is feature g (idx a view of ptr, one array for both) and the
        # weights are read-only broadcast views of lam and 0; the index is int32 while p + 1 fits (4 bytes a
        # feature instead of 32, see _block_spec)
        n = int(n_features)
        ptr = np.arange(n + 1, dtype=np.int32 if n < np.iinfo(np.int32).max else np.int64)
        ptr.setflags(write=False)
        return (ptr[:-1], ptr, np.broadcast_to(np.float64(self.lam), (n,)), np.broadcast_to(np.float64(0.0), (n,)))

    def norm_groups(self, n_features, n_targets=1):
        if n_targets != 1:  # the l1 norm of a matrix row is not a Euclidean norm
            return None
        n = int(n_features)
        return np.arange(n, dtype=np.int64), np.arange(n + 1, dtype=np.int64), np.ones(n)

    def cvxpy_omega(self, x):
        import cvxpy as cp

        return cp.sum(cp.abs(x))
