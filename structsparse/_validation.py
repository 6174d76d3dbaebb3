"""Shared argument checks. Each names the argument and what was expected.

The messages follow scikit-learn's style: ``"The 'lam' parameter of
GroupLasso must be a finite float >= 0. Got -1.0 instead."``

A value of the wrong type raises a ``TypeError`` (:class:`ParameterTypeError`,
:class:`ShapeTypeError`, which until 0.3 are also the ``ValueError``
subclasses 0.1 raised); a wrong value of the right type raises
:class:`ParameterError` or :class:`ShapeError`.
"""

import functools
import inspect
import math
import warnings
from numbers import Integral, Real

import numpy as np

from .exceptions import ParameterError, ParameterTypeError, ShapeError, ShapeTypeError

__all__ = [
    "check_array",
    "check_scalar",
    "check_int",
    "check_rng",
    "check_choice",
    "check_bool",
    "check_adjoint",
    "check_options",
    "accepted_options",
    "renamed_kwarg",
]


def _where(owner):
    return f" of {owner}" if owner else ""


def check_array(x, name, *, ndim=None, shape=None, dtype=np.float64, finite=True,
                owner=None, copy=False):
    """Convert ``x`` to an array and check it.

    Parameters
    ----------
    x : array_like
        The value to check.
    name : str
        The argument's name, used in error messages.
    ndim : int or tuple of int, optional
        Accepted numbers of dimensions.
    shape : tuple, optional
        Expected shape; ``None`` entries match any length.
    dtype : dtype or None
        Target dtype; ``None`` keeps the input's.
    finite : bool
        Reject NaN and infinite entries.
    owner : str, optional
        The function or class the argument belongs to, for the message.
    copy : bool
        Return a copy even when no conversion was needed, so the caller's
        array can never be modified through the result.

    Returns
    -------
    ndarray
    """
    if x is None:
        raise ShapeTypeError(f"The '{name}' parameter{_where(owner)} must be an array. Got None instead.")
    _check_kind(x, name, dtype, owner)
    try:
        arr = np.array(x, dtype=dtype, copy=True) if copy else np.asarray(x, dtype=dtype)
    except (TypeError, ValueError) as exc:
        # a ragged nested list is a wrong value; a string, a dict or another object is a wrong type
        error = ShapeError if isinstance(x, (list, tuple)) else ShapeTypeError
        raise error(
            f"The '{name}' parameter{_where(owner)} must be a numeric array. Got {type(x).__name__}: {exc}"
        ) from None
    if arr.dtype == object:
        raise ShapeError(f"The '{name}' parameter{_where(owner)} must be a numeric array, not ragged or object.")
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, Integral) else tuple(ndim)
        if arr.ndim not in allowed:
            want = " or ".join(str(d) for d in allowed)
            raise ShapeError(
                f"The '{name}' parameter{_where(owner)} must have {want} dimension(s). Got shape {arr.shape}."
            )
    if shape is not None:
        ok = arr.ndim == len(shape) and all(s is None or s == a for s, a in zip(shape, arr.shape))
        if not ok:
            want = "(" + ", ".join("any" if s is None else str(s) for s in shape) + ")"
            raise ShapeError(f"The '{name}' parameter{_where(owner)} must have shape {want}. Got {arr.shape}.")
    # min and max propagate NaN and show infinities: two passes with no temporary, unlike isfinite(arr).all()
    if finite and arr.size and (arr.dtype.kind == "c" and not np.isfinite(arr).all()
                                or arr.dtype.kind == "f" and not (np.isfinite(arr.min()) and np.isfinite(arr.max()))):
        raise ShapeError(f"The '{name}' parameter{_where(owner)} must contain only finite values (no NaN or inf).")
    return arr


def _check_kind(x, name, dtype, owner):
    """Refuse complex input for a real target (numpy would drop the imaginary part) and text input."""
    if dtype is None or np.dtype(dtype).kind not in "fiub":
        return
    src = getattr(x, "dtype", None)
    if src is None and isinstance(x, (list, tuple)):
        try:
            src = np.asarray(x).dtype
        except (TypeError, ValueError):
            return
    if src is None:
        return
    src = np.dtype(src)
    if src.kind == "c":
        raise ShapeTypeError(f"The '{name}' parameter{_where(owner)} must be real. Got a complex array ({src}); "
                         "pass its real part, or split real and imaginary parts, explicitly.")
    if src.kind in "USaV":
        raise ShapeTypeError(f"The '{name}' parameter{_where(owner)} must be a numeric array. Got dtype {src}.")
    if src.kind == "O":
        flat = np.asarray(x, dtype=object).ravel()
        bad = next((v for v in flat if isinstance(v, (str, bytes, complex)) or v is None), None)
        if bad is not None:
            raise ShapeTypeError(f"The '{name}' parameter{_where(owner)} must be a numeric array. "
                                 f"Got an object array holding {bad!r}.")


def check_scalar(x, name, *, low=None, high=None, low_inclusive=True, high_inclusive=True,
                 owner=None):
    """Check a finite real scalar in a range and return it as ``float``."""
    # plain floats skip the (slow) abstract-base-class checks: this runs in every prox call
    if type(x) is not float and (isinstance(x, (bool, np.bool_)) or not isinstance(x, (Real, np.floating, np.integer))):
        raise ParameterTypeError(
            f"The '{name}' parameter{_where(owner)} must be a real number. Got {x!r} instead."
        )
    x = float(x)
    bad = not math.isfinite(x)
    if low is not None:
        bad |= x < low if low_inclusive else x <= low
    if high is not None:
        bad |= x > high if high_inclusive else x >= high
    if bad:
        lo = "-inf" if low is None else f"{low:g}"
        hi = "inf" if high is None else f"{high:g}"
        # an unbounded end is open: the value must be finite, so infinity itself is refused
        interval = (("[" if low_inclusive and low is not None else "(") + f"{lo}, {hi}"
                    + ("]" if high_inclusive and high is not None else ")"))
        raise ParameterError(
            f"The '{name}' parameter{_where(owner)} must be a finite float in the range {interval}. Got {x!r} instead."
        )
    return x


def check_int(x, name, *, low=None, high=None, owner=None):
    """Check an integer in ``[low, high]`` and return it as ``int``."""
    if isinstance(x, (bool, np.bool_)) or not isinstance(x, (Integral, np.integer)):
        raise ParameterTypeError(f"The '{name}' parameter{_where(owner)} must be an integer. Got {x!r} instead.")
    x = int(x)
    if (low is not None and x < low) or (high is not None and x > high):
        lo = "-inf" if low is None else low
        hi = "inf" if high is None else high
        raise ParameterError(
            f"The '{name}' parameter{_where(owner)} must be an integer in the range [{lo}, {hi}]. Got {x} instead."
        )
    return x


def check_choice(x, name, choices, *, owner=None):
    """Check that ``x`` is one of ``choices``.

    A value of another type than the (string) choices raises
    :class:`ParameterTypeError`; an unknown string :class:`ParameterError`.
    """
    if x not in choices:
        opts = ", ".join(repr(c) for c in choices)
        wrong_type = all(isinstance(c, str) for c in choices) and not isinstance(x, str)
        raise (ParameterTypeError if wrong_type else ParameterError)(
            f"The '{name}' parameter{_where(owner)} must be one of {opts}. Got {x!r} instead.")
    return x


def check_bool(x, name, *, owner=None):
    """Check that ``x`` is a bool (``numpy.bool_`` too) and return it as ``bool``; else :class:`ParameterTypeError`."""
    if not isinstance(x, (bool, np.bool_)):
        raise ParameterTypeError(f"The '{name}' parameter{_where(owner)} must be a bool. Got {x!r} instead.")
    return bool(x)


def check_rng(rng, name="rng", owner=None):
    """Return a ``numpy.random.Generator`` from a seed, a generator or None.

    ``None`` draws fresh entropy from the operating system, an ``int`` seeds
    a new generator, a ``Generator`` is returned as is (and advanced by the
    caller). Another type raises :class:`ParameterTypeError` (a
    ``TypeError``), a negative seed :class:`ParameterError`.
    """
    if isinstance(rng, np.random.Generator):
        return rng
    is_int = isinstance(rng, (Integral, np.integer)) and not isinstance(rng, (bool, np.bool_))
    if rng is None or (is_int and rng >= 0):
        return np.random.default_rng(rng)
    error = ParameterError if is_int else ParameterTypeError
    raise error(
        f"The '{name}' parameter{_where(owner)} must be a non-negative int seed, a numpy.random.Generator or None. "
        f"Got {rng!r} instead."
    )



def check_adjoint(op, name, owner=None):
    """Refuse a complex ``LinearOperator`` or one without ``rmatvec`` now, not mid-solve.

    Parameters
    ----------
    op : scipy.sparse.linalg.LinearOperator
        The operator (other objects are returned unchanged).
    name : str
        The argument's name, for the message.
    owner : str, optional
        The function the argument belongs to.

    Returns
    -------
    op
    """
    from scipy.sparse.linalg import LinearOperator

    if not isinstance(op, LinearOperator):
        return op
    if len(op.shape) != 2:
        raise ShapeError(f"The '{name}' parameter{_where(owner)} must be 2-D. Got shape {op.shape}.")
    if op.dtype is not None and np.dtype(op.dtype).kind == "c":
        raise ParameterError(f"The '{name}' parameter{_where(owner)} must be a real operator. Got dtype {op.dtype}.")
    try:
        op.rmatvec(np.zeros(op.shape[0]))
    except NotImplementedError:
        raise ParameterError(
            f"The '{name}' parameter{_where(owner)} is a LinearOperator without rmatvec; the adjoint A^T r is "
            "needed: build it with LinearOperator(shape, matvec=..., rmatvec=...).") from None
    return op


def accepted_options(fn, exclude=()):
    """The keyword arguments a callable accepts, from its signature.

    Parameters
    ----------
    fn : callable
        The function the options are forwarded to.
    exclude : iterable of str
        Names the caller passes itself (``loss``, ``penalty``, ``x0``, ...),
        which are therefore not options.

    Returns
    -------
    names : frozenset of str or None
        The accepted keyword names, or ``None`` when ``fn`` takes ``**kwargs``
        (or has no signature), so that any key is accepted.
    """
    import inspect

    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return None
    if any(p.kind is p.VAR_KEYWORD for p in params.values()):
        return None
    names = {n for n, p in params.items() if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}
    return frozenset(names - set(exclude))


def check_options(owner, options, accepted, *, target=None):
    """Refuse keyword arguments that ``owner`` would forward but nobody takes.

    Parameters
    ----------
    owner : str
        The public function the user called (named first in the message).
    options : dict
        The ``**kwargs`` it received.
    accepted : iterable of str or None
        The keys it forwards; ``None`` accepts any key (the target takes
        ``**kwargs`` itself).
    target : str, optional
        What the options are forwarded to (``"the solver 'fista'"``), for
        the message.

    Returns
    -------
    dict
        ``options``, unchanged.

    Raises
    ------
    ParameterError
        Naming ``owner``, every unknown key and the accepted ones, e.g.
        ``"path: the solver 'fista' takes no option 'bogus'; it takes
        callback, max_iter, restart, verbose."``
    """
    if accepted is None:
        return options
    accepted = frozenset(accepted)
    unknown = sorted(set(options) - accepted)
    if unknown:
        who = f"{owner}: {target}" if target else owner
        keys = ", ".join(repr(k) for k in unknown)
        takes = ", ".join(sorted(accepted)) if accepted else "no options"
        raise ParameterError(f"{who} takes no option {keys}; it takes {takes}.")
    return options




def renamed_kwarg(old, new, *, remove_in="0.3"):
    """Decorator: accept the deprecated keyword ``old`` as ``new`` for one release.

    The decorated function's signature (``inspect.signature``) shows only
    ``new``, so no public signature names the old argument; a call with
    ``old=`` still works, with a ``DeprecationWarning`` pointing at the
    caller. Giving both raises :class:`ParameterError`.

    Parameters
    ----------
    old : str
        The deprecated keyword (``"seed"``).
    new : str
        The parameter that replaces it (``"rng"``).
    remove_in : str, default "0.3"
        The release that removes ``old``.

    Returns
    -------
    callable
        The decorator.
    """
    def decorate(fn):
        sig = inspect.signature(fn)
        if new not in sig.parameters or old in sig.parameters:
            raise ValueError(f"renamed_kwarg: {fn.__qualname__} must take {new!r} and not {old!r}.")

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            if old in kwargs:
                value = kwargs.pop(old)
                if new in sig.bind_partial(*args, **kwargs).arguments:
                    raise ParameterError(f"{fn.__name__}: pass '{new}' only ('{old}' is its deprecated old name).")
                warnings.warn(f"{fn.__name__}: '{old}=' is deprecated and will be removed in {remove_in}; pass "
                              f"{new}= instead.", DeprecationWarning, stacklevel=2)
                kwargs[new] = value
            return fn(*args, **kwargs)

        return wrapper

    return decorate
