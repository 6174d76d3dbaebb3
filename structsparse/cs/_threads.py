"""Run small dense linear algebra on one BLAS thread.

The matrices in compressive sensing experiments are small (hundreds of
rows); multithreaded BLAS/LAPACK gains nothing on them and, on a busy
machine or inside a process pool, loses an order of magnitude to thread
contention (measured: a 300 x 80 SVD went from 6 ms to 40-300 ms).
"""

from contextlib import contextmanager

__all__ = ["single_blas_thread"]


@contextmanager
def single_blas_thread():
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover
        yield
        return
    with threadpool_limits(limits=1, user_api="blas"):
        yield
