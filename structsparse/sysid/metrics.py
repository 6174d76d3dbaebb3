"""Quality measures for identified models: fit, NRMSE, pole error, support scores."""

import numpy as np
from scipy.optimize import linear_sum_assignment

from .._validation import check_array, check_choice
from ..exceptions import ParameterError, ShapeError
from .pattern import MATRIX_NAMES, Pattern

__all__ = ["fit_index", "nrmse", "pole_error", "support_scores"]


def _pair(y, y_hat, owner):
    y = check_array(y, "y", ndim=(1, 2), owner=owner)
    y_hat = check_array(y_hat, "y_hat", ndim=(1, 2), owner=owner)
    y = y[:, None] if y.ndim == 1 else y
    y_hat = y_hat[:, None] if y_hat.ndim == 1 else y_hat
    if y.shape != y_hat.shape:
        raise ShapeError(f"{owner}: 'y' has shape {y.shape} but 'y_hat' has shape {y_hat.shape}; they must match.")
    return y, y_hat


def nrmse(y, y_hat):
    """Normalized root-mean-square error per output: ``||y - y_hat|| / ||y - mean(y)||``.

    Parameters
    ----------
    y : array_like, shape (n_samples,) or (n_samples, n_outputs)
        Measured outputs, finite; a 1-D array is one output.
    y_hat : array_like, same shape as ``y``
        Predicted or simulated outputs.

    Returns
    -------
    numpy.ndarray, shape (n_outputs,)
        0 is a perfect match. A constant output gives ``inf`` unless it is
        matched exactly (then 0).
    """
    y, y_hat = _pair(y, y_hat, "nrmse")
    num = np.linalg.norm(y - y_hat, axis=0)
    den = np.linalg.norm(y - y.mean(axis=0), axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(den > 0, num / np.where(den > 0, den, 1.0), np.where(num > 0, np.inf, 0.0))
    return out


def fit_index(y, y_hat):
    """Fit index per output in percent: ``100 * (1 - ||y - y_hat|| / ||y - mean(y)||)``.

    Parameters
    ----------
    y : array_like, shape (n_samples,) or (n_samples, n_outputs)
        Measured outputs, finite; a 1-D array is one output.
    y_hat : array_like, same shape as ``y``
        Predicted or simulated outputs.

    Returns
    -------
    numpy.ndarray, shape (n_outputs,)
        100 is a perfect fit, 0 is no better than the mean; it can be
        negative (``-inf`` for a constant output that is not matched).
    """
    return 100.0 * (1.0 - nrmse(y, y_hat))


def _poles(p, name):
    """A set of poles as a flat complex array; text or objects are a TypeError naming the argument."""
    if isinstance(p, (str, bytes)) or np.asarray(p).dtype.kind in "USOV":
        raise TypeError(f"The '{name}' parameter of pole_error must be an array of numbers. Got {type(p).__name__}.")
    return np.asarray(p, dtype=complex).ravel()


def pole_error(true_poles, estimated_poles, reduce="max"):
    """Distance between two sets of poles after optimal one-to-one matching.

    The matching minimizes the total distance (Hungarian algorithm,
    ``scipy.optimize.linear_sum_assignment``); unmatched poles (sets of
    different sizes) are ignored.

    Parameters
    ----------
    true_poles, estimated_poles : array_like of complex
    reduce : {"max", "mean", "none"}
        Largest matched distance, their mean, or all of them (sorted by the true pole).
    """
    check_choice(reduce, "reduce", ("max", "mean", "none"), owner="pole_error")
    a, b = (_poles(p, name) for p, name in ((true_poles, "true_poles"), (estimated_poles, "estimated_poles")))
    if a.size == 0 or b.size == 0:
        raise ShapeError("pole_error: both sets of poles must be non-empty.")
    if not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
        raise ShapeError("pole_error: poles must be finite.")
    cost = np.abs(a[:, None] - b[None, :])
    rows, cols = linear_sum_assignment(cost)
    d = cost[rows, cols]
    if reduce == "max":
        return float(d.max())
    if reduce == "mean":
        return float(d.mean())
    return d


def _support(obj, names):
    if isinstance(obj, Pattern):
        # a pattern's support: free entries plus known nonzero values
        return {k: obj.masks[k] | (obj.values[k] != 0) for k in names}
    if hasattr(obj, "matrices"):
        return {k: np.asarray(M) != 0 for k, M in zip(MATRIX_NAMES, obj.matrices) if k in names}
    if isinstance(obj, dict):
        return {k: np.asarray(obj[k]) != 0 for k in names}
    arr = np.asarray(obj)
    return {"_": arr != 0}


def support_scores(true, found, matrices=("A", "B")):
    """Precision, recall and F1 of a found support against the true one.

    Parameters
    ----------
    true, found : Pattern, StateSpace, dict of arrays, or array
        Supports (nonzero / free entries). Patterns count free entries and
        known nonzero values; models count nonzero entries.
    matrices : tuple of str
        Which matrices to score together (ignored for plain arrays).

    Returns
    -------
    dict with ``precision``, ``recall``, ``f1``, ``tp``, ``fp``, ``fn``.
    """
    for arg, obj in (("true", true), ("found", found)):
        if isinstance(obj, (str, bytes)) or obj is None:
            raise TypeError(f"The '{arg}' parameter of support_scores must be a Pattern, a StateSpace, a dict of "
                            f"arrays or an array. Got {type(obj).__name__}.")
    names = tuple(matrices)
    unknown = [k for k in names if k not in MATRIX_NAMES]
    if unknown:
        raise ParameterError(f"The 'matrices' parameter of support_scores names {unknown}; use some of {MATRIX_NAMES}.")
    st, sf = _support(true, names), _support(found, names)
    if st.keys() != sf.keys():
        raise ShapeError("support_scores: 'true' and 'found' must be of the same kind (both arrays or both models).")
    tp = fp = fn = 0
    for k in st:
        if st[k].shape != sf[k].shape:
            raise ShapeError(f"support_scores: '{k}' shapes differ: {st[k].shape} vs {sf[k].shape}.")
        tp += int(np.sum(st[k] & sf[k]))
        fp += int(np.sum(~st[k] & sf[k]))
        fn += int(np.sum(st[k] & ~sf[k]))
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "tp": tp, "fp": fp, "fn": fn}
