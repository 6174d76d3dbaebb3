"""Atomic file writes: a temporary file in the target folder, renamed into place on success.

A reader never sees a half-written file and an interrupted write leaves the
previous file intact. Every module that saves files (models, patterns,
networks, sweeps, figures, reports) goes through :func:`atomic_target`.
"""

import os
import tempfile
from contextlib import contextmanager
from pathlib import Path

__all__ = ["atomic_target", "atomic_write_bytes", "atomic_write_text", "save_figure"]

# mkstemp creates private (0600) files; renamed files get the permissions a plain open() would give
_UMASK = os.umask(0)
os.umask(_UMASK)


@contextmanager
def atomic_target(path, suffix=None):
    """Yield a temporary file name next to ``path``; move it onto ``path`` when the block succeeds.

    Parameters
    ----------
    path : str or Path
        The final file. Its folder must exist.
    suffix : str, optional
        Suffix of the temporary name (default: that of ``path``), for writers
        that infer the format from it.

    Raises
    ------
    FileNotFoundError
        When the folder of ``path`` does not exist.
    """
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise FileNotFoundError(f"Cannot write '{path}': folder '{folder}' does not exist.")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix or path.suffix or ".tmp", dir=folder)
    os.close(fd)
    try:
        yield tmp
        os.chmod(tmp, 0o666 & ~_UMASK)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def atomic_write_bytes(path, data):
    """Write ``data`` (bytes) to ``path`` atomically; return the path as a ``Path``."""
    with atomic_target(path) as tmp:
        with open(tmp, "wb") as fh:
            fh.write(data)
    return Path(path)


def atomic_write_text(path, text):
    """Write ``text`` (UTF-8) to ``path`` atomically; return the path as a ``Path``."""
    return atomic_write_bytes(path, text.encode("utf-8"))


def save_figure(fig, path, dpi=110):
    """Write a matplotlib figure to ``path`` atomically (format from the suffix, PNG without one)."""
    suffix = Path(path).suffix or ".png"
    with atomic_target(path, suffix=suffix) as tmp:
        fig.savefig(tmp, dpi=dpi, format=suffix.lstrip("."))
    return Path(path)
