"""Growth with size: the empirical exponent of solve time against the number of features ``p``.

    python benchmarks/bench_scale.py --quick        # small sizes, without skglm: about a minute idle
    python benchmarks/bench_scale.py                # full sizes (tens of minutes; run it in the background)
    python benchmarks/bench_scale.py --problems tree_dense,overlap_sparse --budget 300 --json tree.json
    python benchmarks/bench_scale.py --from-json lasso.json,tree.json --plot docs/figures/bench_scale.png

For every problem below and every solver that has it, the fits run in one child process per (problem,
solver), sizes in increasing order (``_memory.py`` measures the process: ``VmHWM`` reset before each fit,
``ru_maxrss`` from ``wait4``, a kill after ``--budget`` seconds plus 300 s for imports and warm-up). A child first makes a warm-up fit on the
smallest size (numba compilation out of the timings), then times each size once (``--repeat`` for more,
median kept) and stops before a size whose predicted time (last time times the size ratio to the 1.5)
would overrun what is left of its budget. Every solution is scored with our objective in the parent; the
relative suboptimality against the best objective any solver reaches is printed next to each time.

The exponent ``b`` of ``time ~ p^b`` is the slope of a least-squares line through ``(log p, log time)``
over the sizes a solver finished. ``n`` (samples) is fixed per design; ``lam = 0.1 lam_max``; the truth
has 20 active groups of 10 (a rooted subtree of 20 nodes for the tree lasso).

| problem | design | solvers (peer parameters in our units) |
|---|---|---|
| lasso | dense ``n x p`` Gaussian (Fortran order), sparse CSC | structsparse ``ss.solve``; skglm ``Lasso``, celer ``Lasso``, scikit-learn ``Lasso`` (``alpha = lam / n``) |
| group | same, groups of 10 | structsparse; skglm and celer ``GroupLasso`` (``alpha = lam / n``) |
| sparse-group | same, groups of 10, ``l1_ratio = 0.5`` | structsparse; skglm ``GroupBCD`` + ``WeightedL1GroupL2`` (``alpha = lam / n``, weights 0.5 / 0.5) |
| tree | dense ``256 x p``, complete binary tree, ``p = 2^12 - 1 .. 2^16 - 1`` | structsparse (FISTA); SPAMS ``fistaTree``, ``regul='tree-l2'`` (``lambda1 = lam``) |
| overlapping | sparse CSC, windows of 10 overlapping by 5, ``p`` up to ``1e5`` | structsparse (ADMM); no peer |

SPAMS takes its tree through ``fistaTree`` (``fistaFlat`` has no tree argument); nodes are numbered in
preorder so that both solvers read the same design without a permutation.

Tolerances: ours ``tol=1e-6`` (a certified relative gap for the working-set solver, residuals for ADMM);
skglm, celer and scikit-learn ``tol=1e-6`` in their own units, SPAMS ``tol=1e-6``: the printed
suboptimality says how far each got. Outputs: a markdown table per problem, the exponents table, and the
log-log figure (``--plot``, default ``docs/figures/bench_scale.png``; ``--json`` for the raw rows).
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the checkout, not an installed copy
import _setup  # noqa: F401,E402  (first: one BLAS thread)
import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402

import numpy as np  # noqa: E402

import _memory as mem  # noqa: E402

HERE = Path(__file__).resolve().parent
GROUP = 10
L1_RATIO = 0.5
TOL = 1e-6
#: seconds a child may spend on imports and its warm-up fit (skglm's numba compilation: 10-100 s) beyond its budget
WARMUP_ALLOWANCE = 300.0

#: problem -> (penalty kind, design, solvers)
PROBLEMS = {
    "lasso_dense": ("lasso", "dense", ("structsparse", "skglm", "celer", "sklearn")),
    "lasso_sparse": ("lasso", "sparse", ("structsparse", "skglm", "celer", "sklearn")),
    "group_dense": ("group", "dense", ("structsparse", "skglm", "celer")),
    "group_sparse": ("group", "sparse", ("structsparse", "skglm", "celer")),
    "sgl_dense": ("sgl", "dense", ("structsparse", "skglm")),
    "sgl_sparse": ("sgl", "sparse", ("structsparse", "skglm")),
    "tree_dense": ("tree", "dense", ("structsparse", "spams")),
    "overlap_sparse": ("overlap", "sparse", ("structsparse",)),
}

#: design -> (n, density, sizes) for each mode
SIZES = {
    "quick": {"dense": (200, None, (500, 1000, 2000)), "sparse": (1000, 1e-2, (2000, 4000, 8000)),
              "tree": (128, None, tuple(2 ** d - 1 for d in (9, 10, 11))),
              "overlap": (500, 1e-2, (1000, 2000, 4000))},
    "full": {"dense": (500, None, (1000, 2000, 4000, 8000, 16000, 32000)),
             "sparse": (10000, 1e-3, (10_000, 30_000, 100_000, 300_000, 1_000_000)),
             "tree": (256, None, tuple(2 ** d - 1 for d in (12, 13, 14, 15, 16))),
             "overlap": (2000, 1e-3, (3000, 10_000, 30_000, 100_000))},
}


# ------------------------------------------------------------------------------------ problems
def preorder_binary_parents(n_nodes):
    """Parents of a complete binary tree with ``n_nodes = 2^(d+1) - 1`` nodes numbered in preorder."""
    depth = int(round(np.log2(n_nodes + 1))) - 1
    parents = np.empty(n_nodes, dtype=np.int64)
    # preorder: a node at depth k with id i has children i + 1 and i + 1 + (size of a subtree of depth d-k-1)
    stack = [(0, -1, 0)]
    while stack:
        node, parent, level = stack.pop()
        parents[node] = parent
        if level < depth:
            sub = 2 ** (depth - level) - 1          # nodes in each child's subtree
            stack.append((node + 1 + sub, node, level + 1))
            stack.append((node + 1, node, level + 1))
    return parents


def windows(p, size=10, step=5):
    """Index lists of the windows ``[s, s + size)`` for ``s = 0, step, ...`` covering ``0 .. p - 1``."""
    return [list(range(s, min(s + size, p))) for s in range(0, max(p - size, 0) + 1, step)]


def structsparse_penalty(meta, lam):
    """The structsparse penalty of a problem's metadata."""
    import structsparse as ss

    kind, p = meta["kind"], meta["shape"][1]
    if kind == "lasso":
        return ss.L1(lam)
    if kind == "group":
        return ss.GroupLasso(ss.Groups.contiguous(p, GROUP), lam)
    if kind == "sgl":
        return ss.SparseGroupLasso(ss.Groups.contiguous(p, GROUP), lam, L1_RATIO)
    if kind == "tree":
        return ss.TreeLasso(ss.Tree.from_parents(preorder_binary_parents(p)), lam)
    return ss.OverlapGroupLasso(ss.Groups.from_lists(windows(p), n_features=p), lam)


def make_problem(kind, design, n, density, p, rng=0):
    """Design ``A``, targets ``y`` (20 active groups of 10, or a rooted subtree of 20 nodes), noise 0.01."""
    if design == "sparse":
        return mem.sparse_problem(n, p, density, rng=rng, group_size=GROUP)
    gen = np.random.default_rng(rng)
    A = np.asfortranarray(gen.standard_normal((n, p)))
    x = np.zeros(p)
    if kind == "tree":
        x[:20] = gen.standard_normal(20)           # preorder: the first 20 nodes form a rooted subtree
    else:
        for b in gen.choice(p // GROUP, size=min(20, p // GROUP), replace=False):
            x[b * GROUP:(b + 1) * GROUP] = gen.standard_normal(GROUP)
    return A, A @ x + 0.01 * gen.standard_normal(n)


# ------------------------------------------------------------------------------------ fits (in the child)
def _quiet(fn, *args, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*args, **kw)


def fit_structsparse(data):
    import structsparse as ss

    res = ss.solve(ss.LeastSquares(data["A"], data["y"]), structsparse_penalty(data, data["lam"]), tol=TOL)
    return res.x, {"solver": res.solver, "converged": bool(res.converged)}


def fit_skglm(data):
    A, y, n, kind = data["A"], data["y"], data["shape"][0], data["kind"]
    alpha = data["lam"] / n
    if kind == "sgl":
        from skglm.datafits import QuadraticGroup
        from skglm.penalties import WeightedL1GroupL2
        from skglm.solvers import GroupBCD
        from skglm.utils.jit_compilation import compiled_clone

        p = A.shape[1]
        ptr = np.arange(0, p + 1, GROUP, dtype=np.int32)
        ind = np.arange(p, dtype=np.int32)
        datafit = compiled_clone(QuadraticGroup(ptr, ind))
        pen = compiled_clone(WeightedL1GroupL2(alpha, np.full(p // GROUP, 1.0 - L1_RATIO), np.full(p, L1_RATIO),
                                               ptr, ind))
        solver = GroupBCD(tol=TOL, max_iter=200, max_epochs=100_000, fit_intercept=False, ws_strategy="fixpoint")
        return np.asarray(_quiet(solver.solve, A, y, datafit, pen)[0])[:p], {}
    import skglm

    if kind == "lasso":
        model = skglm.Lasso(alpha=alpha, tol=TOL, fit_intercept=False, max_iter=200)
    else:
        model = skglm.GroupLasso(groups=GROUP, alpha=alpha, tol=TOL, fit_intercept=False, max_iter=200,
                                 max_epochs=100_000)
    return _quiet(model.fit, A, y).coef_, {}


def fit_celer(data):
    import celer

    A, y, n = data["A"], data["y"], data["shape"][0]
    if data["kind"] == "lasso":
        model = celer.Lasso(alpha=data["lam"] / n, tol=TOL, fit_intercept=False, max_iter=200)
    else:
        model = celer.GroupLasso(groups=GROUP, alpha=data["lam"] / n, tol=TOL, fit_intercept=False, max_iter=200,
                                 max_epochs=100_000)
    return _quiet(model.fit, A, y).coef_, {}


def fit_sklearn(data):
    from sklearn.linear_model import Lasso

    A, y, n = data["A"], data["y"], data["shape"][0]
    return _quiet(Lasso(alpha=data["lam"] / n, tol=TOL, fit_intercept=False, max_iter=100_000).fit, A, y).coef_, {}


def spams_tree_dict(p):
    """SPAMS' tree format for the preorder complete binary tree: node ``k`` owns variable ``k``."""
    import scipy.sparse as sp

    parents = preorder_binary_parents(p)
    child_of = sp.csc_matrix((np.ones(p - 1, dtype=bool), (np.arange(1, p), parents[1:])), shape=(p, p))
    return {"eta_g": np.ones(p), "groups": child_of, "own_variables": np.arange(p, dtype=np.int32),
            "N_own_variables": np.ones(p, dtype=np.int32)}


def fit_spams(data):
    import spams

    A, y = data["A"], data["y"]
    p = A.shape[1]
    X = A if A.flags.f_contiguous else np.asfortranarray(A)
    W = spams.fistaTree(np.asfortranarray(y[:, None]), X, np.zeros((p, 1), order="F"), spams_tree_dict(p),
                        False, numThreads=1, loss="square", regul="tree-l2", lambda1=data["lam"], tol=TOL,
                        max_it=20_000, it0=10)
    return np.asarray(W).ravel(), {}


FITS = {"structsparse": fit_structsparse, "skglm": fit_skglm, "celer": fit_celer, "sklearn": fit_sklearn,
        "spams": fit_spams}


def _child(solver, folders, budget, repeat, out_dir):
    """Warm up on the first folder, then fit every folder in order; one RESULT line per size."""
    fit = FITS[solver]
    start = time.perf_counter()
    fit(mem.load_problem(folders[0]))
    print("RESULT " + json.dumps({"warmup": time.perf_counter() - start}), flush=True)
    start = time.perf_counter()  # the budget is for the timed fits; the parent allows the warm-up apart
    last = None
    for k, folder in enumerate(folders):
        data = mem.load_problem(folder)
        p = data["shape"][1]
        if last is not None:
            predicted = last[1] * repeat * (p / last[0]) ** 1.5
            left = budget - (time.perf_counter() - start)
            if predicted > left:
                print("RESULT " + json.dumps({"p": p, "status": "skipped", "predicted": predicted, "left": left}),
                      flush=True)
                break
        rss_data = mem._status("VmRSS")
        mem.reset_peak()
        times = []
        for _ in range(repeat):
            t0 = time.perf_counter()
            x, info = fit(data)
            times.append(time.perf_counter() - t0)
        peak = mem._status("VmHWM")
        np.save(Path(out_dir) / f"x_{solver}_{k}.npy", np.asarray(x, dtype=float).ravel())
        t = float(np.median(times))
        print("RESULT " + json.dumps(dict(info, p=p, status="ok", time=t, peak=peak, rss_data=rss_data, index=k)),
              flush=True)
        last = (p, t)
        del data, x


# ------------------------------------------------------------------------------------ parent
def exponent(ps, ts):
    """Least-squares slope of ``log t`` against ``log p`` (NaN with fewer than two points)."""
    ps, ts = np.asarray(ps, float), np.asarray(ts, float)
    ok = np.isfinite(ts) & (ts > 0)
    if ok.sum() < 2:
        return float("nan")
    return float(np.polyfit(np.log(ps[ok]), np.log(ts[ok]), 1)[0])


def run_problem(name, mode, budget, repeat, work, solvers=None, nice=0):
    """All sizes of one problem for every solver; returns its rows."""
    kind, design, all_solvers = PROBLEMS[name]
    key = {"tree": "tree", "overlap": "overlap"}.get(kind, design)
    n, density, sizes = SIZES[mode][key]
    folders, scoring = [], []
    import structsparse as ss

    for p in sizes:
        A, y = make_problem(kind, design, n, density, p)
        meta = {"kind": kind, "shape": [n, p]}
        loss = ss.LeastSquares(A, y)
        lam = 0.1 * ss.lambda_max(loss, structsparse_penalty(meta, 1.0))
        folders.append(mem.save_problem(Path(work) / f"{name}_{p}", A, y, kind=kind, lam=lam))
        scoring.append((loss, structsparse_penalty(meta, lam)))
        del A, y
    rows = []
    for solver in all_solvers:
        if solvers and solver not in solvers:
            continue
        out_dir = Path(work) / f"out_{name}_{solver}"
        out_dir.mkdir(exist_ok=True)
        cmd = [sys.executable, str(HERE / "bench_scale.py"), "--child", solver, "--budget", str(budget),
               "--repeat", str(repeat), "--out-dir", str(out_dir)] + [str(f) for f in folders]
        run = mem.run_command(cmd, timeout=budget + WARMUP_ALLOWANCE, nice=nice)
        reports = mem.results_of(run["stdout"])
        warm = reports[0].get("warmup") if reports and "warmup" in reports[0] else None
        done = {r["p"]: r for r in reports if "p" in r}
        for k, p in enumerate(sizes):
            r = dict(done.get(p, {"status": "timeout" if run["status"] == "timeout" else
                                  ("error" if run["status"] == "error" else "not run")}), problem=name, solver=solver,
                     p=p, n=n, warmup=warm)
            if r["status"] == "ok":
                x = np.load(out_dir / f"x_{solver}_{k}.npy")
                loss, pen = scoring[k]
                r["objective"] = float(loss.value(x.reshape(loss.x_shape)) + pen(x))
            rows.append(r)
        if run["status"] == "error":
            print(f"    {solver}: error: {(run['stderr'].strip().splitlines() or [''])[-1]}", flush=True)
    for k, p in enumerate(sizes):
        objs = [r["objective"] for r in rows if r["p"] == p and "objective" in r]
        best = min(objs) if objs else np.nan
        for r in rows:
            if r["p"] == p and "objective" in r:
                r["subopt"] = (r["objective"] - best) / abs(best)
    return rows


def print_problem(name, rows):
    sizes = sorted({r["p"] for r in rows})
    solvers = list(dict.fromkeys(r["solver"] for r in rows))
    print(f"\n{name} (n = {rows[0]['n']}): time in s (rel. subopt.; peak RSS MB in the fit)")
    print("| p | " + " | ".join(solvers) + " |")
    print("|---|" + "---|" * len(solvers))
    for p in sizes:
        cells = []
        for s in solvers:
            r = next(r for r in rows if r["p"] == p and r["solver"] == s)
            if r["status"] == "ok":
                cells.append(f"{r['time']:.3g} ({r.get('subopt', np.nan):.0e}; {mem.fmt_mb(r['peak'])})")
            else:
                cells.append(r["status"])
        print(f"| {p} | " + " | ".join(cells) + " |")
    warm = {r["solver"]: r["warmup"] for r in rows if r.get("warmup") is not None}
    print("warm-up (first fit in the child, smallest size): " + ", ".join(f"{s} {t:.2f} s" for s, t in warm.items()))


def exponents(all_rows):
    """{(problem, solver): (exponent, sizes used)}."""
    out = {}
    for r in all_rows:
        out.setdefault((r["problem"], r["solver"]), []).append(r)
    return {k: (exponent([r["p"] for r in v if r["status"] == "ok"], [r["time"] for r in v if r["status"] == "ok"]),
                sum(r["status"] == "ok" for r in v)) for k, v in out.items()}


def print_exponents(all_rows):
    exps = exponents(all_rows)
    problems = list(dict.fromkeys(k[0] for k in exps))
    solvers = list(dict.fromkeys(k[1] for k in exps))
    print("\nexponent b of time ~ p^b (least squares in log-log; sizes used)")
    print("| problem | " + " | ".join(solvers) + " |")
    print("|---|" + "---|" * len(solvers))
    for prob in problems:
        cells = []
        for s in solvers:
            if (prob, s) in exps:
                b, k = exps[prob, s]
                cells.append(f"{b:.2f} ({k})" if np.isfinite(b) else f"- ({k})")
            else:
                cells.append("")
        print(f"| {prob} | " + " | ".join(cells) + " |")
    return exps


def plot(all_rows, path):
    import matplotlib

    matplotlib.use("Agg")  # a script, not a library function: it may choose its backend
    import matplotlib.pyplot as plt

    from structsparse._atomic import save_figure

    problems = list(dict.fromkeys(r["problem"] for r in all_rows))
    cols = 4
    rows_n = int(np.ceil(len(problems) / cols))
    fig, axes = plt.subplots(rows_n, cols, figsize=(3.2 * cols, 2.8 * rows_n), squeeze=False)
    exps = exponents(all_rows)
    colors = {"structsparse": "C0", "skglm": "C1", "celer": "C2", "sklearn": "C3", "spams": "C4"}
    for ax, prob in zip(axes.ravel(), problems):
        for s in dict.fromkeys(r["solver"] for r in all_rows if r["problem"] == prob):
            pts = [(r["p"], r["time"]) for r in all_rows if r["problem"] == prob and r["solver"] == s
                   and r["status"] == "ok"]
            if not pts:
                continue
            ps, ts = zip(*pts)
            b = exps[prob, s][0]
            ax.loglog(ps, ts, "o-", color=colors.get(s), label=f"{s} (b={b:.2f})" if np.isfinite(b) else s, ms=3)
        ax.set_title(prob.replace("_", ", "), fontsize=9)
        ax.set_xlabel("p", fontsize=8)
        ax.set_ylabel("time (s)", fontsize=8)
        ax.tick_params(labelsize=7)
        ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        ax.legend(fontsize=6)
    for ax in axes.ravel()[len(problems):]:
        ax.set_visible(False)
    fig.suptitle("Solve time against p (log-log), lam = 0.1 lam_max, one thread; b: fitted exponent", fontsize=9)
    fig.tight_layout()
    save_figure(fig, path, dpi=110)
    plt.close(fig)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--out-dir", help=argparse.SUPPRESS)
    parser.add_argument("folders", nargs="*", help=argparse.SUPPRESS)
    parser.add_argument("--quick", action="store_true", help="small sizes, no skglm (about a minute idle)")
    parser.add_argument("--problems", default=",".join(PROBLEMS), help="comma-separated subset of " +
                        ", ".join(PROBLEMS))
    parser.add_argument("--solvers", default=None, help="comma-separated subset of structsparse, skglm, celer, "
                        "sklearn, spams (default: all; --quick leaves skglm out: its numba compilation alone takes "
                        "10-50 s per process)")
    parser.add_argument("--budget", type=float, default=None,
                        help="seconds per (problem, solver) child (default 60 quick, 900 full)")
    parser.add_argument("--repeat", type=int, default=1, help="timed fits per size (median)")
    parser.add_argument("--plot", default=None, help="figure path (default docs/figures/bench_scale.png; "
                        "'none' for no figure; --quick writes none unless given)")
    parser.add_argument("--json", default=None, help="write the rows to this file")
    parser.add_argument("--nice", type=int, default=0, help="niceness of the child processes")
    parser.add_argument("--from-json", default=None,
                        help="comma-separated --json files of earlier runs: print their tables and draw the figure "
                             "without running anything (to merge runs split by --problems)")
    args = parser.parse_args(argv)
    if args.child:
        return _child(args.child, args.folders, args.budget, args.repeat, args.out_dir)
    if args.from_json:
        all_rows = [r for f in args.from_json.split(",") for r in json.loads(Path(f).read_text())]
        for name in dict.fromkeys(r["problem"] for r in all_rows):
            print_problem(name, [r for r in all_rows if r["problem"] == name])
        exps = print_exponents(all_rows)
        if args.plot and args.plot != "none":
            plot(all_rows, args.plot)
            print(f"figure: {args.plot}")
        return all_rows, exps
    mode = "quick" if args.quick else "full"
    budget = args.budget or (60.0 if args.quick else 900.0)
    problems = [p for p in args.problems.split(",") if p]
    unknown = set(problems) - set(PROBLEMS)
    if unknown:
        parser.error(f"unknown problems {sorted(unknown)}; choose from {', '.join(PROBLEMS)}")
    if args.solvers is None:
        args.solvers = "structsparse,celer,sklearn,spams" if args.quick else ""
    solvers = [s for s in args.solvers.split(",") if s]
    print(f"bench_scale ({mode}); load average at start {os.getloadavg()}", flush=True)
    all_rows = []
    with tempfile.TemporaryDirectory(prefix="ss_scale_") as work:
        for name in problems:
            rows = run_problem(name, mode, budget, args.repeat, work, solvers, args.nice)
            print_problem(name, rows)
            all_rows += rows
            if args.json:  # after every problem: a run stopped from outside keeps what it measured
                from structsparse._atomic import atomic_write_text

                atomic_write_text(args.json, json.dumps(all_rows, default=float))
    exps = print_exponents(all_rows)
    print(f"load average at the end {os.getloadavg()}", flush=True)
    plot_path = args.plot if args.plot is not None else (None if args.quick else "docs/figures/bench_scale.png")
    if plot_path and plot_path != "none":
        plot(all_rows, plot_path)
        print(f"figure: {plot_path}")
    if args.json:
        from structsparse._atomic import atomic_write_text

        atomic_write_text(args.json, json.dumps(all_rows, default=float))
    return all_rows, exps


if __name__ == "__main__":
    main()
