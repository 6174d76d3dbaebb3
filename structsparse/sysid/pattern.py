"""Sparsity patterns of state-space models: which entries are free, and the known values of the others.

A :class:`Pattern` holds, for each of ``A``, ``B``, ``C``, ``D``, a boolean
mask (``True`` = free, to be estimated) and a matrix of known values used at
the fixed entries (its entries at free positions are ignored and stored as
zero). A fixed entry with value zero is a structural zero; a fixed nonzero
entry is a known coefficient (for example a known sensor matrix ``C``).

The free entries, in the order ``A, B, C, D`` and row-major within each
matrix, form the parameter vector ``theta`` used by identification and the
identifiability test.

JSON layout (``Pattern.save``)::

    {"format": "structsparse.sysid.Pattern", "version": 1,
     "free":   {"A": [[1, 0], [1, 1]], "B": ..., "C": ..., "D": ...},
     "values": {"A": [[0, 0.5], [0, 0]], "B": ..., "C": ..., "D": ...}}
"""

from pathlib import Path

import numpy as np

from .. import _saving
from .._validation import check_array
from ..exceptions import ParameterError, ShapeError, ShapeTypeError
from ._io import read_json, write_json

__all__ = ["Pattern", "MATRIX_NAMES"]

MATRIX_NAMES = ("A", "B", "C", "D")
_FORMAT = "structsparse.sysid.Pattern"


def _as_mask(mask, name):
    if mask is None or isinstance(mask, (str, bytes)):  # a wrong type (TypeError), not a wrong value
        raise ShapeTypeError(f"The '{name}' mask of Pattern must be a 2-D boolean array. Got {type(mask).__name__}.")
    try:
        arr = np.asarray(mask)
    except (TypeError, ValueError):
        raise ShapeError(f"The '{name}' mask of Pattern must be a 2-D boolean array.") from None
    if arr.dtype == object:
        raise ShapeError(f"The '{name}' mask of Pattern must be a 2-D boolean array, not ragged.")
    if arr.dtype.kind not in "biuf":
        raise ShapeTypeError(f"The '{name}' mask of Pattern must hold booleans (or 0/1). Got dtype {arr.dtype}.")
    if arr.ndim != 2:
        raise ShapeError(f"The '{name}' mask of Pattern must be 2-D. Got shape {arr.shape}.")
    if arr.dtype != bool:
        if not np.all(np.isin(arr, (0, 1))):
            raise ShapeError(f"The '{name}' mask of Pattern must hold booleans (or 0/1). Got dtype {arr.dtype}.")
        arr = arr.astype(bool)
    return arr.copy()


class Pattern:
    """Free entries and known values of ``(A, B, C, D)``.

    Parameters
    ----------
    A : array_like of bool, shape (n_states, n_states)
        ``True`` where ``A`` is free.
    B : array_like of bool, shape (n_states, n_inputs)
    C : array_like of bool, shape (n_outputs, n_states)
    D : array_like of bool, shape (n_outputs, n_inputs), optional
        All fixed (at ``values["D"]``, zero by default) when omitted.
    values : dict of str -> array_like, optional
        Known values of the fixed entries, one full-shape matrix per name in
        ``"A", "B", "C", "D"``; missing matrices are zero. Entries at free
        positions are ignored.

    Examples
    --------
    A known sensor matrix and structural zeros in ``A`` and ``B``::

        Pattern(A=[[1, 1], [0, 1]], B=[[0], [1]], C=[[0, 0]], values={"C": [[1, 0]]})
    """

    def __init__(self, A, B, C, D=None, values=None):
        masks = {"A": _as_mask(A, "A"), "B": _as_mask(B, "B"), "C": _as_mask(C, "C")}
        n = masks["A"].shape[0]
        if masks["A"].shape != (n, n):
            raise ShapeError(f"The 'A' mask of Pattern must be square. Got shape {masks['A'].shape}.")
        if masks["B"].shape[0] != n:
            raise ShapeError(
                f"The 'B' mask of Pattern must have {n} rows (one per state, as A is {n}x{n}). "
                f"Got shape {masks['B'].shape}."
            )
        if masks["C"].shape[1] != n:
            raise ShapeError(
                f"The 'C' mask of Pattern must have {n} columns (one per state, as A is {n}x{n}). "
                f"Got shape {masks['C'].shape}."
            )
        m, p = masks["B"].shape[1], masks["C"].shape[0]
        masks["D"] = np.zeros((p, m), dtype=bool) if D is None else _as_mask(D, "D")
        if masks["D"].shape != (p, m):
            raise ShapeError(
                f"The 'D' mask of Pattern must have shape ({p}, {m}) (outputs x inputs). Got shape {masks['D'].shape}."
            )
        values = {} if values is None else values
        if not isinstance(values, dict) or any(k not in MATRIX_NAMES for k in values):
            raise ParameterError(
                "The 'values' parameter of Pattern must be a dict with keys among 'A', 'B', 'C', 'D'. "
                f"Got {values!r}."
            )
        vals = {}
        for name in MATRIX_NAMES:
            shape = masks[name].shape
            if name in values and values[name] is not None:
                v = check_array(values[name], f"values['{name}']", shape=shape, owner="Pattern", copy=True)
            else:
                v = np.zeros(shape)
            v[masks[name]] = 0.0
            vals[name] = v
        for d in (masks, vals):
            for arr in d.values():
                arr.setflags(write=False)
        self.masks = masks
        self.values = vals

    # ------------------------------------------------------------------ constructors
    @classmethod
    def full(cls, n_states, n_inputs, n_outputs, feedthrough=False):
        """Every entry of ``A, B, C`` free; ``D`` free only with ``feedthrough``."""
        return cls(np.ones((n_states, n_states), bool), np.ones((n_states, n_inputs), bool),
                   np.ones((n_outputs, n_states), bool),
                   np.full((n_outputs, n_inputs), bool(feedthrough)))

    @classmethod
    def from_system(cls, system, tol=0.0, fixed=()):
        """The pattern of a model's nonzero entries.

        Entries with ``|value| > tol`` are free; the matrices named in
        ``fixed`` (e.g. ``("C",)``) are instead fixed entirely at the
        model's values.
        """
        masks, values = {}, {}
        for name, M in zip(MATRIX_NAMES, system.matrices):
            if name in fixed:
                masks[name] = np.zeros(M.shape, bool)
                values[name] = np.asarray(M)
            else:
                masks[name] = np.abs(M) > tol
        return cls(masks["A"], masks["B"], masks["C"], masks["D"], values=values)

    # ------------------------------------------------------------------ sizes
    @property
    def n_states(self):
        return self.masks["A"].shape[0]

    @property
    def n_inputs(self):
        return self.masks["B"].shape[1]

    @property
    def n_outputs(self):
        return self.masks["C"].shape[0]

    @property
    def n_free(self):
        """Number of free entries (parameters)."""
        return int(sum(M.sum() for M in self.masks.values()))

    def free_entries(self):
        """``[(name, i, j), ...]`` of the free entries in parameter order."""
        out = []
        for name in MATRIX_NAMES:
            out.extend((name, int(i), int(j)) for i, j in np.argwhere(self.masks[name]))
        return out

    # ------------------------------------------------------------------ parameters
    def to_theta(self, A, B, C, D=None):
        """The free entries of ``(A, B, C, D)`` as a parameter vector."""
        mats = dict(zip(MATRIX_NAMES, (A, B, C, D if D is not None else np.zeros(self.masks["D"].shape))))
        parts = []
        for name in MATRIX_NAMES:
            M = np.asarray(mats[name], dtype=float)
            if M.shape != self.masks[name].shape:
                raise ShapeError(
                    f"Pattern.to_theta: '{name}' must have shape {self.masks[name].shape}. Got {M.shape}."
                )
            parts.append(M[self.masks[name]])
        return np.concatenate(parts)

    def to_matrices(self, theta):
        """``(A, B, C, D)`` with the fixed values and ``theta`` at the free entries."""
        theta = np.asarray(theta, dtype=float).ravel()
        if theta.size != self.n_free:
            raise ShapeError(f"Pattern.to_matrices: 'theta' must have {self.n_free} entries. Got {theta.size}.")
        out, k = [], 0
        for name in MATRIX_NAMES:
            M = self.values[name].copy()
            c = int(self.masks[name].sum())
            M[self.masks[name]] = theta[k:k + c]
            k += c
            out.append(M)
        return tuple(out)

    def to_system(self, theta, dt=1.0):
        """The :class:`StateSpace` at ``theta``."""
        from .statespace import StateSpace

        return StateSpace(*self.to_matrices(theta), dt=dt)

    def violation(self, system):
        """Largest absolute deviation of a model's fixed entries from the pattern's values."""
        worst = 0.0
        for name, M in zip(MATRIX_NAMES, system.matrices):
            fixed = ~self.masks[name]
            if fixed.any():
                worst = max(worst, float(np.max(np.abs(np.asarray(M)[fixed] - self.values[name][fixed]))))
        return worst

    def fixed_nonzero(self):
        """Number of fixed entries with a known nonzero value."""
        return int(sum(np.count_nonzero(v) for v in self.values.values()))

    # ------------------------------------------------------------------ io
    def to_dict(self):
        return {**_saving.header(_FORMAT),
                "free": {k: self.masks[k].astype(int).tolist() for k in MATRIX_NAMES},
                "values": {k: self.values[k].tolist() for k in MATRIX_NAMES}}

    @classmethod
    def from_dict(cls, d, source="dict"):
        """Inverse of :meth:`to_dict`; errors name the ``source``."""
        if isinstance(d, dict):  # another kind's file is refused, naming what it holds
            _saving.check_header(d, _FORMAT, source, required=False)
        if not isinstance(d, dict) or not isinstance(d.get("free"), dict):
            raise ParameterError(f"{source} does not hold a sysid pattern (needs a 'free' object with masks A, B, C).")
        free = d["free"]
        missing = [k for k in "ABC" if k not in free]
        if missing:
            raise ParameterError(f"{source}: the 'free' object lacks the mask(s) {missing}.")
        values = d.get("values") or {}
        if not isinstance(values, dict):
            raise ParameterError(f"{source}: 'values' must be an object of matrices.")
        try:
            return cls(free["A"], free["B"], free["C"], free.get("D"),
                       values={k: v for k, v in values.items() if v is not None})
        except (ShapeError, ParameterError) as exc:
            raise type(exc)(f"{source}: {exc}") from None

    def save(self, path):
        """Write the pattern as JSON, atomically."""
        path = _saving.as_path(path, "Pattern.save")
        return write_json(path, self.to_dict())

    @classmethod
    def load(cls, path):
        """Read a pattern written by :meth:`save`.

        Parameters
        ----------
        path : str or Path
            The JSON file.

        Returns
        -------
        Pattern

        Raises
        ------
        MissingFileError
            When the file does not exist (a ``ParameterError`` and a ``FileNotFoundError``).
        ParameterError
            When the file is damaged or holds another kind of object (the message names it).
        """
        path = _saving.as_path(path, "Pattern.load")
        source = f"Pattern file '{path}'"
        pattern = cls.from_dict(read_json(path, "Pattern"), source=source)
        if not pattern.masks["C"].any() and not np.any(pattern.values["C"]):
            raise ParameterError(
                f"{source}: C is fixed at zero (no free entry and no known nonzero value; saved without "
                "'values'?), so the outputs are cut off from the states and nothing is identifiable.")
        return pattern

    # ------------------------------------------------------------------ misc
    def __eq__(self, other):
        if not isinstance(other, Pattern):
            return NotImplemented
        return all(np.array_equal(self.masks[k], other.masks[k]) and np.array_equal(self.values[k], other.values[k])
                   for k in MATRIX_NAMES)

    def __repr__(self):
        counts = ", ".join(f"{k}: {int(self.masks[k].sum())}/{self.masks[k].size} free" for k in MATRIX_NAMES)
        return (f"Pattern(n_states={self.n_states}, n_inputs={self.n_inputs}, n_outputs={self.n_outputs}; "
                f"{counts}; {self.fixed_nonzero()} known nonzero values)")

    def describe(self):
        """Text drawing of the masks: ``*`` free, ``0`` structural zero, ``k`` known nonzero."""
        lines = []
        for k in MATRIX_NAMES:
            M, V = self.masks[k], self.values[k]
            lines.append(f"{k}:")
            for i in range(M.shape[0]):
                lines.append("  " + " ".join("*" if M[i, j] else ("k" if V[i, j] != 0 else "0")
                                             for j in range(M.shape[1])))
        return "\n".join(lines)
