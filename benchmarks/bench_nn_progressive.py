"""Progressive pruning (0.5 -> 0.35 -> 0.25 of the FLOPs) against one-shot pruning to 0.25, same total epochs.

Protocol (honest, as in the ONNX issue): digits split 60/20/20 by
``load_digits_splits(rng=seed)``; the dense CNN (``small_cnn((16, 32))``) trains
with early stopping on validation. Both methods then distil from the dense
network (``distill=0.5``, ``T=4``), use the same price search (``lam0``,
``grow``, ``max_trials``, epochs per trial), penalize every layer's filters
(FLOPs-priced group lasso), rank trials and stop fine-tuning on validation.

- progressive: ``nn.prune_progressive(budgets=[0.5, 0.35, 0.25], epochs_per_step=F)``;
  its total epochs ``E`` (every trial and every fine-tuning) are counted;
- one-shot: ``nn.prune_to_budget(flops=0.25, fine_tune_epochs=0)`` and then
  fine-tuning with early stopping for ``E`` minus the epochs its trials used, so
  both spend the same number of epochs.

The test split is scored once per network. Mean +- std over seeds.

Run: ``python benchmarks/bench_nn_progressive.py [--seeds 0 1 2] [--quick]``.
"""

import argparse
import sys
import time
from pathlib import Path

import numpy as np

try:
    import structsparse.nn as nn
except ModuleNotFoundError:  # running from a checkout without installing
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    import structsparse.nn as nn
from structsparse.nn.experiment import train_early_stopping


def one_seed(seed, quick, budgets, epochs_per_step, trial_epochs, max_trials, lam0):
    t0 = time.perf_counter()
    X_tr, X_va, X_te, y_tr, y_va, y_te = nn.load_digits_splits(rng=seed, n_samples=600 if quick else None)
    dense = nn.small_cnn((8, 16) if quick else (16, 32), rng=seed)
    train_early_stopping(dense, X_tr, y_tr, X_va, y_va, epochs=4 if quick else 10, lr=0.05, rng=seed)
    common = dict(X_val=X_va, y_val=y_va, teacher=dense, distill=0.5, temperature=4.0, rng=seed, lr=0.05,
                  lam0=lam0, grow=3.0, max_trials=max_trials)
    prog = nn.prune_progressive(dense, X_tr, y_tr, budgets=budgets, epochs_per_step=epochs_per_step,
                                trial_epochs=trial_epochs, **common)
    total = prog.epochs_run
    one = nn.prune_to_budget(dense, X_tr, y_tr, flops=budgets[-1], epochs=trial_epochs, fine_tune_epochs=0,
                             **common)
    ft = max(total - one.epochs_run, 0)
    if ft:
        train_early_stopping(one.net, X_tr, y_tr, X_va, y_va, epochs=ft, lr=0.05, rng=seed, teacher=dense,
                             distill=0.5, temperature=4.0)
    d = nn.flops(dense)
    row = {"dense": dense.score(X_te, y_te),
           "progressive": prog.net.score(X_te, y_te), "prog_flops": nn.flops(prog.net) / d,
           "prog_epochs": total,
           "one_shot": one.net.score(X_te, y_te), "one_flops": nn.flops(one.net) / d,
           "one_epochs": one.epochs_run + ft}
    print(f"seed {seed} ({time.perf_counter() - t0:.0f} s): dense {row['dense']:.4f}; progressive "
          f"{row['progressive']:.4f} at {row['prog_flops']:.3f} FLOPs, {total} epochs; one-shot {row['one_shot']:.4f} "
          f"at {row['one_flops']:.3f} FLOPs, {row['one_epochs']} epochs", flush=True)
    return row


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--budgets", type=float, nargs="+", default=[0.5, 0.35, 0.25])
    ap.add_argument("--epochs-per-step", type=int, default=3)
    ap.add_argument("--trial-epochs", type=int, default=3)
    ap.add_argument("--max-trials", type=int, default=5)
    ap.add_argument("--lam0", type=float, default=0.1)
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args(argv)
    rows = [one_seed(s, args.quick, args.budgets, args.epochs_per_step, args.trial_epochs, args.max_trials,
                    args.lam0)
            for s in args.seeds]

    def ms(key, scale=100):
        v = scale * np.array([r[key] for r in rows])
        return f"{v.mean():.2f} +- {v.std():.2f}"

    print(f"\ndigits CNN, final budget {args.budgets[-1]:g} of the dense FLOPs, seeds {args.seeds}, test accuracy "
          f"(%), mean +- std")
    print(f"  dense                 {ms('dense')}")
    print(f"  progressive {args.budgets}: {ms('progressive')}  (FLOPs {ms('prog_flops', 1)}, epochs "
          f"{ms('prog_epochs', 1)})")
    print(f"  one-shot              {ms('one_shot')}  (FLOPs {ms('one_flops', 1)}, epochs {ms('one_epochs', 1)})")
    diff = 100 * np.array([r["progressive"] - r["one_shot"] for r in rows])
    win = "progressive" if diff.mean() > diff.std() else "one-shot" if -diff.mean() > diff.std() else \
        "neither (the difference is within one std over seeds)"
    print(f"  progressive minus one-shot: {diff.mean():+.2f} +- {diff.std():.2f} points (per seed "
          f"{np.round(diff, 2).tolist()}); winner: {win}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
