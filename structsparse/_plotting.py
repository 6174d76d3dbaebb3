"""The one helper shared by the plotting modules of the front ends (``cs/plots.py``, ``sysid/plots.py``,
``nn/plots.py``).

The rules every plotting function follows: it takes ``ax=`` (or ``fig=``), returns the Figure (or a small
plot object holding it), never switches the matplotlib backend and never closes what it returns. Matplotlib is
imported lazily, so importing a front end does not import it.
"""

from ._atomic import save_figure as _atomic_save

__all__ = ["check_ax", "check_fig", "figure_and_axes", "new_figure", "save_figure"]


def check_ax(ax, owner, name="ax"):
    """``ax`` is None or a matplotlib Axes (anything with ``plot`` and ``figure``); TypeError otherwise."""
    if ax is not None and not (hasattr(ax, "plot") and hasattr(ax, "figure")):
        raise TypeError(f"The '{name}' parameter of {owner} must be a matplotlib Axes or None. "
                        f"Got {type(ax).__name__}.")
    return ax


def check_fig(fig, owner, name="fig"):
    """``fig`` is None or a matplotlib Figure (anything with ``subplots``); TypeError otherwise."""
    if fig is not None and not hasattr(fig, "subplots"):
        raise TypeError(f"The '{name}' parameter of {owner} must be a matplotlib Figure or None. "
                        f"Got {type(fig).__name__}.")
    return fig


def new_figure(fig=None, figsize=None, owner="plot"):
    """``fig`` itself, or a new Figure from pyplot in whatever backend is active (never switched).

    Pyplot, not a bare ``Figure``, so that a notebook's inline backend shows it.
    """
    check_fig(fig, owner)
    if fig is not None:
        return fig
    import matplotlib.pyplot as plt

    return plt.figure(figsize=figsize)


def figure_and_axes(ax=None, figsize=None, owner="plot"):
    """``(ax.figure, ax)`` for a given Axes, or a new Figure with one Axes."""
    check_ax(ax, owner)
    if ax is not None:
        return ax.figure, ax
    fig = new_figure(figsize=figsize, owner=owner)
    return fig, fig.add_subplot(1, 1, 1)


def save_figure(fig, path, dpi=110):
    """Write ``fig`` to ``path`` atomically and return the path; the figure stays open.

    Parameters
    ----------
    fig : matplotlib Figure
        The figure to write (whoever made it closes it: ``matplotlib.pyplot.close(fig)``).
    path : str or Path
        The image file; the format follows the suffix (PNG without one). Its folder must exist.
    dpi : int
        Resolution of raster formats.

    Returns
    -------
    Path
    """
    return _atomic_save(fig, path, dpi=dpi)
