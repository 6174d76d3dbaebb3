"""Example systems shared by the tests, the benchmark and the demo."""

import numpy as np

from .._validation import check_int, check_rng, check_scalar
from .pattern import Pattern
from .statespace import StateSpace

__all__ = ["example_system", "example_network"]


def example_system():
    """A 4-state, 2-input, 2-output system and an identifiable pattern of it.

    The sensors are known (``C`` measures states 0 and 2 with unit gain), two
    couplings of ``A`` are known (``A[0,1] = A[2,3] = 0.4``, they fix the
    scales of the unmeasured states 1 and 3), and the other zeros are
    structural. ``identifiability`` calls the pattern identifiable, so the
    free entries can be recovered from input-output data, not only up to a
    similarity transform. Poles: ``0.50``, ``-0.32`` and ``0.57 +- 0.66j``.

    Returns
    -------
    system : StateSpace
    pattern : Pattern
    """
    A = np.array([[0.50, 0.40, 0.00, 0.96],
                  [0.00, 0.99, 0.64, 0.00],
                  [0.00, -0.91, 0.54, 0.40],
                  [0.00, 0.72, -0.91, -0.70]])
    B = np.array([[0.00, -0.76],
                  [0.00, 0.56],
                  [0.00, 0.91],
                  [0.75, 0.00]])
    C = np.array([[1.0, 0.0, 0.0, 0.0],
                  [0.0, 0.0, 1.0, 0.0]])
    system = StateSpace(A, B, C)
    known_A = np.zeros((4, 4))
    known_A[0, 1] = known_A[2, 3] = 0.4
    free_A = (A != 0) & (known_A == 0)
    pattern = Pattern(free_A, B != 0, np.zeros((2, 4), bool), values={"A": known_A, "C": C})
    return system, pattern


def example_network(n_states=20, n_inputs=5, density=0.1, rng=0):
    """A sparse stable network with measured states (for pattern discovery).

    Every state has its own dynamics (diagonal of ``A``) and is reachable
    from the inputs: input ``j`` drives one state (sometimes two), and every
    other state receives a link from a state earlier in a random order, so
    no state is left unexcited. Further links appear with probability
    ``density``. Diagonal entries are 0.3 to 0.7 in modulus and couplings
    start at 0.3 to 0.6; the couplings are then shrunk by a factor 0.95 at a
    time (at most 60 times) until the spectral radius is below 0.9, so they
    can end up smaller.

    Parameters
    ----------
    n_states : int
        Number of states (and outputs), at least ``n_inputs``.
    n_inputs : int
        Number of inputs, at least 1.
    density : float in [0, 1]
        Probability of each extra off-diagonal link in ``A``, on top of the
        links that keep every state reachable.
    rng : int, numpy.random.Generator or None
        Seed or generator; the default 0 gives the same network every call.

    Returns
    -------
    StateSpace
        With ``C = I`` (the states are the outputs) and ``D = 0``.
    """
    owner = "example_network"
    n = check_int(n_states, "n_states", low=1, owner=owner)
    m = check_int(n_inputs, "n_inputs", low=1, high=n, owner=owner)
    density = check_scalar(density, "density", low=0, high=1, owner=owner)
    gen = check_rng(rng)
    order = gen.permutation(n)
    mask = gen.random((n, n)) < density
    for k in range(m, n):
        mask[order[k], order[gen.integers(0, k)]] = True
    np.fill_diagonal(mask, False)
    off = np.where(mask, gen.choice([-1.0, 1.0], (n, n)) * gen.uniform(0.3, 0.6, (n, n)), 0.0)
    diag = np.diag(gen.uniform(0.3, 0.7, n) * gen.choice([-1.0, 1.0], n))
    A = diag + off
    for _ in range(60):
        if np.max(np.abs(np.linalg.eigvals(A))) < 0.9:
            break
        A = diag + 0.95 * (A - diag)
    B = np.zeros((n, m))
    for j in range(m):
        rows = [order[j]] + ([int(gen.integers(n))] if gen.random() < 0.4 else [])
        B[rows, j] = gen.choice([-1.0, 1.0], len(rows)) * gen.uniform(0.5, 1.0, len(rows))
    return StateSpace(A, B, np.eye(n), np.zeros((n, m)))
