"""Winograd F(2x2, 3x3) for 3x3, stride-1 convolutions in evaluation (NHWC).

A 3x3 convolution (cross-correlation, as :class:`~structsparse.nn.Conv2D`
computes it) of a 4x4 input tile ``d`` gives a 2x2 output tile
``Y = A^T [(G g G^T) * (B^T d B)] A`` (Lavin and Gray 2016, "Fast Algorithms
for Convolutional Neural Networks"). Summed over input channels, the
elementwise product becomes 16 independent matrix products
``M[k] = V[k] @ U[k]`` with ``V[k]`` of shape ``(tiles, Cin)`` and ``U[k]`` of
shape ``(Cin, Cout)``: 16 * Cin * Cout multiplications per 2x2 output tile
instead of 36 * Cin * Cout, the same BLAS kernels doing 2.25x less work. The
transforms' coefficients are 0, +-1 and +-1/2, so float32 rounding stays at
the level of the direct product.

The input and output transforms are ``@njit(cache=True)`` kernels with numpy
twins (the twins are the reference the tests compare against, and the path
taken when numba is disabled). Nothing here counts FLOPs: the network's FLOP
count stays that of the direct convolution, for every network alike.
"""

import numpy as np

from .._numba import NUMBA_ENABLED, njit

__all__ = ["filter_transform", "input_transform", "input_transform_np", "output_transform",
           "output_transform_np", "output_transform_pool", "output_transform_pool_np", "NUMBA_ENABLED"]

_G = np.array([[1.0, 0.0, 0.0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0.0, 0.0, 1.0]])
_GG = np.kron(_G, _G)   # (16, 9): row 4a + b, column 3i + j holds G[a, i] G[b, j]


def filter_transform(W):
    """``U[k] = (G g G^T)[k // 4, k % 4]`` for weights ``(3, 3, Cin, Cout)``: shape ``(16, Cin, Cout)``, W's dtype.

    One product: ``U[4a + b] = sum_ij G[a, i] G[b, j] g[i, j] = (G kron G) @ g`` over the 9 kernel taps.
    """
    cin, cout = W.shape[2], W.shape[3]
    return (_GG.astype(W.dtype) @ W.reshape(9, cin * cout)).reshape(16, cin, cout)


@njit
def input_transform(xp, V, th, tw):
    """``V[k, t, :] = (B^T d_t B)[k // 4, k % 4]`` for every 4x4 tile ``d_t`` of the padded batch ``xp``.

    ``xp``: ``(n, >= 2 th + 2, >= 2 tw + 2, C)``; tile ``t = (s * th + ty) * tw + tx`` starts at row
    ``2 ty`` and column ``2 tx`` of sample ``s``. ``V``: ``(16, n * th * tw, C)``, written.

    Each entry of ``B^T d B`` is a signed sum of four input pixels (each row of ``B^T`` has two nonzeros,
    +-1), computed as one loop over channels with one store stream (many stores per loop kept LLVM from
    vectorizing it).
    """
    n = xp.shape[0]
    c = xp.shape[3]
    t = 0
    for s in range(n):
        for ty in range(th):
            r = 2 * ty
            for tx in range(tw):
                q = 2 * tx
                for i in range(4):
                    # row i of B^T: rows (0, 2), (1, 2), (1, 2), (1, 3) with signs (+-), (++), (-+), (+-)
                    l1 = 0 if i == 0 else 1
                    l2 = 3 if i == 3 else 2
                    sa = np.float32(-1.0) if i == 2 else np.float32(1.0)
                    sb = np.float32(1.0) if i in (1, 2) else np.float32(-1.0)
                    for j in range(4):
                        m1 = 0 if j == 0 else 1
                        m2 = 3 if j == 3 else 2
                        ta = np.float32(-1.0) if j == 2 else np.float32(1.0)
                        tb = np.float32(1.0) if j in (1, 2) else np.float32(-1.0)
                        a = xp[s, r + l1, q + m1]
                        b = xp[s, r + l1, q + m2]
                        cc = xp[s, r + l2, q + m1]
                        d = xp[s, r + l2, q + m2]
                        o = V[4 * i + j, t]
                        w1, w2, w3, w4 = sa * ta, sa * tb, sb * ta, sb * tb
                        for ch in range(c):
                            o[ch] = w1 * a[ch] + w2 * b[ch] + w3 * cc[ch] + w4 * d[ch]
                t += 1


def input_transform_np(xp, V, th, tw):
    """Numpy twin of :func:`input_transform` (same arguments, same result)."""
    n, c = xp.shape[0], xp.shape[3]
    d = [[xp[:, i:i + 2 * th:2, j:j + 2 * tw:2, :] for j in range(4)] for i in range(4)]  # (n, th, tw, c) each
    rows = [[d[0][j] - d[2][j] for j in range(4)], [d[1][j] + d[2][j] for j in range(4)],
            [d[2][j] - d[1][j] for j in range(4)], [d[1][j] - d[3][j] for j in range(4)]]
    for i, a in enumerate(rows):
        for j, v in enumerate((a[0] - a[2], a[1] + a[2], a[2] - a[1], a[1] - a[3])):
            V[4 * i + j] = v.reshape(n * th * tw, c)


@njit
def _tile(M, t, k):
    """The 2x2 output tile ``A^T m A`` of tile ``t``, filter ``k`` (``m`` stored as ``M[0:16, t, k]``, row-major)."""
    p0 = M[0, t, k] + M[4, t, k] + M[8, t, k]     # A^T m: two rows of four
    p1 = M[1, t, k] + M[5, t, k] + M[9, t, k]
    p2 = M[2, t, k] + M[6, t, k] + M[10, t, k]
    p3 = M[3, t, k] + M[7, t, k] + M[11, t, k]
    g0 = M[4, t, k] - M[8, t, k] - M[12, t, k]
    g1 = M[5, t, k] - M[9, t, k] - M[13, t, k]
    g2 = M[6, t, k] - M[10, t, k] - M[14, t, k]
    g3 = M[7, t, k] - M[11, t, k] - M[15, t, k]
    return p0 + p1 + p2, p1 - p2 - p3, g0 + g1 + g2, g1 - g2 - g3


@njit
def output_transform(M, b, out, th, tw):
    """``out[s, 2 ty + u, 2 tx + v, :] = (A^T m_t A)[u, v] + b`` from ``M`` ``(16, n * th * tw, F)``.

    ``out``: ``(n, Ho, Wo, F)``; rows and columns past ``Ho``/``Wo`` (odd sizes) are not written.
    """
    n, ho, wo, f = out.shape
    t = 0
    for s in range(n):
        for ty in range(th):
            r = 2 * ty
            for tx in range(tw):
                q = 2 * tx
                for k in range(f):
                    y00, y01, y10, y11 = _tile(M, t, k)
                    bk = b[k]
                    out[s, r, q, k] = y00 + bk
                    if q + 1 < wo:
                        out[s, r, q + 1, k] = y01 + bk
                    if r + 1 < ho:
                        out[s, r + 1, q, k] = y10 + bk
                        if q + 1 < wo:
                            out[s, r + 1, q + 1, k] = y11 + bk
                t += 1


def output_transform_np(M, b, out, th, tw):
    """Numpy twin of :func:`output_transform` (same arguments, same result)."""
    n, ho, wo, f = out.shape
    m = M.reshape(4, 4, n, th, tw, f)
    p = m[0] + m[1] + m[2]     # (4, n, th, tw, f): first row of A^T m, by column
    g = m[1] - m[2] - m[3]
    full = np.empty((n, 2 * th, 2 * tw, f), dtype=out.dtype)
    for u, rowv in enumerate((p, g)):
        full[:, u::2, 0::2, :] = rowv[0] + rowv[1] + rowv[2] + b
        full[:, u::2, 1::2, :] = rowv[1] - rowv[2] - rowv[3] + b
    out[...] = full[:, :ho, :wo, :]


@njit
def output_transform_pool(M, b, out, th, tw, relu):
    """:func:`output_transform` followed by a 2x2, stride-2 max pool (and a ReLU when ``relu``), in one pass.

    A 2x2 output tile is exactly one pooling window, so ``out[s, ty, tx, :] = max over the tile + b``
    (the bias commutes with the maximum), ``relu(max(.)) = max(0, .)``. ``out``: ``(n, Ho // 2, Wo // 2, F)``;
    tiles past it (odd ``Ho``/``Wo``) are dropped as the pool drops them.
    """
    n, ph, pw, f = out.shape
    t = 0
    for s in range(n):
        for ty in range(th):
            for tx in range(tw):
                if ty < ph and tx < pw:
                    o = out[s, ty, tx]
                    for k in range(f):
                        y00, y01, y10, y11 = _tile(M, t, k)
                        m = max(max(y00, y01), max(y10, y11)) + b[k]
                        if relu and m < 0:
                            m = 0
                        o[k] = m
                t += 1


def output_transform_pool_np(M, b, out, th, tw, relu):
    """Numpy twin of :func:`output_transform_pool` (same arguments, same result)."""
    n, ph, pw, f = out.shape
    full = np.empty((n, 2 * th, 2 * tw, f), dtype=out.dtype)
    output_transform_np(M, b, full, th, tw)
    win = full[:, :2 * ph, :2 * pw].reshape(n, ph, 2, pw, 2, f)
    res = win.max(axis=(2, 4))
    out[...] = np.maximum(res, 0) if relu else res
