"""Realized speed of structured pruning against masks and unstructured CSR, measured in one run.

1. One dense layer (float32, one BLAS thread): ``X (batch x n) @ W (n x n)`` with a
   fraction of W's output units removed (a smaller dense matrix), the same
   sparsity as a mask (zeros kept in the dense matrix) and as scipy CSR
   (magnitude pruning, random positions). Efficiency = realized speedup over
   the theoretical ``1 / (1 - sparsity)``.
2. One conv layer at batch 1024 on 8x8 maps (Winograd, the default evaluation, and im2col): removing output
   filters only, against removing the matching input channels too.
3. The whole small CNN on digits: dense, group-lasso pruned to a FLOPs budget
   (surgery + fine-tuning; penalty on all layers, and on the first layer's
   filters only), and CSR at the same density (``nn.speedup``), measured in
   several runs: median and range.

Timings are the best of several interleaved runs after a warm-up; on a busy
machine they are indicative. Run: ``python benchmarks/bench_nn.py [--quick]``.
"""

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from threadpoolctl import threadpool_limits

try:
    import structsparse.nn as nn
except ModuleNotFoundError:  # running from a checkout without installing
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    import structsparse.nn as nn


def best_times(fns, repeats):
    for f in fns:
        f()
    best = [np.inf] * len(fns)
    for _ in range(repeats):
        for k, f in enumerate(fns):
            t = time.perf_counter()
            f()
            best[k] = min(best[k], time.perf_counter() - t)
    return best


def bench_matrix(n, batch, sparsities, repeats, rng):
    print(f"\n1. dense layer: X ({batch} x {n}) @ W ({n} x {n}), float32, 1 thread")
    print(f"{'sparsity':>9} {'theory':>7} {'rows removed':>13} {'mask':>7} {'CSR':>7}   (efficiency = realized / theoretical)")
    X = rng.standard_normal((batch, n), dtype=np.float32)
    W = rng.standard_normal((n, n), dtype=np.float32)
    for s in sparsities:
        keep = int(round(n * (1 - s)))
        Wsmall = np.ascontiguousarray(W[:, :keep])
        Wmask = W.copy()
        Wmask[:, keep:] = 0
        Wcsr_t = sp.random(n, n, density=1 - s, format="csr", dtype=np.float32, random_state=0)  # W^T
        t_dense, t_small, t_mask, t_csr = best_times(
            [lambda: X @ W, lambda: X @ Wsmall, lambda: X @ Wmask, lambda: (Wcsr_t @ X.T).T], repeats)
        theory = 1 / (1 - s)
        print(f"{s:9.2f} {theory:7.2f} {t_dense / t_small / theory:13.2f} {t_dense / t_mask / theory:7.2f} "
              f"{t_dense / t_csr / theory:7.3f}")


def bench_conv(batch, c_in, c_out, repeats, rng):
    print(f"\n2. conv 3x3, batch {batch}, 8x8 maps, {c_in} -> {c_out} channels, pruned to half; numpy evaluation "
          "by Winograd F(2x2, 3x3) (the default for 3x3 stride-1 layers on large batches) and by im2col")
    X = rng.random((batch, 8, 8, c_in), dtype=np.float32)

    def conv(cin, cout, direct):
        net = nn.Sequential([nn.Conv2D(cout, 3, padding=1)], (8, 8, cin), rng=0)
        layer = net.nodes[0].layer
        if direct:
            layer.WINOGRAD_MIN_TILES = 1 << 62  # im2col + one product per block
        return lambda x: layer.forward(x)

    X_half = np.ascontiguousarray(X[..., : c_in // 2])
    for label, direct in (("Winograd", False), ("im2col", True)):
        full = conv(c_in, c_out, direct)
        out_only = conv(c_in, c_out // 2, direct)
        both = conv(c_in // 2, c_out // 2, direct)
        t_full, t_out, t_both = best_times([lambda: full(X), lambda: out_only(X), lambda: both(X_half)], repeats)
        print(f"  {label}: full layer {t_full * 1e3:.2f} ms; output filters only (theory 2x): realized "
              f"{t_full / t_out:.2f}x; filters and the input channels feeding them (theory 4x): realized "
              f"{t_full / t_both:.2f}x")


def bench_network(quick, repeats, runs):
    from structsparse.nn.experiment import digits_pruning

    print(f"\n3. small CNN on digits, budget 0.25 of the dense FLOPs ({'quick' if quick else 'full'} settings)")
    nets = {}
    first, every = "the first conv layer's filters (default)", "all layers"
    for label, layers in [(first, "default"), (every, None)]:
        out = digits_pruning("cnn", budget=0.25, quick=quick, rng=0, verbose=False, speed_repeats=repeats,
                             layers=layers)
        r = out.result
        kept = {k: v for k, v in out.pruned.pruning["kept"].items() if k != "input"}
        print(f"  group lasso on {label}: accuracy {out.dense_acc:.4f} dense -> {out.pruned_acc:.4f} pruned; "
              f"FLOPs cut {r.dense_flops / r.flops:.2f}x; kept {kept}")
        nets[label] = out
    dense = nets[first].dense
    batch = nets[first].speed.batch
    for warm in (True, False):
        mode = ("warm: each timed call right after an untimed call of the same network" if warm else
                "cold: each timed call right after the other networks' calls")
        print(f"  speed at batch {batch}, {runs} runs of nn.speedup (each: best of {repeats} interleaved rounds of "
              f"dense, pruned and CSR; {mode}); median [min - max]:")
        # the runs alternate between the two pruned networks so that machine load changes hit both alike
        speeds = {label: [] for label in nets}
        for k in range(runs):
            for label, out in nets.items():
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", RuntimeWarning)  # flagged runs are counted in the report
                    speeds[label].append(nn.speedup(dense, out.pruned, batch=batch, repeats=repeats, rng=k,
                                                    warm=warm))
        report_speeds(speeds)


def report_speeds(speeds):
    """Print the median and range over runs of each pruned network's timings."""

    def stat(values, fmt):
        v = np.asarray(values)
        return f"{fmt.format(np.median(v))} [{fmt.format(v.min())} - {fmt.format(v.max())}]"

    for label, ss in speeds.items():
        get = lambda key: [getattr(s, key) for s in ss]  # noqa: E731
        ok = [s.efficiency for s in ss if not s.measurement_problem]
        flagged = len(ss) - len(ok)
        print(f"  {label} ({ss[0].runtime}): dense {stat([t * 1e3 for t in get('dense_time')], '{:.1f}')} ms, "
              f"pruned {stat([t * 1e3 for t in get('pruned_time')], '{:.1f}')} ms, "
              f"realized {stat(get('realized'), '{:.2f}')}x of {ss[0].theoretical:.2f}x -> "
              f"efficiency {stat(ok, '{:.2f}') if ok else 'n/a'}"
              + (f" ({flagged} of {len(ss)} runs above 1.05: measurement problems, left out)" if flagged else ""))
        if ss[0].runtime != "numpy":
            print(f"    numpy: dense {stat([t * 1e3 for t in get('numpy_dense_time')], '{:.1f}')} ms, pruned "
                  f"{stat([t * 1e3 for t in get('numpy_pruned_time')], '{:.1f}')} ms, realized "
                  f"{stat(get('numpy_realized'), '{:.2f}')}x")
        print(f"    CSR at density {ss[0].density:.3f}: {stat([t * 1e3 for t in get('csr_time')], '{:.0f}')} ms, "
              f"realized {stat(get('csr_realized'), '{:.2f}')}x, efficiency {stat(get('csr_efficiency'), '{:.3f}')}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--runs", type=int, default=5, help="independent speedup measurements of the CNN")
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    with threadpool_limits(1):
        if args.quick:
            bench_matrix(1024, 128, [0.5, 0.9], args.repeats, rng)
            bench_conv(256, 16, 32, args.repeats, rng)
        else:
            bench_matrix(4096, 256, [0.5, 0.75, 0.9, 0.95], args.repeats, rng)
            bench_conv(1024, 32, 64, args.repeats, rng)
    bench_network(args.quick, args.repeats, args.runs)


if __name__ == "__main__":
    main()
