"""Group-lasso pruning against baselines at equal FLOPs, test accuracy mean +- std over seeds.

Methods (``structsparse.nn.baselines``): group-lasso training then pruning
(this project), L1 filter-norm magnitude pruning (Li et al. 2017), random
filter pruning, and the pruned architecture trained from scratch. Every
method prunes the same layers, gets the same fine-tuning epochs with early
stopping on the validation split, and meets the same FLOPs budget; the test
split (20 %, never seen before) is scored once per network. Networks: the
digits CNN (``small_cnn``), an MLP, and a CNN with an Inception block built
as an ONNX graph with ``onnx.helper`` and imported with ``nn.from_onnx``.

Run: ``python benchmarks/bench_nn_baselines.py [--quick] [--models cnn mlp onnx]``.
"""

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

try:
    import structsparse.nn as nn
except ModuleNotFoundError:  # running from a checkout without installing
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    import structsparse.nn as nn
from structsparse.nn.baselines import METHODS, compare_at_budget
from structsparse.nn.experiment import train_early_stopping


def onnx_inception_cnn(width, rng):
    """An ONNX CNN (NCHW) with an Inception block, He-initialised weights, built with onnx.helper."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    r = np.random.default_rng(rng)
    inits, nodes = [], []

    def w(name, *shape, fan_in=None):
        fan = fan_in or int(np.prod(shape[1:]))
        arr = (r.standard_normal(shape) * np.sqrt(2.0 / fan)).astype(np.float32)
        inits.append(numpy_helper.from_array(arr, name))
        return name

    def zeros(name, n, value=0.0):
        inits.append(numpy_helper.from_array(np.full(n, value, np.float32), name))
        return name

    def conv(x, name, cin, cout, k):
        nodes.append(helper.make_node("Conv", [x, w(name + ".W", cout, cin, k, k), zeros(name + ".b", cout)],
                                      [name], name=name, kernel_shape=[k, k], pads=[k // 2] * 4))
        return name

    def relu(x, name):
        nodes.append(helper.make_node("Relu", [x], [name], name=name))
        return name

    def bn(x, name, c):
        nodes.append(helper.make_node("BatchNormalization", [x, zeros(name + ".g", c, 1.0), zeros(name + ".b", c),
                                                             zeros(name + ".m", c), zeros(name + ".v", c, 1.0)],
                                      [name], name=name))
        return name

    c = width
    x = relu(bn(conv("x", "stem", 1, c, 3), "stem.bn", c), "stem.relu")
    b1 = relu(conv(x, "inc.b1", c, c, 1), "inc.b1.relu")
    b2 = relu(conv(relu(conv(x, "inc.b2a", c, c // 2, 1), "inc.b2a.relu"), "inc.b2b", c // 2, c, 3), "inc.b2b.relu")
    nodes.append(helper.make_node("Concat", [b1, b2], ["inc"], name="inc", axis=1))
    nodes.append(helper.make_node("MaxPool", ["inc"], ["pool"], name="pool", kernel_shape=[2, 2], strides=[2, 2]))
    nodes.append(helper.make_node("Flatten", ["pool"], ["flat"], name="flat", axis=1))
    nodes.append(helper.make_node("Gemm", ["flat", w("fc.W", 10, 2 * c * 16, fan_in=2 * c * 16), zeros("fc.b", 10)],
                                  ["logits"], name="fc", transB=1))
    graph = helper.make_graph(nodes, "inception_cnn",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 1, 8, 8])],
                              [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", 10])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


CONFIG = {
    "full": {"cnn": dict(channels=(32, 64), dense_epochs=15, lr=0.05),
             "mlp": dict(hidden=(128,), dense_epochs=30, lr=0.05),
             "onnx": dict(width=16, dense_epochs=15, lr=0.05),
             "fine_tune": 6, "trial_epochs": 4, "max_trials": 7, "seeds": (0, 1, 2),
             "budgets": (0.5, 0.25, 0.1, 0.05), "n_samples": None},
    "quick": {"cnn": dict(channels=(8, 16), dense_epochs=4, lr=0.05),
              "mlp": dict(hidden=(32,), dense_epochs=6, lr=0.05),
              "onnx": dict(width=8, dense_epochs=4, lr=0.05),
              "fine_tune": 2, "trial_epochs": 2, "max_trials": 6, "seeds": (0, 1, 2),
              "budgets": (0.5, 0.1), "n_samples": 500},
}


def build(model, cfg, seed):
    if model == "cnn":
        return nn.small_cnn(cfg["channels"], rng=seed), "filters", True
    if model == "mlp":
        return nn.mlp(cfg["hidden"], rng=seed), "neurons", False
    return nn.from_onnx(onnx_inception_cnn(cfg["width"], seed)), "filters", True


def run(models, quick, methods=METHODS, verbose=True):
    conf = CONFIG["quick" if quick else "full"]
    say = print if verbose else (lambda *a, **k: None)
    table = {}
    for model in models:
        cfg = conf[model]
        rows = {b: {m: [] for m in methods} for b in conf["budgets"]}
        dense_acc = []
        for seed in conf["seeds"]:
            net, by, image = build(model, cfg, seed)
            splits = nn.load_digits_splits(rng=seed, image=image, n_samples=conf["n_samples"])
            X_tr, X_val, X_te, y_tr, y_val, y_te = splits
            t0 = time.perf_counter()
            train_early_stopping(net, X_tr, y_tr, X_val, y_val, epochs=cfg["dense_epochs"], lr=cfg["lr"], rng=seed)
            dense_acc.append(net.score(X_te, y_te))
            for b in conf["budgets"]:
                # group lasso's first price scales with the budget: a lower budget needs a higher price
                res = compare_at_budget(net, splits, b, methods=methods, by=by, dense_epochs=cfg["dense_epochs"],
                                        fine_tune_epochs=conf["fine_tune"], trial_epochs=conf["trial_epochs"],
                                        lr=cfg["lr"], lam0=0.1, grow=3.0, max_trials=conf["max_trials"], rng=seed)
                for m in methods:
                    rows[b][m].append(res[m])
            say(f"  {model} seed {seed}: dense test {dense_acc[-1]:.4f} ({time.perf_counter() - t0:.0f} s)", flush=True)
        table[model] = {"dense": dense_acc, "rows": rows}
        report(model, table[model], methods)
    return table


def report(model, entry, methods):
    d = np.array(entry["dense"])
    print(f"\n{model}: dense test accuracy {d.mean():.4f} +- {d.std(ddof=1) if len(d) > 1 else 0:.4f} "
          f"({len(d)} seeds); per budget: test accuracy mean +- std [mean FLOPs fraction]")
    print(f"{'budget':>7} " + " ".join(f"{m:>24}" for m in methods))
    for b, per in entry["rows"].items():
        cells = []
        for m in methods:
            acc = np.array([r.test_acc for r in per[m] if r.test_acc == r.test_acc])
            failed = len(per[m]) - len(acc)
            if not len(acc):
                cells.append(f"budget not met ({failed})")
                continue
            fr = np.nanmean([r.flops_fraction for r in per[m]])
            note = f" ({failed} unmet)" if failed else ""
            cells.append(f"{acc.mean():.4f} +- {acc.std(ddof=1) if len(acc) > 1 else 0:.4f} [{fr:.3f}]{note}")
        print(f"{b:>7} " + " ".join(f"{c:>24}" for c in cells))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--models", nargs="+", default=["cnn", "mlp", "onnx"], choices=["cnn", "mlp", "onnx"])
    args = ap.parse_args()
    with threadpool_limits(1):
        run(args.models, args.quick)


if __name__ == "__main__":
    main()
