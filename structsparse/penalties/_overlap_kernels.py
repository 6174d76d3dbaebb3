"""Block-coordinate kernels for the prox of sums of norms over overlapping groups.

Both prox problems below are solved by exact block-coordinate steps over the
groups, on 2-D arrays ``(n_features, n_columns)`` (a group's norm is taken
over its rows and all columns). A block variable ``c`` has one row per entry
of the flat ``indices`` (group ``g`` owns ``c[ptr[g]:ptr[g+1]]``), and the
kernels maintain the residual ``r = v - G^T c``, where ``G`` selects the rows
of each group, so one block step costs ``O(|g| * n_columns)``.

``mode == 0``: overlapping group lasso. ``c`` is the dual variable ``xi`` of
``min_x 0.5 ||x - v||^2 + sum_g radius_g ||x[g]||``; the dual is
``min_xi 0.5 ||v - G^T xi||^2`` s.t. ``||xi_g|| <= radius_g``, a block step is
a projection on a ball, and the prox is ``x = r``. The duality gap is
``sum_g (radius_g ||r[g]|| - <r[g], xi_g>)``.

``mode == 1``: latent group lasso. ``c`` is the latent vector ``z`` of
``min_z 0.5 ||v - G^T z||^2 + sum_g radius_g ||z_g||``, a block step is block
soft-thresholding, and the prox is ``x = G^T z = v - r``. The gap uses the
dual point ``theta = r / max(1, max_g ||r[g]|| / radius_g)``.

Both return ``(c, r, n_sweeps, gap)`` and stop once ``gap <= tol``
(checked every ``check_every`` sweeps) or after ``max_sweeps`` sweeps.
"""

import numpy as np

from .._numba import njit

__all__ = ["overlap_bcd_numba", "overlap_bcd_numpy", "overlap_gap_numba", "overlap_gap_numpy"]


@njit
def overlap_gap_numba(mode, v, r, c, indices, ptr, radii):
    """Duality gap of the current iterate (see the module docstring)."""
    n_cols = v.shape[1]
    n_groups = ptr.size - 1
    if mode == 0:
        gap = 0.0
        for g in range(n_groups):
            sq = 0.0
            dot = 0.0
            for j in range(ptr[g], ptr[g + 1]):
                row = indices[j]
                for k in range(n_cols):
                    sq += r[row, k] * r[row, k]
                    dot += r[row, k] * c[j, k]
            gap += radii[g] * np.sqrt(sq) - dot
        return max(gap, 0.0)
    # latent: primal value, then a feasible dual point by scaling r
    primal = 0.0
    for i in range(r.shape[0]):
        for k in range(n_cols):
            primal += 0.5 * r[i, k] * r[i, k]
    scale = 1.0
    for g in range(n_groups):
        sq_r = 0.0
        sq_c = 0.0
        for j in range(ptr[g], ptr[g + 1]):
            row = indices[j]
            for k in range(n_cols):
                sq_r += r[row, k] * r[row, k]
                sq_c += c[j, k] * c[j, k]
        primal += radii[g] * np.sqrt(sq_c)
        nr = np.sqrt(sq_r)
        if radii[g] > 0.0:
            if nr / radii[g] > scale:
                scale = nr / radii[g]
        elif nr > 0.0:
            return np.inf
    dual = 0.0
    for i in range(r.shape[0]):
        for k in range(n_cols):
            th = r[i, k] / scale
            d = v[i, k] - th
            dual += 0.5 * (v[i, k] * v[i, k] - d * d)
    return max(primal - dual, 0.0)


@njit
def overlap_bcd_numba(mode, v, c, indices, ptr, radii, tol, max_sweeps, check_every):
    """Block-coordinate descent for the prox problems of the module docstring."""
    n_cols = v.shape[1]
    n_groups = ptr.size - 1
    c = c.copy()
    r = v.copy()
    for j in range(indices.size):
        row = indices[j]
        for k in range(n_cols):
            r[row, k] -= c[j, k]
    a = np.empty((indices.size, n_cols))
    gap = np.inf
    sweep = 0
    while sweep < max_sweeps:
        sweep += 1
        for g in range(n_groups):
            sq = 0.0
            for j in range(ptr[g], ptr[g + 1]):
                row = indices[j]
                for k in range(n_cols):
                    a[j, k] = r[row, k] + c[j, k]
                    sq += a[j, k] * a[j, k]
            nrm = np.sqrt(sq)
            rad = radii[g]
            if mode == 0:  # projection on the ball of radius rad
                s = 1.0 if nrm <= rad else rad / nrm
            else:  # block soft-thresholding by rad
                s = 1.0 - rad / nrm if nrm > rad else 0.0
            for j in range(ptr[g], ptr[g + 1]):
                row = indices[j]
                for k in range(n_cols):
                    c[j, k] = s * a[j, k]
                    r[row, k] = a[j, k] - c[j, k]
        if sweep % check_every == 0 or sweep == max_sweeps:
            gap = overlap_gap_numba(mode, v, r, c, indices, ptr, radii)
            if gap <= tol:
                break
    return c, r, sweep, gap


def overlap_gap_numpy(mode, v, r, c, indices, ptr, radii):
    """Numpy twin of :func:`overlap_gap_numba`."""
    starts = ptr[:-1]
    rg = r[indices]
    norm_r = np.sqrt(np.add.reduceat((rg * rg).sum(axis=1), starts))
    if mode == 0:
        dots = np.add.reduceat((rg * c).sum(axis=1), starts)
        return max(float(radii @ norm_r - dots.sum()), 0.0)
    norm_c = np.sqrt(np.add.reduceat((c * c).sum(axis=1), starts))
    primal = 0.5 * float((r * r).sum()) + float(radii @ norm_c)
    pos = radii > 0
    if np.any(norm_r[~pos] > 0):
        return np.inf
    scale = max(1.0, float(np.max(norm_r[pos] / radii[pos]))) if pos.any() else 1.0
    theta = r / scale
    dual = 0.5 * float((v * v).sum()) - 0.5 * float(((v - theta) ** 2).sum())
    return max(primal - dual, 0.0)


def overlap_bcd_numpy(mode, v, c, indices, ptr, radii, tol, max_sweeps, check_every):
    """Numpy twin of :func:`overlap_bcd_numba` (same sweeps, group by group)."""
    c = c.copy()
    r = v.copy()
    np.subtract.at(r, indices, c)
    gap = np.inf
    sweep = 0
    while sweep < max_sweeps:
        sweep += 1
        for g in range(ptr.size - 1):
            lo, hi = ptr[g], ptr[g + 1]
            rows = indices[lo:hi]
            a = r[rows] + c[lo:hi]
            nrm = float(np.sqrt((a * a).sum()))
            rad = radii[g]
            if mode == 0:
                s = 1.0 if nrm <= rad else rad / nrm
            else:
                s = 1.0 - rad / nrm if nrm > rad else 0.0
            c[lo:hi] = s * a
            r[rows] = a - c[lo:hi]
        if sweep % check_every == 0 or sweep == max_sweeps:
            gap = overlap_gap_numpy(mode, v, r, c, indices, ptr, radii)
            if gap <= tol:
                break
    return c, r, sweep, gap
