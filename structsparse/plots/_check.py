"""Argument checks shared by the plotting functions (a wrong ``ax`` or ``fig`` named, not an AttributeError)."""


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
