"""The one place numba is imported.

``njit`` compiles with ``cache=True`` so that a fresh process reuses the
machine code written by an earlier one. Setting ``STRUCTSPARSE_DISABLE_NUMBA=1``
(or numba being unavailable) leaves the functions as plain Python; every
kernel has a numpy twin that the package uses in that case.
"""

import os

try:  # numba is a core dependency, the fallback only guards broken installs
    import numba as _numba
except ImportError:  # pragma: no cover
    _numba = None

__all__ = ["njit", "NUMBA_ENABLED"]

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
