"""Fused z- and u-updates of consensus ADMM over stacked copies (numba and numpy twins).

The copies of group ``g`` are the contiguous rows ``ptr[g]:ptr[g+1]`` of 2-D
arrays ``(n_copies, n_targets)``. One pass computes, with ``alpha`` the
over-relaxation,

    ``h = alpha * gx + (1 - alpha) * z + u``,
    ``z_new = block soft-threshold of h by thresholds[g]``,
    ``u_new = h - z_new``,

and the squared norms ADMM's stopping test needs: ``||gx - z_new||^2``,
``||z_new||^2`` and ``||gx||^2``.
"""

import numpy as np

from .._numba import njit

__all__ = ["z_update_numba", "z_update_numpy"]


@njit
def z_update_numba(gx, z, u, ptr, thresholds, alpha):
    """Fused over-relaxation, block soft-thresholding and dual update (see the module docstring)."""
    n_cols = gx.shape[1]
    z_new = np.empty_like(gx)
    u_new = np.empty_like(gx)
    r_sq = 0.0
    z_sq = 0.0
    gx_sq = 0.0
    for g in range(ptr.size - 1):
        lo = ptr[g]
        hi = ptr[g + 1]
        sq = 0.0
        for j in range(lo, hi):
            for c in range(n_cols):
                h = alpha * gx[j, c] + (1.0 - alpha) * z[j, c] + u[j, c]
                u_new[j, c] = h  # holds h until the scale is known
                sq += h * h
        t = thresholds[g]
        if t == 0.0:
            scale = 1.0
        elif sq > t * t:
            scale = 1.0 - t / np.sqrt(sq)
        else:
            scale = 0.0
        for j in range(lo, hi):
            for c in range(n_cols):
                h = u_new[j, c]
                zn = scale * h
                z_new[j, c] = zn
                u_new[j, c] = h - zn
                d = gx[j, c] - zn
                r_sq += d * d
                z_sq += zn * zn
                gx_sq += gx[j, c] * gx[j, c]
    return z_new, u_new, r_sq, z_sq, gx_sq


def z_update_numpy(gx, z, u, ptr, thresholds, alpha):
    """Numpy twin of :func:`z_update_numba`."""
    h = alpha * gx + (1.0 - alpha) * z + u
    norms = np.sqrt(np.add.reduceat((h * h).sum(axis=1), ptr[:-1]))
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = np.where(norms > thresholds, 1.0 - thresholds / norms, 0.0)
    scale = np.where(thresholds == 0.0, 1.0, scale)
    z_new = h * np.repeat(scale, np.diff(ptr))[:, None]
    u_new = h - z_new
    d = gx - z_new
    return z_new, u_new, float((d * d).sum()), float((z_new * z_new).sum()), float((gx * gx).sum())
