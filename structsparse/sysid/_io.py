"""Atomic file writes shared by patterns and models.

A file is written to a temporary name in the target folder and moved into
place with ``os.replace``, so a reader never sees a half-written file and an
interrupted write leaves the old file intact.
"""

import io
import json
from pathlib import Path

import numpy as np

from .. import _atomic, _saving
from ..exceptions import ParameterError

__all__ = ["atomic_write_bytes", "write_json", "read_json", "write_npz"]


def atomic_write_bytes(path, data):
    """Write ``data`` (bytes) to ``path`` atomically; return the path."""
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise ParameterError(f"Cannot write '{path}': folder '{folder}' does not exist.")
    return _atomic.atomic_write_bytes(path, data)


def write_json(path, obj):
    """Write ``obj`` as indented JSON, atomically."""
    return atomic_write_bytes(path, (json.dumps(obj, indent=2) + "\n").encode("utf-8"))


def read_json(path, what):
    """Read a JSON file, naming ``what`` it should hold in every error (stale temporaries beside it are removed)."""
    path = Path(path)
    _atomic.clean_stale_temporaries(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise _saving.missing_file(path, what) from None
    except UnicodeDecodeError:  # a binary file (an .npz) given where JSON is read
        raise ParameterError(f"{what} file '{path}' is not a JSON file (it holds binary data; a saved "
                             "network or .npz model?).") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ParameterError(f"{what} file '{path}' is not valid JSON: {exc}") from None


def write_npz(path, arrays):
    """Write a dict of arrays as ``.npz``, atomically."""
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return atomic_write_bytes(path, buf.getvalue())
