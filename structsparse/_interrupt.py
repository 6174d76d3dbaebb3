"""Ctrl-C that reaches the command line even while numba compiles.

numba's LLVM layer (llvmlite) calls back into Python through ctypes when it
writes or reads its object cache. Python ignores an exception raised inside a
ctypes callback: a ``KeyboardInterrupt`` that lands there is printed as
"Exception ignored" and lost, and the command runs on. While a command runs,
:func:`deliverable_interrupts` therefore defers a SIGINT that arrives inside
such a callback and sends it again a moment later, when the callback has
returned; anywhere else it raises ``KeyboardInterrupt`` at once, as Python's
default handler does.
"""

import os
import signal
import threading
from contextlib import contextmanager

# llvmlite's ctypes callbacks (the object cache's notify and get-buffer hooks)
_CALLBACK_NAMES = ("_raw_object_cache_notify", "_raw_object_cache_getbuffer")
_RETRY_SECONDS = 0.05


def in_swallowing_callback(frame):
    """Whether ``frame`` (or a frame it was called from) is one of llvmlite's ctypes callbacks."""
    while frame is not None:
        code = frame.f_code
        if code.co_name in _CALLBACK_NAMES and "llvmlite" in code.co_filename:
            return True
        frame = frame.f_back
    return False


def _handler(signum, frame):
    if in_swallowing_callback(frame):
        timer = threading.Timer(_RETRY_SECONDS, os.kill, (os.getpid(), signal.SIGINT))
        timer.daemon = True
        timer.start()
        return
    raise KeyboardInterrupt


@contextmanager
def deliverable_interrupts():
    """Within the block, a Ctrl-C inside an llvmlite callback is delivered again after it returns.

    Only where Python's default SIGINT handler is in place and in the main
    thread (elsewhere the block runs unchanged); the previous handler is
    restored on exit.
    """
    if threading.current_thread() is not threading.main_thread() or \
            signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        yield
        return
    signal.signal(signal.SIGINT, _handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler)
