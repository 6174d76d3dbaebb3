"""The ``structsparse`` command.

Each command lives beside the code it drives and registers itself here
through a ``register(subparsers)`` function; the handler it sets as
``func`` returns the process exit code.
"""

import argparse
import importlib
import importlib.util
import sys

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
    return parser


def main(argv=None):
    """Run the command line; return the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except (ValueError, TypeError, OSError) as exc:
        # user errors (bad files, bad options) get one clear line, not a traceback
        print(f"structsparse {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
