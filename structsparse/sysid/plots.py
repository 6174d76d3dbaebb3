"""Figures for system identification: patterns, outputs, poles, an identified model.

Every function draws into the axes (``ax=``) or the figure (``fig=``) it is given, or else a new figure made by
pyplot in whatever backend is active (the backend is never switched), and returns the Figure, left open: whoever
made it closes it (``matplotlib.pyplot.close(fig)``). Nothing is shown here; :func:`save_figure` writes a figure
atomically and leaves it open. :meth:`IdentifiedModel.plot <structsparse.sysid.IdentifiedModel.plot>` draws
through :func:`plot_identified`.
"""

import numpy as np

from .._plotting import check_ax, check_fig, figure_and_axes, new_figure, save_figure
from ..exceptions import ParameterError, ShapeError

__all__ = ["plot_patterns", "plot_outputs", "plot_poles", "plot_identified", "save_figure"]


def _support(obj, name):
    """Boolean support of matrix ``name`` of a Pattern, StateSpace or dict."""
    from .pattern import Pattern

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
        The reference and the estimated support (a StateSpace's nonzeros, a Pattern's free or known nonzero
        entries).
    matrices : tuple of str
        Which of ``"A"``, ``"B"``, ``"C"``, ``"D"`` to draw, one row each.
    fig : matplotlib Figure, optional
        Draw into this figure (its panels are added to it); default a new one.

    Returns
    -------
    matplotlib.figure.Figure
        The figure drawn into, left open.
    """
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
    made = fig is None
    fig = new_figure(fig, figsize=(7, 3.2 * k), owner=owner)
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
    if made:
        fig.tight_layout()
    return fig


def plot_outputs(y, y_sim, dt=1.0, names=None, fit=None, fig=None, max_samples=None):
    """Measured against simulated outputs, one panel per output.

    Parameters
    ----------
    y, y_sim : ndarray, shape (n_samples, n_outputs)
        Measured and simulated outputs.
    dt : float
        Sampling period for the time axis.
    names : list of str, optional
        One name per output (default ``y1, y2, ...``).
    fit : array_like, optional
        Fit index per output, shown in the titles.
    fig : matplotlib Figure, optional
        Draw into this figure (one panel per output is added); default a new one.
    max_samples : int, optional
        Show only the first samples.

    Returns
    -------
    matplotlib.figure.Figure
        The figure drawn into, left open.
    """
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
    made = fig is None
    fig = new_figure(fig, figsize=(8, 2.2 * p), owner=owner)
    axes = fig.subplots(p, 1, squeeze=False, sharex=True)[:, 0]
    for i, ax in enumerate(axes):
        label = names[i] if names is not None else f"y{i + 1}"
        ax.plot(t, y[:T, i], color="0.6", lw=1.2, label="measured")
        ax.plot(t, y_sim[:T, i], color="C0", lw=1.0, ls="--", label="simulated")
        title = label if fit is None else f"{label}: fit {float(np.asarray(fit)[i]):.2f} %"
        ax.set_title(title, fontsize=9)
        ax.legend(fontsize=7, loc="upper right")
    axes[-1].set_xlabel("time")
    if made:
        fig.tight_layout()
    return fig


def plot_poles(poles, labels=None, ax=None):
    """Poles of one or several models in the complex plane, with the unit circle.

    Parameters
    ----------
    poles : array_like of complex, or list of such arrays
        One set of poles, or one set per model.
    labels : list of str, optional
        One label per set (default ``model 1, model 2, ...``).
    ax : matplotlib Axes, optional
        Draw into these axes; default a new figure.

    Returns
    -------
    matplotlib.figure.Figure
        The figure of the axes drawn into, left open.
    """
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
    fig, ax = figure_and_axes(ax, figsize=(4.5, 4.5), owner=owner)
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


def plot_identified(result, y=None, u=None, fig=None, max_samples=None):
    """An identified model at a glance: its simulated outputs (against measured ones) and its poles.

    Left, one panel per output: the simulated outputs (``result.y_sim``, or the simulation for ``u``), against
    the measured ``y`` when given (fit index in the title). Right: the poles and the unit circle. A model read
    back from a file holds no simulation: give ``u`` (and ``y``), or only the poles are drawn.

    Parameters
    ----------
    result : IdentifiedModel
        The result of :func:`~structsparse.sysid.identify`.
    y : array_like, shape (n_samples, n_outputs), optional
        The measured outputs.
    u : array_like, shape (n_samples, n_inputs), optional
        Inputs to simulate the model with (default: the simulation the result holds, ``result.y_sim``).
    fig : matplotlib Figure, optional
        Draw into this figure; default a new one.
    max_samples : int, optional
        Show only the first samples.

    Returns
    -------
    matplotlib.figure.Figure
        The figure drawn into, left open.
    """
    from .._validation import check_array, check_int
    from .identify import IdentifiedModel
    from .metrics import fit_index

    owner = "plot_identified"
    if not isinstance(result, IdentifiedModel):
        raise TypeError(f"The 'result' parameter of {owner} must be an IdentifiedModel. Got {type(result).__name__}.")
    check_fig(fig, owner)
    y_sim = result.simulate(u) if u is not None else result.y_sim
    if y is not None:
        y = check_array(y, "y", ndim=(1, 2), finite=False, owner=owner)
        y = y.reshape(len(y), -1)
        if y_sim is None:
            raise ParameterError(f"The 'u' parameter of {owner} is needed with 'y': this model holds no simulation "
                                 "(it was read from a file); give the inputs that go with 'y'.")
        if y.shape != y_sim.shape:
            raise ShapeError(f"The 'y' parameter of {owner} must have the shape of the simulated outputs "
                             f"{y_sim.shape}. Got {y.shape}.")
    if max_samples is not None:
        max_samples = check_int(max_samples, "max_samples", low=1, owner=owner)
    made = fig is None
    p = 0 if y_sim is None else y_sim.shape[1]
    fig = new_figure(fig, figsize=(10, max(3.2, 2.2 * p)) if p else (4.5, 4.5), owner=owner)
    if p:
        grid = fig.add_gridspec(p, 2, width_ratios=(2.2, 1.0))
        T = len(y_sim) if max_samples is None else min(max_samples, len(y_sim))
        t = np.arange(T) * result.model.dt
        fit = fit_index(y, y_sim) if y is not None else None
        first = None
        for i in range(p):
            ax = fig.add_subplot(grid[i, 0], sharex=first)
            first = first or ax
            if y is not None:
                ax.plot(t, y[:T, i], color="0.6", lw=1.2, label="measured")
            ax.plot(t, y_sim[:T, i], color="C0", lw=1.0, ls="--", label="simulated")
            ax.set_title(f"y{i + 1}" + (f": fit {fit[i]:.2f} %" if fit is not None else ""), fontsize=9)
            ax.legend(fontsize=7, loc="upper right")
        ax.set_xlabel("time")
        ax_p = fig.add_subplot(grid[:, 1])
    else:
        ax_p = fig.add_subplot(1, 1, 1)
    plot_poles(result.model.poles(), [f"{result.method}, {result.model.n_states} states"], ax=ax_p)
    if made:
        fig.tight_layout()
    return fig

