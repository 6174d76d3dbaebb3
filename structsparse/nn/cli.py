"""``structsparse prune``: prune a network to a FLOPs budget, fine-tune and measure it.

``structsparse apply-recipe``: reproduce a recorded pruning (``prune --recipe``)
on the saved dense network or ONNX model it was made for, without retraining.

Two sources: ``--model net.onnx --data data.npz`` prunes the user's ONNX model
on the user's data and writes a smaller ONNX model (``--out pruned.onnx``);
without ``--model`` a network is trained on digits first (``--arch``).
"""

from pathlib import Path

__all__ = ["register", "run_prune", "run_apply_recipe"]


def _report(out):
    res, speed = out.result, out.speed
    kept = out.pruned.pruning["kept"]
    print("\nkept units per layer:")
    for layer, (k, total) in kept.items():
        print(f"  {layer:<16} {k:>4} / {total:<4}")
    print(f"FLOPs/sample: dense {res.dense_flops}, pruned {res.flops} "
          f"({res.dense_flops / res.flops:.2f}x fewer; budget {res.budget:.0f})")
    print(f"test accuracy: dense {out.dense_acc:.4f}, pruned + fine-tuned {out.pruned_acc:.4f}")
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
    if out.suffix != model.suffix:
        raise ValueError(f"--out must have the suffix of --model ({model.suffix}). Got {str(out)!r}.")
    check_writable(out, suffix=out.suffix, owner="structsparse apply-recipe --out")
    recipe = Recipe.load(args.recipe)
    if onnx_in:
        from .onnx_io import from_onnx, to_onnx

        net = from_onnx(model)
    else:
        net = Graph.load(model)
    pruned = apply_recipe(net, args.recipe)
    if onnx_in:
        softmax = getattr(net, "output_activation", None) == "softmax"
        pruned.output_activation = "softmax" if softmax else None
        to_onnx(pruned, out, softmax=softmax)
    else:
        out = pruned.save(out, metrics=recipe.get("metrics"))
    kept = recipe["pruning"]["kept"]
    print("kept units per layer:")
    for layer, (k, total) in kept.items():
        print(f"  {layer:<24} {k:>4} / {total:<4}")
    res = recipe["result"]
    print(f"FLOPs/sample: {recipe['source']['flops']} -> {res['flops']}; parameters {recipe['source']['params']} "
          f"-> {res['params']}; weights {'from the recipe (no retraining)' if recipe['weights'] else 'of the source, cut (the recipe records masks only)'}")
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


def run_prune(args):
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
    p.add_argument("--budget-flops", type=float, default=0.25,
                   help="FLOPs budget: fraction of dense if <= 1, else FLOPs per sample (default: %(default)s)")
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
    p.add_argument("--seed", type=int, default=0, help="random seed (default: %(default)s)")
    p.add_argument("--progress", action="store_true", help="show progress bars")
    p.add_argument("--recipe", default=None, help="write the versioned recipe of the run here (.json): versions, "
                   "source hash, data fingerprints, settings, kept indices, weights, metrics")
    p.add_argument("--dense-out", default=None, help="with --recipe, without --model: also save the dense source "
                   "network (.npz) that the recipe applies to")
    p.set_defaults(func=run_prune)

    a = subparsers.add_parser("apply-recipe", help="reproduce a recorded pruning on its source network",
                              description="Reproduce a recorded pruning (prune --recipe) on its "
                              "source network without retraining.")
    a.add_argument("recipe", help="the recipe (.json) written by `structsparse prune --recipe`")
    a.add_argument("--model", required=True, help="the source: a saved network (.npz) or an ONNX model (.onnx); "
                   "its hash must match the recipe's")
    a.add_argument("--out", required=True, help="where to write the pruned network (same suffix as --model)")
    a.set_defaults(func=run_apply_recipe)
