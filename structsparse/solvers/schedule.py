"""A warm-up schedule for ``lam``: start weak, raise it step by step to the target.

Iterative callers (stochastic training, continuation in a solver) apply a
strong penalty late: early on a weak ``lam`` lets the model fit, then the
penalty grows to its target and prunes. A :class:`LamSchedule` gives the
``lam`` of step ``k``: call it (``schedule(k)``), index it, or iterate over it.
"""

from numbers import Integral

import numpy as np

from .._validation import check_choice, check_int, check_scalar
from ..exceptions import ParameterError

__all__ = ["LamSchedule", "lam_warmup", "SCHEDULE_KINDS"]

#: Accepted values of ``kind``.
SCHEDULE_KINDS = ("geometric", "linear")


class LamSchedule:
    """``lam`` rising from ``start_fraction * lam_target`` to ``lam_target`` over ``n_steps`` steps.

    Step ``k`` (0-based) has ``lam_k = lam_target * start_fraction ** (1 - k / (n_steps - 1))``
    (geometric) or ``lam_target * (start_fraction + (1 - start_fraction) * k / (n_steps - 1))``
    (linear); steps at or after ``n_steps - 1`` stay at ``lam_target``.

    Parameters
    ----------
    lam_target : float >= 0
    n_steps : int >= 1
        Steps of the warm-up; with 1 the schedule is constant.
    start_fraction : float, default 0.01
        First value as a fraction of the target: in (0, 1] for the
        geometric schedule, in [0, 1] for the linear one.
    kind : {'geometric', 'linear'}, default 'geometric'

    Examples
    --------
    >>> s = LamSchedule(1.0, 3, start_fraction=0.01)
    >>> [round(v, 6) for v in s]
    [0.01, 0.1, 1.0]
    >>> s(10)
    1.0
    """

    def __init__(self, lam_target, n_steps, start_fraction=0.01, kind="geometric"):
        owner = "LamSchedule"
        self.lam_target = check_scalar(lam_target, "lam_target", low=0, owner=owner)
        self.n_steps = check_int(n_steps, "n_steps", low=1, owner=owner)
        self.kind = check_choice(kind, "kind", SCHEDULE_KINDS, owner=owner)
        low_inclusive = self.kind == "linear"
        self.start_fraction = check_scalar(start_fraction, "start_fraction", low=0, high=1,
                                           low_inclusive=low_inclusive, owner=owner)

    def __call__(self, step):
        """``lam`` at step ``step`` (an int >= 0)."""
        if isinstance(step, (bool, np.bool_)) or not isinstance(step, (Integral, np.integer)) or step < 0:
            raise ParameterError(f"The 'step' of LamSchedule must be an integer >= 0. Got {step!r} instead.")
        if self.n_steps == 1 or step >= self.n_steps - 1:
            return self.lam_target
        frac = step / (self.n_steps - 1)
        if self.kind == "geometric":
            return self.lam_target * self.start_fraction ** (1.0 - frac)
        return self.lam_target * (self.start_fraction + (1.0 - self.start_fraction) * frac)

    def __getitem__(self, step):
        return self(step)

    def __len__(self):
        return self.n_steps

    def __iter__(self):
        for k in range(self.n_steps):
            yield self(k)

    @property
    def values(self):
        """The ``n_steps`` values as an array."""
        return np.array(list(self))

    def __repr__(self):
        return (f"LamSchedule(lam_target={self.lam_target:g}, n_steps={self.n_steps}, "
                f"start_fraction={self.start_fraction:g}, kind={self.kind!r})")


def lam_warmup(lam_target, n_steps, start_fraction=0.01, kind="geometric"):
    """A :class:`LamSchedule` warming ``lam`` up to ``lam_target`` in ``n_steps`` steps.

    Parameters
    ----------
    lam_target : float >= 0
        The value reached at step ``n_steps - 1`` and kept afterwards.
    n_steps : int >= 1
        Steps of the warm-up.
    start_fraction : float, default 0.01
        First value as a fraction of ``lam_target``.
    kind : {'geometric', 'linear'}, default 'geometric'

    Returns
    -------
    LamSchedule
        Call it with the step number (``schedule(k)``), index it or iterate over it.

    Examples
    --------
    >>> sched = lam_warmup(0.5, 5, start_fraction=0.2, kind="linear")
    >>> [round(sched(k), 3) for k in range(6)]
    [0.1, 0.2, 0.3, 0.4, 0.5, 0.5]
    """
    return LamSchedule(lam_target, n_steps, start_fraction=start_fraction, kind=kind)
