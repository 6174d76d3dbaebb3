"""``structsparse demo``: a tour of the library on embedded defaults.

Each part lives beside the code it shows, as a module with
``demo_part(out_dir, seed) -> bool`` that prints its own short report,
writes its figures into ``out_dir`` and returns whether its checks passed.
"""

import importlib
import importlib.util
import time
from pathlib import Path

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


def run_demo(out_dir="structsparse-demo", seed=0, parts=None):
    """Run the demo parts and return True when every check passed.

    Parameters
    ----------
    out_dir : str or Path
        Folder for figures and files (created if missing).
    seed : int
        Seed for every random draw.
    parts : sequence of str, optional
        Which parts to run (default: all).
    """
    import matplotlib

    matplotlib.use("Agg")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    available = _available_parts()
    chosen = list(available) if not parts else list(parts)
    unknown = [p for p in chosen if p not in available]
    if unknown:
        raise ValueError(f"Unknown demo part(s) {unknown}; choose from {sorted(available)}.")
    ok = True
    for key in chosen:
        start = time.perf_counter()
        print(f"\n=== {key} ===")
        passed = bool(available[key].demo_part(out, seed))
        print(f"--- {key}: {'ok' if passed else 'FAILED'} ({time.perf_counter() - start:.1f} s)")
        ok &= passed
    print(f"\nOutputs written to {out.resolve()}")
    return ok


def _cli(args):
    return 0 if run_demo(args.out, args.seed, args.parts) else 1


def register(subparsers):
    p = subparsers.add_parser("demo", help="tour of the library on embedded defaults",
                              description=__doc__.splitlines()[0])
    p.add_argument("--out", default="structsparse-demo", help="output folder (default: %(default)s)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default: %(default)s)")
    p.add_argument("--parts", nargs="*", metavar="PART", help=f"subset of parts: {', '.join(DEMO_PARTS)}")
    p.set_defaults(func=_cli)
