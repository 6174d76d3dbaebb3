"""Exceptions and warnings raised by structsparse.

Every error subclasses a builtin (``ValueError`` or ``TypeError``) so that
callers who catch the builtin keep working; the message names the argument
and what was expected.
"""

__all__ = ["StructureError", "ShapeError", "ParameterError", "OnnxError", "ConvergenceWarning"]


class StructureError(ValueError):
    """A group or tree structure is malformed (indices, cycles, weights...)."""


class ShapeError(ValueError):
    """An array has the wrong shape or does not match another argument."""


class ParameterError(ValueError):
    """A scalar or option argument is out of range, non-finite or unknown."""


class OnnxError(ParameterError):
    """An ONNX model uses an operator, attribute or layout that structsparse.nn cannot import or export."""


class ConvergenceWarning(UserWarning):
    """A solver stopped before meeting its tolerance; its result says so."""
