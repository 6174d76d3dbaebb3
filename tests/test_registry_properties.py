"""Registry-driven properties of every (datafit, penalty) pair and of every penalty's declared capabilities.

- lambda_max: the solution is zero on the penalized variables at lambda_max and not just below, by FISTA and by
  cvxpy.
- duality gap: never below the true suboptimality (so >= 0) at random points, and ~0 at the cvxpy optimum.
- capabilities are truthful: block thresholds and norm groups reproduce the penalty, free variables are exactly the
  rows the penalty ignores, the dual norm bounds <u, x> / Omega(x).

The ``check_*`` functions take registry names, so an entry registered at runtime is checked by calling them
(tests/test_registry_extension.py does); the parametrized tests below cover every entry registered at import.
"""

import warnings

import numpy as np
import pytest

import structsparse as ss
from structsparse.datafits.registry import datafit_names
from structsparse.penalties.registry import penalty_names, random_penalty
from structsparse.solvers.fista import duality_gap
from structsparse.verify import random_problem

PAIRS = [(d, p) for d in datafit_names() for p in penalty_names()]
PAIR_IDS = [f"{d}-{p}" for d, p in PAIRS]


def _problem(datafit, penalty, seed, max_features=8):
    prob = random_problem(penalty, seed, datafit=datafit, kind="dense", max_features=max_features)
    return prob.datafit, prob.penalty


def _penalized(fit, pen):
    return ~pen.free_variables(fit.n_features, fit.x_shape)


def _fista(fit, pen):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # judged by the assertions, not by the solver's own report
        return ss.fista(fit, pen, tol=1e-10, max_iter=20_000)


# ---------------------------------------------------------------- pairs
def check_lambda_max(datafit, penalty, seed=0):
    """Zero penalized part at lambda_max, nonzero at 0.8 lambda_max, by FISTA and by cvxpy."""
    fit, pen = _problem(datafit, penalty, seed)
    lmax = ss.lambda_max(fit, pen)
    assert 0 < lmax < np.inf
    rows = _penalized(fit, pen)
    at, below = pen.with_lam(lmax), pen.with_lam(0.8 * lmax)
    x_f = _fista(fit, at).x
    x_c = ss.solve_cvxpy(fit, at).x
    scale = max(1.0, float(np.max(np.abs(x_c), initial=0.0)))
    # at lambda_max the objective grows only quadratically along the penalized part, so FISTA's certified
    # relative gap of 1e-10 bounds that part by about sqrt(1e-10) = 1e-5, not better
    assert np.max(np.abs(x_f[rows]), initial=0.0) <= 1e-4 * scale
    # an interior-point solver approaches a solution on the boundary of the dual constraint slowly: its entries
    # are small, and cvxpy finds nothing better than FISTA's (zero) penalized part
    assert np.max(np.abs(x_c[rows]), initial=0.0) <= 1e-4 * scale
    p_f, p_c = fit.value(x_f) + at(x_f), fit.value(x_c) + at(x_c)
    assert p_f <= p_c + 1e-8 * max(1.0, abs(p_c))
    # just below: both find a nonzero penalized part, of the same size
    y_f = _fista(fit, below).x
    y_c = ss.solve_cvxpy(fit, below).x
    size_f, size_c = np.linalg.norm(y_f[rows]), np.linalg.norm(y_c[rows])
    assert size_c > 1e-3 and size_f == pytest.approx(size_c, rel=1e-2, abs=1e-4)


def check_duality_gap(datafit, penalty, seed=0):
    """gap(x) >= P(x) - P* >= 0 at random points; gap ~ 0 at the cvxpy optimum; None only without a dual norm."""
    fit, pen = _problem(datafit, penalty, seed)
    ref = ss.solve_cvxpy(fit, pen)
    assert ref.converged
    p_star = ref.objective
    has_dual = "dual_norm" in pen.capabilities and pen.lam > 0
    rng = np.random.default_rng(seed)
    gaps = []
    for scale in (0.0, 0.1, 1.0):
        x = scale * rng.standard_normal(fit.x_shape)
        primal = fit.value(x) + pen(x)
        gap = duality_gap(fit, pen, x)
        gaps.append(gap)
        if gap is not None:
            assert gap >= primal - p_star - 1e-7 * max(1.0, abs(p_star))
            assert gap >= 0
    at_opt = duality_gap(fit, pen, ref.x)
    if not has_dual:
        assert at_opt is None and all(g is None for g in gaps)
        return
    assert at_opt is not None and at_opt <= 1e-5 * max(1.0, abs(p_star))


@pytest.mark.parametrize("datafit,penalty", PAIRS, ids=PAIR_IDS)
def test_lambda_max_zero_at_and_nonzero_below(datafit, penalty):
    check_lambda_max(datafit, penalty, seed=3)


@pytest.mark.parametrize("datafit,penalty", PAIRS, ids=PAIR_IDS)
def test_duality_gap_bounds_suboptimality(datafit, penalty):
    check_duality_gap(datafit, penalty, seed=4)


# ---------------------------------------------------------------- penalties: declared capabilities are truthful
def _penalties(name, seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(5, 13))
    return [(random_penalty(name, n, rng, n_targets=k), (n,) if k is None else (n, k)) for k in (None, 2)], rng


def check_block_thresholds(name, seed=0):
    """``sum_g t1_g ||x_g||_1 + t2_g ||x_g||_2`` over blocks covering every feature once is the penalty."""
    cases, rng = _penalties(name, seed)
    for pen, shape in cases:
        spec = pen.block_thresholds(shape[0])
        if "block_thresholds" not in pen.capabilities:
            assert spec is None
            continue
        idx, ptr, t1, t2 = spec
        np.testing.assert_array_equal(np.sort(idx), np.arange(shape[0]))  # a partition of the features
        assert t1.shape == t2.shape == (ptr.size - 1,) and np.all(t1 >= 0) and np.all(t2 >= 0)
        for _ in range(3):
            x = rng.standard_normal(shape)
            x[rng.random(shape[0]) < 0.3] = 0.0
            blocks = [x[idx[ptr[g]:ptr[g + 1]]] for g in range(ptr.size - 1)]
            value = sum(t1[g] * np.abs(b).sum() + t2[g] * np.linalg.norm(b) for g, b in enumerate(blocks))
            assert value == pytest.approx(pen(x), rel=1e-12, abs=1e-14)


def check_norm_groups(name, seed=0):
    """``Omega(x) = sum_g w_g ||x[g]||`` over the declared (possibly overlapping) norm groups."""
    cases, rng = _penalties(name, seed)
    for pen, shape in cases:
        n_targets = 1 if len(shape) == 1 else shape[1]
        spec = pen.norm_groups(shape[0], n_targets)
        if "norm_groups" not in pen.capabilities:
            assert spec is None
            continue
        if spec is None:  # allowed for matrix unknowns (an l1 row norm is not Euclidean), never for vectors
            assert n_targets > 1
            continue
        indices, ptr, weights = spec
        assert weights.shape == (ptr.size - 1,) and np.all(weights >= 0)
        for _ in range(3):
            x = rng.standard_normal(shape)
            value = sum(w * np.linalg.norm(x[indices[ptr[g]:ptr[g + 1]]]) for g, w in enumerate(weights))
            assert value == pytest.approx(pen.omega(x), rel=1e-9, abs=1e-12)


def check_free_variables(name, seed=0):
    """The declared free rows are exactly those whose value Omega ignores."""
    cases, rng = _penalties(name, seed)
    for pen, shape in cases:
        free = pen.free_variables(shape[0], shape)
        assert free.dtype == bool and free.shape == (shape[0],)
        x = rng.standard_normal(shape)
        base = pen.omega(x)
        for i in range(shape[0]):
            e = np.zeros(shape)
            e[i] = rng.uniform(0.5, 3.0) * (1 if rng.random() < 0.5 else -1)
            if free[i]:
                assert pen.omega(x + e) == pytest.approx(base, rel=1e-7, abs=1e-9)
                assert pen.omega(e) == pytest.approx(0.0, abs=1e-9)
            else:
                assert pen.omega(e) > 1e-6


def check_dual_norm(name, seed=0):
    """Where declared, the dual norm bounds ``<u, x> <= Omega^*(u) Omega(x)`` and is attained by the prox's residual."""
    cases, rng = _penalties(name, seed)
    for pen, shape in cases:
        if "dual_norm" not in pen.capabilities:
            continue
        free = pen.free_variables(shape[0], shape)
        u = rng.standard_normal(shape)
        u[free] = 0.0
        d = pen.dual_norm(u)
        assert 0 < d < np.inf
        for _ in range(5):
            x = rng.standard_normal(shape)
            assert float(np.vdot(u, x)) <= d * pen.omega(x) * (1 + 1e-7) + 1e-9
        # Moreau: v - prox(v) lies on the sphere of radius tau of the dual norm when prox(v) != 0
        v = 3.0 * rng.standard_normal(shape)
        unit = pen.with_lam(1.0)
        p = unit.prox(v, 0.5)
        if np.any(p[~free]):
            assert pen.dual_norm(np.where(free[(...,) + (None,) * (len(shape) - 1)], 0.0, v - p)) == pytest.approx(
                0.5, rel=1e-5)


PENALTY_CHECKS = [check_block_thresholds, check_norm_groups, check_free_variables, check_dual_norm]


@pytest.mark.parametrize("check", PENALTY_CHECKS, ids=[c.__name__ for c in PENALTY_CHECKS])
@pytest.mark.parametrize("name", penalty_names())
@pytest.mark.parametrize("seed", [0, 1])
def test_penalty_capabilities_are_truthful(name, check, seed):
    check_property = check  # each check_* function asserts its property
    check_property(name, seed)


def test_the_registry_holds_overlapping_and_latent_groups():
    for name in ("overlap_group_lasso", "latent_group_lasso"):
        assert name in penalty_names()
        pens = [random_penalty(name, 12, seed) for seed in range(6)]
        assert all(pen.name == name for pen in pens)
        assert all(not pen.groups.is_disjoint for pen in pens)
        assert any(not pen.groups.covered.all() for pen in pens)  # some features left free
    assert isinstance(random_penalty("overlap_group_lasso", 9, 0), ss.OverlapGroupLasso)
    assert isinstance(random_penalty("latent_group_lasso", 9, 0), ss.LatentGroupLasso)
