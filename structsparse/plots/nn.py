"""Figures for network pruning: the pruning dashboard and the kept-pixel image."""

import numpy as np

__all__ = ["pruning_dashboard", "pixel_mask_figure"]


def _save(fig, path):
    import matplotlib.pyplot as plt

    from ..nn.io import _atomic_write

    _atomic_write(path, lambda fh: fig.savefig(fh, format="png", dpi=110))
    plt.close(fig)


def pruning_dashboard(result, speed, dense_memory, pruned_memory, path, title="structsparse prune"):
    """Four panels: accuracy against FLOPs over the lam path, latency, memory, kept units per layer.

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
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(2, 2, figsize=(11, 8))
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
    fig.suptitle(title)
    fig.tight_layout()
    _save(fig, path)
    return path


def pixel_mask_figure(kept_pixels, path, shape=(8, 8), accuracy=None, example=None):
    """The input pixels an MLP kept after a group lasso on its input features."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    mask = np.zeros(int(np.prod(shape)), dtype=float)
    mask[np.asarray(kept_pixels, dtype=int)] = 1.0
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
