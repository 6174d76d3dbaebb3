"""Quantization alongside sparsity on the digits CNN: dense, dense int8, pruned, pruned + int8.

Protocol (the honest one of the ONNX issue): digits split 60/20/20 (train,
validation, test) by ``load_digits_splits(rng=seed)``; the dense CNN trains with
early stopping on validation; ``prune_to_budget`` (the settings of
``experiment.SETTINGS["cnn"]``) meets 25 % of the dense FLOPs, ranks its trials
and stops the fine-tuning on validation. ``--layers all`` penalizes both conv
layers' filters (``default``: the first layer's only, as ``digits_pruning``
does; ``last``: the second layer's, whose every filter feeds 16 rows of the
dense layer); ``--price p`` prices each group by its FLOPs plus ``p`` times its
parameters (``nn.price_weights``; 0 is the FLOPs price alone);
``--uniform`` adds uniform L1 filter pruning at the same budget, fine-tuned alike; ``nn.quantize`` calibrates its
activation scales on 512 training images. The test split is scored once per
network, by onnxruntime on the exported file (the QDQ file for the int8
models; the numpy simulation's test accuracy is printed beside it).

Bytes: ``weight bytes`` counts stored weights (float32: 4 bytes per parameter
and batch-norm statistic; int8 models: int8 weights, int32 biases, float32
scales, batch norms folded); ``ONNX bytes`` is the serialized file.
Latency: ``nn.profile`` in onnxruntime, one intra-op thread, p50 and p99 over
``--n-runs`` runs at batch 1 and 256, the four models profiled one after the
other in the same process. The machine is shared and loaded: p99 mostly
measures other processes; read the medians, and compare within a run.

Run: ``python benchmarks/bench_nn_quant.py [--seeds 0 1 2] [--layers all|default|last] [--price 0|1|3] [--uniform]
[--medium | --quick]``.
"""

import argparse
import sys
import time

import _setup  # noqa: F401  (before numpy: one BLAS thread, the checkout first on the path)
import numpy as np

import structsparse.nn as nn
from structsparse.nn.onnx_io import nchw, ort_session


def ort_accuracy(model, X, y):
    sess = ort_session(nn.to_onnx(model, softmax=False))
    return float(np.mean(sess.run(None, {"input": nchw(X)})[0].argmax(axis=1) == y))


def one_seed(seed, budget, layers, quick, n_runs, uniform=False, price=0.0):
    t0 = time.perf_counter()
    from structsparse.nn.experiment import SETTINGS, train_early_stopping
    from structsparse.nn.quantize import price_weights

    cfg = SETTINGS["cnn"]["medium" if quick == "medium" else "quick" if quick else "full"]
    X_tr, X_val, X_te, y_tr, y_val, y_te = nn.load_digits_splits(rng=seed, image=True, n_samples=cfg["n_samples"])
    dense = nn.small_cnn(cfg["channels"], rng=seed)
    train_early_stopping(dense, X_tr, y_tr, X_val, y_val, epochs=cfg["epochs"], lr=cfg["lr"], rng=seed)
    convs = [n.name for n in dense.nodes if n.layer.kind == "conv2d"]
    prune_layers = {"all": None, "default": convs[:1], "last": convs[-1:]}[layers]
    # the group price: FLOPs alone (weights="flops", the default of prune_to_budget) or FLOPs and parameters
    weights = "flops" if price == 0 else price_weights(dense, layers=prune_layers, flops=1.0, params=price)
    res = nn.prune_to_budget(dense, X_tr, y_tr, flops=budget, by="filters", lam0=cfg["lam0"],
                             epochs=cfg["trial_epochs"], fine_tune_epochs=cfg["fine_tune"], lr=cfg["lr"],
                             max_trials=cfg["max_trials"], X_val=X_val, y_val=y_val, rng=seed, layers=prune_layers,
                             weights=weights)
    pruned = res.net
    calib = X_tr[:512]
    models = {"dense": dense, "dense int8": nn.quantize(dense, calibration=calib),
              "pruned": pruned, "pruned + int8": nn.quantize(pruned, calibration=calib)}
    if uniform:
        # the same budget spent as a uniform filter fraction per layer (L1, Li et al. 2017), fine-tuned alike
        from structsparse.nn.baselines import uniform_prune

        uni = uniform_prune(dense, budget, layers=prune_layers)
        train_early_stopping(uni, X_tr, y_tr, X_val, y_val, epochs=cfg["fine_tune"], lr=cfg["lr"], rng=seed)
        models["uniform L1"] = uni
        models["uniform L1 + int8"] = nn.quantize(uni, calibration=calib)
    rows = {}
    for name, m in models.items():
        q = isinstance(m, nn.QuantizedNet)
        g = m.net if q else m
        prof = nn.profile(m, batch_sizes=(1, 256), runtime="onnxruntime", n_runs=n_runs, X=X_te, rng=seed)
        rows[name] = {"acc": ort_accuracy(m, X_te, y_te), "sim_acc": m.score(X_te, y_te),
                      "flops": nn.flops(g), "weight_bytes": nn.weight_bytes(m),
                      "onnx_bytes": len(nn.to_onnx(m, softmax=False).SerializeToString()),
                      "p50_1": prof.p50[1], "p99_1": prof.p99[1], "p50_256": prof.p50[256],
                      "p99_256": prof.p99[256]}
    kept = {k: v for k, v in pruned.pruning["kept"].items() if k != "input"}
    uni_kept = {k: v for k, v in models["uniform L1"].pruning["kept"].items() if k != "input"} if uniform else ""
    print(f"seed {seed}: {time.perf_counter() - t0:.0f} s; group lasso kept {kept}; uniform L1 kept {uni_kept}")
    return rows


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--budget", type=float, default=0.25)
    ap.add_argument("--layers", choices=["all", "default", "last"], default="all",
                    help="penalize every conv layer's filters (all), the first conv layer's (default, as "
                    "digits_pruning does) or the last conv layer's (last: the filters the dense layer reads)")
    ap.add_argument("--n-runs", type=int, default=200)
    ap.add_argument("--uniform", action="store_true", help="also the uniform-L1 pruning at the same budget, "
                    "float and int8")
    ap.add_argument("--price", type=float, default=0.0,
                    help="weight of the parameter price next to the FLOPs price of every group "
                    "(nn.quantize.price_weights; 0: FLOPs alone, weights='flops')")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--medium", action="store_true", help="all the data, CNN (16, 32), shorter runs "
                    "(experiment.SETTINGS['cnn']['medium'])")
    args = ap.parse_args(argv)
    setting = "medium" if args.medium else args.quick
    runs = [one_seed(s, args.budget, args.layers, setting, args.n_runs, args.uniform, args.price) for s in args.seeds]
    names = list(runs[0])
    base = {k: np.array([r["dense"][k] for r in runs], float) for k in runs[0]["dense"]}
    print(f"\ndigits CNN ({'medium' if args.medium else 'quick' if args.quick else 'full'} setting), "
          f"FLOPs budget {args.budget:g}, layers={args.layers}, price: FLOPs + {args.price:g} x params, "
          f"seeds {args.seeds} "
          f"(mean +- std; latency: median over seeds of each run's p50/p99, onnxruntime, 1 thread, shared machine)")
    print(f"{'model':<18}{'test acc (ort)':>18}{'sim acc':>9}{'FLOPs':>8}{'weight B':>10}{'x fewer':>8}"
          f"{'ONNX B':>8}{'p50 b1 ms':>10}{'p99 b1':>8}{'p50 b256':>10}{'p99 b256':>9}")
    for name in names:
        v = {k: np.array([r[name][k] for r in runs], float) for k in runs[0][name]}
        print(f"{name:<18}{100 * v['acc'].mean():>11.2f} +- {100 * v['acc'].std():4.2f}"
              f"{100 * v['sim_acc'].mean():>9.2f}{v['flops'].mean():>8.0f}{v['weight_bytes'].mean():>10.0f}"
              f"{(base['weight_bytes'] / v['weight_bytes']).mean():>8.1f}{v['onnx_bytes'].mean():>8.0f}"
              f"{1e3 * np.median(v['p50_1']):>10.3f}{1e3 * np.median(v['p99_1']):>8.3f}"
              f"{1e3 * np.median(v['p50_256']):>10.2f}{1e3 * np.median(v['p99_256']):>9.2f}")
    d = np.array([r["pruned + int8"]["acc"] - r["pruned"]["acc"] for r in runs])
    print(f"\npruned + int8 minus pruned float, test accuracy (points): {100 * d.mean():+.2f} +- {100 * d.std():.2f} "
          f"(per seed {np.round(100 * d, 2).tolist()}); goal: within 0.5")
    ratio = np.array([r["dense"]["weight_bytes"] / r["pruned + int8"]["weight_bytes"] for r in runs])
    print(f"dense float weight bytes / pruned + int8 weight bytes: {ratio.mean():.1f} (min {ratio.min():.1f}); "
          f"goal: >= 10")
    if args.uniform:
        d = np.array([r["uniform L1 + int8"]["acc"] - r["uniform L1"]["acc"] for r in runs])
        ratio = np.array([r["dense"]["weight_bytes"] / r["uniform L1 + int8"]["weight_bytes"] for r in runs])
        print(f"uniform L1: int8 minus float {100 * d.mean():+.2f} +- {100 * d.std():.2f} points; dense float / "
              f"uniform + int8 weight bytes {ratio.mean():.1f} (min {ratio.min():.1f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
