"""Exact dual norm of ``a ||.||_2 + b ||.||_1`` on segments of a flat array (numba and numpy twins).

The dual norm of ``N(x) = a ||x||_2 + b ||x||_1`` is the smallest ``t >= 0``
with ``u`` in ``t * (a B_2 + b B_inf)``, i.e. with
``||ST(u, b t)||_2 <= a t`` (``ST`` the entrywise soft-threshold): the
distance from ``u`` to the box ``b t B_inf`` must be at most ``a t``.

``f(t) = ||ST(u, b t)||_2^2 - a^2 t^2`` is decreasing. Between two
consecutive breakpoints ``|u|_(k+1) / b <= t <= |u|_(k) / b`` (``|u|``
sorted in decreasing order) exactly ``k`` entries are active and
``f(t) = S2_k - 2 b t S1_k + (k b^2 - a^2) t^2`` with ``S1_k, S2_k`` the sum
and sum of squares of the ``k`` largest ``|u_i|``. Scanning the breakpoints
from the largest finds the piece holding the root; the root of that
quadratic is then taken in closed form, written as
``t = S2 / (b S1 + sqrt(b^2 S1^2 - (k b^2 - a^2) S2))``, which has no
cancellation. The result is exact up to rounding, with no iteration.

This serves the sparse-group lasso (one segment per group) and the
group + nuclear hybrid (the segment is the singular values of a block).
"""

import numpy as np

from .._numba import njit

__all__ = ["sparse_group_dual_numba", "sparse_group_dual_numpy"]


@njit
def _segment_dual_numba(s, a, b):
    """Dual norm of ``a ||.||_2 + b ||.||_1`` at a vector whose absolute values, decreasing, are ``s``."""
    n = s.size
    if n == 0 or s[0] == 0.0:
        return 0.0
    if b == 0.0:
        if a == 0.0:
            return np.inf
        sq = 0.0
        for i in range(n):
            sq += s[i] * s[i]
        return np.sqrt(sq) / a
    if a == 0.0:
        return s[0] / b
    r2 = (a / b) * (a / b)
    s1 = 0.0
    s2 = 0.0
    for k in range(n):
        s1 += s[k]
        s2 += s[k] * s[k]
        nxt = s[k + 1] if k + 1 < n else 0.0
        # f at the next breakpoint t = nxt / b, scaled by b^2, with entries 0..k active
        f = s2 - 2.0 * nxt * s1 + (k + 1) * nxt * nxt - r2 * nxt * nxt
        if f > 0.0 or k == n - 1:
            quad = (k + 1) * b * b - a * a
            disc = b * b * s1 * s1 - quad * s2
            if disc < 0.0:
                disc = 0.0
            return s2 / (b * s1 + np.sqrt(disc))
    return 0.0  # unreachable


@njit
def _sort_descending_into(src, buf):
    """Copy ``src`` into ``buf[:src.size]`` sorted in decreasing order (insertion sort for short segments)."""
    m = src.size
    if m > 32:
        srt = np.sort(src)
        for i in range(m):
            buf[i] = srt[m - 1 - i]
        return
    for i in range(m):
        x = src[i]
        j = i - 1
        while j >= 0 and buf[j] < x:
            buf[j + 1] = buf[j]
            j -= 1
        buf[j + 1] = x


@njit
def sparse_group_dual_numba(absval, ptr, a, b):
    """Per segment ``g`` (``absval[ptr[g]:ptr[g+1]]``, non-negative), the dual norm of ``a[g] ||.||_2 + b[g] ||.||_1``."""
    n_seg = ptr.size - 1
    out = np.empty(n_seg)
    longest = 0
    for g in range(n_seg):
        longest = max(longest, ptr[g + 1] - ptr[g])
    buf = np.empty(longest)
    for g in range(n_seg):
        m = ptr[g + 1] - ptr[g]
        _sort_descending_into(absval[ptr[g]:ptr[g + 1]], buf)
        out[g] = _segment_dual_numba(buf[:m], a[g], b[g])
    return out


def _segment_dual_numpy(s, a, b):
    if s.size == 0 or s[0] == 0.0:
        return 0.0
    if b == 0.0:
        return np.inf if a == 0.0 else float(np.sqrt(np.sum(s * s)) / a)
    if a == 0.0:
        return float(s[0] / b)
    count = np.arange(1, s.size + 1, dtype=float)
    s1 = np.cumsum(s)
    s2 = np.cumsum(s * s)
    nxt = np.append(s[1:], 0.0)
    f = s2 - 2.0 * nxt * s1 + count * nxt * nxt - (a / b) ** 2 * nxt * nxt
    f[-1] = 1.0  # f(0) = ||u||^2 > 0: the last piece always holds the root if no earlier one does
    k = int(np.argmax(f > 0.0))
    quad = count[k] * b * b - a * a
    disc = max(b * b * s1[k] ** 2 - quad * s2[k], 0.0)
    return float(s2[k] / (b * s1[k] + np.sqrt(disc)))


def sparse_group_dual_numpy(absval, ptr, a, b):
    """Numpy twin of :func:`sparse_group_dual_numba`."""
    out = np.empty(ptr.size - 1)
    for g in range(ptr.size - 1):
        seg = np.sort(absval[ptr[g]:ptr[g + 1]])[::-1]
        out[g] = _segment_dual_numpy(seg, a[g], b[g])
    return out
