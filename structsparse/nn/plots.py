"""Figures for network pruning: the pruning path, the dashboard, latency distributions, kept pixels, training.

Every function takes ``ax=`` (one panel) or ``fig=`` (several panels), returns the matplotlib Figure, never
switches the backend and never closes what it returns (a function that also writes a file, given ``path=``, leaves
the figure open: close it with ``matplotlib.pyplot.close(fig)``). Results may be given as the dataclasses of
:mod:`structsparse.nn` (:class:`~structsparse.nn.PruneResult`, :class:`~structsparse.nn.SpeedupResult`,
:class:`~structsparse.nn.MemoryReport`, :class:`~structsparse.nn.TrainHistory`) or, for one release, as the dicts
those functions used to return.
"""

import numpy as np

from .._plotting import check_ax, check_fig, figure_and_axes, new_figure, save_figure
from ..exceptions import ParameterError, ShapeError

__all__ = ["plot_pruning_path", "plot_training", "accuracy_delta", "latency_distribution", "pruning_dashboard",
           "pixel_mask_figure"]


def _has(obj, key):
    if isinstance(obj, dict):
        return key in obj
    return getattr(obj, key, None) is not None


def _get(obj, key, default=None):
    if isinstance(obj, dict):
        return obj.get(key, default)
    value = getattr(obj, key, None)
    return default if value is None else value


def _check_result(obj, name, owner, keys, source, cls_name):
    """``obj`` is the dataclass ``cls_name`` (or, for one release, the dict with ``keys``)."""
    if type(obj).__name__ == cls_name:
        return
    if not isinstance(obj, dict):
        raise TypeError(f"The '{name}' parameter of {owner} must be the {cls_name} of {source}. "
                        f"Got {type(obj).__name__}.")
    missing = [k for k in keys if k not in obj]
    if missing:
        raise ParameterError(f"The '{name}' parameter of {owner} lacks the keys {missing} (expected the "
                             f"{cls_name} of {source}).")


_PRUNE_KEYS = ("path", "lam", "budget", "dense_flops")


def plot_pruning_path(result, ax=None):
    """Validation accuracy against FLOPs over the trials of a price search, the chosen trial marked.

    Parameters
    ----------
    result : PruneResult
        From :func:`structsparse.nn.prune_to_budget` (its ``path`` of trials, ``lam`` of the chosen one,
        ``budget`` and ``dense_flops``).
    ax : matplotlib Axes, optional
        Where to draw; a new figure when None.

    Returns
    -------
    matplotlib.figure.Figure
    """
    owner = "plot_pruning_path"
    _check_result(result, "result", owner, _PRUNE_KEYS, "prune_to_budget", "PruneResult")
    fig, ax = figure_and_axes(ax, figsize=(5.5, 4), owner=owner)
    pts = sorted(_get(result, "path"), key=lambda e: (e["flops"], e["lam"]))
    d = _get(result, "dense_flops")
    fl = np.array([e["flops"] for e in pts], dtype=float) / d
    acc = np.array([e["val_acc"] for e in pts], dtype=float)
    label = "validation accuracy"
    if np.all(np.isnan(acc)):  # no validation split: the training accuracy ranked the trials
        acc = np.array([e.get("train_acc", np.nan) for e in pts], dtype=float)
        label = "training accuracy"
    ax.plot(fl, acc, "o-", color="C0", label="trials (before fine-tuning)")
    for x, yv, e in zip(fl, acc, pts):
        ax.annotate(f"{e['lam']:.2g}", (x, yv), textcoords="offset points", xytext=(3, 3), fontsize=7)
    chosen = [i for i, e in enumerate(pts) if e["lam"] == _get(result, "lam")]
    if chosen:
        i = chosen[0]
        ax.plot(fl[i], acc[i], "*", ms=16, color="C3", label=f"chosen (lam {pts[i]['lam']:.2g})", zorder=3)
    ax.axvline(_get(result, "budget") / d, color="C3", ls="--", lw=1, label="budget")
    ax.set_xlabel("FLOPs / dense FLOPs")
    ax.set_ylabel(f"{label} (before fine-tuning)")
    ax.set_title("accuracy against FLOPs over the price search (labels: lam)", fontsize=9)
    ax.legend(fontsize=7)
    return fig


def plot_training(history, ax=None):
    """Training loss (left axis) and training/validation accuracy (right axis) against the epoch.

    Parameters
    ----------
    history : TrainHistory
        From :func:`structsparse.nn.train`.
    ax : matplotlib Axes, optional
        Where to draw; a new figure when None.

    Returns
    -------
    matplotlib.figure.Figure
    """
    owner = "plot_training"
    _check_result(history, "history", owner, ("loss", "train_acc", "val_acc"), "train", "TrainHistory")
    fig, ax = figure_and_axes(ax, figsize=(5.5, 4), owner=owner)
    loss = np.asarray(_get(history, "loss"), dtype=float)
    epochs = np.arange(1, loss.size + 1)
    ax.plot(epochs, loss, "o-", color="C0", label="loss")
    ax.set_xlabel("epoch")
    ax.set_ylabel("training loss", color="C0")
    acc_ax = ax.twinx()
    acc_ax.plot(epochs, _get(history, "train_acc"), "s-", color="C1", ms=3, label="training accuracy")
    val = np.asarray(_get(history, "val_acc"), dtype=float)
    if val.size and not np.all(np.isnan(val)):
        acc_ax.plot(epochs, val, "^-", color="C2", ms=3, label="validation accuracy")
    best = _get(history, "best_epoch")
    if best is not None and best >= 0:
        acc_ax.axvline(best + 1, color="C2", ls=":", lw=1, label=f"kept epoch ({best + 1})")
    acc_ax.set_ylabel("accuracy")
    acc_ax.legend(fontsize=7, loc="lower right")
    ax.set_title(f"training, {loss.size} epochs", fontsize=9)
    return fig


def latency_distribution(profiles, batch=1, ax=None, kind="cdf"):
    """Latency distribution of several models at one batch size (empirical CDF or violins).

    Parameters
    ----------
    profiles : dict
        ``{model name: ProfileResult}`` from :func:`structsparse.nn.profile`
        (timed in the same run, so that machine load hits all alike).
    batch : int, default 1
        Batch size to show (must be in every profile).
    ax : matplotlib Axes, optional
        Where to draw; a new figure when None.
    kind : {"cdf", "violin"}, default "cdf"
        Empirical cumulative distribution (p50 and p99 marked) or violins.

    Returns
    -------
    matplotlib.figure.Figure
    """
    owner = "latency_distribution"
    if kind not in ("cdf", "violin"):
        raise ParameterError(f"The 'kind' parameter of {owner} must be 'cdf' or 'violin'. Got {kind!r}.")
    if not isinstance(profiles, dict):
        raise TypeError(f"The 'profiles' parameter of {owner} must be a dict {{name: ProfileResult}}. "
                        f"Got {type(profiles).__name__}.")
    if not profiles:
        raise ParameterError(f"The 'profiles' parameter of {owner} is empty: nothing to draw.")
    check_ax(ax, owner)
    for name, prof in profiles.items():
        if batch not in prof.times:
            raise ParameterError(f"The 'batch' parameter of {owner}: profile {name!r} has no batch {batch} "
                                 f"(it has {list(prof.times)}).")
    fig, ax = figure_and_axes(ax, figsize=(5.5, 4), owner=owner)
    names = list(profiles)
    if kind == "cdf":
        for i, name in enumerate(names):
            prof = profiles[name]
            t = np.sort(prof.times[batch]) * 1e3
            ax.step(t, np.arange(1, t.size + 1) / t.size, where="post", color=f"C{i}",
                    label=f"{name}: p50 {prof.p50[batch] * 1e3:.3g}, p99 {prof.p99[batch] * 1e3:.3g} ms")
            ax.plot([prof.p50[batch] * 1e3, prof.p99[batch] * 1e3], [0.5, 0.99], "o", color=f"C{i}", ms=4)
        ax.set_xscale("log")
        ax.set_xlabel(f"latency at batch {batch} (ms, log)")
        ax.set_ylabel("fraction of runs")
        ax.legend(fontsize=7)
    else:
        data = [profiles[n].times[batch] * 1e3 for n in names]
        ax.violinplot(data, showmedians=True)
        ax.set_xticks(np.arange(1, len(names) + 1), names, fontsize=7)
        ax.set_yscale("log")
        ax.set_ylabel(f"latency at batch {batch} (ms, log)")
    runtime = next(iter(profiles.values())).runtime
    ax.set_title(f"latency distribution, {runtime}, batch {batch} (shared machine: the tail is load)", fontsize=8)
    return fig


def accuracy_delta(result, dense_acc, ax=None):
    """Validation accuracy change against FLOPs over the pruning levels tried, sorted by FLOPs.

    Parameters
    ----------
    result : PruneResult
        From :func:`structsparse.nn.prune_to_budget` (its ``path`` of trials,
        ``lam`` of the chosen one, ``budget`` and ``dense_flops``).
    dense_acc : float
        Validation accuracy of the dense network (the reference of the deltas).
    ax : matplotlib Axes, optional
        Where to draw; a new figure when None.

    Returns
    -------
    matplotlib.figure.Figure
    """
    owner = "accuracy_delta"
    _check_result(result, "result", owner, _PRUNE_KEYS, "prune_to_budget", "PruneResult")
    try:
        dense_acc = float(dense_acc)
    except (TypeError, ValueError):
        raise TypeError(f"The 'dense_acc' parameter of {owner} must be a number. Got {dense_acc!r}.") from None
    fig, ax = figure_and_axes(ax, figsize=(5.5, 4), owner=owner)
    pts = sorted(_get(result, "path"), key=lambda e: (e["flops"], e["lam"]))
    d = _get(result, "dense_flops")
    fl = np.array([e["flops"] for e in pts], dtype=float) / d
    delta = 100 * (np.array([e["val_acc"] for e in pts], dtype=float) - dense_acc)
    ax.plot(fl, delta, "o-", color="C0", label="trials (before fine-tuning)")
    chosen = [i for i, e in enumerate(pts) if e["lam"] == _get(result, "lam")]
    if chosen:
        i = chosen[0]
        ax.plot(fl[i], delta[i], "*", ms=16, color="C3", label=f"chosen (lam {pts[i]['lam']:.2g})", zorder=3)
    ax.axvline(_get(result, "budget") / d, color="C3", ls="--", lw=1, label="budget")
    ax.axhline(0, color="k", lw=0.5)
    ax.set_xlabel("FLOPs / dense FLOPs (sorted)")
    ax.set_ylabel("validation accuracy - dense (points)")
    ax.set_title("accuracy delta across pruning levels", fontsize=9)
    ax.legend(fontsize=7)
    return fig


_SPEED_KEYS = ("batch", "efficiency", "realized", "theoretical", "csr_realized", "csr_time", "dense_time",
               "pruned_time")


def pruning_dashboard(result, speed, dense_memory, pruned_memory, path=None, title="structsparse prune",
                      profiles=None, dense_acc=None, batch=1, fig=None):
    """Panels: accuracy against FLOPs over the lam path, latency, memory, kept units per layer; with
    ``profiles`` and ``dense_acc`` also the latency distribution and the accuracy delta against FLOPs.

    Parameters
    ----------
    result : PruneResult
        From :func:`structsparse.nn.prune_to_budget` (``final_acc``, when set, is drawn as the test point).
    speed : SpeedupResult
        From :func:`structsparse.nn.speedup`.
    dense_memory, pruned_memory : MemoryReport
        From :func:`structsparse.nn.memory`.
    path : str or Path, optional
        Also write the figure here (atomically; the format from the suffix).
        The figure stays open either way.
    title : str
        Figure title.
    profiles : dict, optional
        ``{model name: ProfileResult}`` for the latency-distribution panel.
    dense_acc : float, optional
        Validation accuracy of the dense network, for the accuracy-delta panel.
    batch : int, default 1
        Batch size of the latency-distribution panel.
    fig : matplotlib Figure, optional
        Where to draw the panels; a new figure when None.

    Returns
    -------
    matplotlib.figure.Figure
    """
    owner = "pruning_dashboard"
    _check_result(result, "result", owner, ("path", "dense_flops", "budget", "flops", "net"), "prune_to_budget",
                  "PruneResult")
    _check_result(speed, "speed", owner, _SPEED_KEYS, "speedup", "SpeedupResult")
    _check_result(dense_memory, "dense_memory", owner, (), "memory", "MemoryReport")
    _check_result(pruned_memory, "pruned_memory", owner, (), "memory", "MemoryReport")
    check_fig(fig, owner)
    extra = profiles is not None or dense_acc is not None
    fig = new_figure(fig, figsize=(11, 12 if extra else 8), owner=owner)
    ax = fig.subplots(3 if extra else 2, 2)
    path_pts = sorted(_get(result, "path"), key=lambda e: e["flops"])
    dense_flops = _get(result, "dense_flops")
    fl = np.array([e["flops"] for e in path_pts], dtype=float) / dense_flops
    acc = np.array([e["val_acc"] for e in path_pts], dtype=float)
    lams = [e["lam"] for e in path_pts]
    a = ax[0, 0]
    a.plot(fl, acc, "o-", color="C0")
    for x, yv, lam in zip(fl, acc, lams):
        a.annotate(f"{lam:.2g}", (x, yv), textcoords="offset points", xytext=(3, 3), fontsize=7)
    a.axvline(_get(result, "budget") / dense_flops, color="C3", ls="--", label="budget")
    a.scatter([_get(result, "flops") / dense_flops], [_get(result, "final_acc", np.nan)], marker="*", s=150,
              color="C2", label="test, after fine-tuning", zorder=3)
    a.set_xscale("log")
    a.set_xlabel("FLOPs / dense FLOPs")
    a.set_ylabel("validation accuracy (before fine-tuning)")
    a.set_title("accuracy against FLOPs over the lam path (labels: lam)")
    a.legend(fontsize=8)

    a = ax[0, 1]
    # the runtime people deploy with first (onnxruntime when it was measured), then numpy and CSR
    names, times, colors = [], [], []
    if _has(speed, "ort_dense_time"):
        names += ["dense\nonnxruntime", "pruned\nonnxruntime"]
        times += [_get(speed, "ort_dense_time"), _get(speed, "ort_pruned_time")]
        colors += ["C7", "C2"]
    names += ["dense\nnumpy", "pruned\nnumpy", "CSR\nnumpy"]
    times += [_get(speed, "numpy_dense_time", _get(speed, "dense_time")),
              _get(speed, "numpy_pruned_time", _get(speed, "pruned_time")), _get(speed, "csr_time")]
    colors += ["#bbbbbb", "#88cc88", "C1"]
    bars = a.bar(names, np.array(times) * 1e3, color=colors)
    for b, t in zip(bars, times):
        a.text(b.get_x() + b.get_width() / 2, b.get_height(), f"{t * 1e3:.2f} ms", ha="center", va="bottom",
               fontsize=7)
    a.tick_params(axis="x", labelsize=7)
    a.set_ylabel(f"forward time, batch {_get(speed, 'batch')} (ms), 1 thread")
    runtime = _get(speed, "runtime", "numpy")
    eff = _get(speed, "efficiency")
    eff = (f"efficiency {eff:.2f}" if not _get(speed, "measurement_problem", False) else
           f"efficiency {eff:.2f} > 1.05: measurement problem, not a result")
    a.set_title(f"{runtime}: realized {_get(speed, 'realized'):.2f}x of theoretical "
                f"{_get(speed, 'theoretical'):.2f}x ({eff}); CSR {_get(speed, 'csr_realized'):.2f}x", fontsize=8)

    a = ax[1, 0]
    keys = ["params", "peak_activations"]
    x = np.arange(len(keys))
    a.bar(x - 0.2, [_get(dense_memory, k) / 1024 for k in keys], 0.4, label="dense", color="C7")
    a.bar(x + 0.2, [_get(pruned_memory, k) / 1024 for k in keys], 0.4, label="pruned", color="C2")
    a.set_xticks(x, ["parameters", "peak activations (batch 1)"])
    a.set_ylabel("KiB")
    a.set_title("memory")
    a.legend(fontsize=8)

    a = ax[1, 1]
    kept = _get(result, "net").pruning["kept"]
    layers = [k for k in kept if k != "input"]
    tot = [kept[k][1] for k in layers]
    kp = [kept[k][0] for k in layers]
    y = np.arange(len(layers))
    a.barh(y, tot, color="C7", alpha=0.4, label="before")
    a.barh(y, kp, color="C2", label="kept")
    a.set_yticks(y, layers)
    a.set_xlabel("units / channels")
    a.set_title("kept channels per layer")
    a.legend(fontsize=8)
    if extra:
        if dense_acc is not None:
            accuracy_delta(result, dense_acc, ax=ax[2, 0])
        else:
            ax[2, 0].set_axis_off()
        if profiles:
            latency_distribution(profiles, batch=batch, ax=ax[2, 1])
        else:
            ax[2, 1].set_axis_off()
    fig.suptitle(title)
    fig.tight_layout()
    if path is not None:
        save_figure(fig, path)
    return fig


def pixel_mask_figure(kept_pixels, path=None, shape=(8, 8), accuracy=None, example=None, fig=None):
    """The input pixels an MLP kept after a group lasso on its input features.

    Parameters
    ----------
    kept_pixels : array_like of int
        Indices of the kept pixels (row-major in ``shape``), e.g.
        :attr:`~structsparse.nn.experiment.PixelSelectionResult.kept_pixels`.
    path : str or Path, optional
        Also write the figure here (atomically). The figure stays open either way.
    shape : tuple of int, default (8, 8)
        Image shape.
    accuracy : float, optional
        Test accuracy to put in the title.
    example : array_like, optional
        One image (``prod(shape)`` values) drawn beside the mask with the dropped pixels in red.
    fig : matplotlib Figure, optional
        Where to draw; a new figure when None.

    Returns
    -------
    matplotlib.figure.Figure
    """
    owner = "pixel_mask_figure"
    mask = np.zeros(int(np.prod(shape)), dtype=float)
    kept = np.asarray(kept_pixels, dtype=int)
    if kept.size and (kept.min() < 0 or kept.max() >= mask.size):
        raise ParameterError(f"The 'kept_pixels' parameter of {owner} must hold pixel indices in [0, {mask.size}) "
                             f"for shape={tuple(shape)}. Got values in [{kept.min()}, {kept.max()}].")
    if example is not None and np.size(example) != mask.size:
        raise ShapeError(f"The 'example' parameter of {owner} must have {mask.size} pixels (shape={tuple(shape)}). "
                         f"Got {np.size(example)}.")
    check_fig(fig, owner)
    mask[kept] = 1.0
    n = 2 if example is not None else 1
    fig = new_figure(fig, figsize=(3.2 * n, 3.8), owner=owner)
    ax = np.atleast_1d(fig.subplots(1, n))
    ax[0].imshow(mask.reshape(shape), cmap="Greens", vmin=0, vmax=1)
    ttl = f"{kept.size} of {mask.size} pixels kept"
    if accuracy is not None:
        ttl += f"\ntest accuracy {accuracy:.3f}"
    ax[0].set_title(ttl, fontsize=9)
    if example is not None:
        ax[1].imshow(np.asarray(example).reshape(shape), cmap="gray_r")
        dropped = 1.0 - mask.reshape(shape)
        ax[1].imshow(np.ma.masked_where(dropped == 0, dropped), cmap="Reds", vmin=0, vmax=1.5, alpha=0.5)
        ax[1].set_title("a digit; red: pixels dropped", fontsize=9)
    for a in ax:
        a.set_xticks([])
        a.set_yticks([])
    fig.tight_layout()
    if path is not None:
        save_figure(fig, path)
    return fig
