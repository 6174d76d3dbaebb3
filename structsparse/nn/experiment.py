"""The digits experiments behind the CLI, the demo, the README figures and the slow tests."""

import time
from dataclasses import dataclass, field, replace

import numpy as np

from .._validation import accepted_options, check_choice, check_options, check_scalar, renamed_kwarg
from ..exceptions import ParameterError
from ._results import DictAccessMixin, seed_from
from .analysis import count_params, flops, memory
from .budget import prune_to_budget
from .groups import NetworkPenalty, groups
from .recipe import data_fingerprint
from .models import block_net, load_digits_split, load_digits_splits, mlp, small_cnn
from .speed import speedup
from .surgery import prune
from .training import lam_warmup, train

__all__ = ["digits_pruning", "pixel_selection", "train_early_stopping", "DigitsPruningResult",
           "PixelSelectionResult", "SETTINGS"]


@dataclass(frozen=True, eq=False, repr=False)
class DigitsPruningResult(DictAccessMixin):
    """The outcome of :func:`digits_pruning`.

    Attributes
    ----------
    dense, pruned : Graph
        The trained dense network and the pruned, fine-tuned one.
    dense_acc, pruned_acc : float
        Test accuracy (the test split scored once, at the end).
    val_acc, dense_val_acc : float
        Validation accuracy of the pruned and the dense network.
    result : PruneResult
        From :func:`~structsparse.nn.prune_to_budget`, with ``final_acc`` (the pruned test accuracy).
    speed : SpeedupResult
        From :func:`~structsparse.nn.speedup`.
    dense_memory, pruned_memory : dict
        From :func:`~structsparse.nn.memory`.
    times : dict
        Seconds of the dense training and of the pruning.
    arch, by : str
        Architecture and kind of groups.
    X_test, y_test : ndarray
        The test split.
    recipe : dict
        The versioned recipe: hyperparameters (with the seed), data fingerprints of the three parts, kept
        indices, weights, test metrics.
    rng : int
        The seed the run used (drawn from fresh entropy when ``rng=None``), so that it can be repeated.
    """

    dense: object
    pruned: object
    dense_acc: float
    pruned_acc: float
    result: object
    speed: object
    dense_memory: dict
    pruned_memory: dict
    times: dict
    arch: str
    by: str
    X_test: np.ndarray = field(repr=False)
    y_test: np.ndarray = field(repr=False)
    val_acc: float = float("nan")
    dense_val_acc: float = float("nan")
    recipe: dict = field(default_factory=dict)
    rng: int = 0

    def __repr__(self):
        return (f"DigitsPruningResult(arch={self.arch!r}, by={self.by!r}, accuracy {self.dense_acc:.4f} -> "
                f"{self.pruned_acc:.4f}, flops {self.result.flops_fraction:.3f} of dense, "
                f"efficiency={self.speed.efficiency:.2f}, rng={self.rng})")

    def plot(self, fig=None, profiles=None):
        """The pruning dashboard of this run (:func:`structsparse.nn.plots.pruning_dashboard`).

        Parameters
        ----------
        fig : matplotlib Figure, optional
            Where to draw; a new figure when None.
        profiles : dict, optional
            ``{model name: ProfileResult}`` for the latency-distribution panel.

        Returns
        -------
        matplotlib.figure.Figure
        """
        from .plots import pruning_dashboard

        return pruning_dashboard(self.result, self.speed, self.dense_memory, self.pruned_memory,
                                 title=f"digits, {self.arch}", profiles=profiles, dense_acc=self.dense_val_acc,
                                 fig=fig)


@dataclass(frozen=True, eq=False, repr=False)
class PixelSelectionResult(DictAccessMixin):
    """The outcome of :func:`pixel_selection`.

    Attributes
    ----------
    kept_pixels : ndarray of int
        Indices into the 64 pixels that survived.
    accuracy : float
        Test accuracy after surgery and fine-tuning.
    dense_accuracy : float
        Test accuracy of the dense MLP.
    net : Graph
        The pruned MLP (it reads ``kept_pixels`` only).
    example : ndarray
        One test image (64 values), for the figure.
    rng : int
        The seed the run used.
    """

    kept_pixels: np.ndarray
    accuracy: float
    dense_accuracy: float
    net: object
    example: np.ndarray = field(repr=False)
    rng: int = 0

    def __repr__(self):
        return (f"PixelSelectionResult(kept {len(self.kept_pixels)} of 64 pixels, accuracy {self.dense_accuracy:.4f} "
                f"-> {self.accuracy:.4f}, rng={self.rng})")

    def plot(self, fig=None):
        """The kept-pixel figure (:func:`structsparse.nn.plots.pixel_mask_figure`).

        Parameters
        ----------
        fig : matplotlib Figure, optional
            Where to draw; a new figure when None.

        Returns
        -------
        matplotlib.figure.Figure
        """
        from .plots import pixel_mask_figure

        return pixel_mask_figure(self.kept_pixels, accuracy=self.accuracy, example=self.example, fig=fig)

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


@renamed_kwarg("seed", "rng")
def digits_pruning(arch="cnn", budget=0.25, quick=False, rng=None, min_keep=1, by=None, progress=False,
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

    Parameters
    ----------
    arch : {"cnn", "mlp", "blocks"}, default "cnn"
        The architecture (:func:`~structsparse.nn.small_cnn`, :func:`~structsparse.nn.mlp`,
        :func:`~structsparse.nn.block_net`).
    budget : float, default 0.25
        FLOPs budget, a fraction of the dense FLOPs (or FLOPs per sample when > 1).
    quick : bool or "medium", default False
        Settings (see ``SETTINGS``).
    rng : None, int or Generator, default None
        One seed drives the split, the initial weights, every training run
        and the timing batch: an int repeats the run; None (or a Generator)
        draws that seed, which the result (``rng``) and the recipe record.
        (``seed=`` is its deprecated old name, one release.)
    min_keep : int, default 1
        Units every layer keeps.
    by : str, optional
        Kind of groups (default: neurons for the MLP, filters otherwise).
    progress : bool, default False
        Progress bars.
    verbose : bool, default True
        Print each stage.
    speed_repeats : int, default 7
        Timed rounds of :func:`~structsparse.nn.speedup`.
    layers : "default", None or list of str
        Layers penalized (see above).

    Returns
    -------
    DigitsPruningResult
        ``dense``, ``pruned`` (networks), ``dense_acc``, ``pruned_acc``,
        ``result`` (the :class:`~structsparse.nn.PruneResult`, with ``final_acc``), ``speed``
        (the :class:`~structsparse.nn.SpeedupResult`), ``dense_memory``, ``pruned_memory``, ``times``,
        ``recipe`` (the versioned recipe: hyperparameters, data fingerprints of the three parts, kept
        indices, weights, test metrics), ``rng`` (the seed used).
    """
    seed = seed_from(rng)
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
    pruned = res.net
    # the test part, once, at the end
    dense_acc = net.score(X_te, y_te)
    pruned_acc = pruned.score(X_te, y_te)
    res = replace(res, final_acc=pruned_acc)
    speed = speedup(net, pruned, batch=cfg["batch"], repeats=speed_repeats, rng=seed)
    pruned.pruning["metrics"] = {"dense_acc": dense_acc, "pruned_acc": pruned_acc,
                                 "flops_ratio": res.dense_flops / res.flops,
                                 "efficiency": speed.efficiency, "csr_efficiency": speed.csr_efficiency}
    recipe = res.recipe
    recipe["hyperparameters"].update({
        "experiment": "digits_pruning", "arch": arch, "quick": quick if isinstance(quick, str) else bool(quick),
        "seed": seed, "rng": seed, "setting": quick if quick == "medium" else None,
        "dense_training": {k: cfg[k] for k in ("epochs", "lr")},
        "architecture": {k: v for k, v in cfg.items() if k in ("channels", "hidden", "width")},
        "split": "60/20/20 stratified, load_digits_splits(rng=rng)"})
    recipe["data"]["test"] = data_fingerprint(X_te, y_te)
    recipe["metrics"].update({"dense_test_acc": float(dense_acc), "pruned_test_acc": float(pruned_acc),
                              "efficiency": speed.efficiency, "realized": speed.realized})
    return DigitsPruningResult(dense=net, pruned=pruned, dense_acc=dense_acc, pruned_acc=pruned_acc, result=res,
                               speed=speed, dense_memory=memory(net), pruned_memory=memory(pruned),
                               times={"dense_training": t_dense, "pruning": t_prune}, arch=arch, by=by,
                               X_test=X_te, y_test=y_te, val_acc=pruned.score(X_val, y_val),
                               dense_val_acc=net.score(X_val, y_val), recipe=recipe, rng=seed)


@renamed_kwarg("seed", "rng")
def train_early_stopping(net, X, y, X_val, y_val, epochs, lr, batch_size=64, rng=None, progress=False, **kwargs):
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
    rng : None, int or Generator, default None
        Source of the shuffling (None: fresh entropy; an int: reproducible).
        (``seed=`` is its deprecated old name, one release.)
    progress : bool, default False
        Show a progress bar.
    **kwargs
        Passed to :func:`~structsparse.nn.train` (``penalty``, ``schedule``, ``optimizer``...); an unknown key
        raises ParameterError naming it.

    Returns
    -------
    TrainHistory
        The training history, with ``best_epoch`` (-1: the weights before training were best).
    """
    from .budget import _restore, _snapshot

    check_options("train_early_stopping", kwargs, accepted_options(train, exclude=(
        "net", "X", "y", "X_val", "y_val", "epochs", "lr", "batch_size", "rng", "progress", "callback")),
        target="train")

    snap = {"acc": net.score(X_val, y_val), "epoch": -1, "params": _snapshot(net)}

    def keep_best(epoch, x, info):
        if info["val_acc"] > snap["acc"]:
            snap.update(acc=info["val_acc"], epoch=epoch, params=_snapshot(x))
        return False

    hist = train(net, X, y, epochs=epochs, lr=lr, batch_size=batch_size, rng=rng, progress=progress, X_val=X_val,
                 y_val=y_val, callback=keep_best, **kwargs)
    _restore(net, snap["params"])
    return replace(hist, best_epoch=snap["epoch"])


@renamed_kwarg("seed", "rng")
def pixel_selection(lam=0.1, hidden=64, epochs=25, fine_tune=10, lr=0.05, rng=None, n_samples=None,
                    progress=False):
    """An MLP with a group lasso on its input features (one group per pixel): which pixels survive.

    Parameters
    ----------
    lam : float, default 0.1
        Price of the group lasso on the input pixels.
    hidden : int, default 64
        Hidden units of the MLP.
    epochs : int, default 25
        Epochs of the dense and of the penalized training.
    fine_tune : int, default 10
        Fine-tuning epochs after surgery.
    lr : float, default 0.05
        Learning rate (half of it for the fine-tuning).
    rng : None, int or Generator, default None
        One seed drives the split, the initial weights and the training (an
        int repeats the run; None draws it, and the result records it).
        (``seed=`` is its deprecated old name, one release.)
    n_samples : int, optional
        Use a stratified subset of the digits.
    progress : bool, default False
        Progress bars.

    Returns
    -------
    PixelSelectionResult
        ``kept_pixels`` (indices into the 64 pixels), ``accuracy`` (test,
        after surgery and fine-tuning), ``dense_accuracy``, ``net`` (pruned),
        ``example``, ``rng``; ``.plot()`` draws the kept pixels.
    """
    seed = seed_from(rng)
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
    return PixelSelectionResult(kept_pixels=np.asarray(kept), accuracy=pruned.score(X_te, y_te),
                                dense_accuracy=dense_acc, net=pruned, example=X_te[0], rng=seed)
