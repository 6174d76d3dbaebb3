"""Structured penalties: one file per penalty, all following :class:`Penalty`."""

from .base import Penalty
from .group_lasso import GroupLasso
from .l1 import L1
from .sparse_group_lasso import SparseGroupLasso
from .tree_lasso import TreeLasso
from .nuclear_norm import NuclearNorm
from .group_nuclear import GroupNuclear
from .overlap_group_lasso import OverlapGroupLasso
from .latent_group_lasso import LatentGroupLasso

__all__ = ["Penalty", "L1", "GroupLasso", "SparseGroupLasso", "TreeLasso", "NuclearNorm", "GroupNuclear", "OverlapGroupLasso", "LatentGroupLasso"]
