"""The digits experiments behind the CLI, the demo, the README figures and the slow tests."""

import time

import numpy as np

from .._validation import check_choice, check_scalar
from ..exceptions import ParameterError
from .analysis import count_params, flops, memory
from .budget import prune_to_budget
from .groups import NetworkPenalty, groups
from .recipe import data_fingerprint
from .models import block_net, load_digits_split, load_digits_splits, mlp, small_cnn
from .speed import speedup
from .surgery import prune
from .training import lam_warmup, train

__all__ = ["digits_pruning", "pixel_selection", "train_early_stopping", "SETTINGS"]

# full-size and quick settings (quick: for tests and the demo)
SETTINGS = {
    "cnn": {"full": dict(channels=(32, 64), epochs=15, lr=0.05, trial_epochs=8, fine_tune=10, max_trials=10,
                         lam0=0.05, n_samples=None, batch=1024),
            "quick": dict(channels=(8, 16), epochs=4, lr=0.05, trial_epochs=3, fine_tune=3, max_trials=6,
                          lam0=0.2, n_samples=600, batch=256),
            # all the data, a narrower network and shorter runs: for multi-seed benchmarks on a loaded machine
            "medium": dict(channels=(16, 32), epochs=10, lr=0.05, trial_epochs=4, fine_tune=6, max_trials=6,
                           lam0=0.05, n_samples=None, batch=512)},
    "mlp": {"full": dict(hidden=(128,), epochs=30, lr=0.05, trial_epochs=10, fine_tune=10, max_trials=8,
                         lam0=0.05, n_samples=None, batch=1024),
            "quick": dict(hidden=(32,), epochs=8, lr=0.05, trial_epochs=4, fine_tune=3, max_trials=6,
                          lam0=0.2, n_samples=600, batch=256)},
    "blocks": {"full": dict(width=16, epochs=12, lr=0.05, trial_epochs=6, fine_tune=6, max_trials=6,
                            lam0=0.05, n_samples=None, batch=512),
               "quick": dict(width=8, epochs=2, lr=0.05, trial_epochs=2, fine_tune=1, max_trials=3,
                             lam0=0.2, n_samples=400, batch=128)},
}


def digits_pruning(arch="cnn", budget=0.25, quick=False, seed=0, min_keep=1, by=None, progress=False,
                   verbose=True, speed_repeats=7, layers="default"):
    """Train a dense network on digits, prune it to a FLOPs budget, fine-tune, and measure it.

    ``quick``: False (full settings), True (small network and data, for tests) or
    ``"medium"`` (all the data, a narrower CNN and shorter runs; see ``SETTINGS``).

    The data are split 60/20/20 into train, validation and test parts. The
    dense training and the fine-tuning stop early on the validation part
    (the best validation epoch is kept), the budget search ranks its trials
    on it too; the test part is scored once, at the end, for the dense and
    the pruned network.

    For the CNN the group lasso goes by default on the first layer's filters,
    which are the second layer's input channels: removing them shrinks the
    im2col patches of the expensive second convolution as well as its
    product, which is what turns FLOPs into time (removing the second
    layer's own filters leaves its patch matrix as large as before).
    ``layers=None`` penalizes every layer.

    Returns
    -------
    dict
        ``dense``, ``pruned`` (networks), ``dense_acc``, ``pruned_acc``,
        ``result`` (from prune_to_budget, with ``final_acc``), ``speed``
        (from speedup), ``dense_memory``, ``pruned_memory``, ``times``, ``recipe`` (the versioned
        recipe: hyperparameters, data fingerprints of the three parts, kept indices, weights, test metrics).
    """
    check_choice(arch, "arch", tuple(SETTINGS), owner="digits_pruning")
    budget = check_scalar(budget, "budget", low=0, low_inclusive=False, owner="digits_pruning")
    if quick in ("medium",):
        if "medium" not in SETTINGS[arch]:
            raise ParameterError(f"digits_pruning: no 'medium' setting for arch={arch!r}.")
        cfg = SETTINGS[arch]["medium"]
    else:
        cfg = SETTINGS[arch]["quick" if quick else "full"]
    say = print if verbose else (lambda *a, **k: None)
    image = arch != "mlp"
    X_tr, X_val, X_te, y_tr, y_val, y_te = load_digits_splits(rng=seed, image=image, n_samples=cfg["n_samples"])
    if arch == "cnn":
        net = small_cnn(cfg["channels"], rng=seed)
    elif arch == "mlp":
        net = mlp(cfg["hidden"], rng=seed)
    else:
        net = block_net(cfg["width"], rng=seed)
    by = by or ("neurons" if arch == "mlp" else "filters")
    if layers == "default":
        layers = [net.nodes[0].name] if arch == "cnn" and by == "filters" else None
    t0 = time.perf_counter()
    train_early_stopping(net, X_tr, y_tr, X_val, y_val, epochs=cfg["epochs"], lr=cfg["lr"], rng=seed,
                         progress=progress)
    t_dense = time.perf_counter() - t0
    say(f"dense {arch}: validation accuracy {net.score(X_val, y_val):.4f}, {flops(net)} FLOPs/sample, "
        f"{count_params(net)} params ({t_dense:.1f} s)")
    t0 = time.perf_counter()
    res = prune_to_budget(net, X_tr, y_tr, flops=budget, by=by, lam0=cfg["lam0"], epochs=cfg["trial_epochs"],
                          fine_tune_epochs=cfg["fine_tune"], lr=cfg["lr"], max_trials=cfg["max_trials"],
                          min_keep=min_keep, X_val=X_val, y_val=y_val, rng=seed, progress=progress,
                          verbose=verbose, layers=layers)
    t_prune = time.perf_counter() - t0
    pruned = res["net"]
    # the test part, once, at the end
    dense_acc = net.score(X_te, y_te)
    pruned_acc = pruned.score(X_te, y_te)
    res["final_acc"] = pruned_acc
    speed = speedup(net, pruned, batch=cfg["batch"], repeats=speed_repeats, rng=seed)
    out = {"dense": net, "pruned": pruned, "dense_acc": dense_acc, "pruned_acc": pruned_acc, "result": res,
           "speed": speed, "dense_memory": memory(net), "pruned_memory": memory(pruned),
           "times": {"dense_training": t_dense, "pruning": t_prune}, "arch": arch, "by": by,
           "X_test": X_te, "y_test": y_te, "val_acc": pruned.score(X_val, y_val),
           "dense_val_acc": net.score(X_val, y_val)}
    pruned.pruning["metrics"] = {"dense_acc": dense_acc, "pruned_acc": pruned_acc,
                                 "flops_ratio": res["dense_flops"] / res["flops"],
                                 "efficiency": speed["efficiency"], "csr_efficiency": speed["csr_efficiency"]}
    recipe = res["recipe"]
    recipe["hyperparameters"].update({"experiment": "digits_pruning", "arch": arch, "quick": quick if isinstance(quick, str) else bool(quick),
                                      "seed": seed, "setting": quick if quick == "medium" else None, "dense_training": {k: cfg[k] for k in ("epochs", "lr")},
                                      "architecture": {k: v for k, v in cfg.items() if k in ("channels", "hidden",
                                                                                             "width")},
                                      "split": "60/20/20 stratified, load_digits_splits(rng=seed)"})
    recipe["data"]["test"] = data_fingerprint(X_te, y_te)
    recipe["metrics"].update({"dense_test_acc": float(dense_acc), "pruned_test_acc": float(pruned_acc),
                              "efficiency": speed["efficiency"], "realized": speed["realized"]})
    out["recipe"] = recipe
    return out


def train_early_stopping(net, X, y, X_val, y_val, epochs, lr, batch_size=64, rng=0, progress=False, **kwargs):
    """Train ``net`` in place and keep the weights of its best validation epoch; return the history.

    Parameters
    ----------
    net : Graph
        Trained in place.
    X, y : ndarray
        Training part.
    X_val, y_val : ndarray
        Validation part (the only data that decides which epoch is kept).
    epochs : int
        Maximum number of epochs.
    lr : float
        Learning rate.
    batch_size : int, default 64
        Minibatch size.
    rng : int or Generator, default 0
        Shuffling seed.
    progress : bool, default False
        Show a progress bar.
    **kwargs
        Passed to :func:`~structsparse.nn.train` (``penalty``, ``schedule``, ``optimizer``...).

    Returns
    -------
    dict
        The training history, with ``best_epoch`` (-1: the weights before training were best).
    """
    from .budget import _restore, _snapshot

    snap = {"acc": net.score(X_val, y_val), "epoch": -1, "params": _snapshot(net)}

    def keep_best(epoch, hist):
        if hist["val_acc"][-1] > snap["acc"]:
            snap.update(acc=hist["val_acc"][-1], epoch=epoch, params=_snapshot(net))
        return False

    hist = train(net, X, y, epochs=epochs, lr=lr, batch_size=batch_size, rng=rng, progress=progress, X_val=X_val,
                 y_val=y_val, callback=keep_best, **kwargs)
    _restore(net, snap["params"])
    hist["best_epoch"] = snap["epoch"]
    return hist


def pixel_selection(lam=0.1, hidden=64, epochs=25, fine_tune=10, lr=0.05, seed=0, n_samples=None,
                    progress=False):
    """An MLP with a group lasso on its input features (one group per pixel): which pixels survive.

    Returns
    -------
    dict
        ``kept_pixels`` (indices into the 64 pixels), ``accuracy`` (test,
        after surgery and fine-tuning), ``dense_accuracy``, ``net`` (pruned).
    """
    X_tr, X_te, y_tr, y_te = load_digits_split(rng=seed, image=False, n_samples=n_samples)
    dense = mlp((hidden,), rng=seed)
    train(dense, X_tr, y_tr, epochs=epochs, lr=lr, rng=seed, progress=progress)
    dense_acc = dense.score(X_te, y_te)
    net = dense.copy()
    maps = groups(net, by="channels", layers=[net.nodes[0].name])
    pen = NetworkPenalty(maps, lam=lam)
    steps = epochs * int(np.ceil(len(y_tr) / 64))
    train(net, X_tr, y_tr, epochs=epochs, lr=lr, penalty=pen, schedule=lam_warmup(lam, max(1, steps // 3)), rng=seed,
          progress=progress)
    pruned = prune(net)
    train(pruned, X_tr, y_tr, epochs=fine_tune, lr=lr / 2, rng=seed, progress=progress)
    kept = pruned.input_index if pruned.input_index is not None else np.arange(64)
    return {"kept_pixels": np.asarray(kept), "accuracy": pruned.score(X_te, y_te), "dense_accuracy": dense_acc,
            "net": pruned, "example": X_te[0]}
