"""Local identifiability from the Jacobian of the Markov parameters."""

import numpy as np
import pytest

from structsparse.exceptions import ParameterError
from structsparse.sysid import Pattern, example_system, identifiability, markov_jacobian, random_pattern
from structsparse.sysid.identifiability import random_point


def test_jacobian_matches_finite_differences():
    pat = Pattern.full(3, 2, 2, feedthrough=True)
    theta = random_point(pat, rng=0)
    markov, J = markov_jacobian(pat, theta)
    eps = 1e-6
    J_fd = np.empty_like(J)
    for k in range(pat.n_free):
        t = theta.copy()
        t[k] += eps
        t2 = theta.copy()
        t2[k] -= eps
        J_fd[:, k] = (markov_jacobian(pat, t)[0] - markov_jacobian(pat, t2)[0]).ravel() / (2 * eps)
    np.testing.assert_allclose(J, J_fd, atol=1e-7)
    A, B, C, D = pat.to_matrices(theta)
    np.testing.assert_allclose(markov[0], D)
    np.testing.assert_allclose(markov[3], C @ A @ A @ B)


@pytest.mark.parametrize("n, m, p", [(1, 1, 1), (3, 1, 2), (4, 2, 2), (6, 2, 3)])
def test_all_free_gives_n_squared(n, m, p):
    res = identifiability(Pattern.full(n, m, p), rng=0)
    assert res.n_unidentifiable == n * n
    assert not res.identifiable
    assert res.rank == res.n_parameters - n * n
    # every free entry is moved by some similarity direction, except a scalar A (invariant under scaling)
    expected = res.n_parameters - (1 if n == 1 else 0)
    assert len(res.moved) == expected


def test_null_space_is_the_similarity_orbit_for_a_free_model():
    """The tangent of the orbit (XA - AX, XB, -CX) lies in the null space of J."""
    pat = Pattern.full(3, 2, 2)
    rng = np.random.default_rng(1)
    theta = random_point(pat, rng)
    _, J = markov_jacobian(pat, theta)
    A, B, C, _ = pat.to_matrices(theta)
    for _ in range(3):
        X = rng.standard_normal((3, 3))
        # x = (I + eps X) z: A -> A + eps (A X - X A), B -> B - eps X B, C -> C + eps C X
        direction = pat.to_theta(A @ X - X @ A, -X @ B, C @ X)
        assert np.linalg.norm(J @ direction) < 1e-10 * np.linalg.norm(J) * np.linalg.norm(direction)


@pytest.mark.parametrize("seed", range(4))
def test_zero_pattern_alone_leaves_at_least_n(seed):
    pat = random_pattern(4, 2, 2, density=0.5, rng=seed)
    res = identifiability(pat, rng=seed)
    assert res.n_unidentifiable >= 4


@pytest.mark.parametrize("seed", range(4))
def test_zeros_plus_fixed_full_column_rank_c_is_identifiable(seed):
    rng = np.random.default_rng(seed)
    base = random_pattern(4, 2, 5, density=0.5, rng=seed)
    C0 = rng.standard_normal((5, 4))
    assert np.linalg.matrix_rank(C0) == 4
    pat = Pattern(base.masks["A"], base.masks["B"], np.zeros((5, 4), bool), values={"C": C0})
    res = identifiability(pat, rng=seed)
    assert res.identifiable and res.n_unidentifiable == 0 and res.moved == []


def test_moved_entries_follow_the_remaining_transforms():
    """C = [1, 0] known: the transforms left are T = [[1, 0], [a, b]] (two directions).

    A known B = [0, 1] fixes b, leaving a, which moves A[0,0] (by a A[0,1]) but not A[0,1];
    a structural zero at A[0,0] then fixes a.
    """
    C = {"C": [[1.0, 0.0]]}
    none_c = np.zeros((1, 2), bool)
    pat = Pattern(np.ones((2, 2), bool), [[0], [1]], none_c, values=C)
    res = identifiability(pat, rng=0)
    assert res.n_unidentifiable == 2
    assert ("B", 1, 0) in res.moved
    assert "NOT identifiable" in res.summary()

    known_b = {"C": [[1.0, 0.0]], "B": [[0.0], [1.0]]}
    pat = Pattern(np.ones((2, 2), bool), np.zeros((2, 1), bool), none_c, values=known_b)
    res = identifiability(pat, rng=0)
    assert res.n_unidentifiable == 1
    assert ("A", 0, 0) in res.moved and ("A", 0, 1) not in res.moved
    assert res.moved_masks["A"][0, 0] and not res.moved_masks["A"][0, 1]

    pat = Pattern([[0, 1], [1, 1]], np.zeros((2, 1), bool), none_c, values=known_b)
    assert identifiability(pat, rng=0).identifiable


def test_example_pattern_is_identifiable():
    _, pat = example_system()
    res = identifiability(pat, rng=0)
    assert res.identifiable and res.n_parameters == 13


def test_bad_arguments():
    with pytest.raises(TypeError, match="Pattern"):
        identifiability(np.ones((2, 2)))
    with pytest.raises(ParameterError, match="tol"):
        identifiability(Pattern.full(2, 1, 1), tol=0)


def test_nothing_free_is_identifiable():
    pat = Pattern(np.zeros((2, 2), bool), np.zeros((2, 1), bool), np.zeros((1, 2), bool))
    assert identifiability(pat).identifiable


def test_unreachable_state_is_reported():
    """Known invertible C, but state 0 gets neither input nor link: its column of A is invisible."""
    A = np.array([[1, 0, 0], [1, 1, 1], [0, 1, 1]], bool)
    B = np.array([[0, 0], [1, 1], [0, 0]], bool)
    C0 = np.random.default_rng(4).standard_normal((3, 3))
    res = identifiability(Pattern(A, B, np.zeros((3, 3), bool), values={"C": C0}), rng=0)
    assert res.n_unidentifiable == 2
    assert set(res.moved) == {("A", 0, 0), ("A", 1, 0)}
