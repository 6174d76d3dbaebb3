"""Fingerprints of ``ss.solve`` on every cell of bench_core's group-lasso grid: do two commits compute the same?

Run:  python benchmarks/grid_fingerprint.py OUT.json [--root CHECKOUT]

Solves each of the 24 cells (``bench_core.grid_cells``) in both layouts (Fortran and C order) with
``ss.solve(..., tol=1e-6)`` on one BLAS thread, and writes per solve a sha1 of ``x`` (16 hex digits), the
epochs, outer iterations, gap and solver. Run it on two checkouts (``--root``, e.g. ``git archive`` exports)
and compare the JSON files: identical fingerprints mean the grid's timings measured at one commit carry over to
the other (the same arithmetic, in the same order). No timing is done here.
"""

import argparse
import hashlib
import json
import sys
from pathlib import Path


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", help="JSON file to write")
    ap.add_argument("--root", default=str(Path(__file__).resolve().parents[1]),
                    help="the checkout whose structsparse and bench_core to use (default: this one)")
    args = ap.parse_args(argv)
    root = str(Path(args.root).resolve())
    sys.path[:0] = [root, root + "/benchmarks"]
    import numpy as np
    from threadpoolctl import threadpool_limits

    import structsparse as ss
    from bench_core import grid_cells, lsq_problem

    if not ss.__file__.startswith(root):
        raise SystemExit(f"structsparse imported from {ss.__file__}, not from {root}")
    out = {}
    with threadpool_limits(1):
        for (n, p, design, size, frac) in grid_cells(False):
            A, y, groups = lsq_problem(n, p, design, size)
            lam = frac * ss.lambda_max(ss.LeastSquares(A, y), ss.GroupLasso(groups, 1.0))
            for layout, M in (("F", np.asfortranarray(A)), ("C", A)):
                res = ss.solve(ss.LeastSquares(M, y), ss.GroupLasso(groups, lam), tol=1e-6)
                key = f"{n}x{p}:{design}:{size}:{frac:g}:{layout}"
                out[key] = {"sha": hashlib.sha1(np.ascontiguousarray(res.x).tobytes()).hexdigest()[:16],
                            "epochs": int(np.sum(res.history.get("epochs", [0]))), "n_iter": int(res.n_iter),
                            "gap": float(res.gap), "solver": res.solver}
                print(key, out[key], flush=True)
    from structsparse._atomic import atomic_write_text

    atomic_write_text(args.out, json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
