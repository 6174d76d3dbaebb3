"""Single-threaded BLAS for the small dense problems of system identification.

The QR, SVD and least-squares solves here are tiny (tens of columns); a
multi-threaded OpenBLAS spends far longer synchronizing its threads than
computing (we measured a 985 x 64 QR at 0.9 s threaded against 2 ms on one
thread). ``single_thread_blas()`` limits BLAS to one thread for the duration
of a block, through threadpoolctl when it is installed (it comes with
scikit-learn), and does nothing otherwise.
"""

import contextlib

__all__ = ["single_thread_blas"]

_controller = None


def single_thread_blas():
    """Context manager that runs its block with one BLAS thread."""
    global _controller
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:  # pragma: no cover
        return contextlib.nullcontext()
    if _controller is None:
        _controller = ThreadpoolController()
    return _controller.limit(limits=1, user_api="blas")
