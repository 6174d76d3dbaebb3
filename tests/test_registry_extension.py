"""Adding a penalty or a datafit is one class plus one registry line: ss.solve, verify, the property tests and the
docs table pick it up at runtime.

The toy penalty is a weighted L1 (some weights zero: those variables are free); the toy datafit is the squared
hinge loss. Both are defined here in a few lines, from the interfaces alone.
"""

import numpy as np
import pytest

import structsparse as ss
from structsparse.datafits import registry as datafit_registry
from structsparse.datafits.base import Datafit
from structsparse.penalties import registry as penalty_registry
from structsparse.penalties.base import Penalty
from structsparse.solvers.capabilities import capability_table
from structsparse.verify import AUTO, verify

import test_datafits as datafit_props
import test_registry_properties as pair_props


# ---------------------------------------------------------------- the toy penalty: lam * sum_i w_i |x_i|
class WeightedL1(Penalty):
    """``lam * sum_i w_i ||x_i||_1`` (rows ``x_i``); rows of weight zero are free."""

    name = "weighted_l1"
    separable = True

    def __init__(self, weights, lam):
        super().__init__(lam)
        self.weights = np.asarray(weights, dtype=float)

    @property
    def n_features(self):
        return self.weights.size

    def _w(self, x):
        return self.weights.reshape((-1,) + (1,) * (np.ndim(x) - 1))

    def omega(self, x):
        return float(np.sum(self._w(x) * np.abs(x)))

    def _prox(self, v, tau):
        return np.sign(v) * np.maximum(np.abs(v) - tau * self._w(v), 0.0)

    def _dual_norm(self, u):
        a = np.abs(u).reshape(u.shape[0], -1).max(axis=1)
        pos = self.weights > 0
        return np.inf if np.any(a[~pos] > 0) else float(np.max(a[pos] / self.weights[pos], initial=0.0))

    def block_thresholds(self, n_features):
        n = int(n_features)
        return np.arange(n), np.arange(n + 1), self.lam * self.weights, np.zeros(n)

    def norm_groups(self, n_features, n_targets=1):
        n = int(n_features)
        return None if n_targets != 1 else (np.arange(n), np.arange(n + 1), self.weights)

    def free_variables(self, n_features, x_shape=None):
        return self.weights == 0

    def cvxpy_omega(self, x):
        import cvxpy as cp

        w = self.weights if len(x.shape) == 1 else np.outer(self.weights, np.ones(x.shape[1]))
        return cp.sum(cp.multiply(w, cp.abs(x)))


def _make_weighted_l1(n_features, rng, n_targets):
    w = rng.uniform(0.5, 2.0, n_features)
    w[rng.random(n_features) < 0.2] = 0.0
    w[0] = 1.0  # at least one penalized variable
    return WeightedL1(w, float(rng.uniform(0.1, 1.0)))


# ---------------------------------------------------------------- the toy datafit: 0.5 sum max(0, 1 - y z)^2
class SquaredHinge(Datafit):
    """Squared hinge loss ``0.5 sum_i max(0, 1 - y_i z_i)^2`` for labels in {-1, 1}."""

    name = "squared_hinge"
    curvature = 1.0
    multi_target = False

    def value_from_Ax(self, Ax):
        return 0.5 * float(np.sum(np.maximum(0.0, 1.0 - self.y * Ax) ** 2))

    def raw_grad(self, Ax):
        return -self.y * np.maximum(0.0, 1.0 - self.y * Ax)

    def raw_hessian(self, Ax):
        return (self.y * Ax < 1.0).astype(float)

    def conjugate(self, u):
        s = np.asarray(u, dtype=float) * self.y  # f*(u) = s + s^2 / 2 for s = u y <= 0
        return np.inf if np.any(s > 1e-12) else float(np.sum(s + 0.5 * s * s))

    def quadratic_weights(self, Ax):
        return np.ones(np.shape(Ax))

    def cvxpy_fit(self, z):
        import cvxpy as cp

        return 0.5 * cp.sum_squares(cp.pos(1.0 - cp.multiply(self.y, z)))


def _make_squared_hinge(A, rng, n_targets):
    z = np.asarray(A @ rng.standard_normal(A.shape[1])).ravel() + 0.5 * rng.standard_normal(A.shape[0])
    y = np.where(z > 0, 1.0, -1.0)
    y[0] = -y[1] if np.all(y == y[0]) else y[0]
    return SquaredHinge(A, y)


@pytest.fixture
def toys():
    """Register both toys for one test, then restore the registries."""
    before = penalty_registry.PENALTY_NAMES
    penalty_registry.register_penalty("weighted_l1", _make_weighted_l1)
    datafit_registry.register_datafit("squared_hinge", _make_squared_hinge)
    try:
        yield
    finally:
        penalty_registry.PENALTY_REGISTRY.pop("weighted_l1", None)
        penalty_registry.PENALTY_NAMES = before
        datafit_registry.DATAFIT_REGISTRY.pop("squared_hinge", None)
    assert "weighted_l1" not in penalty_registry.penalty_names()


def test_registering_a_taken_name_says_it_is_already_registered(toys):
    with pytest.raises(ss.ParameterError, match="'weighted_l1' is already registered"):
        penalty_registry.register_penalty("weighted_l1", _make_weighted_l1)
    with pytest.raises(ss.ParameterError, match="'l1' is already registered"):
        penalty_registry.register_penalty("l1", _make_weighted_l1)
    with pytest.raises(ss.ParameterError, match="'squared_hinge' is already registered"):
        datafit_registry.register_datafit("squared_hinge", _make_squared_hinge)
    with pytest.raises(ss.ParameterError, match="'least_squares' is already registered"):
        datafit_registry.register_datafit("least_squares", _make_squared_hinge)
    assert datafit_registry.DATAFIT_REGISTRY["squared_hinge"] is _make_squared_hinge   # not replaced
    with pytest.raises(ss.ParameterError, match="non-empty"):
        penalty_registry.register_penalty("", _make_weighted_l1)


def test_toys_join_the_registries(toys):
    assert "weighted_l1" in penalty_registry.penalty_names()
    assert "squared_hinge" in datafit_registry.datafit_names()
    assert "weighted_l1" in penalty_registry.exact_prox_names()
    table = capability_table()
    assert "| least_squares | weighted_l1 | `solve_block` |" in table
    assert "| squared_hinge | weighted_l1 | `solve_block` |" in table
    assert "| squared_hinge | overlap_group_lasso | `fista` |" in table


def test_ss_solve_picks_them_up(toys):
    rng = np.random.default_rng(0)
    A = rng.standard_normal((40, 15))
    pen = _make_weighted_l1(15, rng, None)
    for fit in (ss.LeastSquares(A, rng.standard_normal(40)), _make_squared_hinge(A, rng, None)):
        lam = 0.3 * ss.lambda_max(fit, pen)
        p = pen.with_lam(lam)
        res = ss.solve(fit, p)
        assert res.solver == "solve_block" and res.converged  # block thresholds declared: coordinate descent
        ref = ss.solve_cvxpy(fit, p)
        assert fit.value(res.x) + p(res.x) == pytest.approx(ref.objective, rel=1e-6)
        assert np.all(res.x[pen.weights == 0] != 0)  # free variables are fitted, not shrunk
        fista = ss.solve(fit, p, solver="fista", tol=1e-10)
        assert fit.value(fista.x) + p(fista.x) == pytest.approx(ref.objective, rel=1e-6)


def test_verify_picks_them_up(toys):
    lines = []
    rows = verify(rng=0, penalties=["weighted_l1", "group_lasso"], datafits=["squared_hinge", "least_squares"],
                  out=lines.append)
    pairs = {(r.datafit, r.penalty) for r in rows}
    assert pairs == {(d, p) for d in ("squared_hinge", "least_squares") for p in ("weighted_l1", "group_lasso")}
    assert {r.solver for r in rows if r.datafit == "squared_hinge"} >= {"fista", AUTO}
    failed = [r for r in rows if not r.passed]
    assert not failed, [(r, r.note) for r in failed]
    # the default run covers them too (the registries are read when verify runs)
    rows = verify(rng=1, penalties=["weighted_l1"], solvers=["fista"], out=None)
    assert {r.datafit for r in rows} == set(datafit_registry.datafit_names()) and all(r.passed for r in rows)


@pytest.mark.parametrize("check", datafit_props.CHECKS, ids=[c.__name__ for c in datafit_props.CHECKS])
def test_datafit_property_tests_pick_up_the_toy(toys, check):
    check_property = check  # each check_* function asserts its property
    check_property("squared_hinge", 0)


@pytest.mark.parametrize("check", pair_props.PENALTY_CHECKS, ids=[c.__name__ for c in pair_props.PENALTY_CHECKS])
def test_penalty_property_tests_pick_up_the_toy(toys, check):
    check_property = check  # each check_* function asserts its property
    check_property("weighted_l1", 0)
    check_property("weighted_l1", 1)


@pytest.mark.parametrize("datafit", ["least_squares", "logistic", "squared_hinge"])
def test_pair_property_tests_pick_up_the_toys(toys, datafit):
    pair_props.check_lambda_max(datafit, "weighted_l1", 0)
    pair_props.check_lambda_max("squared_hinge", "group_lasso", 1)
    gap_pen = "weighted_l1" if datafit != "squared_hinge" else "tree_lasso"
    pair_props.check_duality_gap(datafit, gap_pen, 2)


def test_property_tests_catch_a_lying_penalty(toys):
    # a penalty whose declared block thresholds do not match its value is caught by the property test
    class Lying(WeightedL1):
        def block_thresholds(self, n_features):
            idx, ptr, t1, t2 = super().block_thresholds(n_features)
            return idx, ptr, 0.5 * t1, t2

    penalty_registry.register_penalty("lying_l1", lambda n, rng, k: Lying(np.ones(n), 1.0))
    try:
        with pytest.raises(AssertionError):
            pair_props.check_block_thresholds("lying_l1", 0)
        pair_props.check_norm_groups("lying_l1", 0)  # its other declarations are true
    finally:
        penalty_registry.PENALTY_REGISTRY.pop("lying_l1", None)


class MinimalL2(Penalty):
    """``lam * ||x||_2``: only what the tutorial requires (value, prox, cvxpy), no dual norm."""

    name = "minimal_l2"

    def __init__(self, n, lam):
        super().__init__(lam)
        self.n = n

    @property
    def n_features(self):
        return self.n

    def omega(self, x):
        return float(np.linalg.norm(x))

    def _prox(self, v, tau):
        nv = np.linalg.norm(v)
        return v * max(0.0, 1.0 - tau / nv) if nv > 0 else np.zeros_like(v)

    def cvxpy_omega(self, x):
        import cvxpy as cp

        return cp.norm(cp.vec(x, order="C"), 2)


@pytest.mark.parametrize("fit_name", ["least_squares", "logistic"])
def test_a_penalty_without_a_dual_norm_declares_none_and_is_solved(fit_name):
    """No ``_dual_norm``: no "dual_norm" capability, so FISTA stops on its residual and says the gap is unavailable."""
    rng = np.random.default_rng(0)
    A = rng.standard_normal((30, 8))
    fit = ss.LeastSquares(A, rng.standard_normal(30)) if fit_name == "least_squares" else \
        ss.Logistic(A, np.where(A[:, 0] + rng.standard_normal(30) > 0, 1.0, -1.0))
    pen = MinimalL2(8, 1.0)
    assert "dual_norm" not in pen.capabilities and not pen.has_dual_norm
    lam_max = ss.lambda_max(fit, pen)  # by bisection on the prox
    assert not np.any(ss.solve(fit, pen.with_lam(1.01 * lam_max)).x)
    pen = pen.with_lam(0.5 * lam_max)
    res = ss.solve(fit, pen)
    assert res.solver == "fista" and res.converged and res.gap is None
    assert "duality gap unavailable" in res.message and "MinimalL2" in res.message
    assert ss.duality_gap(fit, pen, res.x) is None
    ref = ss.solve_cvxpy(fit, pen)
    assert res.objective == pytest.approx(ref.objective, rel=1e-6)


def test_the_dual_norm_capability_follows_the_implementation():
    class Flagged(MinimalL2):
        has_dual_norm = True  # a flag without the method declares nothing: a gap would crash

    class WithDualNorm(MinimalL2):
        def _dual_norm(self, u):
            return float(np.linalg.norm(u))

    class TooCostly(WithDualNorm):
        has_dual_norm = False

    assert "dual_norm" not in Flagged(3, 1.0).capabilities
    assert "dual_norm" in WithDualNorm(3, 1.0).capabilities and WithDualNorm(3, 1.0).has_dual_norm
    assert "dual_norm" not in TooCostly(3, 1.0).capabilities
    pen = WithDualNorm(3, 1.0)
    pen.has_dual_norm = False  # an instance may still switch it off
    assert "dual_norm" not in pen.capabilities and "dual_norm" in WithDualNorm(3, 1.0).capabilities


class ScaledLeastSquares(Datafit):
    """``0.5 s ||A x - y||^2``: quadratic, but not the plain least squares."""

    name = "scaled_least_squares"
    quadratic = True

    def __init__(self, A, y, scale=3.0):
        self.curvature = float(scale)
        super().__init__(A, y)

    def value_from_Ax(self, Ax):
        return 0.5 * self.curvature * float(np.sum((Ax - self.y) ** 2))

    def raw_grad(self, Ax):
        return self.curvature * (Ax - self.y)

    def raw_hessian(self, Ax):
        return np.full(np.shape(Ax), self.curvature)

    def conjugate(self, u):
        u = np.asarray(u, dtype=float)
        return 0.5 * float(np.vdot(u, u)) / self.curvature + float(np.vdot(u, self.y))

    def cvxpy_fit(self, z):
        import cvxpy as cp

        return 0.5 * self.curvature * cp.sum_squares(z - self.y)


def test_a_quadratic_datafit_that_is_not_least_squares_is_solved_by_its_own_methods():
    """Only the exact least-squares form is read as ``0.5 ||A x - y||^2``; another quadratic goes through its methods."""
    datafit_registry.register_datafit("scaled_least_squares",
                                      lambda A, rng, k: ScaledLeastSquares(A, rng.standard_normal(A.shape[0])))
    try:
        rows = verify(rng=0, datafits=["scaled_least_squares"], penalties=["l1", "overlap_group_lasso"], out=None)
    finally:
        datafit_registry.DATAFIT_REGISTRY.pop("scaled_least_squares", None)
    solvers = {r.solver for r in rows}
    assert "solve_block" in solvers and "admm" not in solvers  # admm needs the least-squares form
    assert all(r.passed for r in rows), [(r.solver, r.rel_obj_diff) for r in rows if not r.passed]
