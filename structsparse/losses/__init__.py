"""Deprecated alias of :mod:`structsparse.datafits` (kept for one release)."""

import warnings

from ..datafits import LeastSquares

warnings.warn("structsparse.losses is deprecated; import LeastSquares (and Logistic, Huber, Poisson) from "
              "structsparse or structsparse.datafits.", DeprecationWarning, stacklevel=2)

__all__ = ["LeastSquares"]
