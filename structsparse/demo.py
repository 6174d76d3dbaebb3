"""``structsparse demo``: a tour of the library on embedded defaults.

Each part lives beside the code it shows, as a module with
``demo_part(out_dir, rng) -> bool`` that prints its own short report,
writes its figures into ``out_dir`` and returns whether its checks passed.
"""

import importlib
import importlib.util
import time
from pathlib import Path

import numpy as np

from ._validation import check_rng, renamed_kwarg
from .exceptions import ParameterError

__all__ = ["run_demo", "register", "DEMO_PARTS"]

DEMO_PARTS = {
    "solvers": ".solvers.tour",
    "cs": ".cs.demo",
    "sysid": ".sysid.demo",
    "nn": ".nn.demo",
}


def _available_parts():
    parts = {}
    for key, name in DEMO_PARTS.items():
        try:
            parts[key] = importlib.import_module(name, package=__package__)
        except ModuleNotFoundError as exc:
            if exc.name != importlib.util.resolve_name(name, __package__):
                raise
    return parts


def _is_seed(rng):
    return isinstance(rng, (int, np.integer)) and not isinstance(rng, bool)


@renamed_kwarg("seed", "rng")
def run_demo(out_dir="structsparse-demo", rng=0, parts=None):
    """Run the demo parts and return True when every check passed.

    Parameters
    ----------
    out_dir : str or Path
        Folder for figures and files (created if missing).
    rng : None, int or numpy.random.Generator, default 0
        Seed of every random draw, handed to each part. The default is a
        fixed seed on purpose: the demo prints the same tables and draws the
        same figures every run (``None`` draws fresh ones).
    parts : sequence of str, optional
        Which parts to run (default: all).

    Returns
    -------
    bool

    Notes
    -----
    ``seed=`` is the deprecated old name of ``rng`` (a ``DeprecationWarning``; removed in 0.3).
    """
    # each part takes an int seed (it hands it to several functions): a Generator or None gives one
    rng = int(rng) if isinstance(check_rng(rng), np.random.Generator) and _is_seed(rng) else \
        int(check_rng(rng).integers(2 ** 31 - 1))
    if parts is not None and (isinstance(parts, str) or not all(isinstance(p, str) for p in parts)):
        raise TypeError(f"The 'parts' parameter of run_demo must be a sequence of part names. Got {parts!r}.")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    available = _available_parts()
    chosen = list(available) if not parts else list(parts)
    unknown = [p for p in chosen if p not in available]
    if unknown:
        raise ParameterError(f"The 'parts' parameter of run_demo must name parts among {sorted(available)}. "
                             f"Got {unknown}.")
    ok = True
    for key in chosen:
        start = time.perf_counter()
        print(f"\n=== {key} ===")
        passed = bool(available[key].demo_part(out, rng))
        print(f"--- {key}: {'ok' if passed else 'FAILED'} ({time.perf_counter() - start:.1f} s)")
        ok &= passed
    print(f"\nOutputs written to {out.resolve()}")
    return ok


def _cli(args):
    import matplotlib

    matplotlib.use("Agg")  # the command writes files only; run_demo itself leaves the backend alone
    return 0 if run_demo(args.out, rng=args.seed, parts=args.parts) else 1


def register(subparsers):
    p = subparsers.add_parser("demo", help="tour of the library on embedded defaults",
                              description=__doc__.splitlines()[0])
    p.add_argument("--out", default="structsparse-demo", help="output folder (default: %(default)s)")
    # a command line names an integer seed: the flag is --seed, passed on as rng
    p.add_argument("--seed", "--rng", dest="seed", type=int, default=0, help="random seed, passed on as rng "
                   "(default: %(default)s)")
    p.add_argument("--parts", nargs="*", metavar="PART", help=f"subset of parts: {', '.join(DEMO_PARTS)}")
    p.set_defaults(func=_cli)
