"""The ``structsparse`` command.

Each command lives beside the code it drives and registers itself here
through a ``register(subparsers)`` function; the handler it sets as
``func`` returns the process exit code.
"""

import argparse
import re
import importlib
import importlib.util
import os
import sys

from ._interrupt import caused_by_interrupt, deliverable_interrupts

__all__ = ["main", "build_parser"]

# modules that contribute subcommands, in the order they are listed in --help
COMMAND_MODULES = (
    ".demo",
    ".verify",
    ".cs.cli",
    ".sysid.cli",
    ".nn.cli",
)


def build_parser():
    """The argument parser with every registered subcommand."""
    from . import __version__

    parser = argparse.ArgumentParser(
        prog="structsparse",
        description="Structured sparsity: solvers checked against cvxpy, compressive sensing, "
        "system identification and network pruning.",
    )
    parser.add_argument("--version", action="version", version=f"structsparse {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name, package=__package__)
        except ModuleNotFoundError as exc:
            if exc.name != importlib.util.resolve_name(name, __package__):  # a real missing dependency must surface
                raise
            continue
        module.register(sub)
    for command in sub.choices.values():
        command.description = _plain(command.description)
    return parser


def _plain(text):
    """A description taken from a reST docstring, as a terminal shows it (no ````literal```` markup)."""
    if not text:
        return text
    text = text.replace("``", "")
    # a docstring's first line names the command ("structsparse demo: a tour ..."); --help already shows the usage
    text = re.sub(r"^structsparse [a-z-]+: *", "", text)
    return text[:1].upper() + text[1:]


#: Output options of each command, checked writable before any work: "file" (its folder must exist),
#: "file+dirs" (missing folders are created), "folder", or "file|folder" (a path with a suffix is a file).
OUTPUTS = {
    "verify": {"json": "file"},
    "recover": {"plot": "file"},
    "rip": {"plot": "file"},
    "phase": {"out": "file", "plot": "file"},
    "identify": {"out": "file", "plot": "file"},
    "prune": {"out": "file+dirs", "plot": "file|folder", "recipe": "file+dirs", "dense_out": "file+dirs"},
    "demo": {"out": "folder"},
}


def check_outputs(args):
    """Refuse an output path that cannot be written, before the command starts its work."""
    from pathlib import Path

    from ._atomic import check_writable

    for name, kind in OUTPUTS.get(args.command, {}).items():
        value = getattr(args, name, None)
        if not value:
            continue
        option = "--" + name.replace("_", "-")
        if kind == "folder" or (kind == "file|folder" and not Path(value).suffix):
            check_writable(value, option, folder=True)
        elif kind == "file+dirs":
            if Path(value).is_dir():
                raise IsADirectoryError(f"Cannot write {option} '{value}': it is a folder.")
            check_writable(Path(value).parent, option, folder=True)
        else:
            check_writable(value, option)


def _one_line(exc):
    text = " ".join(str(exc).split())
    return text if len(text) <= 600 else text[:597] + "..."


def main(argv=None):
    """Run the command line; return the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        print("structsparse: error: a command is required (see the list above).", file=sys.stderr)
        return 2
    try:
        check_outputs(args)
        with deliverable_interrupts():   # a Ctrl-C while numba compiles is not lost (_interrupt)
            return int(args.func(args) or 0)
    except BrokenPipeError:
        # the reader went away (`structsparse ... | head`): stop quietly, as other command-line tools do
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except (ValueError, TypeError, OSError) as exc:
        # user errors (bad files, bad options) get one clear line, not a traceback
        print(f"structsparse {args.command}: error: {_one_line(exc)}", file=sys.stderr)
        return 2
    except (KeyboardInterrupt, SystemError) as exc:
        if not caused_by_interrupt(exc):
            raise
        note = getattr(args, "_interrupt_note", None)
        print(note() if callable(note) else f"structsparse {args.command}: interrupted.", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
