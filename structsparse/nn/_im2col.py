"""im2col and its adjoint col2im for NHWC tensors, by numpy stride tricks.

``im2col`` turns a batch ``(N, H, W, C)`` into the matrix of patches
``(N * Ho * Wo, kh * kw * C)`` (one row per output pixel, columns ordered
``(kh, kw, C)``) so that a convolution is one BLAS matrix product. The
patches are a strided view of the padded input; one copy makes them
contiguous. ``col2im`` is the exact adjoint: it adds each patch entry back to
the input pixel it came from (``kh * kw`` strided slice additions).
"""

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

__all__ = ["conv_output_size", "pad_nhwc", "im2col", "col2im"]


def conv_output_size(size, kernel, stride, padding):
    """Output length of a convolution or pooling window along one axis."""
    return (size + 2 * padding - kernel) // stride + 1


def pad_nhwc(x, padding, value=0.0):
    """Pad the two spatial axes of an NHWC batch (no copy when ``padding == 0``)."""
    if padding == 0:
        return x
    return np.pad(x, ((0, 0), (padding, padding), (padding, padding), (0, 0)), constant_values=value)


def windows(xp, kh, kw, stride):
    """Strided view ``(N, Ho, Wo, C, kh, kw)`` of the windows of a padded batch."""
    view = sliding_window_view(xp, (kh, kw), axis=(1, 2))
    return view[:, ::stride, ::stride]


def im2col(x, kh, kw, stride, padding):
    """Patch matrix ``(N * Ho * Wo, kh * kw * C)`` of an NHWC batch, C-contiguous."""
    n, _, _, c = x.shape
    view = windows(pad_nhwc(x, padding), kh, kw, stride)
    ho, wo = view.shape[1], view.shape[2]
    # (N, Ho, Wo, kh, kw, C): columns in (kh, kw, C) order, matching weights (kh, kw, Cin, Cout)
    cols = np.ascontiguousarray(view.transpose(0, 1, 2, 4, 5, 3))
    return cols.reshape(n * ho * wo, kh * kw * c), ho, wo


def col2im(cols, x_shape, kh, kw, stride, padding):
    """Adjoint of :func:`im2col`: sum the patch entries back into an ``x_shape`` batch."""
    n, h, w, c = x_shape
    ho = conv_output_size(h, kh, stride, padding)
    wo = conv_output_size(w, kw, stride, padding)
    cols = cols.reshape(n, ho, wo, kh, kw, c)
    xp = np.zeros((n, h + 2 * padding, w + 2 * padding, c), dtype=cols.dtype)
    for i in range(kh):
        for j in range(kw):
            xp[:, i:i + stride * ho:stride, j:j + stride * wo:stride, :] += cols[:, :, :, i, j, :]
    if padding:
        return xp[:, padding:padding + h, padding:padding + w, :]
    return xp
