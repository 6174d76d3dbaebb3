"""Atomic file writes: a temporary file in the target folder, renamed into place on success.

A reader never sees a half-written file and an interrupted write leaves the
previous file intact. Every module that saves files (models, patterns,
networks, sweeps, figures, reports) goes through :func:`atomic_target`.
"""

import os
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

__all__ = ["atomic_target", "atomic_write_bytes", "atomic_write_text", "save_figure", "check_writable",
           "clean_stale_temporaries"]

#: A temporary sibling older than this (seconds) belongs to a writer that was killed (SIGKILL, power loss):
#: no live writer keeps one that long without touching it... except a long figure or model write, hence a margin.
STALE_AFTER = 600.0

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
    clean_stale_temporaries(path)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.{os.getpid()}-", suffix=suffix or path.suffix or ".tmp",
                                   dir=folder)
    except OSError as exc:  # name the file the caller asked for, not a hidden temporary
        raise type(exc)(exc.errno, f"Cannot write '{path}': folder '{folder}' is not writable "
                                   f"({exc.strerror or exc})") from None
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


def _temporaries(path):
    """Temporary siblings that :func:`atomic_target` makes for ``path`` (``.<name>.<random><suffix>``)."""
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    prefix = f".{path.name}."
    try:
        names = os.listdir(folder)
    except OSError:
        return []
    return [folder / n for n in names if n.startswith(prefix) and len(n) > len(prefix)]


def _writer_alive(rest):
    """Whether the process that made a temporary (its pid leads the random part: ``<pid>-...``) still runs."""
    head = rest.split("-", 1)[0]
    if not head.isdigit() or "-" not in rest:
        return True  # an older name without a pid: only its age tells
    pid = int(head)
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def clean_stale_temporaries(path, older_than=None):
    """Remove temporary siblings of ``path`` left by a writer that was killed mid-save.

    A temporary is stale when the process that made it no longer runs (its
    pid is part of the name), or when it is older than ``older_than``.

    Parameters
    ----------
    path : str or Path
        The target file (which need not exist).
    older_than : float, optional
        Age in seconds (modification time) above which a temporary is stale
        (default :data:`STALE_AFTER`); ``0`` removes every one (use it only
        when no other process may be writing ``path``).

    Returns
    -------
    list of Path
        The files removed.
    """
    limit = STALE_AFTER if older_than is None else float(older_than)
    now = time.time()
    removed = []
    prefix = f".{Path(path).name}."
    for tmp in _temporaries(path):
        try:
            if not _writer_alive(tmp.name[len(prefix):]) or now - tmp.stat().st_mtime >= limit:
                tmp.unlink()
                removed.append(tmp)
        except OSError:  # another process removed or renamed it meanwhile
            continue
    return removed


def check_writable(path, option=None, folder=False):
    """Check, before any work, that ``path`` can be written: its folder exists, is a folder and is writable.

    Parameters
    ----------
    path : str or Path
        The output file.
    option : str, optional
        The argument or command-line option that named it (``"--out"``), for the message.
    folder : bool
        ``path`` is an output folder: it may exist (then it must be a writable
        folder) or be created (then its nearest existing parent must be writable).

    Returns
    -------
    Path

    Raises
    ------
    OSError
        ``FileNotFoundError``, ``NotADirectoryError``, ``IsADirectoryError`` or
        ``PermissionError``, naming the path (and the option).
    """
    path = Path(path)
    who = f"{option} " if option else ""
    if folder:
        target = path
        while not target.exists() and target != target.parent:
            target = target.parent
        if not target.is_dir():
            raise NotADirectoryError(f"Cannot write {who}'{path}': '{target}' is a file, not a folder.")
        try:
            check_writable(target / ".probe", option)
        except OSError:
            raise PermissionError(f"Cannot write {who}'{path}': folder '{target}' is not writable.") from None
        return path
    folder = path.parent if str(path.parent) else Path(".")
    if path.is_dir():
        raise IsADirectoryError(f"Cannot write {who}'{path}': it is a folder.")
    if not folder.exists():
        raise FileNotFoundError(f"Cannot write {who}'{path}': folder '{folder}' does not exist.")
    if not folder.is_dir():
        raise NotADirectoryError(f"Cannot write {who}'{path}': '{folder}' is not a folder.")
    try:
        fd, probe = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".probe", dir=folder)
    except OSError as exc:
        raise PermissionError(f"Cannot write {who}'{path}': folder '{folder}' is not writable "
                              f"({exc.strerror or exc}).") from None
    os.close(fd)
    os.unlink(probe)
    return path
