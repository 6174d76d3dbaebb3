"""``structsparse prune``: prune a network to a FLOPs budget, fine-tune and measure it.

``structsparse apply-recipe``: reproduce a recorded pruning (``prune --recipe``)
on the saved dense network or ONNX model it was made for, without retraining.

Two sources: ``--model net.onnx --data data.npz`` prunes the user's ONNX model
on the user's data and writes a smaller ONNX model (``--out pruned.onnx``);
without ``--model`` a network is trained on digits first (``--arch``).

Beyond the one-shot group-lasso pruning to a FLOPs budget, ``prune`` offers
for both sources: a joint FLOPs + parameters price (``--price-params``),
hardware-aware rounding of the kept counts (``--round-to``), knowledge
distillation from the dense network (``--distill``, ``--temperature``),
progressive pruning (``--progressive``, ``--epochs-per-step``), layer-aware
allocation of the budget (``--allocation``) and int8 quantization of the
pruned network (``--quantize int8``, calibrated on the training part only;
``--out x.onnx`` writes the QDQ model). The recipe (``--recipe``) records
every one of these settings and the quantization itself, so that
``apply-recipe`` rebuilds the same pruned (and quantized) network.
"""

import base64
import hashlib
import sys
from pathlib import Path

import numpy as np

__all__ = ["register", "run_prune", "run_apply_recipe"]


_DIGITS_CLASSES = 10


def _warn_if_collapsed(dense_acc, pruned_acc, n_classes):
    """Say so on stderr when pruning left a network no better than guessing (the run itself succeeded)."""
    chance = 1.0 / n_classes
    if pruned_acc <= 1.5 * chance < dense_acc:
        print(f"warning: the pruned network's test accuracy ({pruned_acc:.4f}) is near chance ({chance:.2f} for "
              f"{n_classes} classes): the budget is too tight for this network (with --quick, a small one). Try a "
              f"larger --budget-flops, a larger --min-keep, or drop --quick.", file=sys.stderr)


def _report(out):
    res, speed = out.result, out.speed
    kept = out.pruned.pruning["kept"]
    print("\nkept units per layer:")
    for layer, (k, total) in kept.items():
        print(f"  {layer:<16} {k:>4} / {total:<4}")
    print(f"FLOPs/sample: dense {res.dense_flops}, pruned {res.flops} "
          f"({res.dense_flops / res.flops:.2f}x fewer; budget {res.budget:.0f})")
    print(f"test accuracy: dense {out.dense_acc:.4f}, pruned + fine-tuned {out.pruned_acc:.4f}")
    _warn_if_collapsed(out.dense_acc, out.pruned_acc, n_classes=_DIGITS_CLASSES)
    print(f"parameters: dense {out.dense.n_params}, pruned {out.pruned.n_params}; "
          f"peak activations (batch 1): {out.dense_memory.peak_activations} -> "
          f"{out.pruned_memory.peak_activations} bytes")
    print(f"speed at batch {speed.batch} (one thread, best of interleaved runs, each network timed warm; "
          f"machine load makes these indicative):")
    for label, rt in (("onnxruntime", "ort"), ("numpy", "numpy")):
        d, p = getattr(speed, f"{rt}_dense_time"), getattr(speed, f"{rt}_pruned_time")
        if d is None:
            continue
        eff = d / p / speed.theoretical
        verdict = (f"efficiency {eff:.2f}" if eff <= 1.05 else
                   f"efficiency {eff:.2f} > 1.05: a measurement problem, not a result")
        print(f"  {label:<12} {d * 1e3:.2f} ms -> {p * 1e3:.2f} ms, realized {d / p:.2f}x / theoretical "
              f"{speed.theoretical:.2f}x, {verdict}")
    if speed.numpy_over_ort is not None:
        print(f"  numpy dense forward / onnxruntime dense forward: {speed.numpy_over_ort:.2f}x")
    print(f"  unstructured CSR (numpy, same chunking) at the same density ({speed.density:.3f}): "
          f"{speed.csr_time * 1e3:.2f} ms, realized {speed.csr_realized:.2f}x, efficiency "
          f"{speed.csr_efficiency:.3f}")


def _check_recipe_path(path):
    from .onnx_prune import check_writable

    check_writable(path, suffix=".json", owner="structsparse prune --recipe")


def run_apply_recipe(args):
    """``structsparse apply-recipe RECIPE --model MODEL --out OUT``."""
    from .network import Graph
    from .onnx_prune import check_writable
    from .recipe import Recipe, apply_recipe

    model, out = Path(args.model), Path(args.out)
    onnx_in = model.suffix == ".onnx"
    if model.suffix not in (".onnx", ".npz"):
        raise ValueError(f"--model must be a saved network (.npz) or an ONNX model (.onnx). Got {str(model)!r}.")
    if out.suffix not in (model.suffix, ".onnx"):
        raise ValueError(f"--out must end in .onnx or have the suffix of --model ({model.suffix}). "
                         f"Got {str(out)!r}.")
    check_writable(out, suffix=out.suffix, owner="structsparse apply-recipe --out")
    recipe = Recipe.load(args.recipe)
    if onnx_in:
        from .onnx_io import from_onnx

        net = from_onnx(model)
    else:
        net = Graph.load(model)
    pruned = apply_recipe(net, args.recipe)
    record = recipe.get("quantization")
    quantized = None
    if record is not None and out.suffix == ".onnx":
        quantized = rebuild_quantized(pruned, record)
    if out.suffix == ".onnx":
        from .onnx_io import to_onnx

        softmax = getattr(net, "output_activation", None) == "softmax"
        pruned.output_activation = "softmax" if softmax else None
        to_onnx(pruned if quantized is None else quantized, out, softmax=softmax)
    else:
        out = pruned.save(out, metrics=recipe.get("metrics"))
    kept = recipe["pruning"]["kept"]
    print("kept units per layer:")
    for layer, (k, total) in kept.items():
        print(f"  {layer:<24} {k:>4} / {total:<4}")
    res = recipe["result"]
    print(f"FLOPs/sample: {recipe['source']['flops']} -> {res['flops']}; parameters {recipe['source']['params']} "
          f"-> {res['params']}; weights {'from the recipe (no retraining)' if recipe['weights'] else 'of the source, cut (the recipe records masks only)'}")
    if quantized is not None:
        print(f"quantization: the recorded int{record['bits']} weights, biases and activation scales "
              f"({'per-channel' if record['per_channel'] else 'per-tensor'}; calibrated on "
              f"{record['calibration']['samples']} training samples) applied; QDQ model written to {out}")
    elif record is not None:
        print(f"quantization: the recipe records an int{record['bits']} quantization, NOT applied here: a .npz "
              f"holds the float network (write --out x.onnx for the QDQ model)")
    else:
        print("quantization: none recorded (the network is float)")
    print(f"pruned network written to {out}")
    return 0


def run_prune_onnx(args):
    from .onnx_prune import check_writable, prune_onnx

    if args.recipe:
        _check_recipe_path(args.recipe)

    if not args.data:
        raise ValueError("--model needs --data (an .npz file with arrays X and y).")
    if not args.out:
        raise ValueError("--model needs --out (the pruned .onnx file to write).")
    check_writable(args.out, owner="structsparse prune --out")  # before any training
    r = prune_onnx(args.model, args.data, args.out, budget=args.budget_flops, by=args.by,
                   epochs=args.epochs, fine_tune_epochs=args.fine_tune_epochs, lr=args.lr, lam0=args.lam0,
                   grow=args.grow, max_trials=args.max_trials, min_keep=args.min_keep, rng=args.seed, verbose=True,
                   progress=args.progress)
    print("\nkept units per layer:")
    for layer, (k, total) in r.kept.items():
        print(f"  {layer:<24} {k:>4} / {total:<4}")
    print(f"FLOPs/sample: dense {r.dense_flops}, pruned {r.flops} ({r.dense_flops / r.flops:.2f}x fewer)")
    print(f"parameters: dense {r.dense_params}, pruned {r.params} ({r.params / r.dense_params:.3f} kept); "
          f"ONNX bytes: dense {r.dense_bytes}, pruned {r.bytes} ({r.bytes / r.dense_bytes:.3f})")
    print(f"validation accuracy (20% of --data, never trained on; it chose lam and the fine-tuning epoch, so it is "
          f"not a test score): dense {r.dense_val_acc:.4f}, pruned + fine-tuned {r.val_acc:.4f}")
    if r.max_abs_diff == r.max_abs_diff:
        print(f"onnxruntime on {r.path} vs structsparse.nn: max |diff| {r.max_abs_diff:.2e}")
    print(f"pruned model written to {r.path}")
    if args.recipe:
        from .recipe import Recipe

        print(f"recipe written to {Recipe(r.recipe).save(args.recipe)} (source: {args.model})")
    return 0


def _parser_error(args):
    parser = getattr(args, "_prune_parser", None)
    if parser is not None:
        return parser.error

    def error(message):
        raise ValueError(message)

    return error


def run_prune(args):
    args._budget_given = args.budget_flops is not None
    args._steps = _check_flags(args, _parser_error(args))
    if _extended(args):
        return run_prune_extended(args)
    if args.model:
        return run_prune_onnx(args)
    from .experiment import digits_pruning

    if args.recipe:
        _check_recipe_path(args.recipe)
    if args.dense_out and not args.recipe:
        raise ValueError("--dense-out goes with --recipe (it saves the source network the recipe is made for).")
    layers = "default" if args.layers is None else (None if args.layers == ["all"] else args.layers)
    out = digits_pruning(args.arch, budget=args.budget_flops, quick=args.quick, rng=args.seed,
                         min_keep=args.min_keep, by=args.by, progress=args.progress, verbose=True, layers=layers)
    _report(out)
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        path = out.pruned.save(args.out, metrics=out.pruned.pruning.get("metrics"))
        print(f"pruned network written to {path} (+ {path.with_suffix('.json').name})")
    if args.recipe:
        from .recipe import Recipe

        print(f"recipe written to {Recipe(out.recipe).save(args.recipe)}")
        if args.dense_out:
            path = out.dense.save(args.dense_out)
            print(f"dense source network written to {path} (apply the recipe to it with "
                  f"`structsparse apply-recipe {args.recipe} --model {path} --out pruned.npz`)")
    if args.plot:
        import matplotlib.pyplot as plt

        from .plots import pruning_dashboard

        plot = Path(args.plot)
        if plot.suffix != ".png":
            plot.mkdir(parents=True, exist_ok=True)
            plot = plot / "prune_dashboard.png"
        from .profile import profile
        from .speed import has_onnxruntime

        runtime = "onnxruntime" if has_onnxruntime() else "numpy"
        X_te = out.X_test
        profiles = {name: profile(m, batch_sizes=(1,), runtime=runtime, n_runs=args.profile_runs, X=X_te,
                                  rng=args.seed)
                    for name, m in (("dense", out.dense), ("pruned", out.pruned))}
        fig = pruning_dashboard(out.result, out.speed, out.dense_memory, out.pruned_memory, plot,
                                title=f"digits, {args.arch}, budget {args.budget_flops:g}", profiles=profiles,
                                dense_acc=out.dense_val_acc)
        plt.close(fig)  # written to the file only
        print(f"dashboard written to {plot}")
    return 0



# ---------------------------------------------------------------------------------------------------------------
# the extended pipeline: price, rounding, distillation, progressive steps, allocation, quantization

_FLAGS = {"quantize": "--quantize", "per_tensor": "--per-tensor", "price_params": "--price-params",
          "round_to": "--round-to", "distill": "--distill", "temperature": "--temperature",
          "progressive": "--progressive", "epochs_per_step": "--epochs-per-step", "allocation": "--allocation",
          "calibration_samples": "--calibration-samples"}


def _extended(args):
    """Whether the run needs the extended pipeline (any of the issue-12 options away from its default)."""
    return (args.quantize != "none" or args.price_params != 0 or args.round_to is not None
            or args.distill is not None or args.progressive is not None or args.allocation != "global")


def _parse_steps(text, error):
    try:
        steps = [float(s) for s in str(text).split(",") if s.strip()]
    except ValueError:
        error(f"argument --progressive: expected comma-separated FLOPs fractions such as 0.5,0.35,0.25. "
              f"Got {text!r}.")
    if not steps or any(not 0 < s <= 1 for s in steps) or any(b >= a for a, b in zip(steps, steps[1:])):
        error(f"argument --progressive: the steps must be strictly decreasing fractions in (0, 1]. Got {text!r}.")
    return steps


def _check_flags(args, error):
    """Refuse bad values and bad combinations of the prune options, naming the flags (argparse errors)."""
    if args.budget_flops is None:
        args.budget_flops = 0.25
    steps = None
    if args.progressive is not None:
        steps = _parse_steps(args.progressive, error)
        if args._budget_given and abs(steps[-1] - args.budget_flops) > 1e-12:
            error(f"argument --progressive: its last step ({steps[-1]:g}) is the final budget; it differs from "
                  f"--budget-flops {args.budget_flops:g} (give one or make them equal).")
        args.budget_flops = steps[-1]
    elif args.epochs_per_step is not None:
        error("argument --epochs-per-step: goes with --progressive (the fine-tuning epochs after each step).")
    if args.epochs_per_step is not None and args.epochs_per_step < 0:
        error(f"argument --epochs-per-step: must be >= 0. Got {args.epochs_per_step}.")
    if args.per_tensor and args.quantize == "none":
        error("argument --per-tensor: goes with --quantize int8 (it chooses one weight scale per layer).")
    if args.calibration_samples is not None and args.quantize == "none":
        error("argument --calibration-samples: goes with --quantize int8.")
    if args.calibration_samples is not None and args.calibration_samples < 1:
        error(f"argument --calibration-samples: must be >= 1. Got {args.calibration_samples}.")
    if args.temperature is not None and args.distill is None:
        error("argument --temperature: goes with --distill ALPHA (the weight of the distillation loss).")
    if args.distill is not None and not 0 <= args.distill <= 1:
        error(f"argument --distill: the weight of the distillation loss must lie in [0, 1]. Got {args.distill:g}.")
    if args.temperature is not None and not args.temperature > 0:
        error(f"argument --temperature: must be > 0. Got {args.temperature:g}.")
    if args.price_params < 0:
        error(f"argument --price-params: must be >= 0. Got {args.price_params:g}.")
    if args.round_to is not None and args.round_to < 1:
        error(f"argument --round-to: must be >= 1. Got {args.round_to}.")
    if args.by == "channels" and (args.round_to is not None or args.price_params):
        error("arguments --round-to and --price-params need --by filters or neurons (they count or price units "
              "by the filters or neurons removed).")
    if args.allocation != "global":
        for flag, on in (("--progressive", args.progressive is not None), ("--price-params", args.price_params != 0),
                         ("--round-to", args.round_to is not None)):
            if on:
                error(f"argument --allocation {args.allocation}: does not go with {flag} (that option shapes the "
                      f"group-lasso price search of --allocation global; {args.allocation} allocation prunes "
                      f"by weight norms)")
    if args.progressive is not None and args.price_params != 0:
        error("arguments --progressive and --price-params: not together (the joint price is computed for the "
              "dense network's units, and each progressive step prunes an already pruned network).")
    if _extended(args) and args.plot:
        error("argument --plot: draws the dashboard of the plain one-shot run; it does not go with --quantize, "
              "--price-params, --round-to, --distill, --progressive or --allocation.")
    if args.quantize != "none" and args.out and Path(args.out).suffix != ".onnx":
        error(f"argument --out: with --quantize {args.quantize} the output is the QDQ ONNX model, so --out must "
              f"end in .onnx. Got {args.out!r}.")
    if _extended(args) and args.out and Path(args.out).suffix not in (".onnx", ".npz"):
        error(f"argument --out: must end in .onnx (ONNX model) or .npz (saved network). Got {args.out!r}.")
    return steps


def _prepare_digits(args, say):
    """Digits splits and the dense network trained as digits_pruning does; the settings of the run."""
    from .analysis import count_params, flops
    from .experiment import SETTINGS, train_early_stopping
    from .models import block_net, load_digits_splits, mlp, small_cnn

    cfg = SETTINGS[args.arch]["quick" if args.quick else "full"]
    seed = args.seed
    X_tr, X_val, X_te, y_tr, y_val, y_te = load_digits_splits(rng=seed, image=args.arch != "mlp",
                                                              n_samples=cfg["n_samples"])
    builders = {"cnn": lambda: small_cnn(cfg["channels"], rng=seed), "mlp": lambda: mlp(cfg["hidden"], rng=seed),
                "blocks": lambda: block_net(cfg["width"], rng=seed)}
    net = builders[args.arch]()
    by = args.by or ("neurons" if args.arch == "mlp" else "filters")
    if args.layers is None:
        layers = [net.nodes[0].name] if args.arch == "cnn" and by == "filters" else None
    else:
        layers = None if args.layers == ["all"] else args.layers
    if args.quantize != "none":
        _check_quantizable(net, X_tr[:2])   # before any training
    train_early_stopping(net, X_tr, y_tr, X_val, y_val, epochs=cfg["epochs"], lr=cfg["lr"], rng=seed,
                         progress=args.progress)
    say(f"dense {args.arch}: validation accuracy {net.score(X_val, y_val):.4f}, {flops(net)} FLOPs/sample, "
        f"{count_params(net)} params")
    hp = {"lam0": cfg["lam0"], "grow": 3.0, "max_trials": cfg["max_trials"], "epochs": cfg["trial_epochs"],
          "fine_tune_epochs": cfg["fine_tune"], "lr": cfg["lr"]}
    source = {"source": "digits", "arch": args.arch, "quick": bool(args.quick),
              "dense_training": {"epochs": cfg["epochs"], "lr": cfg["lr"]},
              "architecture": {k: v for k, v in cfg.items() if k in ("channels", "hidden", "width")},
              "split": "60/20/20 stratified, load_digits_splits(rng=seed)"}
    return net, (X_tr, y_tr), (X_val, y_val), (X_te, y_te), by, layers, hp, source


def _prepare_onnx(args, say):
    """The imported model, the user's data split into training and validation parts, the settings."""
    from .onnx_io import from_onnx
    from .onnx_prune import _split, check_writable, load_data

    owner = "structsparse prune"
    if not args.data:
        raise ValueError("--model needs --data (an .npz file with arrays X and y).")
    if not args.out:
        raise ValueError("--model needs --out (the pruned .onnx file to write).")
    check_writable(args.out, owner="structsparse prune --out")  # before any training
    for flag, v in (("--epochs", args.epochs), ("--max-trials", args.max_trials)):
        if v < 1:
            raise ValueError(f"{flag} must be >= 1. Got {v}.")
    if args.fine_tune_epochs < 0:
        raise ValueError(f"--fine-tune-epochs must be >= 0. Got {args.fine_tune_epochs}.")
    net = from_onnx(args.model)
    X, y = load_data(args.data, net, owner)
    by = args.by or ("filters" if len(net.original_input_shape) == 3 else "neurons")
    if by not in ("filters", "neurons"):
        raise ValueError(f"--by must be 'filters' or 'neurons' with --model. Got {by!r}.")
    layers = None if args.layers is None or args.layers == ["all"] else args.layers
    X_tr, X_val, y_tr, y_val = _split(X, y, 0.2, args.seed)
    if args.quantize != "none":
        _check_quantizable(net, X_tr[:2])
    say(f"imported {args.model}: validation accuracy {net.score(X_val, y_val):.4f}")
    hp = {"lam0": args.lam0, "grow": args.grow, "max_trials": args.max_trials, "epochs": args.epochs,
          "fine_tune_epochs": args.fine_tune_epochs, "lr": args.lr}
    source = {"source": "onnx", "model": str(args.model), "data": str(args.data), "val_fraction": 0.2,
              "split": "stratified train/validation 80/20 of --data, sklearn train_test_split(random_state=seed)"}
    return net, (X_tr, y_tr), (X_val, y_val), None, by, layers, hp, source


def _check_quantizable(net, X):
    from .quantize import quantize

    try:
        quantize(net, calibration=X)
    except ValueError as exc:
        raise ValueError(f"--quantize int8: this network cannot be quantized ({exc}).") from None


def _prune(args, dense, train, val, by, layers, hp, steps, say):
    """Prune ``dense`` as the flags say; return the pruned network, its recipe and a description."""
    from .baselines import allocate_budget, uniform_prune
    from .budget import prune_progressive, prune_to_budget
    from .experiment import train_early_stopping
    from .quantize import price_weights
    from .recipe import make_recipe

    (X_tr, y_tr), (X_val, y_val) = train, val
    kd = {} if args.distill is None else {"teacher": dense, "distill": args.distill,
                                          "temperature": 4.0 if args.temperature is None else args.temperature}
    common = dict(by=by, layers=layers, min_keep=args.min_keep, lr=hp["lr"], lam0=hp["lam0"], grow=hp["grow"],
                  max_trials=hp["max_trials"], round_to=args.round_to)
    if args.allocation == "global" and steps is not None:
        eps = hp["fine_tune_epochs"] if args.epochs_per_step is None else args.epochs_per_step
        res = prune_progressive(dense, X_tr, y_tr, budgets=steps, epochs_per_step=eps, trial_epochs=hp["epochs"],
                                X_val=X_val, y_val=y_val, rng=args.seed, verbose=True, progress=args.progress,
                                **kd, **common)
        return res.net, res.recipe, f"progressive group lasso, steps {steps}"
    if args.allocation == "global":
        weights = "flops" if args.price_params == 0 else price_weights(dense, by=by, layers=layers, flops=1.0,
                                                                         params=args.price_params)
        res = prune_to_budget(dense, X_tr, y_tr, flops=args.budget_flops, epochs=hp["epochs"],
                              fine_tune_epochs=hp["fine_tune_epochs"], X_val=X_val, y_val=y_val, rng=args.seed,
                              verbose=True, progress=args.progress, weights=weights, **kd, **common)
        return res.net, res.recipe, "one-shot group lasso"
    if args.allocation == "uniform":
        pruned = uniform_prune(dense, args.budget_flops, by=by, layers=layers, criterion="l1",
                               min_keep=args.min_keep)
    else:
        pruned = allocate_budget(dense, X_val, y_val, args.budget_flops, by=by, layers=layers,
                                 min_keep=args.min_keep)
    say(f"{args.allocation} allocation: kept {pruned.pruning['kept']}; fine-tuning")
    hist = None
    if hp["fine_tune_epochs"]:
        hist = train_early_stopping(pruned, X_tr, y_tr, X_val, y_val, epochs=hp["fine_tune_epochs"], lr=hp["lr"],
                                    rng=args.seed, progress=args.progress, **kd)
    hyper = {"function": "uniform_prune" if args.allocation == "uniform" else "allocate_budget",
             "flops": args.budget_flops, "by": by, "layers": layers, "min_keep": args.min_keep,
             "criterion": "l1" if args.allocation == "uniform" else "sensitivity on the validation split",
             "fine_tune_epochs": hp["fine_tune_epochs"], "lr": hp["lr"], "rng": args.seed,
             "best_epoch": None if hist is None else hist.best_epoch}
    if args.allocation == "sensitivity":
        hyper["allocation"] = pruned.pruning.get("allocation")
    recipe = make_recipe(dense, pruned, data={"train": (X_tr, y_tr), "validation": (X_val, y_val)},
                         hyperparameters=hyper, metrics={"val_acc": float(pruned.score(X_val, y_val))})
    return pruned, recipe, f"{args.allocation} allocation (L1 norms), fine-tuned"


def _encode_array(a):
    a = np.ascontiguousarray(a.astype(a.dtype.newbyteorder("<")))
    return {"shape": list(a.shape), "dtype": a.dtype.str, "data": base64.b64encode(a.tobytes()).decode("ascii")}


def _decode_array(entry, key):
    from .recipe import RecipeError

    try:
        raw = base64.b64decode(entry["data"], validate=True)
        a = np.frombuffer(raw, dtype=np.dtype(entry["dtype"])).reshape(entry["shape"])
    except (KeyError, TypeError, ValueError) as exc:
        raise RecipeError(f"apply-recipe: the recipe's quantization array {key!r} is malformed ({exc}).") from None
    return a.astype(a.dtype.newbyteorder("="))


def _quantization_record(q, calibration, percentile):
    """The recipe's record of an int8 quantization: settings, calibration fingerprint and every integer array."""
    from .recipe import data_fingerprint

    arrays, h = {}, hashlib.sha256()
    for name in sorted(q.weight_q):
        for key, store in (("weight_q", q.weight_q), ("weight_scale", q.weight_scale), ("bias_q", q.bias_q),
                           ("bias_scale", q.bias_scale)):
            enc = _encode_array(np.asarray(store[name]))
            h.update(enc["data"].encode("ascii"))
            arrays[f"{key}/{name}"] = enc
    return {"bits": q.bits, "per_channel": q.per_channel, "percentile": percentile,
            "scheme": "symmetric, zero point 0; int8 weights, int32 biases at scale s_in * s_w, calibrated "
                      "activation scales (structsparse.nn.quantize)",
            "calibration": {"part": "train", "samples": int(len(calibration)), **data_fingerprint(calibration)},
            "act_scale": {str(k): float(v) for k, v in q.act_scale.items()},
            "chain": {str(k): v for k, v in q.chain.items()},
            "arrays": arrays, "sha256": h.hexdigest()}


def rebuild_quantized(pruned, record):
    """The :class:`~structsparse.nn.QuantizedNet` of a recipe's quantization record, on its pruned network.

    The integer weights, biases and scales are the recorded ones; the recorded
    weights must be the quantization of ``pruned``'s (checked), so a record
    made for another network is refused.

    Parameters
    ----------
    pruned : Graph
        The pruned network rebuilt by :func:`~structsparse.nn.apply_recipe`.
    record : dict
        The recipe's ``"quantization"`` entry (written by ``structsparse prune --quantize``).

    Returns
    -------
    QuantizedNet
    """
    from .quantize import QuantizedNet, quantize
    from .recipe import RecipeError
    from .speed import fold_batchnorm

    arrays = record["arrays"]
    if hashlib.sha256(b"".join(arrays[k]["data"].encode("ascii") for k in
                               [f"{key}/{name}" for name in sorted({k.split('/', 1)[1] for k in arrays})
                                for key in ("weight_q", "weight_scale", "bias_q", "bias_scale")])
                      ).hexdigest() != record["sha256"]:
        raise RecipeError("apply-recipe: the recipe's quantization arrays do not hash to its recorded sha256 "
                          "(a corrupted or edited recipe).")
    bits, per_channel = int(record["bits"]), bool(record["per_channel"])
    # the integer weights depend on the weights only (not on the calibration): they must match a fresh quantization
    probe = quantize(pruned, bits=bits, per_channel=per_channel,
                     calibration=np.zeros((1,) + tuple(pruned.original_input_shape), np.float32))
    folded = fold_batchnorm(pruned).astype(np.float32)
    wq, ws, bq, bs = {}, {}, {}, {}
    for name in probe.weight_q:
        got = {key: _decode_array(arrays.get(f"{key}/{name}", {}), f"{key}/{name}")
               for key in ("weight_q", "weight_scale", "bias_q", "bias_scale")}
        if not np.array_equal(got["weight_q"], probe.weight_q[name]) or \
                not np.array_equal(got["weight_scale"], probe.weight_scale[name]):
            raise RecipeError(f"apply-recipe: the recipe's int8 weights of layer {name!r} are not the quantization "
                              f"of the rebuilt network's weights.")
        wq[name], ws[name], bq[name], bs[name] = (got["weight_q"], got["weight_scale"], got["bias_q"],
                                                  got["bias_scale"])
        layer = folded.node(name).layer
        layer.params["W"] = (wq[name].astype(np.float32) * ws[name]).astype(np.float32)
        layer.params["b"] = (bq[name].astype(np.float32) * bs[name]).astype(np.float32)
    folded.pruning = dict(getattr(pruned, "pruning", None) or {})
    return QuantizedNet(net=folded, bits=bits, per_channel=per_channel, weight_q=wq, weight_scale=ws, bias_q=bq,
                        bias_scale=bs, act_scale={k: np.float32(v) for k, v in record["act_scale"].items()},
                        chain=dict(record["chain"]))


def _softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _write_onnx(model, path, softmax, X_check):
    """Write ``model`` (Graph or QuantizedNet) as ONNX; return onnxruntime's max |diff| from nn on ``X_check``."""
    from .onnx_io import nchw, ort_session, to_onnx
    from .speed import has_onnxruntime

    to_onnx(model, path, softmax=softmax)
    if not has_onnxruntime():
        return None
    got = ort_session(str(path)).run(None, {"input": nchw(X_check)})[0]
    ref = model.forward(X_check)
    return float(np.abs(got - (_softmax(ref) if softmax else ref)).max())


def _save(recipe, path):
    from .recipe import Recipe

    return Recipe(recipe).save(path)  # a plain dict too, without the deprecated save_recipe


def run_prune_extended(args):
    """``structsparse prune`` with any of --quantize, --price-params, --round-to, --distill, --progressive,
    --allocation: the same splits and settings as the plain run, then the chosen pruning, quantization and outputs."""
    from .analysis import count_params, flops
    from .quantize import quantize, weight_bytes

    say = print
    steps = args._steps
    if args.recipe:
        _check_recipe_path(args.recipe)
    if args.dense_out and not args.recipe:
        raise ValueError("--dense-out goes with --recipe (it saves the source network the recipe is made for).")
    if args.model:
        dense, train, val, test, by, layers, hp, source = _prepare_onnx(args, say)
    else:
        dense, train, val, test, by, layers, hp, source = _prepare_digits(args, say)
    pruned, recipe, how = _prune(args, dense, train, val, by, layers, hp, steps, say)
    (X_tr, _), (X_val, _) = train, val
    q = q_dense = None
    percentile = 100.0
    if args.quantize == "int8":
        n_cal = min(len(X_tr), args.calibration_samples or 512)
        calib = X_tr[:n_cal]   # the training part only, never the validation or test split
        q = quantize(pruned, bits=8, per_channel=not args.per_tensor, calibration=calib, percentile=percentile)
        q_dense = quantize(dense, bits=8, per_channel=not args.per_tensor, calibration=calib, percentile=percentile)
        recipe["quantization"] = _quantization_record(q, calib, percentile)
    # the scores: validation for every network; the test split (digits) once, at the end
    nets = [("dense", dense), ("pruned", pruned)] + ([("dense int8", q_dense), ("pruned + int8", q)] if q else [])
    parts = [("validation", val)] + ([("test", test)] if test is not None else [])
    scores = {name: {part: float(m.score(*data)) for part, data in parts} for name, m in nets}
    print(f"\n{how}, budget {args.budget_flops:g} of the dense FLOPs:")
    print("kept units per layer:")
    for layer, (k, total) in pruned.pruning["kept"].items():
        print(f"  {layer:<24} {k:>4} / {total:<4}")
    fd, fp = flops(dense), flops(pruned)
    print(f"FLOPs/sample: dense {fd}, pruned {fp} ({fp / fd:.3f} of dense, {fd / fp:.2f}x fewer)")
    print(f"parameters: dense {count_params(dense)}, pruned {count_params(pruned)}")
    head = "  ".join(f"{p:>10}" for p, _ in parts)
    print(f"accuracy ({' and '.join(p for p, _ in parts)}; "
          f"{'the test split scored once, at the end' if test is not None else 'the validation part chose the model, so it is not a test score'}):")
    print(f"  {'':<14}{head}{'weight bytes':>16}")
    bytes_ = {name: weight_bytes(m) for name, m in nets}
    for name, _ in nets:
        row = "  ".join(f"{scores[name][p]:>10.4f}" for p, _ in parts)
        print(f"  {name:<14}{row}{bytes_[name]:>16}  ({bytes_['dense'] / bytes_[name]:.1f}x fewer than dense)")
    metrics = {"flops": int(fp), "dense_flops": int(fd), "weight_bytes": bytes_,
               "accuracy": scores, "how": how}
    if q is not None:
        drop = scores["pruned"][parts[-1][0]] - scores["pruned + int8"][parts[-1][0]]
        print(f"int8 costs {100 * drop:.2f} points of {parts[-1][0]} accuracy against the pruned float network; "
              f"calibration on {recipe['quantization']['calibration']['samples']} training samples, "
              f"{'per-tensor' if args.per_tensor else 'per-channel'} weight scales")
    softmax = getattr(dense, "output_activation", None) == "softmax"
    if args.out:
        out = Path(args.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        if out.suffix == ".onnx":
            pruned.output_activation = "softmax" if softmax else None
            model = q if q is not None else pruned
            diff = _write_onnx(model, out, softmax, X_val[:256])
            metrics["max_abs_diff_onnxruntime"] = diff
            what = "QDQ int8 model" if q is not None else "pruned model"
            print(f"{what} written to {out} ({out.stat().st_size} bytes)")
            if diff is not None:
                print(f"onnxruntime on {out} vs structsparse.nn ({'quantized ' if q is not None else ''}forward): "
                      f"max |diff| {diff:.2e}")
        else:
            path = pruned.save(out, metrics=metrics)
            print(f"pruned network written to {path}")
    hyper = recipe["hyperparameters"]
    hyper.update(source)
    hyper.update({"command": "structsparse prune", "seed": args.seed, "budget_flops": args.budget_flops,
                  "allocation": args.allocation, "price_params": args.price_params, "round_to": args.round_to,
                  "distill": args.distill, "temperature": None if args.distill is None else
                  (4.0 if args.temperature is None else args.temperature),
                  "progressive": steps, "epochs_per_step": None if steps is None else
                  (hp["fine_tune_epochs"] if args.epochs_per_step is None else args.epochs_per_step),
                  "quantize": args.quantize, "per_channel": None if q is None else not args.per_tensor,
                  "calibration_samples": None if q is None else recipe["quantization"]["calibration"]["samples"],
                  "by": by, "layers": layers, "min_keep": args.min_keep, "settings": hp})
    recipe["metrics"].update(metrics)
    if test is not None:
        from .recipe import data_fingerprint

        recipe["data"]["test"] = data_fingerprint(*test)
    if args.recipe:
        print(f"recipe written to {_save(recipe, args.recipe)}")
        if args.dense_out:
            path = dense.save(args.dense_out)
            print(f"dense source network written to {path} (apply the recipe to it with "
                  f"`structsparse apply-recipe {args.recipe} --model {path} --out pruned.onnx`)")
    return 0


def register(subparsers):
    p = subparsers.add_parser("prune", help="prune a network on digits to a FLOPs budget and measure it",
                              description=__doc__.splitlines()[0])
    p.add_argument("--model", default=None, help="an ONNX model to prune (with --data and --out)")
    p.add_argument("--data", default=None, help="with --model: .npz with X (the model's input layout) and y (labels)")
    p.add_argument("--epochs", type=int, default=4, help="with --model: epochs of each penalized trial "
                   "(default: %(default)s)")
    p.add_argument("--fine-tune-epochs", type=int, default=4, help="with --model: fine-tuning epochs "
                   "(default: %(default)s)")
    p.add_argument("--lr", type=float, default=0.01, help="with --model: learning rate (default: %(default)s)")
    p.add_argument("--lam0", type=float, default=0.05, help="with --model: first penalty price (default: %(default)s)")
    p.add_argument("--grow", type=float, default=2.0, help="with --model: price growth factor (default: %(default)s)")
    p.add_argument("--max-trials", type=int, default=10, help="with --model: price trials (default: %(default)s)")
    p.add_argument("--dataset", choices=["digits"], default="digits", help="data set (default: %(default)s)")
    p.add_argument("--arch", choices=["cnn", "mlp", "blocks"], default="cnn",
                   help="architecture: small CNN, MLP, or the Inception/SE/DenseNet graph (default: %(default)s)")
    p.add_argument("--budget-flops", type=float, default=None,
                   help="FLOPs budget: fraction of dense if <= 1, else FLOPs per sample (default: 0.25, or the "
                        "last step of --progressive)")
    p.add_argument("--by", choices=["neurons", "filters", "channels"], default=None,
                   help="kind of groups (default: filters, neurons for the MLP)")
    p.add_argument("--layers", nargs="+", default=None, metavar="NODE",
                   help="penalize only these layers ('all' for every layer; default for the CNN: its first "
                        "conv layer, whose filters are the second layer's input channels)")
    p.add_argument("--min-keep", type=int, default=1, help="units every layer keeps (default: %(default)s)")
    p.add_argument("--out", default=None, help="write the pruned network here (.npz + .json; .onnx with --model)")
    p.add_argument("--plot", default=None, help="write the dashboard PNG (a .png path or a folder)")
    p.add_argument("--profile-runs", type=int, default=50, help="with --plot: timed runs per model for the "
                   "latency-distribution panel (default: %(default)s)")
    p.add_argument("--quick", action="store_true", help="small network, few epochs, subset of the data (for tests)")
    p.add_argument("--seed", "--rng", dest="seed", type=int, default=0,
                   help="random seed, passed on as rng (default: %(default)s)")
    p.add_argument("--progress", action="store_true", help="show progress bars")
    p.add_argument("--recipe", default=None, help="write the versioned recipe of the run here (.json): versions, "
                   "source hash, data fingerprints, settings, kept indices, weights, metrics")
    p.add_argument("--dense-out", default=None, help="with --recipe, without --model: also save the dense source "
                   "network (.npz) that the recipe applies to")
    g = p.add_argument_group("pruning method, distillation and quantization (both sources)")
    g.add_argument("--allocation", choices=["global", "uniform", "sensitivity"], default="global",
                   help="how the FLOPs budget is spread over the layers: global (the group-lasso price search), "
                        "uniform (the same fraction of every layer, weakest L1 norms first) or sensitivity "
                        "(nn.allocate_budget: layers that lose the least validation accuracy per FLOP removed "
                        "go first); uniform and sensitivity are then fine-tuned (default: %(default)s)")
    g.add_argument("--price-params", type=float, default=0.0, metavar="P",
                   help="joint price of the group lasso: FLOPs + P x parameters removed (nn.price_weights(net, "
                        "flops=1, params=P)); 0 prices FLOPs only (default: %(default)s)")
    g.add_argument("--round-to", type=int, default=None, metavar="N",
                   help="keep a multiple of N units in every pruned layer (nn.round_prune, "
                        "prune_to_budget(round_to=N)), the budget still met")
    g.add_argument("--distill", type=float, default=None, metavar="ALPHA",
                   help="fine-tune with knowledge distillation from the dense network, weight ALPHA in [0, 1] "
                        "(nn.train(teacher=dense, distill=ALPHA))")
    g.add_argument("--temperature", type=float, default=None, metavar="T",
                   help="with --distill: temperature of the distillation (default: 4)")
    g.add_argument("--progressive", default=None, metavar="B1,B2,...",
                   help="prune in steps down these decreasing FLOPs fractions, fine-tuning after each "
                        "(nn.prune_progressive); the last one is the final budget")
    g.add_argument("--epochs-per-step", type=int, default=None, metavar="E",
                   help="with --progressive: fine-tuning epochs after each step (default: the fine-tuning "
                        "epochs of the run)")
    g.add_argument("--quantize", choices=["none", "int8"], default="none",
                   help="quantize the pruned network (nn.quantize: symmetric int8 weights, activation scales "
                        "calibrated on the training part only); with --out x.onnx writes the QDQ model "
                        "(default: %(default)s)")
    g.add_argument("--per-tensor", action="store_true",
                   help="with --quantize int8: one weight scale per layer (default: one per output channel)")
    g.add_argument("--calibration-samples", type=int, default=None, metavar="N",
                   help="with --quantize int8: training samples that calibrate the activation scales "
                        "(default: 512, or the whole training part when smaller)")
    p.set_defaults(func=run_prune, _prune_parser=p)

    a = subparsers.add_parser("apply-recipe", help="reproduce a recorded pruning on its source network",
                              description="Reproduce a recorded pruning (prune --recipe) on its "
                              "source network without retraining.")
    a.add_argument("recipe", help="the recipe (.json) written by `structsparse prune --recipe`")
    a.add_argument("--model", required=True, help="the source: a saved network (.npz) or an ONNX model (.onnx); "
                   "its hash must match the recipe's")
    a.add_argument("--out", required=True, help="where to write the pruned network (same suffix as --model)")
    a.set_defaults(func=run_apply_recipe)
