"""Shared assertion of the bad-input suite (issue 10).

Each test file holds a table: one :class:`Case` per row, giving the call, the
expected outcome and the word the message must contain. :func:`classify`
runs one row and names its outcome; :func:`assert_case` requires the good
outcome:

- ``expect`` an exception type: the call raises that type (a project
  exception, a ``TypeError`` for a wrong Python type, or an ``OSError``
  naming the path) and the message contains one of ``names``;
- ``expect = OK``: the call returns and ``check(result)`` holds (a valid but
  odd input, answered correctly);
- ``expect = CLI``: the command (run in-process through ``structsparse.cli.main``)
  exits non-zero with no traceback and exactly one line of stderr that starts
  with ``structsparse`` and names the argument or file (argparse's usage lines
  are allowed before its one ``error:`` line);
- every case answers within :data:`TIME_LIMIT` seconds (measured, not
  interrupted, so no signal handler can disturb other tests).

Outcomes: ``clear`` (typed error naming the argument), ``correct`` (valid input,
right answer), ``unclear`` (typed error not naming it, or the wrong typed
error), ``raw`` (a numpy/scipy/stdlib exception or a traceback), ``hang``
(over the time limit), ``silent`` (no error for a bad input, or a wrong
result).
"""

import contextlib
import io
import time
import traceback
import warnings
from dataclasses import dataclass, field

import structsparse.exceptions as exc_mod

TIME_LIMIT = 5.0

#: The categories of issue 10; every row names one.
CATEGORIES = {
    "data types": "complex, object, string arrays; wrong Python types; integer or complex weights in a file",
    "operators": "a LinearOperator without rmatvec (or complex) refused at construction",
    "empty": "empty and degenerate data: 0 samples, zero measurements, a constant column, a single sample",
    "arguments": "out-of-range values and arguments that disagree with each other or with the data",
    "sizes": "sizes the data cannot support (model order, measurements, budgets)",
    "patterns": "sysid patterns that cut the outputs off the states; format and version of pattern files",
    "files": "truncated, non-zip, text, .npy-for-.npz, tampered or malformed files; sweep files on resume",
    "output paths": "output paths checked writable before the work starts",
    "numerical extremes": "A scaled by 1e+-200, lam at 1e-200: the correct answer or a clear error",
    "faults": "early stops that must warn (ConvergenceWarning)",
}
OK = "ok"
CLI = "cli"

# the project's own error types (ValueError subclasses), found in structsparse.exceptions
PROJECT_ERRORS = tuple(
    obj for obj in vars(exc_mod).values()
    if isinstance(obj, type) and issubclass(obj, Exception) and obj.__module__ == exc_mod.__name__
)


@dataclass
class Case:
    """One row: ``call()`` with the expected outcome.

    ``names``: strings of which at least one must appear in the message
    (the argument, option or file). ``check``: for ``OK`` rows, a predicate
    on the result. ``warns``: a warning category an ``OK`` row must emit.
    """

    id: str
    category: str
    call: object
    expect: object
    names: tuple = ()
    check: object = None
    warns: object = None
    slow_ok: bool = False
    extra: dict = field(default_factory=dict)

    def __post_init__(self):
        assert self.category in CATEGORIES, f"{self.id}: unknown category {self.category!r}"
        if isinstance(self.names, str):
            self.names = (self.names,)


def _project_error(err):
    if isinstance(err, PROJECT_ERRORS):
        return True
    # typed errors defined elsewhere in the package (IncompatibleSolverError, OnnxError, ...)
    mod = type(err).__module__ or ""
    return mod.startswith("structsparse") and isinstance(err, (ValueError, TypeError))


def _names_in(message, names):
    low = message.lower()
    return any(n.lower() in low for n in names) if names else True


def _run_cli(argv):
    from structsparse.cli import main

    out, err = io.StringIO(), io.StringIO()
    code = None
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(list(argv))
        except SystemExit as stop:  # argparse errors
            code = stop.code if isinstance(stop.code, int) else 1
    return code, out.getvalue(), err.getvalue()


_WARM = []


def classify(case):
    """Run one row; return ``(outcome, detail, seconds)``.

    A row over :data:`TIME_LIMIT` is run once more and the second time counts:
    the first call into a solver can include numba's one-off compilation (a
    cold cache on a fresh clone takes several seconds), which is not an answer
    time. A row that really hangs is over the limit both times.
    """
    outcome, detail, seconds = _classify_once(case)
    if outcome == "hang":
        outcome, detail, seconds = _classify_once(case)
    return outcome, detail, seconds


def _classify_once(case):
    if not _WARM:  # one-off imports (every command module, cvxpy, scikit-learn, onnx) are not an answer time
        import importlib

        from structsparse.cli import build_parser

        build_parser()
        for name in ("cvxpy", "sklearn.datasets", "sklearn.model_selection", "onnx"):
            try:
                importlib.import_module(name)
            except ImportError:
                pass
        _WARM.append(True)
    t0 = time.perf_counter()
    detail = ""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            if case.expect == CLI:
                result = _run_cli(case.call)
            else:
                result = case.call()
            raised = None
        except BaseException as err:  # noqa: BLE001 - we classify every failure
            if not isinstance(err, (Exception, SystemExit)):  # KeyboardInterrupt and the like pass through
                raise
            raised = err
            detail = f"{type(err).__module__}.{type(err).__name__}: {err}"
            tb = traceback.format_exc()
    seconds = time.perf_counter() - t0
    if seconds > TIME_LIMIT and not case.slow_ok:
        return "hang", f"{seconds:.1f} s; {detail}", seconds

    if case.expect == CLI:
        if raised is not None:
            return "raw", detail + "\n" + tb[-600:], seconds
        code, out, err = result
        lines = [ln for ln in err.splitlines() if ln.strip()]
        if code == 0:
            return "silent", f"exit 0; stdout tail {out[-300:]!r}", seconds
        if "Traceback" in err:
            return "raw", err[-600:], seconds
        msg = [ln for ln in lines if ln.startswith("structsparse") and "error" in ln]
        usage = [ln for ln in lines if ln.startswith("usage:") or ln.startswith(" ")]
        if len(msg) != 1 or len(lines) != len(msg) + len(usage):
            return "unclear", f"exit {code}; stderr {err[-600:]!r}", seconds
        if not _names_in(msg[0], case.names):
            return "unclear", f"exit {code}; message {msg[0]!r} names none of {case.names}", seconds
        return "clear", msg[0], seconds

    expect = case.expect
    either = isinstance(expect, tuple) and OK in expect  # the correct answer or a clear error
    if either:
        expect = tuple(e for e in expect if e != OK)
    if expect == OK or (either and raised is None):
        if raised is not None:
            kind = "unclear" if _project_error(raised) else "raw"
            return kind, detail, seconds
        if case.warns is not None and not any(issubclass(w.category, case.warns) for w in caught):
            return "silent", f"no {case.warns.__name__} emitted", seconds
        try:
            good = case.check(result) if case.check is not None else True
        except Exception as err:  # noqa: BLE001
            good, detail = False, f"check raised {err!r}"
        if good is False:
            return "silent", f"wrong result {detail} {result!r}"[:600], seconds
        return "correct", "", seconds

    if raised is None:
        return "silent", f"no error; returned {type(result).__name__}", seconds
    expected = expect if isinstance(expect, tuple) else (expect,)
    if isinstance(raised, OSError) and OSError in expected:
        ok_name = _names_in(str(raised), case.names) or (raised.filename and _names_in(str(raised.filename), case.names))
        return ("clear" if ok_name else "unclear"), detail, seconds
    if not _project_error(raised) and not isinstance(raised, TypeError):
        return "raw", detail, seconds
    if isinstance(raised, TypeError) and type(raised).__module__ == "builtins":
        # a plain TypeError is the documented answer to a wrong Python type, when it names the argument
        if TypeError not in expected:
            return "unclear", detail, seconds
    elif not isinstance(raised, expected):
        return "unclear", "wrong type " + detail, seconds
    if not _names_in(str(raised), case.names):
        return "unclear", "message names none of " + repr(case.names) + "; " + detail, seconds
    return "clear", detail, seconds


def assert_case(case):
    """The shared assertion: the row's outcome is ``clear`` (bad input) or ``correct`` (valid odd input)."""
    outcome, detail, seconds = classify(case)
    assert outcome in ("clear", "correct"), f"[{case.category}] {case.id}: {outcome} ({seconds:.2f} s): {detail}"
    assert seconds <= TIME_LIMIT or case.slow_ok, f"{case.id} took {seconds:.1f} s"
