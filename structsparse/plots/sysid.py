"""Figures for system identification: patterns, outputs, poles.

Every function draws on given axes (or a new figure) and returns the
figure; nothing is shown or saved here except by :func:`save_figure`.
"""

import numpy as np

from ..exceptions import ParameterError, ShapeError
from ._check import check_ax, check_fig

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

    owner = "plot_patterns"
    for arg, obj in (("true", true), ("found", found)):
        if not (isinstance(obj, dict) or hasattr(obj, "masks") or hasattr(obj, "matrices")):
            raise TypeError(f"The '{arg}' parameter of {owner} must be a Pattern, a StateSpace or a dict of "
                            f"arrays. Got {type(obj).__name__}.")
    if isinstance(matrices, str):
        matrices = tuple(matrices)
    matrices = tuple(matrices)
    if not matrices or any(m not in ("A", "B", "C", "D") for m in matrices):
        raise ParameterError(f"The 'matrices' parameter of {owner} must be a non-empty sequence of names among "
                             f"'A', 'B', 'C', 'D'. Got {matrices!r}.")
    check_fig(fig, owner)
    supports = {}
    for name in matrices:
        try:
            st, sf = _support(true, name), _support(found, name)
        except KeyError:
            raise ParameterError(f"The 'matrices' parameter of {owner} names {name!r}, which 'true' or 'found' "
                                 f"does not hold.") from None
        if st.shape != sf.shape:
            raise ShapeError(f"The 'found' parameter of {owner}: matrix {name} has shape {sf.shape} but the true "
                             f"one {st.shape}; they must match.")
        supports[name] = (st, sf)
    k = len(matrices)
    if fig is None:
        fig = plt.figure(figsize=(7, 3.2 * k))
    axes = fig.subplots(k, 2, squeeze=False)
    for r, name in enumerate(matrices):
        st, sf = supports[name]
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

    from .._validation import check_array, check_int, check_scalar

    owner = "plot_outputs"
    y = check_array(y, "y", ndim=(1, 2), finite=False, owner=owner)
    y_sim = check_array(y_sim, "y_sim", ndim=(1, 2), finite=False, owner=owner)
    if y.shape[0] == 0:
        raise ShapeError(f"The 'y' parameter of {owner} has no samples.")
    y = y.reshape(len(y), -1)
    y_sim = y_sim.reshape(len(y_sim), -1)
    if y_sim.shape != y.shape:
        raise ShapeError(f"The 'y_sim' parameter of {owner} must have the shape of 'y' {y.shape} "
                         f"(n_samples, n_outputs). Got {y_sim.shape}.")
    p = y.shape[1]
    if names is not None and len(names) != p:
        raise ShapeError(f"The 'names' parameter of {owner} must hold one name per output ({p}). Got {len(names)}.")
    if fit is not None and np.size(fit) != p:
        raise ShapeError(f"The 'fit' parameter of {owner} must hold one value per output ({p}). Got {np.size(fit)}.")
    dt = check_scalar(dt, "dt", low=0, low_inclusive=False, owner=owner)
    if max_samples is not None:
        max_samples = check_int(max_samples, "max_samples", low=1, owner=owner)
    check_fig(fig, owner)
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

    owner = "plot_poles"
    check_ax(ax, owner)
    if hasattr(poles, "__len__") and len(poles) == 0:
        raise ParameterError(f"The 'poles' parameter of {owner} is empty.")
    try:
        sets = [np.asarray(poles, dtype=complex).reshape(-1)] if np.ndim(poles[0]) == 0 else \
            [np.asarray(p, dtype=complex).reshape(-1) for p in poles]
    except (TypeError, ValueError, IndexError):
        raise ParameterError(f"The 'poles' parameter of {owner} must be an array of complex numbers or a list "
                             f"of such arrays. Got {poles!r:.80}.") from None
    if not any(s.size for s in sets):
        raise ParameterError(f"The 'poles' parameter of {owner} is empty.")
    if labels is not None and len(labels) != len(sets):
        raise ShapeError(f"The 'labels' parameter of {owner} must hold one label per pole set ({len(sets)}). "
                         f"Got {len(labels)}.")
    if ax is None:
        fig, ax = plt.subplots(figsize=(4.5, 4.5))
    else:
        fig = ax.figure
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
