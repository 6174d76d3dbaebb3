"""Figures for system identification: patterns, outputs, poles.

Every function draws on given axes (or a new figure) and returns the
figure; nothing is shown or saved here except by :func:`save_figure`.
"""

import numpy as np

__all__ = ["plot_patterns", "plot_outputs", "plot_poles", "save_figure"]


def _support(obj, name):
    """Boolean support of matrix ``name`` of a Pattern, StateSpace or dict."""
    from ..sysid.pattern import Pattern

    if isinstance(obj, Pattern):
        return obj.masks[name] | (obj.values[name] != 0)
    if hasattr(obj, "matrices"):
        return np.asarray(dict(zip("ABCD", obj.matrices))[name]) != 0
    return np.asarray(obj[name]) != 0


def plot_patterns(true, found, matrices=("A", "B"), fig=None):
    """Spy plots of the true and the found support, side by side, one row per matrix.

    Entries found but not true are marked with a red cross, true but missed
    with an orange circle.

    Parameters
    ----------
    true, found : Pattern, StateSpace or dict of arrays
    matrices : tuple of str
    fig : matplotlib Figure, optional

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    k = len(matrices)
    if fig is None:
        fig = plt.figure(figsize=(7, 3.2 * k))
    axes = fig.subplots(k, 2, squeeze=False)
    for r, name in enumerate(matrices):
        st, sf = _support(true, name), _support(found, name)
        for c, (supp, title) in enumerate(((st, "true"), (sf, "found"))):
            ax = axes[r, c]
            ax.spy(supp, markersize=max(2, 60 / max(supp.shape)), color="k")
            ax.set_title(f"{name}: {title} ({int(supp.sum())} nonzeros)", fontsize=9)
        fp = np.argwhere(sf & ~st)
        fn = np.argwhere(st & ~sf)
        if fp.size:
            axes[r, 1].plot(fp[:, 1], fp[:, 0], "x", color="red", label="false positive")
        if fn.size:
            axes[r, 1].plot(fn[:, 1], fn[:, 0], "o", mfc="none", color="orange", label="missed")
        if fp.size or fn.size:
            axes[r, 1].legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    return fig


def plot_outputs(y, y_sim, dt=1.0, names=None, fit=None, fig=None, max_samples=None):
    """Measured against simulated outputs, one panel per output.

    Parameters
    ----------
    y, y_sim : ndarray, shape (n_samples, n_outputs)
    dt : float
        Sampling period for the time axis.
    names : list of str, optional
    fit : array_like, optional
        Fit index per output, shown in the titles.
    max_samples : int, optional
        Show only the first samples.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    y = np.asarray(y, float).reshape(len(y), -1)
    y_sim = np.asarray(y_sim, float).reshape(len(y_sim), -1)
    p = y.shape[1]
    T = y.shape[0] if max_samples is None else min(int(max_samples), y.shape[0])
    t = np.arange(T) * dt
    if fig is None:
        fig = plt.figure(figsize=(8, 2.2 * p))
    axes = fig.subplots(p, 1, squeeze=False, sharex=True)[:, 0]
    for i, ax in enumerate(axes):
        label = names[i] if names is not None else f"y{i + 1}"
        ax.plot(t, y[:T, i], color="0.6", lw=1.2, label="measured")
        ax.plot(t, y_sim[:T, i], color="C0", lw=1.0, ls="--", label="simulated")
        title = label if fit is None else f"{label}: fit {float(np.asarray(fit)[i]):.2f} %"
        ax.set_title(title, fontsize=9)
        ax.legend(fontsize=7, loc="upper right")
    axes[-1].set_xlabel("time")
    fig.tight_layout()
    return fig


def plot_poles(poles, labels=None, ax=None):
    """Poles of one or several models in the complex plane, with the unit circle.

    Parameters
    ----------
    poles : array_like of complex, or list of such arrays
    labels : list of str, optional
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    if ax is None:
        fig, ax = plt.subplots(figsize=(4.5, 4.5))
    else:
        fig = ax.figure
    sets = [np.asarray(poles)] if np.ndim(poles[0]) == 0 else [np.asarray(p) for p in poles]
    labels = labels or [f"model {i + 1}" for i in range(len(sets))]
    th = np.linspace(0, 2 * np.pi, 400)
    ax.plot(np.cos(th), np.sin(th), color="0.5", lw=0.8)
    markers = ["x", "o", "+", "s", "^"]
    for k, (p, lab) in enumerate(zip(sets, labels)):
        ax.plot(p.real, p.imag, markers[k % len(markers)], mfc="none", ms=8, label=lab)
    ax.axhline(0, color="0.85", lw=0.6)
    ax.axvline(0, color="0.85", lw=0.6)
    ax.set_aspect("equal")
    lim = max(1.1, float(np.max(np.abs(np.concatenate([s.ravel() for s in sets])))) * 1.1)
    ax.set_xlim(-lim, lim)
    ax.set_ylim(-lim, lim)
    ax.set_xlabel("Re")
    ax.set_ylabel("Im")
    ax.set_title("poles and the unit circle", fontsize=9)
    ax.legend(fontsize=7, loc="lower left")
    return fig


def save_figure(fig, path):
    """Save a figure atomically (temporary file in the same folder, then rename) and close it."""
    import matplotlib.pyplot as plt

    from .._atomic import save_figure as _save

    try:
        return _save(fig, path)
    finally:
        plt.close(fig)
