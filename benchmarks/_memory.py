"""Peak resident memory of one solver fit, measured by the operating system in a fresh process.

Used by the scale benchmarks (``bench_scale.py``, ``bench_million.py``) and runnable on its own for the
memory table of the sparse-design cells::

    python benchmarks/_memory.py --quick          # two small cells, about a minute
    python benchmarks/_memory.py                  # the issue-15 sparse cells (p = 1e5 and 1e6)
    python benchmarks/_memory.py --cells 10000x100000:1e-3:group:0.1 --solvers structsparse,celer

Protocol. The parent draws each problem once and writes its arrays to ``.npy`` files (a sparse design as
its CSC or CSR arrays, a dense one in the order being tested). Every solver then runs in its own child
process (``python _memory.py --child``), which

1. imports its library and makes one warm-up fit on a tiny problem of the same kind at the same lam ratio
   (numba compilation and cache loading happen there, not in the measured fit);
2. loads the arrays with ``np.load`` (no temporary), and records its resident size (``VmRSS``);
3. resets the kernel's peak counter (``echo 5 > /proc/self/clear_refs``, which sets ``VmHWM`` to the
   current ``VmRSS``), fits, and reads ``VmHWM``: the process's peak while fitting, data included;
4. saves the solution to a ``.npy`` file, which the parent scores with our objective.

The parent waits for the child with ``os.wait4``, whose ``ru_maxrss`` is the kernel's high-water mark at
the child's exit (since the reset of step 3 when there was one, else over its whole life; the "peak at
exit" column, which also covers saving the solution), and kills the child after ``timeout`` seconds
("did not finish in T s").
A solver whose compiled kernels persist on disk (:data:`DISK_CACHED`: numba's cache) first runs each cell once,
unmeasured, so that no kernel is compiled inside a measured fit even on a fresh clone.
Nothing is subtracted from the reported peaks; the baseline of an idle interpreter with the same imports
and the same warm-up (no data) is measured in its own child and reported apart, as is the solution's size.

Tasks are named ``"<module>:<function>"`` (a module of this folder) or a key of :data:`TASKS`; a task is
``fn(data, opts) -> dict`` with at least ``"x"`` (the solution), and ``data`` the loaded problem dict.
"""

import sys
from pathlib import Path

# the checkout first: a non-editable installed copy must not be what we measure
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import _setup  # noqa: F401,E402  (first: one BLAS thread, structsparse importable)
import argparse  # noqa: E402
import importlib  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import re  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402

import numpy as np  # noqa: E402
import scipy.sparse as sp  # noqa: E402

HERE = Path(__file__).resolve().parent
MB = 1024.0 * 1024.0


# ------------------------------------------------------------------------------------ OS readings
def _status(field):
    """A ``/proc/self/status`` field in bytes (``VmRSS``, ``VmHWM``); NaN where there is no /proc."""
    try:
        text = Path("/proc/self/status").read_text()
    except OSError:  # pragma: no cover - not Linux
        return float("nan")
    m = re.search(rf"^{field}:\s+(\d+)\s+kB", text, re.M)
    return float(m.group(1)) * 1024.0 if m else float("nan")


def reset_peak():
    """Set the peak resident size (``VmHWM``) to the current one; False where the kernel refuses."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        return True
    except OSError:  # pragma: no cover
        return False


# ------------------------------------------------------------------------------------ problems on disk
def save_problem(folder, A, y, **meta):
    """Write ``A`` (dense, CSC or CSR), ``y`` and JSON-able ``meta`` to ``folder``; returns the folder."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    if sp.issparse(A):
        fmt = A.format if A.format in ("csc", "csr") else "csc"
        A = A.asformat(fmt)
        for name in ("data", "indices", "indptr"):
            np.save(folder / f"A_{name}.npy", getattr(A, name))
        meta["format"] = fmt
    else:
        A = np.asarray(A)
        np.save(folder / "A.npy", A)  # np.save keeps the memory order (fortran_order in the header)
        meta["format"] = "dense"
    meta.update(shape=list(A.shape), dtype=str(A.dtype))
    np.save(folder / "y.npy", np.asarray(y, dtype=np.float64))
    (folder / "meta.json").write_text(json.dumps(meta))
    return folder


def load_problem(folder):
    """The problem dict: ``A``, ``y`` and the saved metadata."""
    folder = Path(folder)
    meta = json.loads((folder / "meta.json").read_text())
    if meta["format"] == "dense":
        A = np.load(folder / "A.npy")
    else:
        parts = [np.load(folder / f"A_{name}.npy") for name in ("data", "indices", "indptr")]
        cls = sp.csc_matrix if meta["format"] == "csc" else sp.csr_matrix
        A = cls(tuple(parts), shape=tuple(meta["shape"]), copy=False)
    return dict(meta, A=A, y=np.load(folder / "y.npy"))


def design_bytes(A):
    """Bytes held by a design (data and index arrays)."""
    if sp.issparse(A):
        return int(A.data.nbytes + A.indices.nbytes + A.indptr.nbytes)
    return int(np.asarray(A).nbytes)


def sparse_problem(n, p, density, rng=0, group_size=10, n_active=20, noise=0.01, fmt="csc", dtype=np.float64):
    """A random sparse design (Gaussian nonzeros, ``density * n`` per column) and a group-sparse truth.

    The columns are drawn one block of columns at a time straight into CSC arrays, so that building
    ``p = 1e6`` features needs no more than the matrix itself (``scipy.sparse.random`` would need several).
    """
    rng = np.random.default_rng(rng)
    per_col = max(1, int(round(density * n)))
    indptr = np.arange(p + 1, dtype=np.int64) * per_col
    indices = np.empty(p * per_col, dtype=np.int32)
    chunk = max(1, 2_000_000 // per_col)
    for start in range(0, p, chunk):
        stop = min(p, start + chunk)
        rows = rng.integers(0, n, size=(stop - start, per_col))
        rows.sort(axis=1)
        indices[start * per_col:stop * per_col] = rows.ravel()
    data = rng.standard_normal(p * per_col).astype(dtype)
    A = sp.csc_matrix((data, indices, indptr), shape=(n, p))
    if per_col > 1 and np.any(np.diff(indices.reshape(p, per_col), axis=1) == 0):
        A.sum_duplicates()  # rows drawn with replacement may repeat within a column
    A.has_sorted_indices = True
    x = np.zeros(p)
    blocks = rng.choice(p // group_size, size=min(n_active, p // group_size), replace=False)
    for b in blocks:
        x[b * group_size:(b + 1) * group_size] = rng.standard_normal(group_size)
    y = np.asarray(A @ x).ravel() + noise * rng.standard_normal(n)
    return (A.tocsr() if fmt == "csr" else A), y


def group_norms(x, group_size):
    """Euclidean norm of each contiguous group of ``x``."""
    return np.sqrt(np.sum(np.reshape(x, (-1, group_size)) ** 2, axis=1))


def lam_max_of(A, y, kind, group_size=10):
    """The smallest ``lam`` with a zero solution (our units, no ``1/n``), for the lasso or the group lasso."""
    g = np.asarray(A.T @ y).ravel()
    return float(np.max(np.abs(g))) if kind == "lasso" else float(np.max(group_norms(g, group_size)))


def objective(A, y, kind, lam, x, group_size=10):
    """``0.5 ||A x - y||^2 + lam * penalty(x)`` (our units) for the lasso or the group lasso."""
    r = np.asarray(A @ x).ravel() - y
    pen = np.abs(x).sum() if kind == "lasso" else group_norms(x, group_size).sum()
    return 0.5 * float(r @ r) + lam * float(pen)


# ------------------------------------------------------------------------------------ tasks
def _quiet(fn, *args, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*args, **kw)


def structsparse_fit(data, opts):
    """``ss.solve`` on the lasso or the group lasso (``data['kind']``), at ``opts['tol']`` (default 1e-6)."""
    import structsparse as ss

    A, y, lam = data["A"], data["y"], data["lam"]
    pen = ss.L1(lam) if data["kind"] == "lasso" else ss.GroupLasso(
        ss.Groups.contiguous(A.shape[1], data["group_size"]), lam)
    res = ss.solve(ss.LeastSquares(A, y), pen, tol=opts.get("tol", 1e-6))
    return {"x": res.x, "converged": bool(res.converged)}


def _lasso_family_fit(module, data, opts):
    """``module.Lasso`` / ``module.GroupLasso`` (skglm and celer share these names and arguments), ``alpha = lam / n``."""
    A, y, n = data["A"], data["y"], data["A"].shape[0]
    common = {"alpha": data["lam"] / n, "tol": opts.get("tol", 1e-6), "fit_intercept": False, "max_iter": 200}
    if data["kind"] == "lasso":
        model = module.Lasso(**common)
    else:
        model = module.GroupLasso(groups=int(data["group_size"]), max_epochs=100_000, **common)
    return {"x": _quiet(model.fit, A, y).coef_}


def skglm_fit(data, opts):
    """skglm ``Lasso`` / ``GroupLasso`` with ``alpha = lam / n``."""
    import skglm

    return _lasso_family_fit(skglm, data, opts)


def celer_fit(data, opts):
    """celer ``Lasso`` / ``GroupLasso`` with ``alpha = lam / n``."""
    import celer

    return _lasso_family_fit(celer, data, opts)


def sklearn_fit(data, opts):
    """scikit-learn ``Lasso`` (coordinate descent) with ``alpha = lam / n``; lasso only."""
    from sklearn.linear_model import Lasso

    if data["kind"] != "lasso":
        raise ValueError("scikit-learn has no group lasso")
    A, y = data["A"], data["y"]
    model = Lasso(alpha=data["lam"] / A.shape[0], tol=opts.get("tol", 1e-6), fit_intercept=False, max_iter=100_000)
    return {"x": _quiet(model.fit, A, y).coef_}


#: Built-in tasks: the sparse-design fits of the issue-15 memory table.
TASKS = {"structsparse": structsparse_fit, "skglm": skglm_fit, "celer": celer_fit, "sklearn": sklearn_fit}
#: The module each built-in task imports (part of the baseline).
TASK_MODULES = {"structsparse": "structsparse", "skglm": "skglm", "celer": "celer", "sklearn": "sklearn"}
#: Tasks whose compiled kernels persist on disk (numba's cache): each cell first runs them once, unmeasured, so that
#: a kernel the tiny warm-up does not reach (screening, larger working sets) is compiled there and only loaded from
#: the cache in the measured fit, as in any later run (a cold cache compiled it inside the fit: +40 MB)
DISK_CACHED = {"structsparse"}


def resolve_task(name):
    """The task function for a :data:`TASKS` key or a ``"module:function"`` of this folder."""
    if name in TASKS:
        return TASKS[name]
    module, _, func = name.partition(":")
    return getattr(importlib.import_module(module), func)


# ------------------------------------------------------------------------------------ child
def _child(args):
    opts = json.loads(args.opts)
    task = resolve_task(args.task)
    if args.warm:
        task(load_problem(args.warm), opts)  # compilation and cache loading, out of the measurement
    out = {"rss_imports": _status("VmRSS")}
    if args.data is None:  # baseline: the same imports and warm-up, no data
        out["peak"] = _status("VmHWM")
        print("RESULT " + json.dumps(out), flush=True)
        return
    data = load_problem(args.data)
    out["rss_data"] = _status("VmRSS")
    out["reset"] = reset_peak()
    start = time.perf_counter()
    res = task(data, opts)
    out["time"] = time.perf_counter() - start
    out["peak"] = _status("VmHWM")  # the peak since the reset: the fit, with the data and the interpreter
    x = res.pop("x")
    if args.out:
        np.save(args.out, np.asarray(x))
    out["solution_bytes"] = int(np.asarray(x).nbytes)
    out.update({k: v for k, v in res.items() if isinstance(v, (bool, int, float, str, list))})
    print("RESULT " + json.dumps(out), flush=True)


# ------------------------------------------------------------------------------------ parent
def run_command(cmd, timeout=600.0, nice=0, env=None):
    """Run ``cmd`` in a child process with a time limit, measuring its peak resident size by ``os.wait4``.

    Returns a dict: ``status`` (``"ok"``, ``"timeout"`` when killed after ``timeout`` s, ``"error"``),
    ``returncode``, ``stdout`` and ``stderr`` (what was printed before the end or the kill), ``wall``
    (seconds) and ``maxrss`` (bytes: the kernel's high-water mark at exit, ``ru_maxrss``; a child that reset
    its peak with :func:`reset_peak` reports the peak since the reset).
    """
    env = dict(os.environ if env is None else env)
    env["PYTHONPATH"] = os.pathsep.join([str(HERE), str(HERE.parent), env.get("PYTHONPATH", "")])
    err = tempfile.TemporaryFile()
    outf = tempfile.TemporaryFile()
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=outf, stderr=err, env=env,
                            preexec_fn=(lambda: os.nice(nice)) if nice else None)
    status, usage, code = "ok", None, None
    while True:
        pid, code, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        if time.perf_counter() - start > timeout:
            proc.kill()
            _, code, usage = os.wait4(proc.pid, 0)
            status = "timeout"
            break
        time.sleep(0.05)
    proc.returncode = code
    wall = time.perf_counter() - start
    outf.seek(0)
    err.seek(0)
    text, stderr = outf.read().decode(errors="replace"), err.read().decode(errors="replace")
    if status == "ok" and code != 0:
        status = "error"
    return {"status": status, "returncode": code, "stdout": text, "stderr": stderr, "wall": wall,
            "maxrss": usage.ru_maxrss * 1024.0 if usage else float("nan")}


def results_of(text):
    """The JSON reports a child printed, one per ``RESULT`` line, in order."""
    return [json.loads(line[7:]) for line in text.splitlines() if line.startswith("RESULT ")]


def run_child(task, data=None, warm=None, opts=None, timeout=600.0, out=None, nice=0):
    """Run ``task`` in a fresh process; returns the child's report plus ``maxrss`` (``wait4``) and ``status``.

    ``status`` is ``"ok"``, ``"timeout"`` (killed after ``timeout`` s) or ``"error"`` (with ``stderr``).
    """
    cmd = [sys.executable, str(HERE / "_memory.py"), "--child", "--task", task, "--opts", json.dumps(opts or {})]
    if data is not None:
        cmd += ["--data", str(data)]
    if warm is not None:
        cmd += ["--warm", str(warm)]
    if out is not None:
        cmd += ["--out", str(out)]
    run = run_command(cmd, timeout, nice)
    reports = results_of(run["stdout"])
    report = reports[-1] if reports else {}
    status = run["status"] if (reports or run["status"] != "ok") else "error"
    report.update(status=status, wall=run["wall"], maxrss=run["maxrss"])
    if status == "error":
        report["stderr"] = run["stderr"][-2000:]
    return report


def baseline(task, warm=None, opts=None, timeout=600.0):
    """Peak resident size of an idle interpreter with the task's imports (and warm-up), no data."""
    return run_child(task, None, warm, opts, timeout)


def fmt_mb(b):
    """Bytes as MB with one decimal, or '-'."""
    return "-" if b is None or not np.isfinite(b) else f"{b / MB:.1f}"


# ------------------------------------------------------------------------------------ the memory table
def parse_cell(text):
    """``NxP:density:kind:lam_ratio[:fmt]`` (kind ``lasso`` or ``group``, fmt ``csc``/``csr``)."""
    size, density, kind, ratio, *rest = text.split(":")
    n, p = (int(float(v)) for v in size.split("x"))
    return {"n": n, "p": p, "density": float(density), "kind": kind, "lam_ratio": float(ratio),
            "fmt": rest[0] if rest else "csc"}


QUICK_CELLS = ["2000x20000:1e-3:lasso:0.1", "2000x20000:1e-3:group:0.1"]
FULL_CELLS = ["10000x100000:1e-3:lasso:0.1", "10000x100000:1e-3:lasso:0.01", "10000x100000:1e-3:lasso:0.1:csr",
              "10000x100000:1e-3:group:0.1", "10000x1000000:1e-4:lasso:0.1", "10000x1000000:1e-4:lasso:0.1:csr"]


def memory_table(cells, solvers, timeout, workdir, tol=1e-6, json_path=None):
    """Measure every solver on every cell; print a markdown table; return the rows (also to ``json_path``)."""
    rows = []
    warm_dirs = {}
    bases = {}
    for cell in cells:
        c = parse_cell(cell)
        A, y = sparse_problem(c["n"], c["p"], c["density"], rng=0, fmt=c["fmt"])
        lam = c["lam_ratio"] * lam_max_of(A, y, c["kind"])
        folder = save_problem(Path(workdir) / cell.replace(":", "_"), A, y, kind=c["kind"], lam=lam, group_size=10)
        # the warm-up at the cell's own lam ratio: a smaller lam takes code paths (larger working sets, their
        # gathers) that a warm-up at 0.1 lam_max does not, and a cold cache compiled them inside the measured fit
        key = (c["kind"], c["fmt"], c["lam_ratio"])
        if key not in warm_dirs:
            Aw, yw = sparse_problem(200, 1000, 0.02, rng=1, fmt=c["fmt"])
            warm_dirs[key] = save_problem(Path(workdir) / f"warm_{c['kind']}_{c['fmt']}_{c['lam_ratio']:g}", Aw, yw,
                                          kind=c["kind"], lam=c["lam_ratio"] * lam_max_of(Aw, yw, c["kind"]),
                                          group_size=10)
        res = {}
        for name in solvers:
            if name == "sklearn" and c["kind"] != "lasso":
                continue
            out = Path(workdir) / f"x_{name}.npy"
            if name in DISK_CACHED:   # (fills the cache only: before the baseline too, which would compile)
                run_child(name, folder, warm_dirs[key], {"tol": tol}, timeout, out=out)
            if (name, key) not in bases:
                bases[name, key] = baseline(name, warm_dirs[key], {"tol": tol}, timeout)
            r = run_child(name, folder, warm_dirs[key], {"tol": tol}, timeout, out=out)
            if r["status"] == "ok":
                r["objective"] = objective(A, y, c["kind"], lam, np.load(out).ravel())
            r["baseline"] = bases[name, key]["peak"]
            res[name] = r
        best = min((r["objective"] for r in res.values() if "objective" in r), default=np.nan)
        row = {"cell": cell, "design_bytes": design_bytes(A), "solution_bytes": 8 * c["p"], "solvers": res,
               "best": best}
        rows.append(row)
        _print_row(row)
        if json_path:  # after every cell: a run stopped from outside keeps what it measured
            from structsparse._atomic import atomic_write_text

            atomic_write_text(json_path, json.dumps(rows, default=float))
    return rows


_HEADER = ("| cell (n x p : density : problem : lam/lam_max [: format]) | solver | status | time (s) | rel. subopt. | "
           "baseline MB | RSS with data MB | peak in fit MB | fit increment MB | peak at exit (wait4) MB |")


def _print_row(row):
    if not getattr(_print_row, "done", False):
        print("\n" + _HEADER)
        print("|" + "---|" * (_HEADER.count("|") - 1))
        _print_row.done = True
    for name, r in row["solvers"].items():
        if r["status"] == "ok":
            sub = (r["objective"] - row["best"]) / abs(row["best"])
            cells = [f"{r['time']:.3f}", f"{sub:.1e}", fmt_mb(r["baseline"]), fmt_mb(r["rss_data"]), fmt_mb(r["peak"]),
                     fmt_mb(r["peak"] - r["rss_data"]), fmt_mb(r["maxrss"])]
        else:
            cells = ["-", "-", fmt_mb(r["baseline"]), "-", "-", "-", fmt_mb(r["maxrss"])]
        status = r["status"] if r["status"] != "timeout" else f"did not finish in {r['wall']:.0f} s"
        print(f"| {row['cell']} | {name} | {status} | " + " | ".join(cells) + " |", flush=True)
        if r["status"] == "error":
            print("    error: " + (r.get("stderr", "").strip().splitlines() or [""])[-1], flush=True)
    peers = [r["peak"] for k, r in row["solvers"].items() if k != "structsparse" and r["status"] == "ok"]
    ours = row["solvers"].get("structsparse", {})
    if peers and ours.get("status") == "ok":
        limit = min(peers) + row["solution_bytes"]
        verdict = "met" if ours["peak"] <= limit else "NOT met"
        print(f"|  | target: ours <= lowest peer peak + solution ({fmt_mb(limit)} MB) | {verdict} | | | | | | | |",
              flush=True)
        # the same with each process's own baseline and data removed: what the fit itself adds
        incs = [r["peak"] - r["rss_data"] for k, r in row["solvers"].items() if k != "structsparse" and r["status"] == "ok"]
        limit = min(incs) + row["solution_bytes"]
        verdict = "met" if ours["peak"] - ours["rss_data"] <= limit else "NOT met"
        print(f"|  | fit increments: ours <= lowest peer's + solution ({fmt_mb(limit)} MB) | {verdict} | | | | | | | |",
              flush=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--task", help=argparse.SUPPRESS)
    parser.add_argument("--opts", default="{}", help=argparse.SUPPRESS)
    parser.add_argument("--data", help=argparse.SUPPRESS)
    parser.add_argument("--warm", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    parser.add_argument("--quick", action="store_true", help="two small cells (about a minute)")
    parser.add_argument("--cells", help="comma-separated NxP:density:kind:lam_ratio[:fmt]")
    parser.add_argument("--solvers", default="structsparse,skglm,celer,sklearn")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds per child process")
    parser.add_argument("--tol", type=float, default=1e-6)
    parser.add_argument("--json", default=None, help="write the rows to this file")
    args = parser.parse_args(argv)
    if args.child:
        return _child(args)
    cells = args.cells.split(",") if args.cells else QUICK_CELLS if args.quick else FULL_CELLS
    print(f"peak resident memory per solver, one process each; load average {os.getloadavg()}")
    with tempfile.TemporaryDirectory(prefix="ss_mem_") as work:
        rows = memory_table(cells, args.solvers.split(","), args.timeout, work, tol=args.tol, json_path=args.json)
    print(f"load average at the end {os.getloadavg()}")
    return rows


if __name__ == "__main__":
    main()
