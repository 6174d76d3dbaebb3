"""Block soft-thresholding kernels over flat group arrays (numba and numpy twins).

Both operate on a 2-D array ``v`` of shape ``(n_features, n_columns)``: the
norm of a group is taken over its rows and all columns, which is what a
multi-task (several right-hand sides) group lasso needs.
"""

import numpy as np

from .._numba import njit

__all__ = ["group_shrink_numba", "group_shrink_numpy", "TIE_RTOL"]

#: A group whose squared norm exceeds the squared threshold by less than this
#: relative amount is set to zero. That is rounding level (the exact scale
#: there is below 1e-13), and it makes the prox exactly zero at
#: ``lam = lambda_max`` even though the dual norm and the kernel sum the
#: squares in different orders. numba freezes it into the cached machine
#: code, also of ``_tree_kernels``: after changing it, touch that file too.
TIE_RTOL = 2e-13


@njit
def group_shrink_numba(v, indices, ptr, thresholds):
    """Return ``v`` with group ``g`` scaled by ``max(0, 1 - thresholds[g] / ||v[g]||)``."""
    out = v.copy()
    n_cols = v.shape[1]
    for g in range(ptr.size - 1):
        t = thresholds[g]
        if t == 0.0:
            continue
        sq = 0.0
        for j in range(ptr[g], ptr[g + 1]):
            row = indices[j]
            for c in range(n_cols):
                sq += v[row, c] * v[row, c]
        if sq > t * t * (1.0 + TIE_RTOL):
            scale = 1.0 - t / np.sqrt(sq)
        else:
            scale = 0.0
        for j in range(ptr[g], ptr[g + 1]):
            row = indices[j]
            for c in range(n_cols):
                out[row, c] = v[row, c] * scale
    return out


def group_shrink_numpy(v, indices, ptr, thresholds):
    """Numpy twin of :func:`group_shrink_numba`."""
    out = v.copy()
    vi = v[indices]
    sq = np.add.reduceat((vi * vi).sum(axis=1), ptr[:-1])
    norms = np.sqrt(sq)
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = np.where(sq > thresholds * thresholds * (1.0 + TIE_RTOL), 1.0 - thresholds / norms, 0.0)
    scale = np.where(thresholds == 0.0, 1.0, scale)
    out[indices] = vi * np.repeat(scale, np.diff(ptr))[:, None]
    return out
