"""Proximal operators on arrays (``ss.prox.group_soft_threshold`` and friends)."""

from .operators import (
    group_soft_threshold,
    soft_threshold,
    sparse_group_soft_threshold,
    spectral_prox,
    tree_prox,
)

__all__ = [
    "soft_threshold",
    "group_soft_threshold",
    "sparse_group_soft_threshold",
    "tree_prox",
    "spectral_prox",
]
