"""A Ctrl-C that lands inside one of llvmlite's ctypes callbacks (numba writing its cache) is not lost."""

import ctypes
import os
import signal
import sys
import time

import pytest

from structsparse import _interrupt
from structsparse._interrupt import deliverable_interrupts, in_swallowing_callback

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGINT") or os.name != "posix", reason="needs POSIX signals")


@pytest.fixture(autouse=True)
def python_default_sigint():
    """Python's own SIGINT handler during each test, whatever the runner inherited (a job started in the
    background of a non-interactive shell starts with SIGINT ignored)."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)

# a stand-in for llvmlite's cache hook: same function name, a file under an "llvmlite" folder
_SOURCE = """
def _raw_object_cache_notify():
    os.kill(os.getpid(), signal.SIGINT)
    t0 = time.monotonic()
    while time.monotonic() - t0 < 0.2:   # the signal is handled here, inside the ctypes callback
        pass
    return sys._getframe()
"""


def _fake_callback():
    namespace = {"os": os, "signal": signal, "time": time, "sys": sys}
    exec(compile(_SOURCE, os.path.join("site-packages", "llvmlite", "binding", "fake.py"), "exec"), namespace)
    return namespace["_raw_object_cache_notify"]


def _call_through_ctypes(fn):
    """Call ``fn`` the way llvmlite does: from C, as a ctypes callback (exceptions there are ignored)."""
    proto = ctypes.CFUNCTYPE(None)
    wrapped = proto(lambda: fn() and None)
    wrapped()


def _wait_for_interrupt(seconds):
    t0 = time.monotonic()
    while time.monotonic() - t0 < seconds:
        time.sleep(0.01)


def test_frames_inside_the_callback_are_recognized():
    assert not in_swallowing_callback(sys._getframe())
    fn = _fake_callback()
    previous = signal.signal(signal.SIGINT, lambda *a: None)   # this direct call must not be interrupted
    try:
        frame = fn()
    finally:
        signal.signal(signal.SIGINT, previous)
    assert in_swallowing_callback(frame)
    assert not in_swallowing_callback(None)


def test_default_handler_loses_the_interrupt_in_a_callback(monkeypatch):
    # the problem itself: with Python's own handler the KeyboardInterrupt dies in the callback
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    ignored = []
    monkeypatch.setattr(sys, "unraisablehook", lambda info: ignored.append(info.exc_type))
    _call_through_ctypes(_fake_callback())   # no exception reaches us
    _wait_for_interrupt(0.3)                  # and none comes later
    assert ignored == [KeyboardInterrupt]


def test_deferred_interrupt_is_not_ignored(monkeypatch):
    ignored = []
    monkeypatch.setattr(sys, "unraisablehook", lambda info: ignored.append(info.exc_type))
    with pytest.raises(KeyboardInterrupt):
        with deliverable_interrupts():
            _call_through_ctypes(_fake_callback())
            _wait_for_interrupt(5.0)
    assert ignored == []


def test_deferred_interrupt_arrives_after_the_callback():
    with pytest.raises(KeyboardInterrupt):
        with deliverable_interrupts():
            _call_through_ctypes(_fake_callback())
            _wait_for_interrupt(5.0)
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_an_interrupt_elsewhere_raises_at_once():
    with pytest.raises(KeyboardInterrupt):
        with deliverable_interrupts():
            _interrupt._handler(signal.SIGINT, sys._getframe())
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_another_handler_is_left_alone():
    calls = []
    previous = signal.signal(signal.SIGINT, lambda *a: calls.append(a[0]))
    try:
        with deliverable_interrupts():
            assert signal.getsignal(signal.SIGINT) is not _interrupt._handler
            os.kill(os.getpid(), signal.SIGINT)
            _wait_for_interrupt(0.2)
        assert calls == [signal.SIGINT]
    finally:
        signal.signal(signal.SIGINT, previous)
