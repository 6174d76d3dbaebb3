"""im2col and its adjoint col2im for NHWC tensors, by numpy stride tricks.

``im2col`` turns a batch ``(N, H, W, C)`` into the matrix of patches
``(N * Ho * Wo, kh * kw * C)`` (one row per output pixel, columns ordered
``(kh, kw, C)``) so that a convolution is one BLAS matrix product. The
patches are a strided view of the padded input; one copy makes them
contiguous (row-major, or column-major for fewer than 4 channels: BLAS takes
either without a copy). ``col2im`` is the exact adjoint: it adds each patch entry back to
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


def im2col(x, kh, kw, stride, padding, out=None, ones_column=False, padded=None):
    """Patch matrix ``(N * Ho * Wo, kh * kw * C)`` of an NHWC batch.

    The result is C-contiguous, except for inputs with fewer than 4 channels
    (a network's first layer), where it is F-contiguous: each column is then
    one strided copy of a shifted image (runs of ``Wo`` numbers) instead of
    ``N * Ho * Wo * kh * kw`` copies of ``C`` numbers. Both orders go to BLAS
    without a copy.

    ``out``, a flat buffer of at least that size and ``x``'s dtype, is reused
    when given (a fresh 100 MB array costs page faults on every call).
    ``ones_column=True`` appends a column of ones, so that a product with
    ``[W; b]`` adds the bias inside the matrix product instead of in another
    pass over the output. ``padded``, if given, is ``pad_nhwc(x, padding)``
    already computed (e.g. in a buffer the caller reuses).
    """
    n, h, w, c = x.shape
    xp = pad_nhwc(x, padding) if padded is None else padded
    ho = conv_output_size(h, kh, stride, padding)
    wo = conv_output_size(w, kw, stride, padding)
    k = kh * kw * c
    width = k + 1 if ones_column else k
    rows = n * ho * wo
    size = rows * width
    column_major = c < 4
    shape = (width, rows) if column_major else (rows, width)
    if out is not None and out.dtype == x.dtype and out.size >= size:
        buf = out[:size].reshape(shape)
    else:
        buf = np.empty(shape, dtype=x.dtype)
    if column_major:
        # few channels: one strided copy of the shifted input per (kernel offset, channel) beats
        # copying runs of only kw * C numbers
        dest = buf[:k].reshape(kh, kw, c, n, ho, wo)
        for i in range(kh):
            for j in range(kw):
                for ch in range(c):
                    dest[i, j, ch] = xp[:, i:i + stride * ho:stride, j:j + stride * wo:stride, ch]
        if ones_column:
            buf[k] = 1
        return buf.T, ho, wo
    xp = np.ascontiguousarray(xp)
    sn, sh, sw, _ = xp.strides
    # for fixed (n, ho, wo, i) the kw * C entries of a patch row are contiguous in NHWC (columns
    # in (kh, kw, C) order, matching weights of shape (kh, kw, Cin, Cout)). Viewing each such run
    # as one opaque element makes the copy move N * Ho * Wo * kh elements: numpy's per-run loop
    # overhead, not the bytes, dominated copies of short runs (2x faster for 7 channels)
    run = kw * c * xp.itemsize
    item = np.dtype((np.void, run))
    src = np.ndarray((n, ho, wo, kh), dtype=item, buffer=xp, strides=(sn, stride * sh, stride * sw, sh))
    row = width * xp.itemsize
    dst = np.ndarray((n, ho, wo, kh), dtype=item, buffer=buf, strides=(ho * wo * row, wo * row, row, run))
    np.copyto(dst, src)
    if ones_column:
        buf[:, k] = 1
    return buf, ho, wo


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
