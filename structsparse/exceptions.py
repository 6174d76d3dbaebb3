"""Exceptions and warnings raised by structsparse.

Every error subclasses a builtin (``ValueError`` or ``TypeError``) so that
callers who catch the builtin keep working; the message names the argument
and what was expected.
"""

__all__ = ["StructureError", "ShapeError", "ParameterError", "OnnxError", "ConvergenceWarning",
           "ParameterTypeError", "ShapeTypeError", "StructureTypeError", "MissingFileError", "DesignCopyWarning"]


class StructureError(ValueError):
    """A group or tree structure is malformed (indices, cycles, weights...)."""


class ShapeError(ValueError):
    """An array has the wrong shape or does not match another argument."""


class ParameterError(ValueError):
    """A scalar or option argument is out of range, non-finite or unknown."""


class OnnxError(ParameterError):
    """An ONNX model uses an operator, attribute or layout that structsparse.nn cannot import or export."""


class ParameterTypeError(ParameterError, TypeError):
    """A scalar or option argument of the wrong type (a string for a float, a float for an int, ...).

    A ``TypeError``; until 0.3 also the :class:`ParameterError` that 0.1 raised for it, so that code catching
    ``ParameterError`` (or ``ValueError``) keeps working for one release.
    """


class ShapeTypeError(ShapeError, TypeError):
    """An array argument of the wrong type (None, text, complex numbers for a real array, ...).

    A ``TypeError``; until 0.3 also the :class:`ShapeError` that 0.1 raised for it.
    """


class StructureTypeError(StructureError, TypeError):
    """A structure argument of the wrong type (a string or a number where groups or a tree are expected).

    A ``TypeError``; until 0.3 also the :class:`StructureError` that 0.1 raised for it.
    """


class MissingFileError(ParameterError, FileNotFoundError):
    """A file given to a ``load`` does not exist.

    Every ``load`` of the package raises it (``StateSpace.load``, ``Pattern.load``, ``IdentifiedModel.load``,
    ``PhaseTable.load``, ``Graph.load``, ``nn.load_recipe``), so one ``except FileNotFoundError`` or one
    ``except ParameterError`` catches a missing file wherever it is read.
    """


class ConvergenceWarning(UserWarning):
    """A solver stopped before meeting its tolerance; its result says so."""


class DesignCopyWarning(UserWarning):
    """A solver converts the caller's design (a float32 one to float64), which the user did not ask for."""
