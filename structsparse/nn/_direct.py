"""Direct convolution of small batches with few input channels (a network's first layer), NHWC.

For a first layer on a handful of samples, im2col's copies (one strided copy
per kernel offset and channel) and a product with an inner dimension of
``kh * kw * C`` (9 for one channel) cost more than the arithmetic:
measured on the digits CNN's 1 -> 32 layer at batch 1, 19 us by im2col
against 5 us here. At batch 256 im2col wins (250 against 655 us), so
:class:`~structsparse.nn.Conv2D` uses this kernel below ``DIRECT_MAX_PIXELS``
output pixels only. ``direct_conv`` is an ``@njit(cache=True)`` kernel;
``direct_conv_np`` is its numpy twin (the reference in the tests, and the
path when numba is disabled).
"""

import numpy as np

from .._numba import NUMBA_ENABLED, njit
from ._im2col import im2col

__all__ = ["direct_conv", "direct_conv_np", "NUMBA_ENABLED"]


@njit
def direct_conv(xp, W, b, out, stride):
    """``out[s, y, x, :] = b + sum_ijc xp[s, y * stride + i, x * stride + j, c] * W[i, j, c, :]``.

    ``xp``: the padded batch ``(n, Hp, Wp, C)``; ``W``: ``(kh, kw, C, F)``; ``out``: ``(n, Ho, Wo, F)``, written.
    """
    n, ho, wo, f = out.shape
    kh, kw, c = W.shape[0], W.shape[1], W.shape[2]
    for s in range(n):
        for y in range(ho):
            for x in range(wo):
                o = out[s, y, x]
                for k in range(f):
                    o[k] = b[k]
                for i in range(kh):
                    for j in range(kw):
                        for ch in range(c):
                            v = xp[s, y * stride + i, x * stride + j, ch]
                            w = W[i, j, ch]
                            for k in range(f):
                                o[k] += v * w[k]


def direct_conv_np(xp, W, b, out, stride):
    """Numpy twin of :func:`direct_conv` (same arguments, same result), by im2col."""
    kh, kw, c, f = W.shape
    cols, ho, wo = im2col(xp, kh, kw, stride, 0)
    out[...] = (cols @ W.reshape(-1, f) + b).reshape(out.shape)
