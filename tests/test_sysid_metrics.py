"""Fit index, NRMSE, pole matching error, support scores."""

import itertools

import numpy as np
import pytest

from structsparse.exceptions import ShapeError
from structsparse.sysid import Pattern, StateSpace, fit_index, nrmse, pole_error, support_scores


def test_fit_index_closed_form():
    y = np.array([[1.0, 0.0], [3.0, 2.0], [5.0, 4.0]])  # means 3 and 2, deviations norm sqrt(8)
    y_hat = y + np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 0.0]])
    np.testing.assert_allclose(nrmse(y, y_hat), [np.sqrt(2) / np.sqrt(8), 0.0])
    np.testing.assert_allclose(fit_index(y, y_hat), [50.0, 100.0])
    # predicting the mean gives 0, worse than the mean is negative
    assert fit_index(y[:, 0], np.full(3, 3.0))[0] == pytest.approx(0.0)
    assert fit_index(y[:, 0], -y[:, 0])[0] < 0


def test_fit_shapes():
    with pytest.raises(ShapeError, match="y_hat"):
        fit_index(np.zeros((4, 2)), np.zeros((4, 3)))
    assert np.isinf(nrmse(np.ones(3), np.zeros(3))[0])


def test_pole_error_is_optimal_matching():
    rng = np.random.default_rng(0)
    for _ in range(20):
        a = rng.standard_normal(5) + 1j * rng.standard_normal(5)
        b = a[rng.permutation(5)] + 0.1 * (rng.standard_normal(5) + 1j * rng.standard_normal(5))
        # brute force over every matching: minimal total distance, then its max / mean
        best = min(itertools.permutations(range(5)), key=lambda p: np.abs(a - b[list(p)]).sum())
        d = np.abs(a - b[list(best)])
        assert pole_error(a, b, reduce="mean") == pytest.approx(d.mean())
        assert pole_error(a, b) == pytest.approx(d.max())


def test_pole_error_permutation_invariant_and_zero():
    p = np.array([0.5, 0.2 + 0.3j, 0.2 - 0.3j])
    assert pole_error(p, p[::-1]) == 0.0
    assert pole_error([0.5], [0.7]) == pytest.approx(0.2)


def test_support_scores_by_hand():
    true = {"A": np.array([[1, 0], [1, 1]]), "B": np.array([[1], [0]])}
    found = {"A": np.array([[1, 1], [0, 1]]), "B": np.array([[1], [0]])}
    s = support_scores(true, found)
    # tp = 3 (A00, A11, B00), fp = 1 (A01), fn = 1 (A10)
    assert (s["tp"], s["fp"], s["fn"]) == (3, 1, 1)
    assert s["precision"] == pytest.approx(0.75) and s["recall"] == pytest.approx(0.75)
    assert s["f1"] == pytest.approx(0.75)


def test_support_scores_models_and_patterns():
    sys_ = StateSpace([[0.5, 0.0], [0.1, 0.2]], [[1.0], [0.0]], [[1.0, 0.0]])
    pat = Pattern.from_system(sys_)
    assert support_scores(sys_, pat)["f1"] == 1.0
    assert support_scores(sys_, Pattern.full(2, 1, 1))["precision"] == pytest.approx(4 / 6)


def test_example_network_bad_sizes_name_the_argument():
    from structsparse.exceptions import ParameterError
    from structsparse.sysid import example_network

    with pytest.raises(ParameterError, match="n_inputs"):
        example_network(n_states=3, n_inputs=5)
    with pytest.raises(ParameterError, match="density"):
        example_network(density=1.5)
    with pytest.raises(ParameterError, match="rng"):
        example_network(rng=-1)


def test_wrong_types_raise_type_error_naming_the_argument():
    import pytest

    from structsparse import sysid

    system, _ = sysid.example_system()
    with pytest.raises(TypeError, match="'true_poles'"):
        sysid.pole_error("0.5", [0.5])
    with pytest.raises(TypeError, match="'found'"):
        sysid.support_scores(system, "A")
