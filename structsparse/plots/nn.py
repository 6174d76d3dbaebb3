"""Deprecated: the nn figures moved to :mod:`structsparse.nn.plots` (this shim stays for one release).

Every name is re-exported from there; reading one through this module warns (DeprecationWarning). The functions
now return the Figure and leave it open (``path=`` is optional and only writes a copy).
"""

import warnings

__all__ = ["pruning_dashboard", "pixel_mask_figure", "latency_distribution", "accuracy_delta"]


def __getattr__(name):
    if name in __all__:
        warnings.warn(f"structsparse.plots.nn.{name} is deprecated and will be removed in the next release; use "
                      f"structsparse.nn.plots.{name} (it returns the Figure and leaves it open).",
                      DeprecationWarning, stacklevel=2)
        from ..nn import plots

        return getattr(plots, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
