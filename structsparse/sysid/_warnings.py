"""Warnings of the system-identification front end."""

__all__ = ["StabilityWarning", "OrderWarning"]


class StabilityWarning(UserWarning):
    """An identified or given model is unstable (a pole on or outside the unit circle)."""


class OrderWarning(UserWarning):
    """The data barely support the requested model order (a near-zero singular value)."""
