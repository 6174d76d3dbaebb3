"""Group and tree structures over variables."""

from .groups import Groups
from .tree import Tree

__all__ = ["Groups", "Tree"]
