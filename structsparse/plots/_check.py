"""Deprecated: the argument checks of the plotting functions are in :mod:`structsparse._plotting`."""

from .._plotting import check_ax, check_fig

__all__ = ["check_ax", "check_fig"]
