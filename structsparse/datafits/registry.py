"""Registry of every datafit, with random problems for property tests, ``structsparse verify`` and the docs.

``random_datafit(name, A, rng)`` draws targets that suit the datafit for
the design ``A``: Gaussian responses (least squares), labels from a noisy
linear model (logistic), responses with 10 % gross outliers (Huber), counts
from a log-linear model (Poisson). A new datafit is one file plus one
:func:`register_datafit` call (or one line in ``DATAFIT_REGISTRY``).

Examples
--------
>>> import numpy as np
>>> fit = random_datafit("logistic", np.random.default_rng(0).standard_normal((20, 5)), rng=0)
>>> sorted(set(fit.y.tolist()))
[-1.0, 1.0]
"""

import numpy as np

from .._validation import check_rng
from ..exceptions import ParameterError
from .base import Datafit
from .huber import Huber
from .least_squares import LeastSquares
from .logistic import Logistic
from .poisson import Poisson

__all__ = ["DATAFIT_REGISTRY", "DATAFIT_NAMES", "random_datafit", "register_datafit", "datafit_names",
           "accepts_several_targets"]


def _signal(A, rng, scale):
    """``A x`` for a sparse ``x`` scaled so that ``A x`` has standard deviation about ``scale``."""
    p = A.shape[1]
    x = np.zeros(p)
    k = max(1, p // 5)
    x[rng.choice(p, size=k, replace=False)] = rng.standard_normal(k)
    z = np.asarray(A @ x).ravel()
    sd = float(np.std(z)) or 1.0
    return z * (scale / sd)


def _make_least_squares(A, rng, n_targets):
    shape = (A.shape[0],) if n_targets is None else (A.shape[0], n_targets)
    return LeastSquares(A, rng.standard_normal(shape))


def _make_logistic(A, rng, n_targets):
    z = _signal(A, rng, 2.0) + 0.5 * rng.standard_normal(A.shape[0])
    y = np.where(z > 0, 1.0, -1.0)
    if np.all(y == y[0]) and y.size > 1:  # both classes present
        y[0] = -y[0]
    return Logistic(A, y)


def _make_huber(A, rng, n_targets):
    shape = (A.shape[0],) if n_targets is None else (A.shape[0], n_targets)
    y = rng.standard_normal(shape)
    outliers = rng.random(A.shape[0]) < 0.1
    y[outliers] += 10.0 * rng.standard_normal((int(outliers.sum()),) + shape[1:])
    return Huber(A, y, delta=float(rng.uniform(0.5, 1.5)))


def _make_poisson(A, rng, n_targets):
    mean = np.exp(_signal(A, rng, 0.7))
    if n_targets is not None:
        mean = mean[:, None] * np.ones(n_targets)
    return Poisson(A, rng.poisson(mean).astype(float))


#: name -> factory ``(A, rng, n_targets) -> Datafit``; ``n_targets=None`` for one right-hand side.
DATAFIT_REGISTRY = {
    "least_squares": _make_least_squares,
    "logistic": _make_logistic,
    "huber": _make_huber,
    "poisson": _make_poisson,
}

#: The datafits built in (``datafit_names()`` also lists those registered at runtime).
DATAFIT_NAMES = tuple(DATAFIT_REGISTRY)

#: Datafits that accept several right-hand sides.
_MULTI_TARGET = {"least_squares", "huber", "poisson"}


def datafit_names():
    """Names of every registered datafit, built-in and added at runtime.

    Returns
    -------
    tuple of str
    """
    return tuple(DATAFIT_REGISTRY)


def register_datafit(name, factory, multi_target=False):
    """Add a datafit to the registry so that ``verify``, the property tests and the docs pick it up.

    Parameters
    ----------
    name : str
        The datafit's ``name``.
    factory : callable
        ``factory(A, rng, n_targets) -> Datafit``.
    multi_target : bool
        Whether it accepts several right-hand sides.
    """
    if not isinstance(name, str) or not name:
        raise ParameterError(f"The 'name' parameter of register_datafit must be a non-empty string. Got {name!r}.")
    if name in DATAFIT_REGISTRY:
        raise ParameterError(f"The 'name' parameter of register_datafit must be a new name: {name!r} is already "
                             f"registered (remove it from DATAFIT_REGISTRY first to replace it).")
    if not callable(factory):
        raise TypeError(f"The 'factory' parameter of register_datafit must be callable. Got {factory!r}.")
    DATAFIT_REGISTRY[name] = factory
    if multi_target:
        _MULTI_TARGET.add(name)


def random_datafit(name, A, rng=None, n_targets=None):
    """A datafit of kind ``name`` on the design ``A`` with targets drawn to suit it.

    Parameters
    ----------
    name : str
        A registered datafit name (``datafit_names()``).
    A : ndarray, scipy.sparse matrix or LinearOperator
    rng : None, int or numpy.random.Generator
    n_targets : int, optional
        Several right-hand sides (only for datafits that accept them).

    Returns
    -------
    Datafit
    """
    if name not in DATAFIT_REGISTRY:
        raise ParameterError(f"The 'name' parameter of random_datafit must be one of "
                             f"{', '.join(map(repr, DATAFIT_REGISTRY))}. Got {name!r}.")
    if n_targets is not None and name not in _MULTI_TARGET:
        raise ParameterError(f"random_datafit: the {name!r} datafit takes one right-hand side (n_targets=None).")
    fit = DATAFIT_REGISTRY[name](A, check_rng(rng), n_targets)
    if not isinstance(fit, Datafit):
        raise TypeError(f"The factory registered for {name!r} returned {type(fit).__name__}, not a Datafit.")
    return fit


def accepts_several_targets(name):
    """Whether the registered datafit ``name`` accepts several right-hand sides.

    Parameters
    ----------
    name : str
        A registered datafit name.

    Returns
    -------
    bool
    """
    return name in _MULTI_TARGET
