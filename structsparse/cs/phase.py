"""Phase transitions: success rate of recovery methods against the number of measurements.

Each trial ``(m, trial)`` draws its own sensing matrix and signal from a
seed derived from ``(seed of the sweep, m, trial)`` (the sweep's seed comes
from its ``rng``), so results do not depend on
the order in which trials run or on how many workers run them, and an
interrupted sweep resumes exactly where it stopped. All methods of a trial
see the same matrix and signal. Trials run through any
``concurrent.futures.Executor``:

* the default is a local ``ProcessPoolExecutor``;
* for more than one machine, a dask.distributed client's executor::

      from dask.distributed import Client
      client = Client("tcp://scheduler:8786")       # or Client(LocalCluster())
      table = cs.phase_transition(model, ["l1"], m_grid, 20,
                                  executor=client.get_executor())

  (install with ``pip install "structsparse[distributed]"``).

The result is a :class:`PhaseTable`: a tidy table, one row (a dict) per
(method, m, trial) with keys ``method, m, trial, success, error, time,
n_iter``, that iterates, indexes and counts like the list of its rows, and
draws (:meth:`PhaseTable.plot`), saves (:meth:`PhaseTable.save`) and loads
(:meth:`PhaseTable.load`) itself.
"""

import hashlib
import json
import os
import time
import warnings
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from concurrent.futures import Executor, Future, ProcessPoolExecutor, as_completed

import numpy as np

from .. import _saving
from .._atomic import check_writable, clean_stale_temporaries
from .._validation import check_choice, check_int, check_rng, check_scalar
from ..exceptions import ConvergenceWarning, ParameterError
from .._linalg import single_blas_thread
from .models import BlockSparse, BlockSparse2D, Sparse, TreeSparse, TreeSparse2D, _WaveletTreeModel, check_model
from .operators import as_matrix, bernoulli, gaussian, partial_dct
from .recovery import METHODS, recover

__all__ = ["phase_transition", "PhaseTable", "success_rates", "transition_point", "SerialExecutor",
           "model_from_params", "load_table", "OPERATORS", "code_stamp", "resumable"]

#: The kind written in the header of a saved table (and of a sweep's ``resume_file``).
TABLE_KIND = "structsparse.cs.PhaseTable"

OPERATORS = {"gaussian": gaussian, "bernoulli": bernoulli, "partial_dct": partial_dct}
_MODEL_CLASSES = {"Sparse": Sparse, "BlockSparse": BlockSparse, "TreeSparse": TreeSparse,
                  "TreeSparse2D": TreeSparse2D, "BlockSparse2D": BlockSparse2D}


class SerialExecutor(Executor):
    """An Executor that runs each task at once in the calling process (for tests and debugging)."""

    def submit(self, fn, /, *args, **kwargs):
        fut = Future()
        try:
            fut.set_result(fn(*args, **kwargs))
        except Exception as exc:  # noqa: BLE001 - handed to the caller through the future
            fut.set_exception(exc)
        # KeyboardInterrupt and SystemExit stop the caller at once, which then saves what it finished
        return fut


def model_from_params(kind, params):
    """Rebuild a model from its class name and :meth:`params` (as saved in result files)."""
    if kind not in _MODEL_CLASSES:
        raise ParameterError(f"Unknown model kind {kind!r}; expected one of {sorted(_MODEL_CLASSES)}.")
    return _MODEL_CLASSES[kind](**params)


def _problem(model, m, seed, operator):
    """The sensing matrix and signal of one trial (dense, so every method reads it directly)."""
    rng = np.random.default_rng(seed)
    Phi = OPERATORS[operator](m, model.n, rng)
    x0 = model.sample(rng)
    if isinstance(model, _WaveletTreeModel):  # measure the signal: the operator acts on wavelet coefficients through Psi
        A = as_matrix(Phi @ model.synthesis)
    else:
        A = as_matrix(Phi)
    return A, x0


def _trial_seed(rng, owner="run_trial"):
    """The sweep's integer seed from ``rng``: an int is the seed, a Generator or None gives one draw."""
    if rng is None or isinstance(rng, np.random.Generator):
        return int(check_rng(rng).integers(2 ** 62))
    check_rng(rng)
    return int(rng)


def run_trial(kind, params, methods, m, trial, rng=None, operator="gaussian", success_tol=1e-3, *, base_seed=None):
    """Run every method on trial ``(m, trial)``; return its rows of the table (picklable, top level).

    Parameters
    ----------
    kind : str
        The model's class name (``"BlockSparse"``, ...).
    params : dict
        The model's :meth:`params`.
    methods : sequence of str
        Recovery methods (:data:`~structsparse.cs.METHODS`).
    m : int
        Measurements.
    trial : int
        Trial number.
    rng : int, numpy.random.Generator or None
        The sweep's seed: the trial draws its matrix and signal from ``SeedSequence([seed, m, trial])``, so
        an int gives the same trial every call; a Generator (or None: fresh entropy) gives one draw of the seed.
    operator : str
        Sensing matrix (:data:`OPERATORS`).
    success_tol : float
        A trial succeeds when ``||x - x0|| <= success_tol ||x0||``.
    base_seed : int, optional
        Deprecated name of an int ``rng`` (one release).

    Returns
    -------
    list of dict
        One row per method.
    """
    if base_seed is not None:
        if rng is not None:
            raise ParameterError("run_trial takes 'rng' or the deprecated 'base_seed', not both.")
        warnings.warn("run_trial(base_seed=...) is deprecated and will be removed in the next release; pass the "
                      "seed as 'rng'.", DeprecationWarning, stacklevel=2)
        rng = base_seed
    model = model_from_params(kind, params)
    seed = np.random.SeedSequence([_trial_seed(rng), int(m), int(trial)])
    with single_blas_thread():
        A, x0 = _problem(model, m, seed, operator)
        y = A @ x0
        rows = []
        for method in methods:
            with warnings.catch_warnings():  # a trial that stops early is scored by its error like any other
                warnings.simplefilter("ignore", ConvergenceWarning)
                res = recover(A, y, model, method=method)
            err = res.relative_error(x0)
            rows.append({"method": method, "m": int(m), "trial": int(trial), "success": bool(err <= success_tol),
                         "error": float(err), "time": float(res.time), "n_iter": int(res.n_iter)})
    return rows


@contextmanager
def _sigint_deferred(active):
    """Hold SIGINT back while the pool starts its workers; it is delivered (KeyboardInterrupt) right after."""
    import signal
    import threading

    active = active and hasattr(signal, "pthread_sigmask") and threading.current_thread() is threading.main_thread()
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT}) if active else None
    try:
        yield
    finally:
        if active:
            signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def _ignore_sigint():
    """Pool worker set-up: leave Ctrl-C to the parent (which saves the finished trials and stops the pool),
    and exit when the parent dies (a killed parent must not leave its workers running)."""
    import signal
    import threading

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    parent = os.getppid()

    def watch():
        while True:
            time.sleep(0.5)
            if os.getppid() != parent:
                os._exit(1)

    threading.Thread(target=watch, daemon=True, name="structsparse-parent-watch").start()


def _write_table(path, meta, rows):
    """Write a table (a sweep's ``resume_file`` or :meth:`PhaseTable.save`) with its kind and version, atomically."""
    return _saving.write_json(path, TABLE_KIND, {"meta": meta, "rows": rows}, indent=None)


def _read_table(path, need_seed=False):
    """``(meta, rows)`` of a saved table, every row checked; files written before the header existed are read too."""
    clean_stale_temporaries(path)
    try:
        with open(path, "rb") as fh:
            raw = fh.read()
    except FileNotFoundError:
        raise _saving.missing_file(path, "Sweep") from None
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        what = "is empty" if not raw.strip() else f"is not valid JSON (truncated or corrupt: {exc})"
        raise ParameterError(f"Sweep file '{path}' {what}; delete it to start the sweep again.") from None
    if isinstance(data, dict):
        _saving.check_header(data, TABLE_KIND, f"Sweep file '{path}'", required=False)
    if not isinstance(data, dict) or "meta" not in data or "rows" not in data:
        raise ParameterError(f"Sweep file '{path}' is not a phase-transition result file "
                             "(expected keys 'meta' and 'rows').")
    meta, rows = data["meta"], data["rows"]
    if not isinstance(meta, dict) or not isinstance(rows, list):
        raise ParameterError(f"Sweep file '{path}': 'meta' must be an object and 'rows' a list.")
    if (need_seed or "base_seed" in meta) and not isinstance(meta.get("base_seed"), int):
        raise ParameterError(f"Sweep file '{path}': 'meta' lacks an integer 'base_seed'.")
    seen = set()
    for i, row in enumerate(rows):
        _check_row(row, i, path)
        key = (row["method"], row["m"], row["trial"])
        if key in seen:
            raise ParameterError(f"Sweep file '{path}': row {i} repeats trial {row['trial']} of {row['method']} "
                                 f"at m={row['m']} (duplicate rows).")
        seen.add(key)
    return meta, rows


def load_table(path):
    """Read a saved sweep: ``(meta, rows)``. Deprecated (one release): use :meth:`PhaseTable.load`.

    It returns what it always did, so that code written for it keeps working until it moves to
    ``PhaseTable.load(path)``, whose ``.meta`` and ``.to_records()`` are the two values below.

    Parameters
    ----------
    path : str or Path
        A JSON file written by :func:`phase_transition` (its ``resume_file``) or :meth:`PhaseTable.save`.

    Returns
    -------
    meta : dict
        The sweep's description: ``model`` (class name), ``params``,
        ``operator``, ``success_tol`` and ``base_seed``.
    rows : list of dict
        The finished trials, one dict per (method, m, trial) with keys
        ``method, m, trial, success, error, time, n_iter`` (unsorted).

    Raises
    ------
    ParameterError
        When the file does not hold a table (or holds another kind of object).
    """
    warnings.warn("cs.load_table is deprecated and will be removed in the next release; use "
                  "cs.PhaseTable.load(path) (the table's .meta holds what the first return value held).",
                  DeprecationWarning, stacklevel=2)
    return _read_table(path, need_seed=True)


_ROW_TYPES = {"method": str, "m": int, "trial": int, "success": bool, "error": (int, float), "time": (int, float),
              "n_iter": int}


def _check_row(row, i, path):
    """One saved trial: every key, of the right type, in range."""
    if not isinstance(row, dict):
        raise ParameterError(f"Sweep file '{path}': row {i} is not an object.")
    missing = [k for k in _ROW_TYPES if k not in row]
    if missing:
        raise ParameterError(f"Sweep file '{path}': row {i} lacks the key(s) {missing}.")
    for key, kind in _ROW_TYPES.items():
        value = row[key]
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise ParameterError(f"Sweep file '{path}': row {i} has {key}={value!r}, not of the expected type.")
    if row["m"] < 1 or row["trial"] < 0:
        raise ParameterError(f"Sweep file '{path}': row {i} has m={row['m']}, trial={row['trial']} (out of range).")


@dataclass(frozen=True, eq=True, repr=False)
class PhaseTable:
    """The result of :func:`phase_transition`: one row per (method, m, trial).

    It behaves like the list of its rows (iteration, ``len``, indexing), so code written for the tidy list of
    dicts keeps working, and it draws, saves and loads itself.

    Parameters
    ----------
    rows : sequence of dict
        The rows; each needs the keys ``method``, ``m`` and ``success`` (a sweep's rows also hold ``trial``,
        ``error``, ``time`` and ``n_iter``). They are copied.
    meta : dict, optional
        What the sweep was: ``model`` (class name), ``params``, ``operator``, ``success_tol``, ``base_seed``
        (the seed drawn from its ``rng``) and ``stamp`` (the code that ran it).

    Attributes
    ----------
    rows : tuple of dict
        The rows, sorted by method, m and trial.
    meta : dict
        The sweep's description.

    Examples
    --------
    >>> from structsparse import cs
    >>> table = cs.PhaseTable([{"method": "l1", "m": 10, "trial": 0, "success": True},
    ...                        {"method": "l1", "m": 10, "trial": 1, "success": False}])
    >>> len(table), table.success_rates()["l1"][1].tolist()
    (2, [0.5])
    """

    rows: tuple
    meta: dict = field(default_factory=dict)

    def __post_init__(self):
        rows = self.rows
        if isinstance(rows, (str, bytes, dict)) or not hasattr(rows, "__iter__"):
            raise TypeError(f"The 'rows' parameter of PhaseTable must be a sequence of dicts. Got {type(rows).__name__}.")
        rows = [dict(r) if isinstance(r, dict) else r for r in rows]
        for i, row in enumerate(rows):
            if not isinstance(row, dict):
                raise TypeError(f"The 'rows' parameter of PhaseTable: row {i} must be a dict. Got {type(row).__name__}.")
            if any(k not in row for k in ("method", "m", "success")):
                raise ParameterError(f"The 'rows' parameter of PhaseTable: row {i} lacks one of the keys 'method', "
                                     f"'m', 'success'. Got {row!r}.")
        rows.sort(key=lambda r: (str(r["method"]), r["m"], r.get("trial", 0)))
        meta = {} if self.meta is None else self.meta
        if not isinstance(meta, dict):
            raise TypeError(f"The 'meta' parameter of PhaseTable must be a dict or None. Got {type(meta).__name__}.")
        object.__setattr__(self, "rows", tuple(rows))
        object.__setattr__(self, "meta", json.loads(json.dumps(meta)) if meta else {})

    # ------------------------------------------------------------------ the list of rows
    def __len__(self):
        return len(self.rows)

    def __iter__(self):
        return iter(self.rows)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return list(self.rows[index])
        return self.rows[index]

    def to_records(self):
        """The rows as a new list of dicts (copies: changing them leaves the table as it is).

        Returns
        -------
        list of dict
        """
        return [dict(r) for r in self.rows]

    @property
    def methods(self):
        """The methods in the table, sorted."""
        return sorted({r["method"] for r in self.rows})

    @property
    def m_values(self):
        """The distinct numbers of measurements, sorted."""
        return sorted({r["m"] for r in self.rows})

    @property
    def model(self):
        """The signal model the sweep ran on, rebuilt from :attr:`meta` (None when the table does not say)."""
        if "model" in self.meta and "params" in self.meta:
            return model_from_params(self.meta["model"], self.meta["params"])
        return None

    def success_rates(self):
        """``{method: (m_values, success_rate)}``; see :func:`success_rates`."""
        return success_rates(self)

    def transition_point(self, method, level=0.5):
        """Smallest ``m`` at which ``method`` succeeds at rate ``level``; see :func:`transition_point`.

        Parameters
        ----------
        method : str
            A method of the table.
        level : float
            Success rate that defines the transition.

        Returns
        -------
        float or None
        """
        return transition_point(self, method, level)

    # ------------------------------------------------------------------ picture and file
    def plot(self, model=None, predictions=None, ax=None, fig=None, title=None):
        """Success rate against measurements, one curve per method, with the predicted thresholds.

        Parameters
        ----------
        model : SignalModel, optional
            Gives the predicted thresholds (default: the model in :attr:`meta`).
        predictions : dict, optional
            ``{method: m}`` to draw instead of the predictions.
        ax : matplotlib Axes, optional
            Draw into these axes.
        fig : matplotlib Figure, optional
            Or into this figure (not together with ``ax``).
        title : str, optional
            Panel title.

        Returns
        -------
        matplotlib.figure.Figure
            Left open (see :func:`structsparse.cs.plots.plot_phase_transition`).
        """
        from .plots import plot_phase_transition

        if model is None and predictions is None:
            model = self.model
        return plot_phase_transition(self, model=model, predictions=predictions, fig=fig, ax=ax, title=title)

    def save(self, path):
        """Write the table as JSON (its kind and format version first), atomically.

        Parameters
        ----------
        path : str or Path
            The file (conventionally ``.json``); its folder must exist.

        Returns
        -------
        Path
        """
        path = _saving.as_path(path, "PhaseTable.save")
        check_writable(path, "path")
        return _write_table(path, self.meta, self.to_records())

    @classmethod
    def load(cls, path):
        """Read a table written by :meth:`save` or by a sweep's ``resume_file``.

        Parameters
        ----------
        path : str or Path
            The JSON file.

        Returns
        -------
        PhaseTable

        Raises
        ------
        MissingFileError
            When the file does not exist (a ``ParameterError`` and a ``FileNotFoundError``).
        ParameterError
            When the file is damaged or holds another kind of object (the message names what it holds).
        """
        meta, rows = _read_table(_saving.as_path(path, "PhaseTable.load"))
        return cls(rows, meta)

    def __repr__(self):
        ms = self.m_values
        trials = len({r.get("trial") for r in self.rows})
        span = "none" if not ms else str(ms[0]) if len(ms) == 1 else f"{ms[0]}..{ms[-1]} ({len(ms)} values)"
        return (f"PhaseTable(model={self.meta.get('model')!r}, methods={self.methods}, m={span}, "
                f"trials={trials}, rows={len(self.rows)})")


# the sources whose behaviour a saved trial depends on (the cs front end and the solver layer it calls)
STAMPED_PACKAGES = ("cs", "solvers", "penalties", "datafits", "prox", "structure")


def code_stamp(root=None, packages=STAMPED_PACKAGES):
    """Identify the code that computes a sweep: the package version and a hash of its sources.

    Parameters
    ----------
    root : str or Path, optional
        Folder holding the packages (default: the installed ``structsparse``
        folder).
    packages : sequence of str
        Sub-folders whose ``*.py`` files are hashed (default: the ``cs``
        front end and the solver layer it relies on: any change there can
        change a trial's result).

    Returns
    -------
    dict
        ``{"version": ..., "sources_sha256": ...}`` (JSON-serializable);
        the hash covers every file's relative path and bytes, in sorted order.
    """
    try:
        from importlib.metadata import PackageNotFoundError, version

        try:
            ver = version("structsparse")
        except PackageNotFoundError:
            ver = "unknown"
    except ImportError:  # pragma: no cover
        ver = "unknown"
    base = Path(root) if root is not None else Path(__file__).resolve().parent.parent
    h = hashlib.sha256()
    for pkg in packages:
        for f in sorted((base / pkg).rglob("*.py")):
            h.update(str(f.relative_to(base)).replace(os.sep, "/").encode())
            h.update(b"\0")
            h.update(f.read_bytes())
            h.update(b"\0")
    return {"version": ver, "sources_sha256": h.hexdigest()}


def resumable(path, stamp):
    """Whether the saved sweep at ``path`` was made by the code ``stamp`` describes.

    When the file exists but its stamp differs (or it has none, or it cannot
    be read), it is moved aside to ``<path>.stale`` (replacing an older one)
    so that the sweep is recomputed from scratch, and ``False`` is returned.

    Parameters
    ----------
    path : str or Path
        The sweep's ``resume_file``.
    stamp : dict
        :func:`code_stamp` of the running code.

    Returns
    -------
    bool
        ``True`` when the file exists and was written by the same code;
        ``False`` when it did not exist or was set aside.
    """
    path = Path(path)
    if not path.exists():
        return False
    try:
        meta, _ = _read_table(path, need_seed=True)
        same = meta.get("stamp") == stamp
    except (ValueError, OSError):
        same = False
    if not same:
        os.replace(path, path.with_name(path.name + ".stale"))
    return same


def phase_transition(model, methods, m_grid, n_trials, executor=None, rng=None, resume_file=None,
                     progress=True, operator="gaussian", success_tol=1e-3, n_workers=None, stamp=None):
    """Success rate of recovery methods over a grid of measurement counts.

    Parameters
    ----------
    model : Sparse, BlockSparse or TreeSparse
    methods : sequence of str
        Names accepted by :func:`recover`.
    m_grid : sequence of int
        Numbers of measurements.
    n_trials : int
        Trials per ``m``.
    executor : concurrent.futures.Executor, optional
        Where trials run (default: a ``ProcessPoolExecutor`` with
        ``n_workers`` processes, shut down at the end). A dask client's
        ``client.get_executor()`` works the same way. An executor passed in
        is not shut down.
    rng : int, Generator or None
        The sweep's seed (a Generator, or None for fresh entropy, gives one draw; it is saved in
        ``table.meta["base_seed"]`` and in the ``resume_file``).
    resume_file : str or Path, optional
        JSON file the table is saved to (atomically, after every finished
        trial). If it exists, its finished trials are loaded and skipped;
        it must describe the same model, operator and success tolerance.
    progress : bool
        Show a tqdm progress bar.
    operator : {"gaussian", "bernoulli", "partial_dct"}
        Sensing matrix (for :class:`TreeSparse` it measures the signal, so
        the matrix the methods see is ``Phi @ Psi``).
    success_tol : float
        A trial succeeds when ``||x - x0|| <= success_tol ||x0||``.
    n_workers : int, optional
        Processes of the default pool (default: all CPUs).
    stamp : dict, optional
        Identity of the code (:func:`code_stamp`), saved with the table; a
        ``resume_file`` with another stamp is refused (use
        :func:`resumable` first to set a stale file aside).

    Returns
    -------
    PhaseTable
        The tidy table, sorted by method, m, trial; its ``meta`` says what the sweep was (with the seed drawn
        from ``rng``, so that a rerun with that seed repeats it).
    """
    owner = "phase_transition"
    model = check_model(model, owner)
    if isinstance(methods, str):
        methods = [methods]
    if not hasattr(methods, "__iter__"):
        raise TypeError(f"The 'methods' parameter of {owner} must be a method name or a sequence of them. "
                        f"Got {type(methods).__name__}.")
    methods = [check_choice(mt, "methods", METHODS, owner=owner) for mt in methods]
    if not methods:
        raise ParameterError(f"The 'methods' parameter of {owner} must name at least one method.")
    if isinstance(m_grid, (str, bytes)) or not hasattr(m_grid, "__iter__"):
        raise TypeError(f"The 'm_grid' parameter of {owner} must be a sequence of ints. Got {type(m_grid).__name__}.")
    try:
        m_grid = [int(m) for m in m_grid]
    except (TypeError, ValueError):
        raise ParameterError(f"The 'm_grid' parameter of {owner} must be a sequence of ints. Got {m_grid!r}.") from None
    if not m_grid:
        raise ParameterError(f"The 'm_grid' parameter of {owner} must hold at least one measurement count.")
    for m in m_grid:
        check_int(m, "m_grid", low=1, high=model.n, owner=owner)
    n_trials = check_int(n_trials, "n_trials", low=1, owner=owner)
    if n_workers is not None:
        n_workers = check_int(n_workers, "n_workers", low=1, owner=owner)
        if executor is not None:
            raise ParameterError(f"The 'n_workers' parameter of {owner} goes with the default process pool; "
                                 "it cannot be given together with an 'executor'.")
    if resume_file is not None:
        check_writable(resume_file, "resume_file")  # before any trial runs
    operator = check_choice(operator, "operator", tuple(OPERATORS), owner=owner)
    success_tol = check_scalar(success_tol, "success_tol", low=0, low_inclusive=False, owner=owner)
    if executor is not None and not isinstance(executor, Executor) and not hasattr(executor, "submit"):
        raise TypeError(f"The 'executor' parameter of {owner} must be a concurrent.futures.Executor. "
                             f"Got {type(executor).__name__}.")
    kind = type(model).__name__
    meta = {"model": kind, "params": model.params(), "operator": operator, "success_tol": success_tol}
    if stamp is not None:
        meta["stamp"] = json.loads(json.dumps(stamp))  # as it reads back from the file

    rows = []
    base_seed = None
    if resume_file is not None and os.path.exists(resume_file):
        saved_meta, rows = _read_table(resume_file, need_seed=True)
        out_of_range = [r for r in rows if r["m"] > model.n]  # (trials beyond n_trials are kept, not shown)
        if out_of_range:
            r = out_of_range[0]
            raise ParameterError(f"Sweep file '{resume_file}' holds a trial at m={r['m']}, more measurements than "
                                 f"the signal length n={model.n}; use another file or delete it.")
        mismatch = [key for key in meta if saved_meta.get(key) != meta[key]]
        if mismatch:
            raise ParameterError(f"{resume_file} holds a different sweep ({', '.join(mismatch)} differ); "
                                 f"use another resume_file or delete it.")
        base_seed = int(saved_meta["base_seed"])
        if rng is not None and isinstance(rng, (int, np.integer)) and int(rng) != base_seed:
            raise ParameterError(f"{resume_file} was started with seed {base_seed}, not {rng}.")
    if base_seed is None:
        base_seed = _trial_seed(rng)
    meta["base_seed"] = base_seed

    done = {(r["method"], r["m"], r["trial"]) for r in rows}
    tasks = []
    for m in m_grid:
        for t in range(n_trials):
            todo = [mt for mt in methods if (mt, m, t) not in done]
            if todo:
                tasks.append((m, t, todo))

    owned = executor is None and tasks
    if owned:
        executor = ProcessPoolExecutor(max_workers=n_workers or os.cpu_count(), initializer=_ignore_sigint)
    bar = None
    if progress and tasks:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(tasks), desc=f"phase transition ({kind})", unit="trial")
    futures = []
    consumed = set()
    last_save = time.monotonic()
    try:
        with _sigint_deferred(bool(owned)):  # a Ctrl-C while the pool forks would be lost in a fork hook
            for m, t, todo in tasks:
                futures.append(executor.submit(run_trial, kind, model.params(), todo, m, t, base_seed, operator,
                                               success_tol))
        for fut in as_completed(futures):
            consumed.add(fut)
            rows.extend(fut.result())
            if bar is not None:
                bar.update(1)
            if resume_file is not None and time.monotonic() - last_save > 0.5:
                _write_table(resume_file, meta, rows)
                last_save = time.monotonic()
    finally:
        # keep every finished trial, also those finished when an interruption came
        for fut in futures:
            if fut not in consumed and fut.done() and not fut.cancelled() and fut.exception() is None:
                rows.extend(fut.result())
            fut.cancel()
        if bar is not None:
            bar.close()
        if resume_file is not None:
            _write_table(resume_file, meta, rows)
        if owned:
            executor.shutdown(wait=True, cancel_futures=True)
    wanted = set(methods)
    grid = set(m_grid)
    table = [r for r in rows if r["method"] in wanted and r["m"] in grid and r["trial"] < n_trials]
    return PhaseTable(table, meta)


def success_rates(table):
    """``{method: (m_values, success_rate)}`` from a tidy table.

    Parameters
    ----------
    table : PhaseTable or list of dict
        A :class:`PhaseTable` (or its rows); each row needs the keys
        ``method``, ``m`` and ``success``.

    Returns
    -------
    dict of str to (ndarray, ndarray)
        For each method (in sorted order), the sorted distinct ``m`` values
        and, for each, the fraction of its trials that succeeded.
    """
    if isinstance(table, (str, bytes, dict)) or not hasattr(table, "__iter__"):
        raise TypeError(f"The 'table' parameter of success_rates must be a PhaseTable or a list of rows. "
                        f"Got {type(table).__name__}.")
    table = list(table)
    for i, row in enumerate(table):
        if not isinstance(row, dict) or any(k not in row for k in ("method", "m", "success")):
            raise ParameterError(f"The 'table' parameter of success_rates: row {i} lacks one of the keys "
                                 f"'method', 'm', 'success'. Got {row!r}.")
    out = {}
    for method in sorted({r["method"] for r in table}):
        ms = sorted({r["m"] for r in table if r["method"] == method})
        rate = [np.mean([r["success"] for r in table if r["method"] == method and r["m"] == m]) for m in ms]
        out[method] = (np.array(ms), np.array(rate))
    return out


def transition_point(table, method, level=0.5):
    """Smallest ``m`` at which the success rate reaches ``level``, interpolated linearly (None if never).

    Parameters
    ----------
    table : PhaseTable or list of dict
        A :class:`PhaseTable` (or its rows).
    method : str
        The method whose transition is wanted; it must have rows in ``table``.
    level : float, default 0.5
        Success rate that defines the transition.

    Returns
    -------
    float or None
        Linear interpolation between the last grid ``m`` below ``level`` and
        the first one reaching it; the first grid ``m`` itself when the rate
        already reaches ``level`` there; None when it never does.

    Raises
    ------
    ParameterError
        When ``table`` has no rows for ``method``.
    """
    level = check_scalar(level, "level", low=0, low_inclusive=False, owner="transition_point")
    rates = success_rates(table)
    if method not in rates:
        raise ParameterError(f"No rows for method {method!r} in the table.")
    ms, rate = rates[method]
    for i, (m, r) in enumerate(zip(ms, rate)):
        if r >= level:
            if i == 0 or rate[i - 1] >= level:
                return float(m)
            m0, r0 = ms[i - 1], rate[i - 1]
            return float(m0 + (level - r0) * (m - m0) / (r - r0))
    return None
