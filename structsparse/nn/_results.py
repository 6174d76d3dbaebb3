"""Deprecated dict-style access for the nn result dataclasses (one release), and small shared helpers.

The nn functions used to return plain dicts; they now return frozen dataclasses. :class:`DictAccessMixin` keeps
``res["key"]``, ``res.get("key")``, ``"key" in res``, ``res.keys()``, ``res.items()`` and ``res.values()``
working for one release, each with a :class:`DeprecationWarning` naming the attribute to use instead.
"""

import dataclasses
import inspect
import warnings

import numpy as np

__all__ = ["DictAccessMixin", "legacy_callback", "seed_from"]


class DictAccessMixin:
    """Dict-style reads of a dataclass's fields, deprecated.

    ``_absent_when_none`` names the fields the old dict did not hold when they are None (``"key" in res`` and
    ``keys()`` leave them out then, as the dict did); ``_legacy_keys`` maps old keys that are not field names to
    the field that replaced them.
    """

    _absent_when_none = ()
    _legacy_keys = {}

    def _warn_dict_access(self, how, key=None):
        name = type(self).__name__
        hint = f"use the attribute res.{self._legacy_keys.get(key, key)}" if key is not None else "use the attributes"
        warnings.warn(f"{name}: dict-style access ({how}) is deprecated and will be removed in the next release; "
                      f"{hint} (the result is a frozen dataclass).", DeprecationWarning, stacklevel=3)

    def _dict_keys(self):
        return [f.name for f in dataclasses.fields(self)
                if not (f.name in self._absent_when_none and getattr(self, f.name) is None)]

    def __getitem__(self, key):
        self._warn_dict_access(f"res[{key!r}]", key)
        attr = self._legacy_keys.get(key, key)
        if not isinstance(attr, str) or attr not in self._dict_keys():
            raise KeyError(key)
        return getattr(self, attr)

    def get(self, key, default=None):
        """Deprecated: ``getattr(res, key, default)``."""
        self._warn_dict_access(f"res.get({key!r})", key)
        attr = self._legacy_keys.get(key, key)
        if not isinstance(attr, str) or attr not in self._dict_keys():
            return default
        return getattr(self, attr)

    def __contains__(self, key):
        self._warn_dict_access(f"{key!r} in res", key)
        return self._legacy_keys.get(key, key) in self._dict_keys()

    def keys(self):
        """Deprecated: the field names (``dataclasses.fields``)."""
        self._warn_dict_access("res.keys()")
        return list(self._dict_keys())

    def values(self):
        """Deprecated: the field values."""
        self._warn_dict_access("res.values()")
        return [getattr(self, k) for k in self._dict_keys()]

    def items(self):
        """Deprecated: ``(field name, value)`` pairs."""
        self._warn_dict_access("res.items()")
        return [(k, getattr(self, k)) for k in self._dict_keys()]


def legacy_callback(callback, owner):
    """``callback`` as a ``callback(k, x, info) -> bool``; an old ``callback(epoch, history)`` is wrapped.

    The form is read from the signature: a callable that cannot take three positional arguments but can take two
    is the old form (kept one release, with a DeprecationWarning); it then receives ``info["history"]``.
    """
    if callback is None:
        return None
    if not callable(callback):
        raise TypeError(f"The 'callback' parameter of {owner} must be a callable callback(k, x, info) -> bool. "
                        f"Got {type(callback).__name__}.")
    try:
        sig = inspect.signature(callback)
    except (TypeError, ValueError):  # builtins without a signature: assume the current form
        return callback

    def binds(n):
        try:
            sig.bind(*range(n))
        except TypeError:
            return False
        return True

    if binds(3):
        return callback
    if binds(2):
        warnings.warn(f"{owner}: a two-argument callback(epoch, history) is deprecated and will be removed in the "
                      "next release; use callback(k, x, info) -> bool (k the epoch, x the network, info['history'] "
                      "the history so far).", DeprecationWarning, stacklevel=3)
        return lambda k, x, info: callback(k, info["history"])
    raise TypeError(f"The 'callback' parameter of {owner} must take three positional arguments (k, x, info).")


def seed_from(rng):
    """An int seed: ``rng`` itself when it is an int, else one drawn from it (None: fresh entropy).

    For the experiments that record their seed (in a recipe) and hand it to several functions.
    """
    if isinstance(rng, (int, np.integer)) and not isinstance(rng, bool):
        return int(rng)
    from .._validation import check_rng

    return int(check_rng(rng).integers(2 ** 31 - 1))
