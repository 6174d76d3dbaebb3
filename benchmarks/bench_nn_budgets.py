"""Three ways to spend one FLOPs budget on the digits CNN: layer-aware (sensitivity), uniform ratio, global price.

- ``sensitivity``: ``baselines.allocate_budget`` (driven by ``nn.sensitivity`` on the
  validation split: layers that lose the least accuracy per FLOP removed are pruned most);
- ``uniform``: the same fraction of filters in every layer, weakest (L1) first
  (``baselines.uniform_prune``, Li et al. 2017);
- ``global price``: the group lasso with FLOPs-priced groups over every layer,
  bisecting the one price until the budget is met (``nn.prune_to_budget``).

Honest protocol: digits split 60/20/20 (``load_digits_splits(rng=seed)``), the
dense CNN ``small_cnn((16, 32))`` trained with early stopping on validation, every
method prunes every conv layer's filters to at most the same FLOPs budget and is
fine-tuned for the same epochs with early stopping on validation; the test split
is scored once per network. Mean +- std over seeds.

Run: ``python benchmarks/bench_nn_budgets.py [--seeds 0 1 2] [--budget 0.25] [--quick]``.
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
from structsparse.nn.baselines import BaselineResult, compare_at_budget
from structsparse.nn.experiment import train_early_stopping

LABELS = {"sensitivity": "sensitivity (layer-aware)", "l1": "uniform ratio (L1)", "group_lasso": "global price (GL)"}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--budget", type=float, default=0.25)
    ap.add_argument("--fine-tune-epochs", type=int, default=6)
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args(argv)
    rows = []
    for seed in args.seeds:
        t0 = time.perf_counter()
        splits = nn.load_digits_splits(rng=seed, n_samples=600 if args.quick else None)
        X_tr, X_va, X_te, y_tr, y_va, y_te = splits
        net = nn.small_cnn((8, 16) if args.quick else (16, 32), rng=seed)
        train_early_stopping(net, X_tr, y_tr, X_va, y_va, epochs=4 if args.quick else 10, lr=0.05, rng=seed)
        res = compare_at_budget(net, splits, args.budget, methods=("sensitivity", "l1", "group_lasso"),
                                dense_epochs=10, fine_tune_epochs=args.fine_tune_epochs, trial_epochs=4, lr=0.05,
                                lam0=0.2 if args.quick else 0.1, grow=3.0, max_trials=6, rng=seed)
        res["dense"] = BaselineResult("dense", net.score(X_te, y_te), net.score(X_va, y_va), 1.0, net.n_params)
        rows.append(res)
        print(f"seed {seed} ({time.perf_counter() - t0:.0f} s): " + ", ".join(
            f"{k} {v.test_acc:.4f} @ {v.flops_fraction:.3f}" for k, v in res.items()), flush=True)
    print(f"\ndigits CNN, FLOPs budget {args.budget:g}, every conv layer's filters, seeds {args.seeds}; "
          f"test accuracy (%) and FLOPs fraction, mean +- std")
    for key in ("dense", "sensitivity", "l1", "group_lasso"):
        acc = 100 * np.array([r[key].test_acc for r in rows])
        fl = np.array([r[key].flops_fraction for r in rows])
        print(f"  {LABELS.get(key, key):<28} {np.nanmean(acc):6.2f} +- {np.nanstd(acc):4.2f}   FLOPs "
              f"{np.nanmean(fl):.3f} +- {np.nanstd(fl):.3f}")
    best = max(("sensitivity", "l1", "group_lasso"), key=lambda k: np.nanmean([r[k].test_acc for r in rows]))
    print(f"  highest mean test accuracy: {LABELS[best]} (see the std before calling it a win)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
