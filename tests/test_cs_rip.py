import itertools

import numpy as np
import pytest

from structsparse import cs
from structsparse.cs.rip import support_delta
from structsparse.exceptions import ParameterError, ShapeError


def _exact_delta(M, supports):
    return max(support_delta(M[:, list(s)])[0] for s in supports)


def test_estimates_are_lower_bounds_of_the_exact_constants():
    rng = np.random.default_rng(0)
    M = cs.as_matrix(cs.gaussian(8, 16, rng))
    model = cs.BlockSparse(16, 2, 2)
    blocks = [np.r_[2 * a:2 * a + 2, 2 * b:2 * b + 2] for a, b in itertools.combinations(range(8), 2)]
    exact_model = _exact_delta(M, blocks)
    exact_plain = _exact_delta(M, itertools.combinations(range(16), 4))
    for search in ("random", "swap"):
        est = cs.rip_estimate(M, model, n_samples=40, search=search, rng=1)
        assert est.delta_model <= exact_model + 1e-12
        assert est.delta_plain <= exact_plain + 1e-12
        assert est.delta_model >= 0.8 * exact_model  # on a tiny problem the search gets close
    assert exact_plain >= exact_model


def test_support_delta_matches_singular_values():
    A = np.random.default_rng(1).standard_normal((20, 5)) / np.sqrt(20)
    d, smin, smax, *_ = support_delta(A)
    s = np.linalg.svd(A, compute_uv=False)
    assert np.isclose(smin, s[-1]) and np.isclose(smax, s[0])
    assert np.isclose(d, max(s[0] ** 2 - 1, 1 - s[-1] ** 2))


def test_swap_search_separates_block_from_plain_supports():
    A = cs.gaussian(150, 512, rng=0)
    est = cs.rip_estimate(A, cs.BlockSparse(512, 8, 5), n_samples=30, search="swap", rng=0)
    assert est.delta_plain > est.delta_model + 0.3
    # the swap search only ever improves on the random draws
    assert est.history_plain[-1] >= est.history_plain[29]
    assert "lower bound" in est.summary()
    assert est.sample_bound_model < est.sample_bound_plain


def test_tree_model_supports_stay_rooted_subtrees():
    model = cs.TreeSparse(256, 24, "db2")
    est = cs.rip_estimate(cs.gaussian(80, 256, 0), model, n_samples=10, search="swap", rng=0)
    assert model.is_rooted_subtree(est.support_model)
    assert est.support_model.size == 24


def test_rip_bad_inputs():
    model = cs.BlockSparse(64, 8, 2)
    with pytest.raises(ShapeError, match="columns"):
        cs.rip_estimate(np.ones((10, 32)), model)
    with pytest.raises(ParameterError, match="'search'"):
        cs.rip_estimate(cs.gaussian(10, 64, 0), model, search="exhaustive")
    M = cs.as_matrix(cs.gaussian(10, 64, 0)).copy()
    M[1, 1] = np.nan
    with pytest.raises(ShapeError, match="finite"):
        cs.rip_estimate(M, model)


def test_statistical_dimension_matches_published_values():
    from scipy.optimize import brentq

    # Amelunxen et al.: at M/N = 0.5 the l1 threshold is rho = K/M ~ 0.386
    s = brentq(lambda s: cs.statdim_l1(2000, s) - 1000, 1, 999)
    assert abs(s / 1000 - 0.386) < 0.003
    assert abs(cs.statdim_l1(1024, 80) - 285) < 2
    assert abs(cs.statdim_group(128, 8, 10) - 185) < 2
    # blocks of one are l1
    assert np.isclose(cs.statdim_group(200, 1, 20), cs.statdim_l1(200, 20), rtol=1e-6)
    model = cs.BlockSparse(1024, 8, 10)
    assert cs.predicted_threshold(model, "group_lasso") < cs.predicted_threshold(model, "l1")
    assert cs.predicted_threshold(model, "model_cosamp") is None
