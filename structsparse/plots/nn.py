"""Figures for network pruning: the pruning dashboard and the kept-pixel image."""

import numpy as np

from ..exceptions import ParameterError, ShapeError
from ._check import check_ax

__all__ = ["pruning_dashboard", "pixel_mask_figure", "latency_distribution", "accuracy_delta"]


def _axes(ax, figsize=(5.5, 4)):
    import matplotlib.pyplot as plt

    if ax is None:
        fig, ax = plt.subplots(figsize=figsize)
    else:
        fig = ax.figure
    return fig, ax


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
    if kind not in ("cdf", "violin"):
        raise ParameterError(f"The 'kind' parameter of latency_distribution must be 'cdf' or 'violin'. Got {kind!r}.")
    if not isinstance(profiles, dict):
        raise TypeError(f"The 'profiles' parameter of latency_distribution must be a dict {{name: ProfileResult}}. "
                        f"Got {type(profiles).__name__}.")
    if not profiles:
        raise ParameterError("The 'profiles' parameter of latency_distribution is empty: nothing to draw.")
    check_ax(ax, "latency_distribution")
    for name, prof in profiles.items():
        if batch not in prof.times:
            raise ParameterError(f"The 'batch' parameter of latency_distribution: profile {name!r} has no batch {batch} "
                             f"(it has {list(prof.times)}).")
    fig, ax = _axes(ax)
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
    runtime = next(iter(profiles.values())).runtime if profiles else ""
    ax.set_title(f"latency distribution, {runtime}, batch {batch} (shared machine: the tail is load)", fontsize=8)
    return fig


def _check_dict(obj, name, owner, keys, source):
    if not isinstance(obj, dict):
        raise TypeError(f"The '{name}' parameter of {owner} must be the dict of {source}. Got {type(obj).__name__}.")
    missing = [k for k in keys if k not in obj]
    if missing:
        raise ParameterError(f"The '{name}' parameter of {owner} lacks the keys {missing} (expected the dict of "
                             f"{source}).")


def accuracy_delta(result, dense_acc, ax=None):
    """Validation accuracy change against FLOPs over the pruning levels tried, sorted by FLOPs.

    Parameters
    ----------
    result : dict
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
    _check_dict(result, "result", owner, ("path", "lam", "budget", "dense_flops"), "prune_to_budget")
    try:
        dense_acc = float(dense_acc)
    except (TypeError, ValueError):
        raise TypeError(f"The 'dense_acc' parameter of {owner} must be a number. Got {dense_acc!r}.") from None
    check_ax(ax, owner)
    fig, ax = _axes(ax)
    pts = sorted(result["path"], key=lambda e: (e["flops"], e["lam"]))
    d = result["dense_flops"]
    fl = np.array([e["flops"] for e in pts]) / d
    delta = 100 * (np.array([e["val_acc"] for e in pts]) - dense_acc)
    ax.plot(fl, delta, "o-", color="C0", label="trials (before fine-tuning)")
    chosen = [i for i, e in enumerate(pts) if e["lam"] == result["lam"]]
    if chosen:
        i = chosen[0]
        ax.plot(fl[i], delta[i], "*", ms=16, color="C3", label=f"chosen (lam {pts[i]['lam']:.2g})", zorder=3)
    ax.axvline(result["budget"] / d, color="C3", ls="--", lw=1, label="budget")
    ax.axhline(0, color="k", lw=0.5)
    ax.set_xlabel("FLOPs / dense FLOPs (sorted)")
    ax.set_ylabel("validation accuracy - dense (points)")
    ax.set_title("accuracy delta across pruning levels", fontsize=9)
    ax.legend(fontsize=7)
    return fig


def _save(fig, path):
    import matplotlib.pyplot as plt

    from ..nn.io import _atomic_write

    _atomic_write(path, lambda fh: fig.savefig(fh, format="png", dpi=110))
    plt.close(fig)


def pruning_dashboard(result, speed, dense_memory, pruned_memory, path, title="structsparse prune", profiles=None,
                      dense_acc=None, batch=1):
    """Panels: accuracy against FLOPs over the lam path, latency, memory, kept units per layer; with
    ``profiles`` and ``dense_acc`` also the latency distribution and the accuracy delta against FLOPs.

    Parameters
    ----------
    result : dict
        From :func:`structsparse.nn.prune_to_budget`.
    speed : dict
        From :func:`structsparse.nn.speedup`.
    dense_memory, pruned_memory : dict
        From :func:`structsparse.nn.memory`.
    path : str or Path
        PNG file to write (atomically).
    title : str
        Figure title.
    profiles : dict, optional
        ``{model name: ProfileResult}`` for the latency-distribution panel.
    dense_acc : float, optional
        Validation accuracy of the dense network, for the accuracy-delta panel.
    batch : int, default 1
        Batch size of the latency-distribution panel.

    Returns
    -------
    Path
        ``path``.
    """
    import matplotlib.pyplot as plt

    owner = "pruning_dashboard"
    _check_dict(result, "result", owner, ("path", "dense_flops", "budget", "flops", "net"), "prune_to_budget")
    _check_dict(speed, "speed", owner, ("batch", "efficiency", "realized", "theoretical", "csr_realized",
                                        "csr_time", "dense_time", "pruned_time"), "speedup")
    _check_dict(dense_memory, "dense_memory", owner, (), "memory")
    _check_dict(pruned_memory, "pruned_memory", owner, (), "memory")
    extra = profiles is not None or dense_acc is not None
    fig, ax = plt.subplots(3 if extra else 2, 2, figsize=(11, 12 if extra else 8))
    path_pts = sorted(result["path"], key=lambda e: e["flops"])
    dense_flops = result["dense_flops"]
    fl = np.array([e["flops"] for e in path_pts]) / dense_flops
    acc = np.array([e["val_acc"] for e in path_pts])
    lams = [e["lam"] for e in path_pts]
    a = ax[0, 0]
    a.plot(fl, acc, "o-", color="C0")
    for x, yv, lam in zip(fl, acc, lams):
        a.annotate(f"{lam:.2g}", (x, yv), textcoords="offset points", xytext=(3, 3), fontsize=7)
    a.axvline(result["budget"] / dense_flops, color="C3", ls="--", label="budget")
    a.scatter([result["flops"] / dense_flops], [result.get("final_acc", np.nan)], marker="*", s=150, color="C2",
              label="test, after fine-tuning", zorder=3)
    a.set_xscale("log")
    a.set_xlabel("FLOPs / dense FLOPs")
    a.set_ylabel("validation accuracy (before fine-tuning)")
    a.set_title("accuracy against FLOPs over the lam path (labels: lam)")
    a.legend(fontsize=8)

    a = ax[0, 1]
    # the runtime people deploy with first (onnxruntime when it was measured), then numpy and CSR
    names, times, colors = [], [], []
    if "ort_dense_time" in speed:
        names += ["dense\nonnxruntime", "pruned\nonnxruntime"]
        times += [speed["ort_dense_time"], speed["ort_pruned_time"]]
        colors += ["C7", "C2"]
    names += ["dense\nnumpy", "pruned\nnumpy", "CSR\nnumpy"]
    times += [speed.get("numpy_dense_time", speed["dense_time"]), speed.get("numpy_pruned_time",
                                                                            speed["pruned_time"]), speed["csr_time"]]
    colors += ["#bbbbbb", "#88cc88", "C1"]
    bars = a.bar(names, np.array(times) * 1e3, color=colors)
    for b, t in zip(bars, times):
        a.text(b.get_x() + b.get_width() / 2, b.get_height(), f"{t * 1e3:.2f} ms", ha="center", va="bottom",
               fontsize=7)
    a.tick_params(axis="x", labelsize=7)
    a.set_ylabel(f"forward time, batch {speed['batch']} (ms), 1 thread")
    runtime = speed.get("runtime", "numpy")
    eff = (f"efficiency {speed['efficiency']:.2f}" if not speed.get("measurement_problem") else
           f"efficiency {speed['efficiency']:.2f} > 1.05: measurement problem, not a result")
    a.set_title(f"{runtime}: realized {speed['realized']:.2f}x of theoretical {speed['theoretical']:.2f}x "
                f"({eff}); CSR {speed['csr_realized']:.2f}x", fontsize=8)

    a = ax[1, 0]
    keys = ["params", "peak_activations"]
    x = np.arange(len(keys))
    a.bar(x - 0.2, [dense_memory[k] / 1024 for k in keys], 0.4, label="dense", color="C7")
    a.bar(x + 0.2, [pruned_memory[k] / 1024 for k in keys], 0.4, label="pruned", color="C2")
    a.set_xticks(x, ["parameters", "peak activations (batch 1)"])
    a.set_ylabel("KiB")
    a.set_title("memory")
    a.legend(fontsize=8)

    a = ax[1, 1]
    kept = result["net"].pruning["kept"]
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
    _save(fig, path)
    return path


def pixel_mask_figure(kept_pixels, path, shape=(8, 8), accuracy=None, example=None):
    """The input pixels an MLP kept after a group lasso on its input features."""
    import matplotlib.pyplot as plt

    owner = "pixel_mask_figure"
    mask = np.zeros(int(np.prod(shape)), dtype=float)
    kept = np.asarray(kept_pixels, dtype=int)
    if kept.size and (kept.min() < 0 or kept.max() >= mask.size):
        raise ParameterError(f"The 'kept_pixels' parameter of {owner} must hold pixel indices in [0, {mask.size}) "
                             f"for shape={tuple(shape)}. Got values in [{kept.min()}, {kept.max()}].")
    if example is not None and np.size(example) != mask.size:
        raise ShapeError(f"The 'example' parameter of {owner} must have {mask.size} pixels (shape={tuple(shape)}). "
                         f"Got {np.size(example)}.")
    mask[kept] = 1.0
    n = 2 if example is not None else 1
    fig, ax = plt.subplots(1, n, figsize=(3.2 * n, 3.8))
    ax = np.atleast_1d(ax)
    ax[0].imshow(mask.reshape(shape), cmap="Greens", vmin=0, vmax=1)
    ttl = f"{len(kept_pixels)} of {mask.size} pixels kept"
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
    _save(fig, path)
    return path
