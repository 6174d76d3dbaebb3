"""onnxruntime as the judge of speed, and the cost of ONNX import and export.

1. The digits CNN (``small_cnn((32, 64))``, trained briefly) pruned to 25 % of
   its FLOPs two ways (L1 filter pruning of both conv layers, uniform
   fraction; and of the first layer's filters only, which are the second
   layer's input channels), timed by ``nn.speedup`` in onnxruntime and numpy
   at batch 1 and 256, one thread, several independent runs (median and
   range). Efficiency = realized speed-up / FLOPs ratio; above 1.05 is a
   measurement problem, counted and not reported as a result.
2. numpy dense forward time over onnxruntime dense forward time (same runs).
3. Export (``nn.to_onnx`` to a file) and import (``nn.from_onnx`` from the
   file) of a CNN with about 1 M parameters: first call and the median of
   later calls.

Run: ``python benchmarks/bench_nn_onnx.py [--runs 5] [--repeats 7]``.
"""

import argparse
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

try:
    import structsparse.nn as nn
except ModuleNotFoundError:  # running from a checkout without installing
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    import structsparse.nn as nn
from structsparse.nn.baselines import uniform_prune


def stat(values, fmt="{:.2f}"):
    v = np.asarray(values, dtype=float)
    return f"{fmt.format(np.median(v))} [{fmt.format(v.min())} - {fmt.format(v.max())}]"


def bench_speed(runs, repeats):
    X_tr, X_val, X_te, y_tr, y_val, y_te = nn.load_digits_splits(rng=0)
    dense = nn.small_cnn((32, 64), rng=0)
    nn.train(dense, X_tr, y_tr, epochs=3, lr=0.05, progress=False)
    variants = {"L1, both conv layers": uniform_prune(dense, 0.25),
                "L1, first layer's filters": uniform_prune(dense, 0.25, layers=["conv2d1"])}
    print("1-2. digits CNN at 25 % of the FLOPs: nn.speedup, one thread, median [min - max] over runs")
    for label, pruned in variants.items():
        ratio = nn.flops(dense) / nn.flops(pruned)
        print(f"  {label}: FLOPs ratio {ratio:.2f}x, kept {pruned.pruning['kept']}")
        for batch in (1, 256):
            res = []
            for k in range(runs):
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", RuntimeWarning)  # counted below
                    res.append(nn.speedup(dense, pruned, batch=batch, repeats=repeats, rng=k, chunk=256))
            get = lambda key: [r[key] for r in res]  # noqa: E731
            flagged = sum(r["measurement_problem"] for r in res)
            np_flag = sum(r["numpy_efficiency"] > 1.05 for r in res)
            ok = [r["efficiency"] for r in res if not r["measurement_problem"]]
            np_ok = [r["numpy_efficiency"] for r in res if r["numpy_efficiency"] <= 1.05]
            print(f"    batch {batch:>3}: onnxruntime dense {stat([t * 1e3 for t in get('ort_dense_time')], '{:.3f}')} ms, "
                  f"pruned {stat([t * 1e3 for t in get('ort_pruned_time')], '{:.3f}')} ms, realized "
                  f"{stat(get('realized'))}x; efficiency {stat(ok) if ok else 'n/a'} "
                  f"({flagged}/{runs} runs flagged > 1.05)")
            print(f"               numpy       dense {stat([t * 1e3 for t in get('numpy_dense_time')], '{:.3f}')} ms, "
                  f"pruned {stat([t * 1e3 for t in get('numpy_pruned_time')], '{:.3f}')} ms, realized "
                  f"{stat(get('numpy_realized'))}x; efficiency {stat(np_ok) if np_ok else 'n/a'} "
                  f"({np_flag}/{runs} runs flagged > 1.05)")
            print(f"               numpy dense / onnxruntime dense: {stat(get('numpy_over_ort'))}x; CSR (numpy) "
                  f"realized {stat(get('csr_realized'))}x")


def million_cnn():
    return nn.Sequential([
        nn.Conv2D(64, 3, padding=1), nn.BatchNorm(), nn.ReLU(),
        nn.Conv2D(128, 3, padding=1), nn.BatchNorm(), nn.ReLU(), nn.MaxPool2D(2),
        nn.Conv2D(256, 3, padding=1), nn.BatchNorm(), nn.ReLU(),
        nn.Conv2D(256, 3, padding=1), nn.BatchNorm(), nn.ReLU(), nn.MaxPool2D(2),
        nn.Flatten(), nn.Dense(10),
    ], (16, 16, 3), rng=0)


def bench_io(repeats):
    net = million_cnn()
    print(f"\n3. ONNX export and import of a CNN with {net.n_params} parameters "
          f"(first call; median [min - max] of {repeats} later calls)")
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "m.onnx"
        times_out, times_in = [], []
        for _ in range(repeats + 1):
            t = time.perf_counter()
            nn.to_onnx(net, path)
            times_out.append(time.perf_counter() - t)
            t = time.perf_counter()
            back = nn.from_onnx(path)
            times_in.append(time.perf_counter() - t)
        X = np.random.default_rng(0).random((2, 16, 16, 3), dtype=np.float32)
        diff = float(np.abs(back.forward(X) - net.forward(X)).max())
        size = path.stat().st_size
    print(f"  export: first {times_out[0]:.3f} s, then {stat(times_out[1:], '{:.3f}')} s; file {size / 1e6:.2f} MB")
    print(f"  import: first {times_in[0]:.3f} s, then {stat(times_in[1:], '{:.3f}')} s; round trip max |diff| {diff:.1e}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--repeats", type=int, default=7)
    args = ap.parse_args()
    bench_speed(args.runs, args.repeats)
    bench_io(args.repeats)


if __name__ == "__main__":
    main()
