"""A Ctrl-C that lands inside a callback from C (llvmlite writing numba's cache, numba rebuilding an exception) is not lost."""

import ctypes
import json
import os
import signal
import subprocess
import sys
import time
from types import SimpleNamespace

import pytest

from structsparse import _interrupt
from structsparse._interrupt import deliverable_interrupts, in_llvm_bindings, in_swallowing_callback

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


def test_frames_inside_llvmlite_bindings_are_recognized():
    # any llvmlite binding code, not only its callbacks: an interrupt between an LLVM call and its ownership
    # bookkeeping left a wrapper that freed LLVM memory twice (a segmentation fault at the next collection)
    namespace = {"sys": sys}
    exec(compile("def inner():\n    return sys._getframe()\n",
                 os.path.join(os.sep + "site-packages", "llvmlite", "binding", "module.py"), "exec"), namespace)
    frame = namespace["inner"]()
    assert in_llvm_bindings(frame) and not in_swallowing_callback(frame)
    assert not in_llvm_bindings(sys._getframe()) and not in_llvm_bindings(None)
    import llvmlite.binding.module as real   # the installed package's own files match too
    assert os.sep + os.path.join("llvmlite", "binding") + os.sep in real.__file__


def test_interrupt_inside_llvmlite_bindings_is_deferred_not_lost(monkeypatch):
    namespace = {"os": os, "signal": signal, "time": time, "sys": sys}
    exec(compile("def link():\n    os.kill(os.getpid(), signal.SIGINT)\n    t0 = time.monotonic()\n"
                 "    while time.monotonic() - t0 < 0.2:\n        pass\n    return 'done'\n",
                 os.path.join(os.sep + "site-packages", "llvmlite", "binding", "module.py"), "exec"), namespace)
    with deliverable_interrupts():
        assert namespace["link"]() == "done"      # not interrupted inside the bindings
        with pytest.raises(KeyboardInterrupt):
            _wait_for_interrupt(2.0)               # but delivered once they returned


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


# numba's C helper looks its exception unpickler up once per process, on the first exception raised in compiled
# code, so the stand-in goes in first, in a fresh interpreter. The stand-in has the same name and a file under a
# "numba" folder; it sends the SIGINT and forwards to the real one.
_UNPICKLER_SCRIPT = r'''
import json, os, signal, time
# Python's own handler, whatever the parent left: a job started with & by a non-interactive shell (a CI script)
# inherits SIGINT ignored, and then neither the interrupt nor its deferral would ever show
signal.signal(signal.SIGINT, signal.default_int_handler)
from numba import njit
from numba.core import serialize
from structsparse._interrupt import deliverable_interrupts

STAND_IN = """
def _numba_unpickle(address, bytedata, hashed):
    calls.append(hashed)
    os.kill(os.getpid(), signal.SIGINT)
    t0 = time.monotonic()
    while time.monotonic() - t0 < 0.2:   # the signal is handled here, inside the call from C
        pass
    return real(address, bytedata, hashed)
"""
calls = []
namespace = {"os": os, "signal": signal, "time": time, "real": serialize._numba_unpickle, "calls": calls}
exec(compile(STAND_IN, os.path.join("site-packages", "numba", "core", "serialize.py"), "exec"), namespace)
serialize._numba_unpickle = namespace["_numba_unpickle"]


@njit
def kernel(x):
    if x > 0:
        raise ValueError("raised in compiled code")
    return x


def wait(seconds):
    t0 = time.monotonic()
    while time.monotonic() - t0 < seconds:
        time.sleep(0.01)


kernel(0)   # compiled outside the signal's reach
events = {"deferred": []}
try:                        # Python's own handler
    kernel(1)
except BaseException as exc:
    events["default"] = type(exc).__name__
events["default_calls"] = len(calls)   # whether numba went through the stand-in for this exception
try:                        # the command line's handler
    with deliverable_interrupts():
        try:
            kernel(1)
        except ValueError as exc:
            events["deferred"].append(str(exc))
        wait(5.0)
except KeyboardInterrupt:
    events["deferred"].append("KeyboardInterrupt")
events["restored"] = signal.getsignal(signal.SIGINT) is signal.default_int_handler
print(json.dumps(events))
'''


@pytest.fixture(scope="module")
def unpickler_events():
    proc = subprocess.run([sys.executable, "-c", _UNPICKLER_SCRIPT], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_default_handler_raises_inside_numbas_exception_path(unpickler_events):
    # the problem itself: the interrupt is raised inside numba's C helper. Depending on where it lands, the
    # helper passes it on or turns it into a SystemError ("returned a result with an exception set", seen when
    # Ctrl-C met a phase sweep); either way numba's own exception is lost
    assert unpickler_events["default_calls"] == 1, unpickler_events   # numba went through the stand-in
    assert unpickler_events["default"] in ("KeyboardInterrupt", "SystemError"), unpickler_events


def test_interrupt_in_numba_unpickler_arrives_after_it(unpickler_events):
    # numba's own exception comes through intact, then the interrupt
    assert unpickler_events["deferred"] == ["raised in compiled code", "KeyboardInterrupt"]
    assert unpickler_events["restored"]


def test_system_error_from_an_interrupt_is_an_interrupt():
    assert _interrupt.caused_by_interrupt(KeyboardInterrupt())
    try:
        try:
            raise KeyboardInterrupt
        except KeyboardInterrupt as ki:
            raise SystemError("returned a result with an exception set") from ki
    except SystemError as err:
        wrapped = err
    assert _interrupt.caused_by_interrupt(wrapped)
    assert not _interrupt.caused_by_interrupt(SystemError("a real one"))


def _run_command(monkeypatch, command):
    """``structsparse``'s main with ``command`` as the parsed command."""
    from structsparse import cli

    parser = cli.build_parser()
    monkeypatch.setattr(cli, "build_parser", lambda: parser)
    monkeypatch.setattr(parser, "parse_args", lambda argv: SimpleNamespace(func=command, command="x"))
    monkeypatch.setattr(cli, "check_outputs", lambda args: None)
    return cli.main([])


def test_cli_stops_cleanly_on_an_interrupt_wrapped_in_system_error(monkeypatch, capsys):
    # the backstop for a C callback not on the deferral list: exit 130 and the command's one line, no traceback
    def command(args):
        args._interrupt_note = lambda: "interrupted: 3 trials saved"
        try:
            raise KeyboardInterrupt
        except KeyboardInterrupt as ki:
            raise SystemError("returned a result with an exception set") from ki

    assert _run_command(monkeypatch, command) == 130
    assert capsys.readouterr().err.strip() == "interrupted: 3 trials saved"


def test_cli_lets_a_real_system_error_through(monkeypatch):
    def command(args):
        raise SystemError("a real one")

    with pytest.raises(SystemError, match="a real one"):
        _run_command(monkeypatch, command)
