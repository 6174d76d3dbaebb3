"""Figures for compressive sensing: recovered signals, phase transitions, RIP lower bounds.

Every function draws into the axes it is given (``ax=``) or a figure (``fig=``), or else a new figure made by
pyplot in whatever backend is active (the backend is never switched), and returns the Figure, left open: whoever
made it closes it (``matplotlib.pyplot.close(fig)``). Given ``path``, it is also saved there atomically
(:func:`save_figure`). The result objects draw themselves through these functions:
:meth:`RecoveryResult.plot <structsparse.cs.RecoveryResult.plot>`,
:meth:`PhaseTable.plot <structsparse.cs.PhaseTable.plot>` and :meth:`RipEstimate.plot <structsparse.cs.RipEstimate.plot>`.
"""


import numpy as np

from .._plotting import check_ax, check_fig, new_figure, save_figure
from ..exceptions import ParameterError, ShapeError

__all__ = ["plot_recovery", "plot_real_recovery", "plot_phase_transition", "plot_rip", "save_figure"]

_COLORS = {"l1": "tab:blue", "group_lasso": "tab:orange", "tree_lasso": "tab:brown", "cosamp": "tab:green",
           "model_cosamp": "tab:red", "iht": "tab:olive", "model_iht": "tab:purple", "block_omp": "tab:cyan"}


def _finish(fig, path, made):
    """Lay out a figure this module made (never the caller's), save it when asked, return it open."""
    if made:
        fig.tight_layout()
    if path is not None:
        save_figure(fig, path)
    return fig


def _axes_list(ax, n, owner):
    """``ax`` as a list of ``n`` Axes: one Axes when ``n == 1``, else a sequence of ``n``."""
    if n == 1 and not isinstance(ax, (list, tuple, np.ndarray)):
        return [check_ax(ax, owner)]
    if isinstance(ax, str) or not hasattr(ax, "__len__"):
        raise TypeError(f"The 'ax' parameter of {owner} must be a sequence of {n} matplotlib Axes. "
                        f"Got {type(ax).__name__}.")
    axes = [check_ax(a, owner) for a in np.ravel(np.asarray(ax, dtype=object))]
    if len(axes) != n:
        raise ParameterError(f"The 'ax' parameter of {owner} must hold {n} axes. Got {len(axes)}.")
    return axes


def _target(fig, ax, owner):
    """Refuse ``fig`` and ``ax`` together; check ``fig``."""
    check_fig(fig, owner)
    if fig is not None and ax is not None:
        raise ParameterError(f"{owner} takes 'fig' or 'ax', not both.")


def _runs(mask):
    """``(start, stop)`` of each run of True in a boolean vector."""
    d = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    return list(zip(np.flatnonzero(d == 1), np.flatnonzero(d == -1)))


def _shade(ax, mask, color, label):
    for i, (a, b) in enumerate(_runs(mask)):
        ax.axvspan(a - 0.5, b - 0.5, color=color, alpha=0.18, lw=0, label=label if i == 0 else None)


def plot_recovery(x_true, x_rec, model=None, fig=None, path=None, title=None, *, ax=None):
    """True against recovered signal with the true support shaded.

    For a :class:`~structsparse.cs.BlockSparse` model the active blocks are
    shaded; for :class:`~structsparse.cs.TreeSparse` (``x`` are wavelet
    coefficients) a first panel shows both signals in time and a second the
    coefficients with the tree support shaded and the scale bands marked;
    otherwise the nonzeros of ``x_true`` are shaded.

    Parameters
    ----------
    x_true, x_rec : array_like, shape (n,)
        The true and the recovered signal (an all-zero ``x_true`` means "unknown": no error, no shading).
    model : SignalModel, optional
        Gives the support to shade and, for a tree model, the signal in time.
    fig : matplotlib Figure, optional
        Draw into this figure (its panels are added to it).
    path : str or Path, optional
        Also save the figure there (atomically).
    title : str, optional
        Title of the (first) panel.
    ax : matplotlib Axes, optional
        Draw into these axes instead: one Axes (for a tree model, the coefficients panel only) or, for a tree
        model, a sequence of two (time, coefficients). Not together with ``fig``.

    Returns
    -------
    matplotlib.figure.Figure
        The figure drawn into, left open.
    """
    from .models import BlockSparse, SignalModel, TreeSparse
    from .._validation import check_array

    owner = "plot_recovery"
    if model is not None and not isinstance(model, SignalModel):
        raise TypeError(f"The 'model' parameter of {owner} must be a SignalModel or None. "
                        f"Got {type(model).__name__}.")
    _target(fig, ax, owner)
    x_true = check_array(x_true, "x_true", ndim=1, owner=owner)
    x_rec = check_array(x_rec, "x_rec", ndim=1, shape=x_true.shape, owner=owner)
    if model is not None and model.n != x_true.size:
        raise ShapeError(f"The 'model' parameter of {owner} has n={model.n} but x_true has length "
                         f"{x_true.size}; they must match.")
    tree = isinstance(model, TreeSparse)
    made = fig is None and ax is None
    if ax is not None:
        two = tree and isinstance(ax, (list, tuple, np.ndarray))
        axes = _axes_list(ax, 2 if two else 1, owner)
        fig = axes[0].figure
        if tree and not two:
            axes = [None] + axes  # the coefficients panel only
    else:
        fig = new_figure(fig, figsize=(9, 5.2 if tree else 3.4), owner=owner)
        axes = list(fig.subplots(2 if tree else 1, 1, squeeze=False)[:, 0])
    known = bool(np.any(x_true))  # an all-zero x_true means "truth unknown" (data without x): no error, no shading
    err_text = (f"relative error {np.linalg.norm(x_rec - x_true) / np.linalg.norm(x_true):.1e}" if known
                else "true signal unknown")
    idx = np.arange(x_true.size)
    if tree:
        ax = axes[0]
        if ax is not None:
            ax.plot(model.signal(x_true), color="k", lw=1.6, label="true signal")
            ax.plot(model.signal(x_rec), color="tab:red", lw=1.0, ls="--", label="recovered")
            ax.set_xlabel("sample")
            ax.legend(fontsize=8, loc="best")
        head = title or f"tree-sparse signal ({model.wavelet}, k={model.k}), {err_text}"
        (axes[0] or axes[1]).set_title(head, fontsize=10)
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
    return _finish(fig, path, made)


def _rates(table):
    from .phase import success_rates

    if isinstance(table, dict) and "rows" in table:
        table = table["rows"]
    if isinstance(table, dict):  # already {method: (ms, rates)}
        return {k: (np.asarray(v[0]), np.asarray(v[1])) for k, v in table.items()}
    if isinstance(table, (str, bytes)) or not hasattr(table, "__iter__"):
        raise TypeError(f"The 'table' parameter of plot_phase_transition must be a PhaseTable, a list of rows or "
                        f"a dict {{method: (m_values, rates)}}. Got {type(table).__name__}.")
    return success_rates(list(table))


def plot_phase_transition(table, model=None, predictions=None, fig=None, path=None, title=None, *, ax=None):
    """Success rate against the number of measurements, one curve per method.

    The statistical-dimension prediction of each convex method
    (:func:`~structsparse.cs.predicted_threshold`) is drawn as a dashed
    vertical line of the method's colour, and the interpolated 50 % point of
    each measured curve is marked.

    Parameters
    ----------
    table : PhaseTable, list of dict or dict
        The table of :func:`~structsparse.cs.phase_transition` (or its rows, or the
        ``{method: (m_values, rates)}`` of :func:`~structsparse.cs.success_rates`).
    model : SignalModel, optional
        Gives the predictions when ``predictions`` is None.
    predictions : dict, optional
        ``{method: m}`` to overlay instead.
    fig : matplotlib Figure, optional
        Draw into this figure (one panel is added).
    path : str or Path, optional
        Also save the figure there (atomically).
    title : str, optional
        Panel title (default: the model's ``repr``).
    ax : matplotlib Axes, optional
        Draw into these axes instead (not together with ``fig``).

    Returns
    -------
    matplotlib.figure.Figure
    """
    from .models import SignalModel
    from .statdim import predicted_threshold

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
    _target(fig, ax, owner)
    check_ax(ax, owner)
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
    made = fig is None and ax is None
    if ax is None:
        fig = new_figure(fig, figsize=(8.4, 4.0), owner=owner)
        ax = fig.subplots()
    else:
        fig = ax.figure
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
    return _finish(fig, path, made)


def _half_point(ms, rate, level=0.5):
    for i in range(len(ms)):
        if rate[i] >= level:
            if i == 0 or rate[i - 1] >= level:
                return float(ms[i])
            return float(ms[i - 1] + (level - rate[i - 1]) * (ms[i] - ms[i - 1]) / (rate[i] - rate[i - 1]))
    return None


def plot_rip(estimates, labels=None, fig=None, path=None, title=None, *, ax=None):
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
    fig : matplotlib Figure, optional
        Draw into this figure (two panels are added).
    path : str or Path, optional
        Also save the figure there (atomically).
    title : str, optional
        Title of the bar panel.
    ax : sequence of 2 matplotlib Axes, optional
        Draw the history and the bars into these instead (not together with ``fig``).

    Returns
    -------
    matplotlib.figure.Figure
    """
    from .rip import RipEstimate

    if isinstance(estimates, RipEstimate):
        estimates = [estimates]
    if isinstance(estimates, str) or not hasattr(estimates, "__iter__"):
        raise TypeError(f"The 'estimates' parameter of plot_rip must be a RipEstimate or a sequence of them. "
                        f"Got {type(estimates).__name__}.")
    _target(fig, ax, "plot_rip")
    estimates = list(estimates)
    if not estimates or not all(isinstance(e, RipEstimate) for e in estimates):
        raise ParameterError("The 'estimates' parameter of plot_rip must be a RipEstimate or a non-empty "
                             "sequence of them.")
    if labels is None:
        labels = [f"M={e.m}" for e in estimates]
    elif isinstance(labels, str) or len(labels) != len(estimates):
        raise ShapeError(f"The 'labels' parameter of plot_rip must hold one label per estimate ({len(estimates)}). "
                         f"Got {labels!r}.")
    made = fig is None and ax is None
    if ax is None:
        fig = new_figure(fig, figsize=(9, 3.6), owner="plot_rip")
        ax_h, ax_b = fig.subplots(1, 2)
    else:
        ax_h, ax_b = _axes_list(ax, 2, "plot_rip")
        fig = ax_h.figure
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
    return _finish(fig, path, made)


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
    made = ax is None
    if ax is None:
        image = original.ndim == 2
        fig = new_figure(figsize=(12, 4.2) if image else (14, 3.6), owner=owner)
        ax = fig.subplots(1, 3, sharey=not image)
    else:
        ax = _axes_list(ax, 3, owner)
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
    return _finish(fig, path, made)
