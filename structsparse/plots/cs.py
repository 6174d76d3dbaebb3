"""Deprecated (one release): moved to :mod:`structsparse.cs.plots`, which this module re-exports."""

import warnings

from ..cs.plots import *  # noqa: F401,F403
from ..cs.plots import __all__  # noqa: F401

warnings.warn("structsparse.plots.cs is deprecated and will be removed in the next release; "
              "import structsparse.cs.plots (or use the results' .plot() methods) instead.",
              DeprecationWarning, stacklevel=2)
