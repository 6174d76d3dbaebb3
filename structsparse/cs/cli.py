"""``structsparse recover``, ``structsparse phase`` and ``structsparse rip``."""

import os
import sys
import warnings

import numpy as np

from ..exceptions import ConvergenceWarning, ParameterError, ShapeError

__all__ = ["register"]


def _add_model_args(p, k_default=10, real=False):
    p.add_argument("--model", choices=("block", "tree", "sparse"), default="block",
                   help="signal model (default: %(default)s)")
    p.add_argument("--n", type=int, default=1024, help="signal length (default: %(default)s)")
    p.add_argument("--block-size", type=int, default=8, help="block size of the block model (default: %(default)s)")
    p.add_argument("--k", type=int, default=None,
                   help=f"model size: active blocks (block), coefficients (tree), nonzeros (sparse) "
                        f"(default: {k_default}" + ("; with --signal/--image: M // 4 wavelet coefficients)" if real
                                                    else ")"))
    p.add_argument("--wavelet", default="db4", help="orthogonal wavelet of the tree model (default: %(default)s)")
    p.add_argument("--level", type=int, default=None, help="wavelet levels of the tree model (default: maximum)")


def _model(args):
    from . import BlockSparse, Sparse, TreeSparse

    if args.k is None:
        args.k = 10

    if args.model == "block":
        return BlockSparse(args.n, args.block_size, args.k)
    if args.model == "tree":
        return TreeSparse(args.n, args.k, args.wavelet, args.level)
    return Sparse(args.n, args.k)


def _operator(name, m, n, rng):
    from .phase import OPERATORS

    return OPERATORS[name](m, n, rng)


def _recover_real_cli(args):
    from . import TreeSparse, TreeSparse2D, recover
    from .metrics import psnr, ssim
    from .real import IMAGE_SAMPLINGS, SIGNAL_SAMPLINGS, best_k_term_error, best_tree_error, make_problem

    if args.signal and args.image:
        raise ParameterError("--signal and --image exclude each other.")
    if args.data:
        raise ParameterError("--data and --signal/--image exclude each other.")
    name = args.signal or args.image
    allowed = IMAGE_SAMPLINGS if args.image else SIGNAL_SAMPLINGS
    if args.sampling is not None and args.sampling not in allowed:
        raise ParameterError(f"--sampling {args.sampling} is not available for "
                             f"{'images' if args.image else 'signals'}; choose one of {', '.join(allowed)}.")
    if args.noise:
        noise = float(args.noise)
    else:
        noise = 0.0
    prob = make_problem(name, args.fraction, args.sampling, size=args.size, n=args.n, wavelet=args.wavelet,
                        level=args.level, noise=noise, rng=args.seed)
    k = args.k if args.k is not None else max(prob.m // 4, 1)
    if prob.is_image:
        model = TreeSparse2D(prob.shape, max(k, 1), args.wavelet, args.level)
    else:
        model = TreeSparse(prob.n, k, args.wavelet, args.level)
    if k < model.root_size:
        raise ParameterError(f"--k {k} is below the {model.root_size} scaling coefficients the tree root owns.")
    shape = f" ({'x'.join(map(str, prob.shape))})" if prob.is_image else ""
    print(f"{name}: N={prob.n}{shape}, M={prob.m} ({prob.sampling} sampling"
          f"{f', noise {noise:g} relative' if noise else ', noiseless'}); tree model k={model.k} ({model.wavelet}, "
          f"level {model.level})")
    # real signals are compressible, not sparse: IHT stops at a relative change of 1e-4 (300 iterations at most)
    kw = {"tol": 1e-4, "max_iter": 300} if args.method in ("iht", "model_iht") else {}
    # a real signal is compressible, not sparse: no method fits y with k coefficients, so an early stop is the
    # normal outcome; it is printed below (converged=False and the reason) instead of warned about
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        res = recover(prob.A, prob.y, model, method=args.method, noise=prob.noise_std or None, **kw)
    err = res.relative_error(prob.coef)
    print(f"method {res.method}: relative error {err:.4f} (best {model.k}-term {best_k_term_error(prob.coef, model.k):.4f}, "
          f"best {model.k}-coefficient tree {best_tree_error(prob.coef, model):.4f}), time {res.time * 1e3:.1f} ms, "
          f"{res.n_iter} iterations, converged={res.converged}")
    if res.message:
        print(f"  {res.message}")
    truth, back, rec = prob.truth, prob.backprojection(), prob.signal(res.x)
    metrics = None
    if prob.is_image:
        metrics = {"back-projection": (psnr(truth, back, 1.0), ssim(truth, back, 1.0)),
                   "recovery": (psnr(truth, rec, 1.0), ssim(truth, rec, 1.0))}
        for label, (p, q) in metrics.items():
            print(f"{label}: PSNR {p:.2f} dB, SSIM {q:.4f}")
    else:
        print(f"back-projection relative error {np.linalg.norm(back - truth) / np.linalg.norm(truth):.4f}")
    if args.plot:
        from .plots import plot_real_recovery

        fig = plot_real_recovery(truth, back, rec, metrics=metrics,
                                 title=f"{name}, M/N={prob.m / prob.n:.2f}, {prob.sampling} sampling, {res.method}")
        _save_and_close(fig, args.plot)
        print(f"figure written to {args.plot}")
    return 0


def _save_and_close(fig, path):
    """Write a figure made only to be saved, then close it."""
    import matplotlib.pyplot as plt

    from .plots import save_figure

    try:
        save_figure(fig, path)
    finally:
        plt.close(fig)


def _check_outputs(args, *names):
    """Every output option given is writable, checked before any work."""
    from .._atomic import check_writable

    for name in names:
        value = getattr(args, name, None)
        if value:
            check_writable(value, "--" + name.replace("_", "-"))


def _load_arrays(path, option, keys=None):
    """The arrays of an ``.npz`` (or ``.npy``) file; every failure names the file and what is wrong."""
    import zipfile

    if not os.path.exists(path):
        raise FileNotFoundError(f"{option} {path} does not exist.")
    if os.path.isdir(path):
        raise IsADirectoryError(f"{option} {path} is a folder, not a file.")
    try:
        loaded = np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as exc:
        raise ParameterError(f"{option} {path} is not a readable NumPy .npz/.npy file "
                             f"(truncated, text or pickled objects?): {exc}") from None
    if isinstance(loaded, np.ndarray):
        if keys is not None:
            raise ParameterError(f"{option} {path} is a single .npy array; an .npz with arrays {keys} is expected.")
        return {"A": loaded}
    try:
        with loaded as data:
            missing = [k for k in keys or () if k not in data.files]
            if missing:
                raise ParameterError(f"{option} {path} lacks the array(s) {missing} (found {sorted(data.files)}).")
            return {k: data[k] for k in data.files}
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as exc:
        if isinstance(exc, ParameterError):
            raise
        raise ParameterError(f"{option} {path} is a damaged .npz file: {exc}") from None


def _recover_cli(args):
    from . import as_matrix, recover

    _check_outputs(args, "plot")
    if args.signal or args.image:
        return _recover_real_cli(args)

    model = _model(args)
    x_true = None
    if args.data:
        data = _load_arrays(args.data, "--data", keys=["A", "y"])
        A, y = data["A"], data["y"]
        x_true = data.get("x")
        for key, arr in (("A", A), ("y", y)):
            if arr.dtype.kind not in "fiu":
                raise ShapeError(f"--data {args.data}: array '{key}' must be real numbers. Got dtype {arr.dtype}.")
            if not np.all(np.isfinite(arr)):
                raise ShapeError(f"--data {args.data}: array '{key}' holds NaN or inf.")
        if A.ndim != 2:
            raise ShapeError(f"--data: 'A' must be 2-D. Got shape {A.shape}.")
        if A.shape[1] != model.n:
            raise ShapeError(f"--data: 'A' has {A.shape[1]} columns but --n is {model.n}; they must match.")
    else:
        rng = np.random.default_rng(args.seed)
        Phi = _operator(args.operator, args.m, model.n, rng)
        x_true = model.sample(rng)
        A = as_matrix(Phi @ model.synthesis) if args.model == "tree" else Phi
        y = A @ x_true
        if args.noise:
            y = y + args.noise * rng.standard_normal(y.shape)
    res = recover(A, y, model, method=args.method, noise=args.noise or None)
    print(f"method {res.method}: {res.support.size} nonzeros, residual norm {res.residual_norm:.3e}, "
          f"{res.n_iter} iterations, time {res.time * 1e3:.1f} ms, converged={res.converged}")
    if res.message:
        print(f"  {res.message}")
    if x_true is not None:
        tp, fp, fn = res.support_recovery(x_true)
        print(f"relative error {res.relative_error(x_true):.3e}")
        print(f"support recovery: {tp} of {np.count_nonzero(x_true)} true nonzeros found, "
              f"{fp} false positives, {fn} missed")
    if args.plot:
        _save_and_close(res.plot(x_true, model), args.plot)
        print(f"figure written to {args.plot}")
    return 0


def _parse_grid(text, n=None):
    text = text.strip()
    try:
        if ":" in text:
            parts = [int(p) for p in text.split(":")]
            if len(parts) != 3 or parts[2] <= 0:
                raise ValueError
            grid = list(range(parts[0], parts[1] + 1, parts[2]))
        else:
            grid = [int(p) for p in text.split(",") if p.strip()]
    except ValueError:
        raise ParameterError(f"--m-grid expects START:STOP:STEP (stop inclusive, step > 0) or a comma list of "
                             f"integers. Got {text!r}.") from None
    if not grid:
        raise ParameterError(f"--m-grid {text!r} holds no measurement count (START above STOP?).")
    if n is not None and (min(grid) < 1 or max(grid) > n):
        raise ParameterError(f"--m-grid {text!r} must lie in [1, --n] = [1, {n}]; give --m-grid for this --n.")
    return grid


def _rows_in_sweep(rows, grid, trials, methods):
    """Saved (method, m, trial) results that belong to this sweep."""
    grid, methods = set(grid), set(methods)
    return sum(1 for r in rows if r["m"] in grid and r["trial"] < trials and r["method"] in methods)


def _phase_cli(args):
    from . import phase_transition, success_rates, transition_point
    from .statdim import predicted_threshold

    model = _model(args)
    grid = _parse_grid(args.m_grid, model.n)
    if args.workers is not None and args.scheduler:
        raise ParameterError("--workers and --scheduler exclude each other (the scheduler's workers run the trials).")
    if args.workers is not None and args.workers < 1:
        raise ParameterError(f"--workers must be at least 1. Got {args.workers}.")
    if args.trials < 1:
        raise ParameterError(f"--trials must be at least 1. Got {args.trials}.")
    _check_outputs(args, "out", "plot")
    executor = None
    client = None
    if args.scheduler:
        try:
            from dask.distributed import Client
        except ImportError:
            raise ParameterError("--scheduler needs dask.distributed: pip install 'structsparse[distributed]'.") from None
        client = Client(args.scheduler)
        executor = client.get_executor()
    elif args.workers == 1:
        from .phase import SerialExecutor

        executor = SerialExecutor()
    total = len(grid) * args.trials * len(args.methods)

    def interrupted():
        """The one line for Ctrl-C (also used by the CLI's main when it lands outside the sweep)."""
        if not args.out:
            return "interrupted: no --out file, nothing saved; give --out to make the sweep resumable"
        from .phase import PhaseTable

        done = _rows_in_sweep(PhaseTable.load(args.out), grid, args.trials, args.methods) if os.path.exists(args.out) else 0
        return f"interrupted: {done} trials saved in {args.out}; rerun the same command to resume"

    args._interrupt_note = interrupted
    if args.out and os.path.exists(args.out):
        from .phase import PhaseTable

        done = _rows_in_sweep(PhaseTable.load(args.out), grid, args.trials, args.methods)
        print(f"resuming: {done} of {total} trials done", flush=True)
    try:
        table = phase_transition(model, args.methods, grid, args.trials, executor=executor, rng=args.seed,
                                 resume_file=args.out, progress=not args.no_progress, operator=args.operator,
                                 n_workers=args.workers if executor is None else None)
    except KeyboardInterrupt:
        print(interrupted(), file=sys.stderr)
        return 130
    finally:
        if client is not None:
            client.close()
    print(f"phase transition for {model!r}, {args.trials} trials per M")
    for method, (ms, rate) in success_rates(table).items():
        half = transition_point(table, method)
        pred = predicted_threshold(model, method)
        extra = f", predicted {pred:.0f}" if pred is not None else ""
        half_s = f"{half:.0f}" if half is not None else "not reached"
        print(f"  {method:13s} 50% point {half_s}{extra}; success " +
              " ".join(f"{m}:{r:.2f}" for m, r in zip(ms, rate)))
    if args.out:
        print(f"results saved to {args.out}")
    if args.plot:
        _save_and_close(table.plot(model), args.plot)
        print(f"figure written to {args.plot}")
    return 0


def _rip_cli(args):
    from . import rip_estimate

    model = _model(args)
    _check_outputs(args, "plot")
    if args.matrix:
        data = _load_arrays(args.matrix, "--matrix")
        if not data:
            raise ParameterError(f"--matrix {args.matrix} holds no array.")
        A = data["A"] if "A" in data else next(iter(data.values()))
        if A.dtype.kind not in "fiu":
            raise ShapeError(f"--matrix {args.matrix} must hold a real matrix. Got dtype {A.dtype}.")
        if A.ndim != 2:
            raise ShapeError(f"--matrix must hold a 2-D array. Got shape {A.shape}.")
        if A.shape[1] != model.n:
            raise ShapeError(f"--matrix has {A.shape[1]} columns but --n is {model.n}; they must match.")
    else:
        A = _operator(args.operator, args.m, model.n, np.random.default_rng(args.seed))
    est = rip_estimate(A, model, n_samples=args.samples, search=args.search, rng=args.seed)
    print(est.summary())
    if args.plot:
        _save_and_close(est.plot(), args.plot)
        print(f"figure written to {args.plot}")
    return 0


def register(subparsers):
    from .phase import OPERATORS
    from .recovery import METHODS

    p = subparsers.add_parser("recover", help="compressive sensing recovery of a block/tree/sparse signal",
                              description="Recover a synthetic structured-sparse signal (or A, y from --data, "
                                          "or a real signal or image with --signal / --image) and print the "
                                          "error, support recovery (PSNR and SSIM for images) and time.")
    _add_model_args(p, real=True)
    p.add_argument("--m", type=int, default=300, help="measurements (default: %(default)s)")
    p.add_argument("--method", choices=METHODS, default="model_cosamp", help="recovery method (default: %(default)s)")
    p.add_argument("--operator", choices=tuple(OPERATORS), default="gaussian",
                   help="sensing operator of the synthetic problem (default: %(default)s)")
    p.add_argument("--noise", type=float, default=0.0, help="noise standard deviation (default: none)")
    p.add_argument("--data", help="npz file with A and y (and optionally the true x)")
    p.add_argument("--seed", "--rng", dest="seed", type=int, default=0, help="random seed, passed on as rng "
                   "(default: %(default)s)")
    p.add_argument("--plot", help="write a figure of true and recovered signals here (with --signal/--image: "
                                  "original, back-projection and recovery side by side)")
    from .data import IMAGES, SIGNALS

    p.add_argument("--signal", choices=SIGNALS, help="recover a real 1-D signal shipped with PyWavelets "
                                                     "(tree model on its db4 wavelet coefficients)")
    p.add_argument("--image", choices=IMAGES, help="recover a real image shipped with PyWavelets (2-D wavelet "
                                                   "quadtree model); prints PSNR and SSIM")
    p.add_argument("--size", type=int, default=128, help="image side, dividing 512 (default: %(default)s)")
    p.add_argument("--fraction", type=float, default=0.25,
                   help="M/N for --signal/--image (default: %(default)s)")
    p.add_argument("--sampling", default=None,
                   help="with --signal: gaussian (default), bernoulli, dct; with --image: fourier (variable-"
                        "density partial Fourier, default), radial, cartesian, dct, gaussian")
    p.set_defaults(func=_recover_cli)

    p = subparsers.add_parser("phase", help="phase-transition sweep (success rate against measurements)",
                              description="Run recovery trials over a grid of measurement counts, in parallel "
                                          "(processes or a dask scheduler), resumable through --out.")
    _add_model_args(p)
    p.add_argument("--methods", nargs="+", choices=METHODS, default=["group_lasso", "model_cosamp", "l1"],
                   metavar="METHOD", help="recovery methods compared, from: " + ", ".join(METHODS)
                   + " (default: group_lasso model_cosamp l1)")
    p.add_argument("--m-grid", default="100:300:20",
                   help="measurement counts: START:STOP:STEP (inclusive) or a comma list (default: %(default)s)")
    p.add_argument("--trials", type=int, default=20, help="trials per M (default: %(default)s)")
    p.add_argument("--operator", choices=tuple(OPERATORS), default="gaussian",
                   help="sensing operator (default: %(default)s)")
    p.add_argument("--workers", type=int, default=None, help="local worker processes (default: all CPUs; 1: serial)")
    p.add_argument("--scheduler", metavar="ADDRESS", help="dask.distributed scheduler address (tcp://host:8786)")
    p.add_argument("--out", help="JSON results file (saved atomically; an interrupted sweep resumes from it)")
    p.add_argument("--plot", help="write the success curves here")
    p.add_argument("--seed", "--rng", dest="seed", type=int, default=0, help="random seed, passed on as rng "
                   "(default: %(default)s)")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    p.set_defaults(func=_phase_cli)

    p = subparsers.add_parser("rip", help="model-based RIP lower bounds of a sensing matrix",
                              description="Lower bounds on the restricted isometry constant for model supports "
                                          "and plain supports of the same size (lower bounds only).")
    _add_model_args(p)
    p.add_argument("--matrix", help="a saved matrix (.npy, or .npz with 'A'), scaled as the constants assume: "
                   "E ||A x||^2 = ||x||^2, e.g. Gaussian entries of variance 1/M (an unscaled matrix gives "
                   "constants far above 1)")
    p.add_argument("--m", type=int, default=300, help="rows of the generated matrix (default: %(default)s)")
    p.add_argument("--operator", choices=tuple(OPERATORS), default="gaussian",
                   help="generated matrix, without --matrix (default: %(default)s)")
    p.add_argument("--samples", type=int, default=100, help="random supports per side (default: %(default)s)")
    p.add_argument("--search", choices=("random", "swap"), default="swap",
                   help="random supports, or a local search that swaps entries to raise the bound "
                   "(default: %(default)s)")
    p.add_argument("--seed", "--rng", dest="seed", type=int, default=0, help="random seed, passed on as rng "
                   "(default: %(default)s)")
    p.add_argument("--plot", help="write the RIP figure here")
    p.set_defaults(func=_rip_cli)
