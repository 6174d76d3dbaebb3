"""Direct convolution of small batches with few input channels (a network's first layer), NHWC.

For a first layer on a handful of samples, im2col's copies (one strided copy
per kernel offset and channel) and a product with an inner dimension of
``kh * kw * C`` (9 for one channel) cost more than the arithmetic:
measured on the digits CNN's 1 -> 32 layer at batch 1, 19 us by im2col
against 5 us here. At batch 256 im2col wins (250 against 655 us), so
:class:`~structsparse.nn.Conv2D` uses this kernel below ``DIRECT_MAX_PIXELS``
output pixels only. ``direct_conv`` is an ``@njit(cache=True)`` kernel;
``direct_conv_np`` is its numpy twin (the reference in the tests, and the
path when numba is disabled). ``direct_conv_into`` pads on the fly (no padded
copy of its input) and writes into the interior of a padded buffer, with a ReLU
applied to each output pixel while it is in cache when asked: the inference
plan (:mod:`._plan`) writes ``relu(conv(x))`` straight into the next
convolution's padded input with it.
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
def _at(x, s, r, q, ch, h, w, relu_in):
    """``x[s, r, q, ch]`` (after a ReLU when ``relu_in``), zero outside the ``h`` x ``w`` image."""
    if r < 0 or r >= h or q < 0 or q >= w:
        return np.float32(0.0)
    v = x[s, r, q, ch]
    if relu_in and v < 0:
        return np.float32(0.0)
    return v


@njit
def _into_3x3(x, W, b, out, stride, pad, off, relu_in, relu):
    """:func:`direct_conv_into` for 3x3 kernels: per pixel and channel the 9 inputs are read once, then one pass
    over the filters adds the 9 products (one loop entry per pixel and channel instead of 9)."""
    n, hp, wp, f = out.shape
    ho, wo = hp - 2 * off, wp - 2 * off
    h, w_in, c = x.shape[1], x.shape[2], W.shape[2]
    for s in range(n):
        for y in range(ho):
            r = y * stride - pad
            for xo in range(wo):
                q = xo * stride - pad
                o = out[s, off + y, off + xo]
                for k in range(f):
                    o[k] = b[k]
                for ch in range(c):
                    p00 = _at(x, s, r, q, ch, h, w_in, relu_in)
                    p01 = _at(x, s, r, q + 1, ch, h, w_in, relu_in)
                    p02 = _at(x, s, r, q + 2, ch, h, w_in, relu_in)
                    p10 = _at(x, s, r + 1, q, ch, h, w_in, relu_in)
                    p11 = _at(x, s, r + 1, q + 1, ch, h, w_in, relu_in)
                    p12 = _at(x, s, r + 1, q + 2, ch, h, w_in, relu_in)
                    p20 = _at(x, s, r + 2, q, ch, h, w_in, relu_in)
                    p21 = _at(x, s, r + 2, q + 1, ch, h, w_in, relu_in)
                    p22 = _at(x, s, r + 2, q + 2, ch, h, w_in, relu_in)
                    w00, w01, w02 = W[0, 0, ch], W[0, 1, ch], W[0, 2, ch]
                    w10, w11, w12 = W[1, 0, ch], W[1, 1, ch], W[1, 2, ch]
                    w20, w21, w22 = W[2, 0, ch], W[2, 1, ch], W[2, 2, ch]
                    for k in range(f):
                        o[k] += (p00 * w00[k] + p01 * w01[k] + p02 * w02[k] + p10 * w10[k] + p11 * w11[k]
                                 + p12 * w12[k] + p20 * w20[k] + p21 * w21[k] + p22 * w22[k])
                if relu:
                    for k in range(f):
                        if o[k] < 0:
                            o[k] = 0


@njit
def direct_conv_into(x, W, b, out, stride, pad, off, relu_in, relu):
    """:func:`direct_conv` of the unpadded batch ``x`` with zero padding ``pad``, written into the interior of a
    padded buffer; ``relu_in`` applies a ReLU to ``x`` first, ``relu`` one to the result.

    ``x``: ``(n, H, W, C)``; ``out``: ``(n, Ho + 2 off, Wo + 2 off, F)``, C-contiguous;
    ``out[s, off + y, off + x, :]`` is written, the border is not touched (the next convolution's zero padding).
    Reading ``x`` with bounds instead of a padded copy saves the copy; writing into a contiguous array with an
    offset rather than into a strided view of its interior keeps the kernel's dispatch and stores fast. 3x3
    kernels take a path that reads each pixel's window once (digits CNN first layer at batch 1: 2.9 against
    6.6 us at load 5).
    """
    if W.shape[0] == 3 and W.shape[1] == 3:
        _into_3x3(x, W, b, out, stride, pad, off, relu_in, relu)
        return
    n, hp, wp, f = out.shape
    ho, wo = hp - 2 * off, wp - 2 * off
    h, w_in = x.shape[1], x.shape[2]
    kh, kw, c = W.shape[0], W.shape[1], W.shape[2]
    for s in range(n):
        for y in range(ho):
            for xo in range(wo):
                o = out[s, off + y, off + xo]
                for k in range(f):
                    o[k] = b[k]
                for i in range(kh):
                    r = y * stride + i - pad
                    if r < 0 or r >= h:
                        continue
                    for j in range(kw):
                        q = xo * stride + j - pad
                        if q < 0 or q >= w_in:
                            continue
                        for ch in range(c):
                            v = x[s, r, q, ch]
                            if relu_in and v < 0:
                                v = np.float32(0.0)  # x's type still (a plain 0 would make v float64)
                            wr = W[i, j, ch]
                            for k in range(f):
                                o[k] += v * wr[k]
                if relu:
                    for k in range(f):
                        if o[k] < 0:
                            o[k] = 0


def direct_conv_into_np(x, W, b, out, stride, pad, off, relu_in, relu):
    """Numpy twin of :func:`direct_conv_into` (same arguments, same result)."""
    n, hp, wp, f = out.shape
    xp = np.pad(np.maximum(x, 0) if relu_in else x, ((0, 0), (pad, pad), (pad, pad), (0, 0)))
    inner = out[:, off:hp - off, off:wp - off, :]
    res = np.empty(inner.shape, dtype=out.dtype)
    direct_conv_np(xp, W, b, res, stride)
    inner[...] = np.maximum(res, 0) if relu else res
