"""The one place numba is imported.

``njit`` compiles with ``cache=True`` so that a fresh process reuses the
machine code written by an earlier one. Setting ``STRUCTSPARSE_DISABLE_NUMBA=1``
(or numba being unavailable) leaves the functions as plain Python; every
kernel has a numpy twin that the package uses in that case.
"""

import functools
import os

import numpy as np

try:  # numba is a core dependency, the fallback only guards broken installs
    import numba as _numba
except ImportError:  # pragma: no cover
    _numba = None

__all__ = ["njit", "NUMBA_ENABLED", "read_only_arguments", "read_only_view"]

NUMBA_ENABLED = _numba is not None and os.environ.get("STRUCTSPARSE_DISABLE_NUMBA", "") not in ("1", "true")


def njit(func=None, *, fastmath=False):
    """Compile ``func`` with ``numba.njit(cache=True)`` when numba is enabled.

    ``@njit(fastmath={"reassoc", "contract"})`` passes LLVM flags through (those two let sums vectorize and
    keep NaN and infinities as they are).
    """
    if func is None:
        return lambda f: njit(f, fastmath=fastmath)
    if not NUMBA_ENABLED:
        return func
    return _numba.njit(cache=True, nogil=True, fastmath=fastmath)(func)


def read_only_arguments(kernel):
    """``kernel`` called with its array arguments as read-only views (no copy).

    numba compiles one specialization per argument type, and writability is part
    of the type: a kernel handed a read-only array on one path (a cached or
    user's array) and a fresh one on another compiles twice on a fresh install.
    For a kernel that only reads its array arguments, one read-only type serves
    every call.
    """
    @functools.wraps(kernel)
    def call(*args):
        return kernel(*[read_only_view(a) if isinstance(a, np.ndarray) else a for a in args])
    call.kernel = kernel
    return call


def read_only_view(a):
    """``a`` itself when read-only, else a read-only view of it."""
    if not a.flags.writeable:
        return a
    view = a.view()
    view.flags.writeable = False
    return view
