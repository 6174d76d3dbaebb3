"""The one header every saved file carries: the kind of object it holds and its format version.

Every object that saves itself (``obj.save(path)`` / ``Cls.load(path)``) writes a ``"format"`` entry (the kind,
a dotted name such as ``"structsparse.sysid.StateSpace"``) and a ``"version"`` entry (an int), in a JSON object or
as two 0-d arrays of an ``.npz`` file, and its ``load`` reads them back through :func:`check_header`, which refuses
a file of another kind with a :class:`~structsparse.ParameterError` saying what the file holds. Writes go through
:mod:`structsparse._atomic` (a temporary file renamed into place).
"""

import io
import json
import os
from pathlib import Path

import numpy as np

from . import _atomic
from .exceptions import MissingFileError, ParameterError, ParameterTypeError

__all__ = ["header", "check_header", "held_kind", "write_json", "read_json", "npz_header", "write_npz",
           "missing_file", "as_path"]

FORMAT_KEY = "format"
VERSION_KEY = "version"


def header(kind, version=1):
    """``{"format": kind, "version": version}``: the first entries of a saved file."""
    return {FORMAT_KEY: str(kind), VERSION_KEY: int(version)}


def _scalar(value):
    """A header entry as a Python scalar (an ``.npz`` stores it as a 0-d array)."""
    if isinstance(value, np.ndarray) and value.ndim == 0:
        return value.item()
    return value


def held_kind(data):
    """The kind a loaded JSON object or ``.npz`` file says it holds (None when it has no header)."""
    try:
        return _scalar(data[FORMAT_KEY]) if FORMAT_KEY in data else None
    except TypeError:
        return None


def check_header(data, kind, source, versions=(1,), required=True):
    """Check that ``data`` (a loaded JSON object or an open ``.npz``) holds a ``kind`` of a version we read.

    Parameters
    ----------
    data : dict or numpy.lib.npyio.NpzFile
        What the file holds.
    kind : str
        The expected kind (``"structsparse.cs.PhaseTable"``).
    source : str
        The file, for the messages (``"Model file 'm.json'"``).
    versions : tuple of int
        Versions this library reads.
    required : bool
        Refuse a file without a header (False accepts files written before headers existed).

    Returns
    -------
    int or None
        The file's version (None for a header-less file accepted with ``required=False``).

    Raises
    ------
    ParameterError
        When the file holds another kind of object (the message names it), has no header while one is
        required, or has a version this library does not read.
    """
    if not (isinstance(data, dict) or hasattr(data, "files")):
        raise ParameterError(f"{source} does not hold a saved {kind} (expected a JSON object); "
                             f"it holds a {type(data).__name__}.")
    held = held_kind(data)
    if held is None:
        if required:
            raise ParameterError(f"{source} has no '{FORMAT_KEY}' entry: it is not a saved {kind}.")
        return None
    if held != kind:
        raise ParameterError(f"{source} holds a {held}, not a {kind}; load it with the class that saved it.")
    version = _scalar(data[VERSION_KEY]) if VERSION_KEY in data else None
    if version not in versions:
        want = ", ".join(str(v) for v in versions)
        raise ParameterError(f"{source} is a {kind} file of version {version!r}; this library reads version {want}.")
    return int(version)


def write_json(path, kind, payload, version=1, indent=2):
    """Write ``header(kind, version)`` followed by ``payload`` (a dict) as JSON, atomically; return the path."""
    text = json.dumps({**header(kind, version), **payload}, indent=indent)
    return _atomic.atomic_write_text(path, text + "\n")


def read_json(path, what):
    """The JSON object of ``path``; every failure names ``what`` the file should hold (stale temporaries removed).

    Raises
    ------
    MissingFileError
        When the file is missing (a ``ParameterError`` and a ``FileNotFoundError``).
    ParameterError
        When the file is empty or not valid JSON.
    """
    path = Path(path)
    _atomic.clean_stale_temporaries(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise missing_file(path, what) from None
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        state = "is empty" if not raw.strip() else f"is not valid JSON (truncated or corrupt: {exc})"
        raise ParameterError(f"{what} file '{path}' {state}.") from None


def as_path(path, owner, name="path"):
    """``Path(path)``, or a TypeError naming the argument and the function when ``path`` is not a file path."""
    if isinstance(path, (str, os.PathLike)) and not isinstance(path, bytes):
        return Path(path)
    raise ParameterTypeError(f"The '{name}' parameter of {owner} must be a file path (str or os.PathLike). "
                             f"Got {type(path).__name__}.")


def missing_file(path, what, cls=MissingFileError):
    """The one error of every ``load`` given a file that does not exist: ``"<what> file '<path>' does not exist."``.

    ``cls`` is :class:`~structsparse.exceptions.MissingFileError` or a subclass of it (one that also keeps an
    older error class of that loader for one release).
    """
    return cls(f"{what} file '{path}' does not exist.")


def npz_header(kind, version=1):
    """The header as arrays for :func:`numpy.savez`."""
    return {FORMAT_KEY: np.array(str(kind)), VERSION_KEY: np.array(int(version))}


def write_npz(path, kind, arrays, version=1):
    """Write ``arrays`` with the header as ``.npz``, atomically; return the path."""
    buf = io.BytesIO()
    np.savez(buf, **npz_header(kind, version), **arrays)
    return _atomic.atomic_write_bytes(path, buf.getvalue())
