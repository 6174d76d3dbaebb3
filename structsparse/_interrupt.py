"""Ctrl-C that reaches the command line even while numba compiles or raises.

Two places call back into Python from C and mishandle an exception raised there:

- numba's LLVM layer (llvmlite) calls Python through ctypes when it writes or
  reads its object cache. Python ignores an exception raised inside a ctypes
  callback: a ``KeyboardInterrupt`` that lands there is printed as "Exception
  ignored" and lost, and the command runs on.
- numba's compiled code rebuilds the exception it raises by calling
  ``numba.core.serialize._numba_unpickle``. A ``KeyboardInterrupt`` that lands
  there comes out as a ``SystemError`` ("returned a result with an exception
  set"), a crash with a traceback instead of a clean stop.

- llvmlite's Python bindings pair each call into LLVM with bookkeeping of
  who owns the result (a module linked into another, or handed to the
  execution engine, is marked as no longer Python's to free). A
  ``KeyboardInterrupt`` raised between the two leaves a wrapper that frees
  LLVM memory LLVM freed already: the process crashed with a segmentation
  fault when the garbage collector reached it (a CI run, Ctrl-C during
  ``structsparse verify`` on a cold numba cache).

While a command runs, :func:`deliverable_interrupts` therefore defers a SIGINT
that arrives inside such a callback or inside llvmlite's bindings and sends it
again a moment later, when they have returned; anywhere else it raises
``KeyboardInterrupt`` at once, as Python's default handler does.
"""

import os
import signal
import threading
from contextlib import contextmanager

# (function name, a folder its file lies under): llvmlite's ctypes callbacks (the object cache's notify and
# get-buffer hooks) and numba's exception unpickler, called from its C helper library
_CALLBACKS = (("_raw_object_cache_notify", "llvmlite"), ("_raw_object_cache_getbuffer", "llvmlite"),
              ("_numba_unpickle", "numba"))
_RETRY_SECONDS = 0.05


def in_swallowing_callback(frame):
    """Whether ``frame`` (or a frame it was called from) is a callback from C that mishandles an exception."""
    while frame is not None:
        code = frame.f_code
        if any(code.co_name == name and folder in code.co_filename for name, folder in _CALLBACKS):
            return True
        frame = frame.f_back
    return False


def in_llvm_bindings(frame):
    """Whether ``frame`` (or a frame it was called from) runs llvmlite's Python bindings (``llvmlite/binding``)."""
    marker = os.sep + os.path.join("llvmlite", "binding") + os.sep
    while frame is not None:
        if marker in frame.f_code.co_filename:
            return True
        frame = frame.f_back
    return False


def _handler(signum, frame):
    if in_swallowing_callback(frame) or in_llvm_bindings(frame):
        timer = threading.Timer(_RETRY_SECONDS, os.kill, (os.getpid(), signal.SIGINT))
        timer.daemon = True
        timer.start()
        return
    raise KeyboardInterrupt


def caused_by_interrupt(exc):
    """Whether ``exc`` is a ``KeyboardInterrupt`` or was raised because of one.

    The backstop for a C callback not listed above: there a Ctrl-C may come out
    as a ``SystemError`` whose cause is the ``KeyboardInterrupt``.
    """
    seen = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, KeyboardInterrupt):
            return True
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return False


@contextmanager
def deliverable_interrupts():
    """Within the block, a Ctrl-C inside a callback from C is delivered again after it returns.

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
