"""Hold-out selection of recovery parameters on the measurements (issue 13): ``cs.select_by_holdout``,
``cs.row_subset`` and the tree lasso's depth weights (``cs.recover(..., depth_weight=)``)."""

import inspect

import numpy as np
import pytest

import structsparse as ss
from structsparse import cs
from structsparse.cs.convex import tree_basis_pursuit
from structsparse.exceptions import ParameterError, ShapeError


def _tree_problem(k=24, n=256, m=120, wavelet="haar", seed=0):
    model = cs.TreeSparse(n, k, wavelet)
    x0 = model.sample(rng=seed, kind="gaussian")
    A = cs.as_matrix(cs.gaussian(m, n, rng=seed + 100))
    return model, x0, A, A @ x0


@pytest.mark.parametrize("method", ["model_cosamp", "model_iht"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_picks_the_true_k_of_an_exactly_tree_sparse_signal(method, seed):
    model, x0, A, y = _tree_problem(seed=seed)
    cands = [8, 12, 16, 20, 24, 32, 40]
    op = cs.gaussian(120, 256, rng=seed + 100) if seed == 0 else A  # the same matrix as a DenseOperator
    sel = cs.select_by_holdout(op, y, model.with_k(8), method, candidates=cands, rng=seed)
    assert sel.best == 24
    i = cands.index(24)
    # a clear margin: the true size predicts the held-out rows to rounding, every smaller size misses by > 1 %
    assert sel.scores[i] < 1e-8
    assert np.all(sel.scores[:i] > 1e-2)
    assert sel.result.relative_error(x0) < 1e-8
    assert sel.result.method == method and sel.n_holdout == 12


def test_default_candidates_contain_the_truth_and_pick_it():
    # m = 150 rows, 135 seen by each fit: default sizes 8, 11, 17, 22, 34, 45; the signal has 22 coefficients
    model, x0, A, y = _tree_problem(k=22, m=150, seed=3)
    sel = cs.select_by_holdout(A, y, model.with_k(5), "model_cosamp", rng=0)
    assert sel.candidates == (8, 11, 17, 22, 34, 45)
    assert sel.best == 22
    assert sel.result.relative_error(x0) < 1e-8


def test_signature_has_no_access_to_the_truth():
    params = set(inspect.signature(cs.select_by_holdout).parameters)
    assert params == {"A", "y", "model", "method", "param", "candidates", "holdout", "n_splits", "rtol", "rng",
                      "noise", "tol", "max_iter", "depth_weight", "reweight", "reweight_eps"}


@pytest.mark.filterwarnings("ignore::structsparse.exceptions.ConvergenceWarning")  # noisy: IHT never fits y
def test_scores_match_a_hand_computed_hold_out():
    model, x0, A, y = _tree_problem(k=24, m=100, seed=4)
    y = y + 0.01 * np.random.default_rng(9).standard_normal(y.size)  # noisy: every score is positive
    cands = [12, 24, 36]
    sel = cs.select_by_holdout(A, y, model, "model_iht", candidates=cands, holdout=0.2, n_splits=2, rng=7)
    perm = np.random.default_rng(7).permutation(100)
    expect = np.zeros(3)
    for s in range(2):
        val = np.sort(perm[20 * s:20 * (s + 1)])
        fit = np.setdiff1d(np.arange(100), val)
        for i, k in enumerate(cands):
            x = cs.recover(A[fit], y[fit], model.with_k(k), "model_iht").x
            expect[i] += np.linalg.norm(A[val] @ x - y[val]) / np.linalg.norm(y[val]) / 2
    np.testing.assert_allclose(sel.scores, expect, rtol=1e-10)
    assert sel.best == cands[int(np.argmin(expect))]
    final = cs.recover(A, y, model.with_k(sel.best), "model_iht")
    np.testing.assert_allclose(sel.result.x, final.x)


def test_tie_tolerance_prefers_the_earliest_candidate_only_when_asked():
    model, x0, A, y = _tree_problem(seed=8)
    strict = cs.select_by_holdout(A, y, model, "model_cosamp", candidates=[24, 32, 40], rtol=0.0, rng=0)
    loose = cs.select_by_holdout(A, y, model, "model_cosamp", candidates=[24, 32, 40], rng=0)
    np.testing.assert_array_equal(strict.scores, loose.scores)
    assert strict.best == [24, 32, 40][int(np.argmin(strict.scores))]
    assert loose.best == 24  # all three fit the held-out rows to rounding: the smallest model wins


def test_does_not_mutate_its_inputs():
    model, x0, A, y = _tree_problem(seed=5)
    A0, y0 = A.copy(), y.copy()
    cs.select_by_holdout(A, y, model, "model_cosamp", candidates=[16, 24], rng=0)
    np.testing.assert_array_equal(A, A0)
    np.testing.assert_array_equal(y, y0)


def test_row_subset_of_an_operator_agrees_with_the_matrix_and_passes_the_dot_test():
    shape = (16, 16)
    mask = cs.mask_variable_density(shape, 64, rng=0)
    F = cs.partial_fourier(shape, mask) @ cs.wavelet_synthesis2d(shape, "haar")
    rows = np.sort(np.random.default_rng(1).choice(F.shape[0], 20, replace=False))
    sub = cs.row_subset(F, rows)
    dense = cs.as_matrix(F)[rows]
    x = np.random.default_rng(2).standard_normal(F.shape[1])
    r = np.random.default_rng(3).standard_normal(rows.size)
    np.testing.assert_allclose(sub.matvec(x), dense @ x, atol=1e-12)
    np.testing.assert_allclose(sub.rmatvec(r), dense.T @ r, atol=1e-12)
    assert cs.dottest(sub, rng=4)
    np.testing.assert_array_equal(cs.row_subset(dense, [0, 2]), dense[[0, 2]])


def test_picks_the_true_k_through_a_fourier_operator():
    shape = (32, 32)
    model = cs.TreeSparse2D(shape, 60, "haar")
    x0 = model.sample(rng=0, kind="gaussian")
    mask = cs.mask_variable_density(shape, 320, rng=1)
    A = cs.partial_fourier(shape, mask) @ model.synthesis
    sel = cs.select_by_holdout(A, A.matvec(x0), model, "model_cosamp", candidates=[30, 45, 60, 90], rng=2)
    assert sel.best == 60
    assert sel.scores[2] < 1e-6 < 1e-2 < sel.scores[:2].min()
    assert sel.result.relative_error(x0) < 1e-6


def test_node_depths_follow_the_wavelet_scales():
    model = cs.TreeSparse(64, 8, "haar", level=3)  # root: cA_3 (8 coefficients); cD_3, cD_2, cD_1 below it
    depth = model.node_depths()
    slices = model.synthesis.band_slices()
    assert depth[0] == 0
    for j, band in enumerate(slices[1:], start=1):
        nodes = model.parent_of_coefficient[band]
        assert np.all(depth[nodes] == j)
    np.testing.assert_allclose(model.depth_weights(-0.5), 2.0 ** (-0.5 * depth))
    np.testing.assert_array_equal(model.depth_weights(0.0), np.ones(depth.size))


def test_recover_depth_weight_solves_the_weighted_tree_program():
    model, x0, A, y = _tree_problem(k=40, m=60, seed=6)
    res = cs.recover(A, y, model, "tree_lasso", depth_weight=-0.7)
    pen = ss.TreeLasso(model.tree(weights=2.0 ** (-0.7 * model.node_depths())), 1.0)
    x, _ = tree_basis_pursuit(A, y, pen)
    np.testing.assert_allclose(res.x, x, atol=1e-9)
    assert res.info["depth_weight"] == -0.7
    plain = cs.recover(A, y, model, "tree_lasso")
    np.testing.assert_array_equal(plain.x, cs.recover(A, y, model, "tree_lasso", depth_weight=0.0).x)
    # the weighted program's objective is at most the unweighted solution's (both feasible)
    assert pen(res.x) <= pen(plain.x) * (1 + 1e-6)


def test_depth_weight_selection_scores_every_candidate_and_refits():
    model, x0, A, y = _tree_problem(k=40, m=80, seed=7)
    sel = cs.select_by_holdout(A, y, model, "tree_lasso", param="depth_weight", candidates=[-1.0, 0.0], rng=0)
    assert sel.candidates == (-1.0, 0.0) and sel.scores.shape == (2,)
    assert sel.best == sel.candidates[int(np.argmin(sel.scores))]  # depth weights: the strict minimum
    np.testing.assert_allclose(sel.result.x, cs.recover(A, y, model, "tree_lasso", depth_weight=sel.best).x)
    assert "HoldoutSelection(param='depth_weight'" in repr(sel)


@pytest.mark.parametrize("call, exc, word", [
    (lambda A, y, m: cs.select_by_holdout(A, y, m, param="lam"), ParameterError, "param"),
    (lambda A, y, m: cs.select_by_holdout(A, y, m, "l1"), ParameterError, "method"),
    (lambda A, y, m: cs.select_by_holdout(A, y, m, "model_iht", param="depth_weight"), ParameterError, "method"),
    (lambda A, y, m: cs.select_by_holdout(A, y, m, holdout=0.0), ParameterError, "holdout"),
    (lambda A, y, m: cs.select_by_holdout(A, y, m, holdout=0.3, n_splits=4), ParameterError, "holdout"),
    (lambda A, y, m: cs.select_by_holdout(A, y, m, candidates=[]), ParameterError, "candidates"),
    (lambda A, y, m: cs.select_by_holdout(A, y, m, candidates=[10, 10]), ParameterError, "candidates"),
    (lambda A, y, m: cs.select_by_holdout(A, y, m, candidates=[10 ** 6]), ParameterError, "candidates"),
    (lambda A, y, m: cs.select_by_holdout(A, y, m, candidates="24"), TypeError, "candidates"),
    (lambda A, y, m: cs.select_by_holdout(A, y[:-1], m), ShapeError, "y"),
    (lambda A, y, m: cs.select_by_holdout(A[:, :10], y, m), ShapeError, "A"),
    (lambda A, y, m: cs.select_by_holdout(A, y, 24), TypeError, "model"),
    (lambda A, y, m: cs.select_by_holdout(A, y, m, n_splits=0), ParameterError, "n_splits"),
    (lambda A, y, m: cs.recover(A, y, m, "model_iht", depth_weight=1.0), ParameterError, "depth_weight"),
    (lambda A, y, m: cs.recover(A, y, m, "tree_lasso", depth_weight="a"), TypeError, "depth_weight"),
    (lambda A, y, m: cs.row_subset(A, [0, 0]), ParameterError, "rows"),
    (lambda A, y, m: cs.row_subset(A, [0, 1000]), ParameterError, "rows"),
    (lambda A, y, m: m.depth_weights(50.0), ParameterError, "alpha"),
])
def test_bad_input_names_the_argument(call, exc, word):
    model, x0, A, y = _tree_problem()
    with pytest.raises(exc, match=word):
        call(A, y, model)


def test_least_squares_on_a_numerically_singular_support_stays_bounded():
    # two columns equal up to rounding: the fit on both must be the minimum-norm one, not 1e13-sized coefficients
    from structsparse.cs.greedy import _lstsq_on

    rng = np.random.default_rng(0)
    A = rng.standard_normal((20, 6))
    A[:, 1] = A[:, 0] * (1 + 1e-15)
    y = A[:, 0] * 2.0
    x, _ = _lstsq_on(A, y, np.array([0, 1, 2]))
    np.testing.assert_allclose(x, [1.0, 1.0, 0.0], atol=1e-6)
    assert np.linalg.norm(A[:, [0, 1, 2]] @ x - y) < 1e-8


def test_greedy_recovery_on_a_coarse_image_support_stays_bounded():
    prob = cs.make_problem("camera", 0.25, "fourier", size=32, rng=282)
    model = cs.TreeSparse2D(prob.shape, 64, "db4")  # k = root size: the 8 x 8 coarse band alone
    with pytest.warns(ss.ConvergenceWarning):
        res = cs.recover(prob.A, prob.y, model, "model_iht", tol=1e-4, max_iter=300)
    assert res.relative_error(prob.coef) < 1.0  # was 1e13
