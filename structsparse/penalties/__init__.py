"""Structured penalties: one file per penalty, all following :class:`Penalty`."""

from .base import Penalty
from .group_lasso import GroupLasso
from .l1 import L1

__all__ = ["Penalty", "L1", "GroupLasso"]
