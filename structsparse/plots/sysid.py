"""Deprecated (one release): moved to :mod:`structsparse.sysid.plots`, which this module re-exports."""

import warnings

from ..sysid.plots import *  # noqa: F401,F403
from ..sysid.plots import __all__  # noqa: F401

warnings.warn("structsparse.plots.sysid is deprecated and will be removed in the next release; "
              "import structsparse.sysid.plots (or use the results' .plot() methods) instead.",
              DeprecationWarning, stacklevel=2)
