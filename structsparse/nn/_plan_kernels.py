"""A cheap exact check that a weight array still holds the values a cache was computed from.

The inference plan (:mod:`._plan`) keeps Winograd filter transforms between
calls. A weight array may be modified in place (an optimizer step, a user's
``W[...] = 0``) without anything telling the plan, so the plan keeps a copy of
the weights each transform was computed from and, before each use, compares
the array with that copy bit for bit: one vectorized pass over both arrays'
64-bit words, OR-ing their XORs (no early exit, so that it vectorizes), 2.7 us
at load 5 for the digits CNN's 18 432 weights of its second convolution (4.3 us
over 32-bit words; the two arrays, 147 KB, come from the L2 cache). Any change
of any bit is seen; a NaN compares equal to the same NaN.

(A fingerprint in one pass, ``sum_i words[i] * (2 i + 1)`` modulo ``2**64``,
cost 4-6 us there: 64-bit vector multiplies are slow.)

``same_bits`` is an ``@njit(cache=True)`` kernel; ``same_bits_np`` its numpy
twin (the path when numba is disabled).
"""

import numpy as np

from .._numba import NUMBA_ENABLED, njit

__all__ = ["same_bits", "same_bits_np", "words_of", "NUMBA_ENABLED"]


def words_of(arr):
    """``arr``'s bytes as a flat view of 64-bit words (32-bit words when its size is not a multiple of 8 bytes):
    later in-place changes of ``arr`` show in it. None when no such view exists (``arr`` not C-contiguous, or
    items not a multiple of 4 bytes)."""
    if not arr.flags.c_contiguous or arr.dtype.itemsize % 4:
        return None
    return arr.reshape(-1).view(np.uint64 if arr.nbytes % 8 == 0 else np.uint32)


@njit
def same_bits(a, b):
    """Whether the 1-D unsigned integer arrays ``a`` and ``b`` (of equal length and dtype) hold the same words."""
    diff = np.uint64(0)
    for i in range(a.shape[0]):
        diff |= a[i] ^ b[i]
    return diff == 0


def same_bits_np(a, b):
    """Numpy twin of :func:`same_bits`."""
    return bool(np.array_equal(a, b))
