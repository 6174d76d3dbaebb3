"""Groups of variables, stored as flat CSR-like index arrays.

A ``Groups`` object holds ``indices`` (the variables of all groups, one group
after the other) and ``ptr`` (group ``g`` is ``indices[ptr[g]:ptr[g+1]]``),
plus one non-negative weight per group. The arrays are read-only: a
``Groups`` never changes after construction.
"""

from numbers import Integral

import numpy as np

from ..exceptions import StructureError, StructureTypeError

__all__ = ["Groups"]


def _resolve_weights(weights, sizes, where):
    n_groups = len(sizes)
    if weights is None:
        w = np.ones(n_groups)
    elif isinstance(weights, str):
        if weights != "sqrt_size":
            raise StructureError(
                f"The 'weights' parameter of {where} must be None, 'sqrt_size' or an array. Got {weights!r} instead."
            )
        w = np.sqrt(np.asarray(sizes, dtype=float))
    else:
        try:
            w = np.array(weights, dtype=float).ravel()
        except (TypeError, ValueError):
            raise StructureTypeError(f"The 'weights' parameter of {where} must be numeric. "
                                     f"Got {type(weights).__name__}.") from None
        if w.size != n_groups:
            raise StructureError(
                f"The 'weights' parameter of {where} must have one entry per group ({n_groups}). Got {w.size}."
            )
        if not np.all(np.isfinite(w)):
            raise StructureError(f"The 'weights' parameter of {where} must be finite (no NaN or inf).")
        if np.any(w < 0):
            raise StructureError(f"The 'weights' parameter of {where} must be non-negative. Got min {w.min():g}.")
    w.setflags(write=False)
    return w


class Groups:
    """An immutable collection of (possibly overlapping) groups of variables.

    Use the constructors :meth:`from_lists`, :meth:`from_sizes`,
    :meth:`contiguous` and :meth:`from_labels` rather than ``__init__``.

    Attributes
    ----------
    indices : ndarray of int64, read-only
        The variables of every group, concatenated.
    ptr : ndarray of int64, read-only
        Group ``g`` is ``indices[ptr[g]:ptr[g + 1]]``.
    weights : ndarray of float64, read-only
        Non-negative weight of each group.
    n_features : int
        Number of variables the groups index into.
    """

    __slots__ = ("indices", "ptr", "weights", "n_features", "_disjoint")

    def __init__(self, indices, ptr, n_features, weights=None):
        where = "Groups"
        try:
            idx_in, ptr_in = np.asarray(indices), np.asarray(ptr)
        except (TypeError, ValueError):
            raise StructureTypeError("The 'indices' and 'ptr' of Groups must be integer arrays.") from None
        for name, arr in (("indices", idx_in), ("ptr", ptr_in)):
            if arr.size and arr.dtype.kind not in "iu":
                raise StructureTypeError(f"The '{name}' parameter of Groups must be an integer array. "
                                         f"Got dtype {arr.dtype}.")
        idx = np.array(idx_in, dtype=np.int64).ravel()  # a copy: the caller's array is never frozen or kept
        ptr = np.array(ptr_in, dtype=np.int64).ravel()
        if not isinstance(n_features, (Integral, np.integer)) or isinstance(n_features, bool) or n_features < 1:
            error = StructureError if isinstance(n_features, (Integral, np.integer)) else StructureTypeError
            raise error(f"The 'n_features' parameter of Groups must be a positive int. Got {n_features!r}.")
        n_features = int(n_features)
        if ptr.size < 2 or ptr[0] != 0 or ptr[-1] != idx.size or np.any(np.diff(ptr) < 1):
            raise StructureError(
                "Groups must be non-empty: 'ptr' must start at 0, end at len(indices) and increase strictly."
            )
        if idx.size and (idx.min() < 0 or idx.max() >= n_features):
            bad = idx[(idx < 0) | (idx >= n_features)][0]
            raise StructureError(f"The 'groups' of Groups: index {bad} is out of range [0, {n_features - 1}] (n_features={n_features}).")
        # duplicates within a group, found for all groups at once: sort by (group, index), compare neighbours
        owner = np.repeat(np.arange(ptr.size - 1), np.diff(ptr))
        order = np.lexsort((idx, owner))
        same = (owner[order][1:] == owner[order][:-1]) & (idx[order][1:] == idx[order][:-1])
        if np.any(same):
            g = int(owner[order][1:][same][0])
            raise StructureError(f"The 'groups' of Groups: group {g} lists a variable more than once (duplicate index).")
        sizes = np.diff(ptr)
        w = _resolve_weights(weights, sizes, where)
        idx.setflags(write=False)
        ptr.setflags(write=False)
        counts = np.bincount(idx, minlength=n_features)
        object.__setattr__(self, "indices", idx)
        object.__setattr__(self, "ptr", ptr)
        object.__setattr__(self, "weights", w)
        object.__setattr__(self, "n_features", n_features)
        object.__setattr__(self, "_disjoint", bool(np.all(counts <= 1)))

    def __setattr__(self, name, value):
        raise AttributeError("Groups is immutable; build a new one (for example with with_weights).")

    def __delattr__(self, name):
        raise AttributeError("Groups is immutable; build a new one (for example with with_weights).")

    # immutable: copies can share it; pickling rebuilds it through the validated constructor
    def __copy__(self):
        return self

    def __deepcopy__(self, memo):
        return self

    def __reduce__(self):
        return (Groups, (np.array(self.indices), np.array(self.ptr), self.n_features, np.array(self.weights)))

    # ------------------------------------------------------------------ constructors
    @classmethod
    def from_lists(cls, lists, n_features=None, weights=None):
        """Build groups from a list of index lists.

        Parameters
        ----------
        lists : sequence of sequence of int
            The variables of each group.
        n_features : int, optional
            Total number of variables; defaults to ``max index + 1``.
        weights : None, 'sqrt_size' or array_like
            Per-group weights (default 1).

        Examples
        --------
        >>> g = Groups.from_lists([[0, 1], [2, 3]], n_features=4)
        >>> g.n_groups, g.is_disjoint
        (2, True)
        """
        if isinstance(lists, (str, bytes, dict)) or not hasattr(lists, "__len__"):
            raise StructureTypeError("The 'lists' parameter of Groups.from_lists must be a non-empty list of index "
                                     f"lists. Got {type(lists).__name__}.")
        if len(lists) == 0:
            raise StructureError("The 'lists' parameter of Groups.from_lists must be a non-empty list of index lists.")
        members = []
        for g, item in enumerate(lists):
            if np.isscalar(item) or isinstance(item, (str, bytes)) or item is None:
                raise StructureTypeError(f"The 'lists' parameter of Groups.from_lists: group {g} must be a list of "
                                         f"indices. Got {item!r}.")
            try:
                arr = np.asarray(item)
            except (TypeError, ValueError):  # ragged nested lists
                raise StructureError(
                    f"The 'lists' parameter of Groups.from_lists: group {g} must be a flat list of integer indices. Got {item!r}."
                ) from None
            if arr.size == 0:
                raise StructureError(f"The 'lists' parameter of Groups.from_lists: group {g} is empty; every group needs at least one variable.")
            if arr.ndim != 1 or arr.dtype.kind not in "iu":
                if arr.dtype.kind == "f" and np.all(np.isfinite(arr)) and np.all(arr == np.round(arr)):
                    arr = arr.astype(np.int64)
                else:
                    error = StructureTypeError if arr.dtype.kind not in "iu" and arr.size else StructureError
                    raise error(f"The 'lists' parameter of Groups.from_lists: group {g} must be a flat list of integer "
                                f"indices. Got {item!r}.")
            members.append(arr.astype(np.int64))
        sizes = [m.size for m in members]
        ptr = np.concatenate([[0], np.cumsum(sizes)])
        indices = np.concatenate(members)
        if n_features is None:
            n_features = int(indices.max()) + 1 if indices.min() >= 0 else 1
        return cls(indices, ptr, n_features, weights)

    @classmethod
    def from_sizes(cls, sizes, weights=None):
        """Consecutive disjoint groups with the given sizes, covering ``sum(sizes)`` variables."""
        try:
            s = np.asarray(sizes)
        except (TypeError, ValueError):
            raise StructureError("The 'sizes' parameter of Groups.from_sizes must be a list of positive ints.") from None
        if s.ndim != 1 or s.size == 0 or s.dtype.kind not in "iu" or np.any(s < 1):
            error = StructureTypeError if (s.size and s.dtype.kind not in "iu") or isinstance(sizes, (str, bytes)) \
                else StructureError
            raise error(f"The 'sizes' parameter of Groups.from_sizes must be a list of positive ints. Got {sizes!r}.")
        ptr = np.concatenate([[0], np.cumsum(s)])
        return cls(np.arange(ptr[-1]), ptr, int(ptr[-1]), weights)

    @classmethod
    def contiguous(cls, n_features, size, weights=None):
        """Consecutive groups of ``size`` variables; the last one is shorter if ``size`` does not divide."""
        for name, val in (("n_features", n_features), ("size", size)):
            if not isinstance(val, (Integral, np.integer)) or isinstance(val, bool) or val < 1:
                error = StructureError if isinstance(val, (Integral, np.integer)) and not isinstance(val, bool) \
                    else StructureTypeError
                raise error(f"The '{name}' parameter of Groups.contiguous must be a positive int. Got {val!r}.")
        full, rest = divmod(int(n_features), int(size))
        sizes = [int(size)] * full + ([rest] if rest else [])
        return cls.from_sizes(sizes, weights)

    @classmethod
    def from_labels(cls, labels, weights=None):
        """One group per distinct non-negative label; features labelled -1 are in no group.

        Groups are ordered by label value.
        """
        lab = np.asarray(labels)
        if lab.ndim != 1 or lab.size == 0 or lab.dtype.kind not in "iu":
            error = StructureTypeError if lab.size and lab.dtype.kind not in "iu" else StructureError
            raise error("The 'labels' parameter of Groups.from_labels must be a 1-D array of ints. "
                        f"Got {type(labels).__name__} of dtype {lab.dtype}.")
        if np.any(lab < -1):
            raise StructureError("The 'labels' parameter of Groups.from_labels must be >= -1 (-1 means no group).")
        keep = lab >= 0
        if not np.any(keep):
            raise StructureError("The 'labels' parameter of Groups.from_labels must put at least one feature in a group.")
        order = np.argsort(lab, kind="stable")
        order = order[keep[order]]
        uniq, counts = np.unique(lab[order], return_counts=True)
        ptr = np.concatenate([[0], np.cumsum(counts)])
        return cls(order, ptr, lab.size, weights)

    # ------------------------------------------------------------------ views
    @property
    def n_groups(self):
        """Number of groups."""
        return self.ptr.size - 1

    @property
    def sizes(self):
        """Size of each group."""
        return np.diff(self.ptr)

    @property
    def is_disjoint(self):
        """True when no variable belongs to two groups."""
        return self._disjoint

    @property
    def covered(self):
        """Boolean mask of the variables that belong to at least one group."""
        mask = np.zeros(self.n_features, dtype=bool)
        mask[self.indices] = True
        return mask

    @property
    def counts(self):
        """How many groups hold each variable."""
        return np.bincount(self.indices, minlength=self.n_features)

    def __len__(self):
        return self.n_groups

    def __getitem__(self, g):
        if not isinstance(g, (Integral, np.integer)):
            raise TypeError(f"Groups indices must be ints. Got {type(g).__name__}.")
        if g < 0:
            g += self.n_groups
        if not 0 <= g < self.n_groups:
            raise IndexError(f"group {g} out of range for {self.n_groups} groups")
        return self.indices[self.ptr[g]:self.ptr[g + 1]]

    def __iter__(self):
        for g in range(self.n_groups):
            yield self.indices[self.ptr[g]:self.ptr[g + 1]]

    def to_lists(self):
        """The groups as a list of Python lists."""
        return [list(map(int, g)) for g in self]

    def with_weights(self, weights):
        """A copy with other weights."""
        return Groups(self.indices, self.ptr, self.n_features, weights)

    def __eq__(self, other):
        return (isinstance(other, Groups) and self.n_features == other.n_features
                and np.array_equal(self.ptr, other.ptr) and np.array_equal(self.indices, other.indices)
                and np.array_equal(self.weights, other.weights))

    def __hash__(self):
        return hash((self.n_features, self.ptr.tobytes(), self.indices.tobytes(), self.weights.tobytes()))

    def __repr__(self):
        kind = "disjoint" if self.is_disjoint else "overlapping"
        return f"Groups(n_groups={self.n_groups}, n_features={self.n_features}, {kind})"
