"""``structsparse identify`` and ``structsparse identifiable``.

``identify`` reads a CSV file with a header row (one column per channel,
one row per sample), identifies a model and prints the identifiability
verdict, the fit and the matrices; ``--out`` saves the model (``.json`` or
``.npz``), ``--plot`` draws measured against simulated outputs.

``identifiable`` prints the verdict for a pattern file written by
``Pattern.save``; its exit status is 0 when the pattern is identifiable and
1 when it is not.
"""

import csv
import sys
from pathlib import Path

import numpy as np

from ..exceptions import ParameterError
from .states import PENALTY_KINDS

#: Deprecated --penalty names (one release), mapped to the penalties' names.
_OLD_PENALTIES = {"group": "group_lasso", "sparse_group": "sparse_group_lasso"}

__all__ = ["register", "read_csv_columns"]


def read_csv_columns(path, names, what):
    """Columns ``names`` of a CSV file with a header row, as an array ``(n_samples, len(names))``.

    Empty cells become NaN (and are reported by ``identify``).
    """
    path = Path(path)
    try:
        with open(path, newline="", encoding="utf-8") as fh:
            header = next(csv.reader(fh), None)
    except FileNotFoundError:
        raise ParameterError(f"Data file '{path}' does not exist.") from None
    if not header:
        raise ParameterError(f"Data file '{path}' is empty; it needs a header row naming the columns.")
    header = [h.strip() for h in header]
    missing = [n for n in names if n not in header]
    if missing:
        raise ParameterError(f"{what} column(s) {missing} not in '{path}'; its columns are {header}.")
    try:
        data = np.genfromtxt(path, delimiter=",", skip_header=1, dtype=float, ndmin=2)
    except ValueError as exc:
        raise ParameterError(f"Data file '{path}' is not a numeric CSV table: {exc}") from None
    if data.size == 0:
        raise ParameterError(f"Data file '{path}' has no data rows.")
    if data.shape[1] != len(header):
        raise ParameterError(f"Data file '{path}': rows have {data.shape[1]} fields but the header names {len(header)}.")
    return data[:, [header.index(n) for n in names]]


def _names(text, option):
    names = [s.strip() for s in text.split(",") if s.strip()]
    if not names:
        raise ParameterError(f"The {option} option needs a comma-separated list of column names.")
    return names


def _print_matrices(model):
    with np.printoptions(precision=4, suppress=True, linewidth=120):
        for name, M in zip("ABCD", model.matrices):
            print(f"{name} =\n{M}")


def _identify_cli(args):
    from . import Pattern, identifiability, identify

    from .._atomic import check_writable
    from .identify import check_order_supported

    if args.order < 1:
        raise ParameterError(f"--order must be a positive number of states. Got {args.order}.")
    inputs = _names(args.inputs, "--inputs")
    states = _names(args.states, "--states") if args.states else None
    outputs = _names(args.outputs, "--outputs") if args.outputs else None
    if outputs is None and states is None:
        raise ParameterError("identify needs --outputs (or --states).")
    seen = {}
    for option, names_ in (("--inputs", inputs), ("--outputs", outputs or []), ("--states", states or [])):
        for name in names_:
            if name in seen:
                where = "twice in " + option if seen[name] == option else f"in both {seen[name]} and {option}"
                raise ParameterError(f"Column {name!r} is given {where}; each column may be used once.")
            seen[name] = option
    if args.out:
        if Path(args.out).suffix not in (".json", ".npz"):
            raise ParameterError(f"--out {args.out}: the model is saved as .json or .npz; give one of those suffixes.")
        check_writable(args.out, "--out")
    if args.plot:
        check_writable(args.plot, "--plot")
    u = read_csv_columns(args.data, inputs, "Input")
    y = read_csv_columns(args.data, outputs, "Output") if outputs else None
    x = read_csv_columns(args.data, states, "State") if states else None
    pattern = Pattern.load(args.pattern) if args.pattern else None
    m, p = u.shape[1], (y.shape[1] if y is not None else len(states))
    if x is None and np.isfinite(u).all() and np.isfinite(y).all():  # before the (costly) identifiability test
        check_order_supported(u.shape[0], m, p, args.order, pattern=pattern, feedthrough=args.feedthrough)

    print(f"Data: {u.shape[0]} samples, {m} input(s), {p} output(s)"
          + (f", {x.shape[1]} measured state(s)" if x is not None else ""))
    if x is not None:
        print("Identifiability: the states are measured, so their coordinates are fixed by the data; "
              "every entry is identifiable when the inputs excite the system.")
    elif pattern is not None:
        print("Identifiability: " + identifiability(pattern, rng=args.seed).summary())
    else:
        full = Pattern.full(args.order, m, p, args.feedthrough)
        verdict = identifiability(full, rng=args.seed)
        print(f"Identifiability: no pattern given, every entry free: {verdict.n_unidentifiable} unidentifiable "
              "direction(s) (the similarity transforms); the matrices are one realization among many, "
              "the behaviour is unique.")
    penalty = args.penalty
    if penalty in _OLD_PENALTIES:
        print(f"note: --penalty {penalty} is deprecated and will be removed in the next release; use --penalty "
              f"{_OLD_PENALTIES[penalty]} (the penalty's name).", file=sys.stderr)
        penalty = _OLD_PENALTIES[penalty]
    result = identify(u, y, args.order, pattern=pattern, penalty=penalty, x=x, feedthrough=args.feedthrough,
                      dt=args.dt, rng=args.seed, check_identifiability=False)
    names = outputs if outputs else states
    fit = ", ".join(f"{n}: {f:.2f} %" for n, f in zip(names, result.fit))
    print(f"Method: {result.method}; fit per output: {fit}")
    print(result.summary().splitlines()[1])
    if args.penalty:
        print(f"Found pattern: {int(result.pattern.masks['A'].sum())} entries of A, "
              f"{int(result.pattern.masks['B'].sum())} of B")
    _print_matrices(result.model)
    if args.out:
        result.save(args.out)
        print(f"Model saved to {args.out}")
    if args.plot:
        import matplotlib.pyplot as plt

        from .plots import plot_outputs, save_figure

        y_meas = y if y is not None else x
        fig = plot_outputs(y_meas, result.y_sim, dt=args.dt, names=names, fit=result.fit, max_samples=300)
        try:
            save_figure(fig, args.plot)
        finally:
            plt.close(fig)  # made only to be saved
        print(f"Figure saved to {args.plot}")
    return 0


def _identifiable_cli(args):
    from . import Pattern, identifiability

    pattern = Pattern.load(args.pattern)
    print(repr(pattern))
    print(pattern.describe())
    result = identifiability(pattern, rng=args.seed)
    print(result.summary())
    return 0 if result.identifiable else 1


def register(subparsers):
    p = subparsers.add_parser(
        "identify", help="identify a state-space model from a CSV file",
        description="Identify a discrete-time state-space model from a CSV file with a header row.")
    p.add_argument("data", help="CSV file, one column per channel, one row per sample")
    p.add_argument("--inputs", required=True, help="input columns, comma-separated (e.g. u1,u2)")
    p.add_argument("--outputs", help="output columns, comma-separated (e.g. y1,y2)")
    p.add_argument("--order", type=int, required=True, help="number of states")
    p.add_argument("--pattern", help="pattern JSON file (free entries and known values)")
    p.add_argument("--states", help="measured state columns, comma-separated (x1,...)")
    p.add_argument("--penalty", choices=PENALTY_KINDS + tuple(_OLD_PENALTIES), metavar="{" + ",".join(PENALTY_KINDS) + "}",
                   help="discover the pattern of A and B (needs --states); the penalty's name (group and "
                        "sparse_group are deprecated names of group_lasso and sparse_group_lasso)")
    p.add_argument("--feedthrough", action="store_true", help="estimate D (when no pattern is given)")
    p.add_argument("--dt", type=float, default=1.0, help="sampling period (default: %(default)s)")
    p.add_argument("--seed", "--rng", dest="seed", type=int, default=0,
                   help="random seed, passed on as rng (default: %(default)s)")
    p.add_argument("--out", help="save the model to this .json or .npz file")
    p.add_argument("--plot", help="save measured vs simulated outputs to this image file")
    p.set_defaults(func=_identify_cli)

    q = subparsers.add_parser(
        "identifiable", help="is a state-space sparsity pattern identifiable?",
        description="Print the local identifiability verdict of a pattern file (exit status 0 if identifiable, 1 if not).")
    q.add_argument("pattern", help="pattern JSON file written by structsparse.sysid.Pattern.save")
    q.add_argument("--seed", "--rng", dest="seed", type=int, default=0,
                   help="random seed of the test point, passed on as rng (default: %(default)s)")
    q.set_defaults(func=_identifiable_cli)
