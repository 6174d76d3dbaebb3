"""A wider CNN (64-128 filters, an Inception block) on augmented digits, pruned to 10 % of its FLOPs.

The training part (60 %) is augmented with numpy shifts (up to 1 pixel) and
rotations (up to 15 degrees), ``--copies`` augmented copies beside the
originals. The dense network and the fine-tuning stop early on the
validation part (20 %); the group lasso's price search ranks its trials on
it; the test part (20 %) is scored once at the end. L1 filter pruning to the
same budget with the same fine-tuning is measured beside it. Speed: both
pruned networks against the dense one in onnxruntime and numpy (one thread,
batch 1 and 256, median of ``--runs`` runs).

Run: ``python benchmarks/bench_nn_wide.py [--quick]``.
"""

import argparse
import time
import warnings

import _setup  # noqa: F401  (before numpy: one BLAS thread, the checkout first on the path)
import numpy as np
from threadpoolctl import threadpool_limits

import structsparse.nn as nn
from structsparse.nn.baselines import uniform_prune
from structsparse.nn.experiment import train_early_stopping
from structsparse.nn.models import augment_images


def wide_cnn(width=64, rng=0):
    """Conv(w) -> BN -> ReLU -> Inception (w/2 | w/2 -> w | pool -> w/2: 2w channels) -> max pool ->
    Conv(2w) -> BN -> ReLU -> global average pool -> Dense(10)."""
    g = nn.Graph((8, 8, 1), rng=rng)
    g.add(nn.Conv2D(width, 3, padding=1))
    g.add(nn.BatchNorm())
    x = g.add(nn.ReLU())
    x = nn.inception(g, x, [
        [nn.Conv2D(width // 2, 1), nn.ReLU()],
        [nn.Conv2D(width // 2, 1), nn.ReLU(), nn.Conv2D(width, 3, padding=1), nn.ReLU()],
        [nn.MaxPool2D(3, stride=1, padding=1), nn.Conv2D(width // 2, 1), nn.ReLU()],
    ], name="inc")
    g.add(nn.MaxPool2D(2), x)
    g.add(nn.Conv2D(2 * width, 3, padding=1))
    g.add(nn.BatchNorm())
    g.add(nn.ReLU())
    g.add(nn.GlobalAvgPool2D())
    g.add(nn.Dense(10))
    return g


def stat(values, fmt="{:.2f}"):
    v = np.asarray(values, dtype=float)
    return f"{fmt.format(np.median(v))} [{fmt.format(v.min())} - {fmt.format(v.max())}]" if v.size else "n/a"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--width", type=int, default=64)
    ap.add_argument("--copies", type=int, default=2)
    ap.add_argument("--budget", type=float, default=0.10)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    width = 16 if args.quick else args.width
    epochs, trial_epochs, fine_tune, max_trials = (2, 1, 1, 4) if args.quick else (12, 3, 6, 8)
    X_tr, X_val, X_te, y_tr, y_val, y_te = nn.load_digits_splits(rng=args.seed,
                                                                 n_samples=400 if args.quick else None)
    rng = np.random.default_rng(args.seed)
    X_aug = np.concatenate([X_tr] + [augment_images(X_tr, rng) for _ in range(args.copies)])
    y_aug = np.concatenate([y_tr] * (args.copies + 1))
    net = wide_cnn(width, rng=args.seed)
    print(f"wide CNN: {net.n_params} parameters, {nn.flops(net)} FLOPs/sample; training on {len(y_aug)} "
          f"samples ({args.copies} augmented copies of {len(y_tr)})")
    with threadpool_limits(1):
        t0 = time.perf_counter()
        h = train_early_stopping(net, X_aug, y_aug, X_val, y_val, epochs=epochs, lr=0.05, rng=args.seed)
        print(f"  dense: best validation epoch {h.best_epoch}, {time.perf_counter() - t0:.0f} s")
        t0 = time.perf_counter()
        try:
            res = nn.prune_to_budget(net, X_aug, y_aug, flops=args.budget, by="filters", lam0=0.1, grow=3.0,
                                     max_trials=max_trials, epochs=trial_epochs, fine_tune_epochs=fine_tune,
                                     lr=0.05, X_val=X_val, y_val=y_val, rng=args.seed, verbose=True)
            gl = res.net
            print(f"  group lasso: {time.perf_counter() - t0:.0f} s, kept {gl.pruning['kept']}")
        except ValueError as exc:  # the price search missed the budget: say so, keep the baseline
            print(f"  group lasso: did not meet the budget ({exc})")
            gl = None
        l1 = uniform_prune(net, args.budget)
        train_early_stopping(l1, X_aug, y_aug, X_val, y_val, epochs=fine_tune, lr=0.05, rng=args.seed)
        print(f"  L1 filters: kept {l1.pruning['kept']}")
    # the test part, once, at the end
    gl_text = (f"{gl.score(X_te, y_te):.4f} at {nn.flops(gl) / nn.flops(net):.3f} of the FLOPs ({gl.n_params} "
               f"parameters)" if gl is not None else "n/a (budget not met)")
    print(f"\ntest accuracy (seed {args.seed}): dense {net.score(X_te, y_te):.4f} ({net.n_params} parameters); "
          f"group lasso {gl_text}; L1 filters {l1.score(X_te, y_te):.4f} at {nn.flops(l1) / nn.flops(net):.3f} "
          f"({l1.n_params} parameters)")
    for label, pruned in (("group lasso", gl), ("L1 filters", l1)):
        if pruned is None:
            continue
        for batch in (1, 256):
            runs = []
            for k in range(args.runs):
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", RuntimeWarning)
                    runs.append(nn.speedup(net, pruned, batch=batch, repeats=7, rng=k))
            get = lambda key: [getattr(r, key) for r in runs]  # noqa: E731
            ok = [r.efficiency for r in runs if not r.measurement_problem]
            print(f"  {label}, batch {batch}: onnxruntime {stat([t * 1e3 for t in get('ort_dense_time')], '{:.3f}')} ms "
                  f"-> {stat([t * 1e3 for t in get('ort_pruned_time')], '{:.3f}')} ms, realized {stat(get('realized'))}x "
                  f"of {runs[0].theoretical:.2f}x, efficiency {stat(ok)} "
                  f"({sum(r.measurement_problem for r in runs)}/{len(runs)} flagged > 1.05); numpy realized "
                  f"{stat(get('numpy_realized'))}x")


if __name__ == "__main__":
    main()
