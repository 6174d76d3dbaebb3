"""Direct convolution of small batches with few input channels (a network's first layer), NHWC.

For a first layer on a handful of samples, im2col's copies (one strided copy
per kernel offset and channel) and a product with an inner dimension of
``kh * kw * C`` (9 for one channel) cost more than the arithmetic:
measured on the digits CNN's 1 -> 32 layer at batch 1, 19 us by im2col
against 5 us here. At batch 256 im2col wins (250 against 655 us), so
:class:`~structsparse.nn.Conv2D` uses this kernel below ``DIRECT_MAX_PIXELS``
output pixels only. ``direct_conv`` is an ``@njit(cache=True)`` kernel;
``direct_conv_np`` is its numpy twin (the reference in the tests, and the
path when numba is disabled). ``direct_conv_into`` writes into the interior of a
padded buffer, with a ReLU applied to each output pixel while it is in cache
when asked: the inference plan (:mod:`._plan`) writes ``relu(conv(x))`` straight
into the next convolution's padded input with it.
"""

import numpy as np

from .._numba import NUMBA_ENABLED, njit
from ._im2col import im2col

__all__ = ["direct_conv", "direct_conv_np", "direct_conv_into", "direct_conv_into_np", "NUMBA_ENABLED"]


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



@njit
def direct_conv_into(xp, W, b, out, stride, off, relu):
    """:func:`direct_conv` (then a ReLU when ``relu``) written into the interior of a padded buffer.

    ``out``: ``(n, Ho + 2 off, Wo + 2 off, F)``, C-contiguous; ``out[s, off + y, off + x, :]`` is written, the
    border is not touched (the next convolution's zero padding). Writing into a contiguous array with an offset
    rather than into a strided view of its interior keeps the kernel's dispatch and stores fast.
    """
    n, hp, wp, f = out.shape
    ho, wo = hp - 2 * off, wp - 2 * off
    kh, kw, c = W.shape[0], W.shape[1], W.shape[2]
    for s in range(n):
        for y in range(ho):
            for x in range(wo):
                o = out[s, off + y, off + x]
                for k in range(f):
                    o[k] = b[k]
                for i in range(kh):
                    for j in range(kw):
                        for ch in range(c):
                            v = xp[s, y * stride + i, x * stride + j, ch]
                            w = W[i, j, ch]
                            for k in range(f):
                                o[k] += v * w[k]
                if relu:
                    for k in range(f):
                        if o[k] < 0:
                            o[k] = 0


def direct_conv_into_np(xp, W, b, out, stride, off, relu):
    """Numpy twin of :func:`direct_conv_into` (same arguments, same result)."""
    n, hp, wp, f = out.shape
    inner = out[:, off:hp - off, off:wp - off, :]
    res = np.empty(inner.shape, dtype=out.dtype)
    direct_conv_np(xp, W, b, res, stride)
    inner[...] = np.maximum(res, 0) if relu else res
