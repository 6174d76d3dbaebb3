"""Figures for compressive sensing: recovered signals, phase transitions, RIP lower bounds.

Every function returns the matplotlib figure; given ``path`` it also saves
it atomically (a temporary file in the same folder, then ``os.replace``),
so a reader never sees a half-written image. The figure is left open for
the caller (close it with ``matplotlib.pyplot.close(fig)``).
"""


import numpy as np

from .. import _atomic
from ..exceptions import ParameterError, ShapeError
from ._check import check_ax, check_fig

__all__ = ["plot_recovery", "plot_real_recovery", "plot_phase_transition", "plot_rip", "save_figure"]

_COLORS = {"l1": "tab:blue", "group_lasso": "tab:orange", "tree_lasso": "tab:brown", "cosamp": "tab:green",
           "model_cosamp": "tab:red", "iht": "tab:olive", "model_iht": "tab:purple", "block_omp": "tab:cyan"}


def _pyplot():
    import matplotlib

    if matplotlib.get_backend().lower() not in ("agg", "pdf", "svg", "ps", "cairo", "module://matplotlib_inline.backend_inline"):
        matplotlib.use("Agg")  # figures are written to files; never open a window
    import matplotlib.pyplot as plt

    return plt


def save_figure(fig, path, dpi=110):
    """Write ``fig`` to ``path`` atomically; return the path.

    The format follows the suffix (PNG when there is none). The parent
    folder must exist.
    """
    return _atomic.save_figure(fig, path, dpi=dpi)


def _finish(fig, path):
    fig.tight_layout()
    if path is not None:
        save_figure(fig, path)
    return fig


def _runs(mask):
    """``(start, stop)`` of each run of True in a boolean vector."""
    d = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    return list(zip(np.flatnonzero(d == 1), np.flatnonzero(d == -1)))


def _shade(ax, mask, color, label):
    for i, (a, b) in enumerate(_runs(mask)):
        ax.axvspan(a - 0.5, b - 0.5, color=color, alpha=0.18, lw=0, label=label if i == 0 else None)


def plot_recovery(x_true, x_rec, model=None, fig=None, path=None, title=None):
    """True against recovered signal with the true support shaded.

    For a :class:`~structsparse.cs.BlockSparse` model the active blocks are
    shaded; for :class:`~structsparse.cs.TreeSparse` (``x`` are wavelet
    coefficients) a first panel shows both signals in time and a second the
    coefficients with the tree support shaded and the scale bands marked;
    otherwise the nonzeros of ``x_true`` are shaded.

    Parameters
    ----------
    x_true, x_rec : array_like, shape (n,)
    model : SignalModel, optional
    fig : matplotlib Figure, optional
    path : str or Path, optional
        Save the figure there (atomically).
    title : str, optional

    Returns
    -------
    matplotlib.figure.Figure
    """
    from ..cs.models import BlockSparse, SignalModel, TreeSparse
    from .._validation import check_array

    if model is not None and not isinstance(model, SignalModel):
        raise TypeError(f"The 'model' parameter of plot_recovery must be a SignalModel or None. "
                        f"Got {type(model).__name__}.")
    check_fig(fig, "plot_recovery")
    x_true = check_array(x_true, "x_true", ndim=1, owner="plot_recovery")
    x_rec = check_array(x_rec, "x_rec", ndim=1, shape=x_true.shape, owner="plot_recovery")
    if model is not None and model.n != x_true.size:
        from ..exceptions import ShapeError

        raise ShapeError(f"The 'model' parameter of plot_recovery has n={model.n} but x_true has length "
                         f"{x_true.size}; they must match.")
    plt = _pyplot()
    tree = isinstance(model, TreeSparse)
    if fig is None:
        fig = plt.figure(figsize=(9, 5.2 if tree else 3.4))
    axes = fig.subplots(2 if tree else 1, 1, squeeze=False)[:, 0]
    known = bool(np.any(x_true))  # an all-zero x_true means "truth unknown" (data without x): no error, no shading
    err_text = (f"relative error {np.linalg.norm(x_rec - x_true) / np.linalg.norm(x_true):.1e}" if known
                else "true signal unknown")
    idx = np.arange(x_true.size)
    if tree:
        ax = axes[0]
        ax.plot(model.signal(x_true), color="k", lw=1.6, label="true signal")
        ax.plot(model.signal(x_rec), color="tab:red", lw=1.0, ls="--", label="recovered")
        ax.set_xlabel("sample")
        ax.legend(fontsize=8, loc="best")
        ax.set_title(title or f"tree-sparse signal ({model.wavelet}, k={model.k}), {err_text}",
                     fontsize=10)
        ax = axes[1]
        for band in model.synthesis.band_slices()[1:]:
            ax.axvline(band.start - 0.5, color="0.7", lw=0.6)
        ax.set_xscale("symlog", linthresh=max(2 * model.root_size, 16))
        ax.set_xlabel("wavelet coefficient (coarse to fine; grey lines: scale bands)")
    else:
        ax = axes[0]
        ax.set_xlabel("index")
        if title is None:
            what = (f"block-sparse signal (blocks of {model.block_size}, {model.k} active)"
                    if isinstance(model, BlockSparse) else "sparse signal")
            title = f"{what}, {err_text}"
        ax.set_title(title, fontsize=10)
    if isinstance(model, BlockSparse):
        active = model.block_norms(x_true) > 0
        mask = np.repeat(active, model.block_size)
        label = "active blocks"
    elif tree:
        mask = np.zeros(x_true.size, bool)
        mask[model.approx_support(x_true)] = True
        label = "tree support"
    else:
        mask = x_true != 0
        label = "support"
    if known:
        _shade(ax, mask, "tab:blue", label)
    ax.plot(idx, x_true, "o", ms=3.5, mfc="none", color="k", label="true")
    ax.plot(idx, x_rec, ".", ms=3, color="tab:red", label="recovered")
    ax.axhline(0, color="0.5", lw=0.5)
    ax.set_ylabel("value")
    ax.legend(fontsize=8, loc="best", ncol=3)
    return _finish(fig, path)


def _rates(table):
    from ..cs.phase import success_rates

    if isinstance(table, dict) and "rows" in table:
        table = table["rows"]
    if isinstance(table, dict):  # already {method: (ms, rates)}
        return {k: (np.asarray(v[0]), np.asarray(v[1])) for k, v in table.items()}
    return success_rates(list(table))


def plot_phase_transition(table, model=None, predictions=None, fig=None, path=None, title=None):
    """Success rate against the number of measurements, one curve per method.

    The statistical-dimension prediction of each convex method
    (:func:`~structsparse.cs.predicted_threshold`) is drawn as a dashed
    vertical line of the method's colour, and the interpolated 50 % point of
    each measured curve is marked.

    Parameters
    ----------
    table : list of dict or dict
        The tidy table of :func:`~structsparse.cs.phase_transition` (or the
        ``{method: (m_values, rates)}`` of :func:`~structsparse.cs.success_rates`).
    model : SignalModel, optional
        Gives the predictions when ``predictions`` is None.
    predictions : dict, optional
        ``{method: m}`` to overlay instead.
    fig, path, title : optional

    Returns
    -------
    matplotlib.figure.Figure
    """
    from ..cs.models import SignalModel
    from ..cs.statdim import predicted_threshold

    owner = "plot_phase_transition"
    if model is not None and not isinstance(model, SignalModel):
        raise TypeError(f"The 'model' parameter of {owner} must be a SignalModel or None. Got {type(model).__name__}.")
    if predictions is not None:
        if not isinstance(predictions, dict):
            raise TypeError(f"The 'predictions' parameter of {owner} must be a dict {{method: m}}. "
                            f"Got {type(predictions).__name__}.")
        for method, m in predictions.items():
            if isinstance(m, (str, bytes)) or not np.isscalar(m) or not np.isfinite(m):
                raise ParameterError(f"The 'predictions' parameter of {owner}: the value for {method!r} must be a "
                                     f"finite number of measurements. Got {m!r}.")
    check_fig(fig, owner)
    rates = _rates(table)
    if not rates:
        raise ParameterError("The 'table' parameter of plot_phase_transition has no rows to plot.")
    if predictions is None:
        predictions = {}
        if model is not None:
            for method in rates:
                p = predicted_threshold(model, method)
                if p is not None:
                    predictions[method] = p
    plt = _pyplot()
    if fig is None:
        fig = plt.figure(figsize=(8.4, 4.0))
    ax = fig.subplots()
    for i, (method, (ms, rate)) in enumerate(sorted(rates.items())):
        color = _COLORS.get(method, f"C{i}")
        ax.plot(ms, rate, "o-", color=color, ms=4, label=method)
        half = _half_point(ms, rate)
        if half is not None:
            ax.plot([half], [0.5], "x", color=color, ms=8, mew=2)
        if method in predictions:
            ax.axvline(predictions[method], color=color, ls="--", lw=1.2,
                       label=f"{method} predicted ({predictions[method]:.0f})")
    ax.axhline(0.5, color="0.6", lw=0.6)
    ax.set_ylim(-0.03, 1.03)
    ax.set_xlabel("measurements M")
    ax.set_ylabel("success rate")
    if title is None and model is not None:
        title = f"phase transition: {model!r}"
    if title:
        ax.set_title(title, fontsize=9)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))  # outside: the curves span the whole box
    ax.grid(alpha=0.3)
    return _finish(fig, path)


def _half_point(ms, rate, level=0.5):
    for i in range(len(ms)):
        if rate[i] >= level:
            if i == 0 or rate[i - 1] >= level:
                return float(ms[i])
            return float(ms[i - 1] + (level - rate[i - 1]) * (ms[i] - ms[i - 1]) / (rate[i] - rate[i - 1]))
    return None


def plot_rip(estimates, labels=None, fig=None, path=None, title=None):
    """RIP lower bounds, model supports against plain supports of the same size.

    Left: the best lower bound found against the number of supports
    evaluated (search history), for the first estimate. Right: the final
    bounds of every estimate side by side (bars). These are lower bounds:
    the true constants are at least as large.

    Parameters
    ----------
    estimates : RipEstimate or sequence of RipEstimate
    labels : sequence of str, optional
        One per estimate (default ``"M=<m>"``).
    fig, path, title : optional

    Returns
    -------
    matplotlib.figure.Figure
    """
    from ..cs.rip import RipEstimate

    if isinstance(estimates, RipEstimate):
        estimates = [estimates]
    if isinstance(estimates, str) or not hasattr(estimates, "__iter__"):
        raise TypeError(f"The 'estimates' parameter of plot_rip must be a RipEstimate or a sequence of them. "
                        f"Got {type(estimates).__name__}.")
    check_fig(fig, "plot_rip")
    estimates = list(estimates)
    if not estimates or not all(isinstance(e, RipEstimate) for e in estimates):
        from ..exceptions import ParameterError

        raise ParameterError("The 'estimates' parameter of plot_rip must be a RipEstimate or a non-empty "
                             "sequence of them.")
    if labels is None:
        labels = [f"M={e.m}" for e in estimates]
    elif isinstance(labels, str) or len(labels) != len(estimates):
        raise ShapeError(f"The 'labels' parameter of plot_rip must hold one label per estimate ({len(estimates)}). "
                         f"Got {labels!r}.")
    plt = _pyplot()
    if fig is None:
        fig = plt.figure(figsize=(9, 3.6))
    ax_h, ax_b = fig.subplots(1, 2)
    e0 = estimates[0]
    ax_h.plot(np.arange(1, len(e0.history_model) + 1), e0.history_model, color="tab:red", label="model supports")
    ax_h.plot(np.arange(1, len(e0.history_plain) + 1), e0.history_plain, color="tab:blue", label="plain supports")
    ax_h.set_xlabel("supports evaluated")
    ax_h.set_ylabel("lower bound on delta")
    ax_h.set_title(f"{e0.search} search, {e0.m}x{e0.n}, {e0.support_size} nonzeros", fontsize=9)
    ax_h.legend(fontsize=8)
    ax_h.grid(alpha=0.3)
    pos = np.arange(len(estimates))
    ax_b.bar(pos - 0.2, [e.delta_model for e in estimates], 0.4, color="tab:red", label="model")
    ax_b.bar(pos + 0.2, [e.delta_plain for e in estimates], 0.4, color="tab:blue", label="plain")
    ax_b.set_xticks(pos, labels)
    ax_b.set_ylabel("lower bound on delta")
    ax_b.set_title(title or "RIP lower bounds (true constants are at least these)", fontsize=9)
    ax_b.legend(fontsize=8)
    return _finish(fig, path)


def plot_real_recovery(original, backprojection, recovered, metrics=None, ax=None, path=None, title=None):
    """Original, back-projection of the measurements and recovery, side by side.

    Images (2-D arrays) are drawn in grey with a common intensity scale
    (the original's range); 1-D signals as curves, the original in light
    grey behind the other two.

    Parameters
    ----------
    original : ndarray, shape (n,) or (rows, cols)
        The true signal or image.
    backprojection : ndarray
        ``(m / N) Phi^T y`` (see :meth:`structsparse.cs.real.RealProblem.backprojection`).
    recovered : ndarray
        The recovered signal or image.
    metrics : dict, optional
        ``{"back-projection": (psnr, ssim), "recovery": (psnr, ssim)}`` shown in the panel titles (images);
        for signals the relative errors are computed and shown.
    ax : sequence of 3 matplotlib Axes, optional
        Where to draw (default: a new figure with three panels).
    path : str or Path, optional
        Save the figure here (atomically).
    title : str, optional
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure
    """
    from .._validation import check_array

    owner = "plot_real_recovery"
    original = check_array(original, "original", ndim=(1, 2), finite=False, owner=owner)
    panels = [check_array(backprojection, "backprojection", finite=False, owner=owner),
              check_array(recovered, "recovered", finite=False, owner=owner)]
    for a in panels:
        if a.shape != original.shape:
            raise ShapeError(f"plot_real_recovery: 'backprojection' and 'recovered' must have the shape of "
                             f"'original' {original.shape}. Got {a.shape}.")
    if ax is None:
        plt = _pyplot()
        image = original.ndim == 2
        fig, ax = plt.subplots(1, 3, figsize=(12, 4.2) if image else (14, 3.6), sharey=not image)
    else:
        if isinstance(ax, str) or not hasattr(ax, "__len__"):
            raise TypeError(f"plot_real_recovery: 'ax' must be a sequence of 3 matplotlib Axes. Got {type(ax).__name__}.")
        for a in ax:
            check_ax(a, owner)
        if len(ax) != 3:
            raise ParameterError(f"plot_real_recovery: 'ax' must hold 3 axes. Got {len(ax)}.")
        fig = ax[0].figure
    names = ["original", "back-projection", "recovery"]
    keys = [None, "back-projection", "recovery"]
    if original.ndim == 2:
        lo, hi = float(original.min()), float(original.max())
        for a, img, name, key in zip(ax, [original] + panels, names, keys):
            a.imshow(img, cmap="gray", vmin=lo, vmax=hi, interpolation="nearest")
            label = name
            if key and metrics and key in metrics:
                p, q = metrics[key]
                label += f"\nPSNR {p:.2f} dB, SSIM {q:.3f}"
            a.set_title(label, fontsize=10)
            a.set_xticks([])
            a.set_yticks([])
    else:
        t = np.arange(original.size)
        nrm = max(np.linalg.norm(original), 1e-300)
        for a, sig, name, key in zip(ax, [original] + panels, names, keys):
            if key:
                a.plot(t, original, color="0.75", lw=1.0, label="original")
                err = np.linalg.norm(sig - original) / nrm
                a.plot(t, sig, color="tab:red" if key == "recovery" else "tab:blue", lw=0.9, label=name)
                a.set_title(f"{name} (relative error {err:.3f})", fontsize=10)
                a.legend(loc="upper right", fontsize=8, frameon=False)
            else:
                a.plot(t, sig, color="k", lw=0.9)
                a.set_title(name, fontsize=10)
            a.set_xlabel("sample")
    if title:
        fig.suptitle(title, fontsize=11)
    return _finish(fig, path)
