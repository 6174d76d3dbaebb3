"""Registry-driven property tests of every penalty: prox optimality, Moreau identity, cvxpy prox,
non-expansiveness, lambda_max at the prox level, singleton groups, bad input, no caller mutation."""

import warnings

import cvxpy as cp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import structsparse as ss
from structsparse.exceptions import ParameterError, ShapeError, StructureError
from structsparse.penalties.registry import (
    PENALTY_NAMES,
    PENALTY_REGISTRY,
    exact_prox_names,
    random_groups,
    random_penalty,
    random_tree,
)

# Tests of exactness (prox optimality to 1e-9, bitwise reproducibility, exact zeros at lambda_max) run on the
# penalties with an exact prox; the iterative ones (overlapping and latent groups) are covered, at their inner
# solver's tolerance, by tests/test_registry_properties.py, tests/test_overlap.py and tests/test_latent.py.
EXACT_NAMES = exact_prox_names()
ALL_CASES = [(name, n_targets, seed) for name in PENALTY_NAMES for n_targets in (None, 2) for seed in (0, 1, 2)]
ALL_CASE_IDS = [f"{n}-{'vec' if k is None else 'mat'}-{s}" for n, k, s in ALL_CASES]
CASES = [case for case in ALL_CASES if case[0] in EXACT_NAMES]
CASE_IDS = [f"{n}-{'vec' if k is None else 'mat'}-{s}" for n, k, s in CASES]


def make_case(name, n_targets, seed, n_features=None):
    rng = np.random.default_rng(1000 + seed)
    n = int(rng.integers(6, 16)) if n_features is None else n_features
    pen = random_penalty(name, n, rng, n_targets=n_targets)
    shape = (n,) if n_targets is None else (n, n_targets)
    return pen, shape, rng


def free_rows(pen, shape):
    """Rows that the penalty leaves unpenalized (omega of the unit row is zero)."""
    free = np.zeros(shape[0], dtype=bool)
    for i in range(shape[0]):
        e = np.zeros(shape)
        e[i] = 1.0
        free[i] = pen.omega(e) == 0
    return free


def solve(prob):
    """Clarabel with tight tolerances. It sometimes stops just short of them ("optimal_inaccurate");
    the assertions below bound what that costs from the objective values, so both statuses are kept."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Solution may be inaccurate")
        prob.solve(solver=cp.CLARABEL, tol_gap_abs=1e-10, tol_gap_rel=1e-10, tol_feas=1e-10, max_iter=500)
    assert prob.status in (cp.OPTIMAL, cp.OPTIMAL_INACCURATE), prob.status


def cvxpy_prox(pen, v, tau):
    x = cp.Variable(v.shape)
    solve(cp.Problem(cp.Minimize(0.5 * cp.sum_squares(x - v) + tau * pen.cvxpy_omega(x))))
    return x.value


def assert_close_to_reference(ours, ref, objective, strong_convexity):
    """``ours`` is at least as good as the cvxpy reference and as close to it as the reference's accuracy allows.

    For a ``m``-strongly convex objective, ``m/2 ||ref - x*||^2 <= f(ref) - f(x*)``: an interior-point
    reference sits about ``sqrt(its suboptimality)`` away from the exact point (and, when it violates its
    constraints by ~1e-9, about as far on the other side), so that slack is allowed on top of ``1e-6``.
    """
    f_ours, f_ref = objective(ours), objective(ref)
    assert f_ours <= f_ref + 1e-8 * max(1.0, abs(f_ref))
    slack = np.sqrt(2.0 * abs(f_ref - f_ours) / strong_convexity)
    assert np.linalg.norm(ours - ref) <= 1e-6 + slack
    assert slack < 1e-4  # the reference itself is accurate


# ---------------------------------------------------------------- dual-ball projections, written independently
def _block(z, idx):
    return cp.vec(z[idx], order="C")


def dual_ball_constraints(pen, z, r):
    """Constraints ``Omega^*(z) <= r`` written from the definition of each norm, not from our dual-norm code."""
    if isinstance(pen, ss.SparseGroupLasso):
        g, l1r = pen.groups, pen.l1_ratio
        cons = []
        for idx, w in zip(g, g.weights):
            y = cp.Variable(_block(z, idx).shape)
            cons += [cp.abs(y) <= r * l1r, cp.norm(_block(z, idx) - y, 2) <= r * (1 - l1r) * w]
        free = np.flatnonzero(~g.covered)
        if free.size:
            cons.append(cp.abs(z[free]) <= r * l1r)
        return cons
    if isinstance(pen, ss.TreeLasso):
        t = pen.tree
        total = 0
        cons = []
        for node in range(t.n_nodes):
            grp = t.group(node)
            sel = np.zeros((t.n_features, grp.size))
            sel[grp, np.arange(grp.size)] = 1.0
            xi = cp.Variable((grp.size,) + tuple(z.shape[1:]))
            total = total + sel @ xi
            cons.append(cp.norm(cp.vec(xi, order="C"), 2) <= r * t.weights[node])
        return cons + [z == total]
    if isinstance(pen, ss.GroupNuclear):
        g, rw = pen.groups, pen.rank_weight
        cons = []
        for idx, w, shp in zip(g, g.weights, pen.shapes):
            y1, y2 = cp.Variable(shp), cp.Variable(shp)
            cons += [cp.reshape(_block(z, idx), shp, order="C") == y1 + y2,
                     cp.norm(y1, "fro") <= r * (1 - rw) * w, cp.sigma_max(y2) <= r * rw * w]
        free = np.flatnonzero(~g.covered)
        if free.size:
            cons.append(z[free] == 0)
        return cons
    raise AssertionError(f"no cvxpy dual ball for {pen!r}")


def project_dual_ball(pen, v, r):
    """Euclidean projection of ``v`` on ``{u : Omega^*(u) <= r}``: closed forms where they exist, else cvxpy."""
    if isinstance(pen, ss.L1):
        return np.clip(v, -r, r)
    if isinstance(pen, ss.GroupLasso):
        out = np.zeros_like(v)  # variables in no group: the dual ball forces them to zero
        for idx, w in zip(pen.groups, pen.groups.weights):
            nrm = np.linalg.norm(v[idx])
            out[idx] = v[idx] * (min(1.0, r * w / nrm) if nrm > 0 else 0.0)
        return out
    if isinstance(pen, ss.NuclearNorm):
        u, s, vt = np.linalg.svd(v.reshape(pen.shape), full_matrices=False)
        return ((u * np.minimum(s, r)) @ vt).reshape(v.shape)
    z = cp.Variable(v.shape)
    solve(cp.Problem(cp.Minimize(cp.sum_squares(z - v)), dual_ball_constraints(pen, z, r)))
    return z.value


# ---------------------------------------------------------------- the registry itself
def test_registry_covers_every_penalty_class():
    classes = {type(random_penalty(name, 8, 0)) for name in PENALTY_NAMES}
    assert classes == {ss.L1, ss.GroupLasso, ss.SparseGroupLasso, ss.TreeLasso, ss.NuclearNorm, ss.GroupNuclear,
                       ss.OverlapGroupLasso, ss.LatentGroupLasso}
    assert set(PENALTY_REGISTRY) == set(PENALTY_NAMES)
    for name in PENALTY_NAMES:
        assert random_penalty(name, 8, 0).name == name


@pytest.mark.parametrize("name", PENALTY_NAMES)
@pytest.mark.parametrize("n_targets", [None, 1, 3])
def test_registry_penalty_accepts_the_promised_shape(name, n_targets):
    for seed in range(5):
        rng = np.random.default_rng(seed)
        n = int(rng.integers(1, 30))
        pen = random_penalty(name, n, rng, n_targets=n_targets)
        x = rng.standard_normal((n,) if n_targets is None else (n, n_targets))
        assert np.isfinite(pen(x)) and pen(x) >= 0
        assert pen.prox(x, 0.5).shape == x.shape


def test_registry_draws_varied_structures():
    rng = np.random.default_rng(0)
    g = random_groups(40, rng)
    assert g.is_disjoint and not g.covered.all() and len(set(g.sizes.tolist())) > 1
    assert len(set(np.round(g.weights, 6))) > 1
    for shape in ("chain", "star", "binary", "random"):
        t = random_tree(30, rng, shape=shape)
        assert t.n_features == 30
        depth = t.depth().max()
        if shape == "chain":
            assert depth == t.n_nodes - 1
        if shape == "star":
            assert depth == min(1, t.n_nodes - 1)
    multi = [random_tree(30, rng) for _ in range(10)]
    assert any(t.n_nodes < t.n_features for t in multi)  # some node owns several variables
    assert any(t.root != 0 for t in multi)  # node numbers are shuffled


def test_registry_rejects_bad_input():
    with pytest.raises(ParameterError, match="name"):
        random_penalty("nope", 5, 0)
    with pytest.raises(ParameterError, match="n_features"):
        random_penalty("l1", 0, 0)
    with pytest.raises(ParameterError, match="n_targets"):
        random_penalty("l1", 5, 0, n_targets=0)
    with pytest.raises(ParameterError, match="rng"):
        random_penalty("l1", 5, -3)
    with pytest.raises(ParameterError, match="shape"):
        random_tree(5, 0, shape="bush")
    with pytest.raises(ParameterError, match="n_features"):
        random_tree(0, 0)
    with pytest.raises(ParameterError, match="n_features"):
        random_groups(-2, 0)


# ---------------------------------------------------------------- prox optimality and Moreau identity
@pytest.mark.parametrize("name,n_targets,seed", CASES, ids=CASE_IDS)
def test_prox_optimality_condition(name, n_targets, seed):
    pen, shape, rng = make_case(name, n_targets, seed)
    for scale in (0.3, 1.0, 5.0):
        v = scale * rng.standard_normal(shape)
        step = float(rng.uniform(0.2, 2.0))
        tau = step * pen.lam
        p = pen.prox(v, step)
        resid = v - p
        # v - p is in tau * subdifferential of Omega at p: dual norm <= tau and Fenchel equality
        assert pen.dual_norm(resid) <= tau * (1 + 1e-9)
        lhs, rhs = float(np.sum(resid * p)), tau * pen.omega(p)
        assert abs(lhs - rhs) <= 1e-9 * max(abs(rhs), np.sum(v * v))


@pytest.mark.parametrize("name,n_targets,seed", CASES, ids=CASE_IDS)
def test_moreau_identity_with_dual_ball_projection(name, n_targets, seed):
    pen, shape, rng = make_case(name, n_targets, seed)
    free = free_rows(pen, shape)
    v = 2.0 * rng.standard_normal(shape)
    step = float(rng.uniform(0.3, 1.5))
    radius = step * pen.lam
    proj = project_dual_ball(pen, v, radius)
    ours = v - pen.prox(v, step)  # Moreau: prox(v) + proj(v) == v
    if isinstance(pen, (ss.L1, ss.GroupLasso, ss.NuclearNorm)):  # closed-form projections
        np.testing.assert_allclose(ours, proj, rtol=1e-12, atol=1e-12)
    else:
        assert pen.dual_norm(ours) <= radius * (1 + 1e-9)  # feasible (our dual norm is checked against cvxpy)
        assert_close_to_reference(ours, proj, lambda z: float(np.sum((z - v) ** 2)), 2.0)
    # the projection lies in the ball, as measured by our dual norm (unpenalized rows project to zero)
    assert np.all(np.abs(proj[free]) < 1e-6)
    proj[free] = 0.0
    assert pen.dual_norm(proj) <= radius * (1 + 1e-5)


@pytest.mark.parametrize("name,n_targets,seed", ALL_CASES, ids=ALL_CASE_IDS)
def test_prox_matches_cvxpy(name, n_targets, seed):
    pen, shape, rng = make_case(name, n_targets, seed)
    v = 1.5 * rng.standard_normal(shape)
    step = float(rng.uniform(0.5, 2.0))
    tau = step * pen.lam
    ref = cvxpy_prox(pen, v, tau)
    assert_close_to_reference(pen.prox(v, step), ref, lambda x: 0.5 * float(np.sum((x - v) ** 2)) + tau * pen.omega(x), 1.0)


@pytest.mark.parametrize("name,n_targets,seed", CASES, ids=CASE_IDS)
def test_value_and_dual_norm_match_cvxpy(name, n_targets, seed):
    pen, shape, rng = make_case(name, n_targets, seed)
    x = rng.standard_normal(shape)
    assert pen(x) == pytest.approx(pen.lam * pen.cvxpy_omega(cp.Constant(x)).value, rel=1e-10)
    assert pen.cvxpy(cp.Constant(x), lam=2.0).value == pytest.approx(2.0 * pen.omega(x), rel=1e-10)
    u = rng.standard_normal(shape)
    free = np.flatnonzero(free_rows(pen, shape))
    u[free] = 0.0
    z = cp.Variable(shape)
    cons = [pen.cvxpy_omega(z) <= 1] + ([z[free] == 0] if free.size else [])  # keep the feasible set bounded
    prob = cp.Problem(cp.Maximize(cp.sum(cp.multiply(u, z))), cons)
    solve(prob)
    assert pen.dual_norm(u) == pytest.approx(prob.value, rel=1e-6)
    assert pen.lambda_max(u) == pen.dual_norm(u)


@pytest.mark.parametrize("name", PENALTY_NAMES)
def test_dual_norm_is_infinite_on_free_rows_only(name):
    for seed in range(4):
        pen, shape, rng = make_case(name, None, seed)
        free = free_rows(pen, shape)
        u = rng.standard_normal(shape)
        assert np.isfinite(pen.dual_norm(np.where(free, 0.0, u)))
        assert pen.dual_norm(np.zeros(shape)) == 0.0
        if free.any():
            assert pen.dual_norm(u) == np.inf


@pytest.mark.parametrize("name", EXACT_NAMES)
@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), step=st.floats(0.0, 10.0), data=st.data())
def test_prox_is_non_expansive(name, seed, step, data):
    rng = np.random.default_rng(seed)
    n_targets = [None, 2][seed % 2]
    n = int(rng.integers(1, 12))
    pen = random_penalty(name, n, rng, n_targets=n_targets)
    shape = (n,) if n_targets is None else (n, n_targets)
    elems = st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False)
    a = data.draw(arrays(np.float64, shape, elements=elems))
    b = data.draw(arrays(np.float64, shape, elements=elems))
    pa, pb = pen.prox(a, step), pen.prox(b, step)
    assert np.linalg.norm(pa - pb) <= np.linalg.norm(a - b) * (1 + 1e-12) + 1e-9
    # the prox of the zero function is the identity
    np.testing.assert_array_equal(pen.prox(a, 0.0), a)


# ---------------------------------------------------------------- lambda_max at the prox level
@pytest.mark.parametrize("name,n_targets,seed", CASES, ids=CASE_IDS)
def test_prox_is_zero_at_lambda_max_and_not_below(name, n_targets, seed):
    pen, shape, rng = make_case(name, n_targets, seed)
    free = free_rows(pen, shape)
    grad0 = rng.standard_normal(shape)
    grad0[free] = 0.0
    lmax = pen.lambda_max(grad0)
    assert 0 < lmax < np.inf
    for step in (1.0, 0.37, 12.5):
        # exactly zero at lambda_max itself (near-ties within rounding are zeroed by the kernels) ...
        at = pen.with_lam(lmax).prox(step * grad0, step)
        assert not np.any(at)
        # ... and not just below it
        assert np.any(pen.with_lam(lmax * (1 - 1e-9)).prox(step * grad0, step))
        below = pen.with_lam(0.99 * lmax).prox(step * grad0, step)
        assert np.linalg.norm(below) > 1e-4 * step * np.linalg.norm(grad0)


@pytest.mark.parametrize("name", EXACT_NAMES)
def test_prox_is_exactly_zero_at_lambda_max_on_many_draws(name):
    for seed in range(40):
        rng = np.random.default_rng(seed)
        n, n_targets = int(rng.integers(2, 40)), [None, 3][seed % 2]
        pen = random_penalty(name, n, rng, n_targets=n_targets)
        shape = (n,) if n_targets is None else (n, n_targets)
        grad0 = rng.standard_normal(shape) * 10.0 ** rng.uniform(-3, 3)
        grad0[free_rows(pen, shape)] = 0.0
        lmax = pen.lambda_max(grad0)
        step = float(10.0 ** rng.uniform(-3, 1))
        assert not np.any(pen.with_lam(lmax).prox(step * grad0, step))
        assert np.any(pen.with_lam(lmax * (1 - 1e-9)).prox(step * grad0, step))


# ---------------------------------------------------------------- groups of size one give the lasso
def test_singleton_groups_give_the_lasso():
    rng = np.random.default_rng(0)
    n, lam, step = 9, 0.7, 1.3
    lasso = ss.L1(lam)
    singles = ss.Groups.from_sizes([1] * n)
    for v in (rng.standard_normal(n), rng.standard_normal((n, 1))):
        want = lasso.prox(v, step)
        np.testing.assert_allclose(ss.GroupLasso(singles, lam).prox(v, step), want, rtol=1e-14, atol=1e-15)
        for r in (0.0, 0.4, 1.0):
            pen = ss.SparseGroupLasso(singles, lam, r)
            np.testing.assert_allclose(pen.prox(v, step), want, rtol=1e-14, atol=1e-15)
            assert pen(v) == pytest.approx(lasso(v), rel=1e-14)
            assert pen.dual_norm(v) == pytest.approx(lasso.dual_norm(v), rel=1e-14)
        gn = ss.GroupNuclear(singles, lam, 0.3, (1, 1))
        np.testing.assert_allclose(gn.prox(v, step), want, rtol=1e-14, atol=1e-15)
        assert gn.dual_norm(v) == pytest.approx(lasso.dual_norm(v), rel=1e-14)
        assert ss.GroupLasso(singles, lam).dual_norm(v) == pytest.approx(lasso.dual_norm(v), rel=1e-14)
    # a one-variable tree, and 1x1 nuclear norm, are |x|
    one = ss.TreeLasso(ss.Tree.from_parents([-1]), lam)
    nuc = ss.NuclearNorm(lam, (1, 1))
    for x in (-2.0, 0.3):
        assert one.prox([x], step) == pytest.approx(lasso.prox([x], step))
        assert nuc.prox([x], step) == pytest.approx(lasso.prox([x], step))
    # a star whose root has weight 0: its leaves' groups are singletons, the root's own variable is free
    star = ss.TreeLasso(ss.Tree.from_parents([-1] + [0] * (n - 1), weights=[0.0] + [1.0] * (n - 1)), lam)
    v = rng.standard_normal(n)
    p = star.prox(v, step)
    assert p[0] == v[0]
    np.testing.assert_allclose(p[1:], lasso.prox(v[1:], step), rtol=1e-14)


def test_worked_example_through_group_lasso():
    pen = ss.GroupLasso(ss.Groups.from_lists([[0, 1], [2, 3]]), lam=1.0)
    np.testing.assert_allclose(pen.prox([3.0, 4.0, 1.0, 2.0], step=3.0), [1.2, 1.6, 0.0, 0.0], rtol=1e-15)
    pen3 = ss.GroupLasso([[0, 1], [2, 3]], lam=3.0)
    np.testing.assert_allclose(pen3.prox(np.array([3.0, 4.0, 1.0, 2.0])), [1.2, 1.6, 0.0, 0.0], rtol=1e-15)


# ---------------------------------------------------------------- specific closed forms
def test_sparse_group_dual_norm_closed_forms():
    rng = np.random.default_rng(5)
    g = ss.Groups.from_sizes([4, 3])
    u = rng.standard_normal(7)
    # l1_ratio 0: group lasso dual; 1: l-inf
    assert ss.SparseGroupLasso(g, 1.0, 0.0).dual_norm(u) == pytest.approx(ss.GroupLasso(g, 1.0).dual_norm(u), rel=1e-14)
    assert ss.SparseGroupLasso(g, 1.0, 1.0).dual_norm(u) == pytest.approx(np.abs(u).max(), rel=1e-14)
    # equal magnitudes: ||ST(u, b t)|| = sqrt(m) (c - b t) = a t  ->  t = sqrt(m) c / (a + sqrt(m) b)
    pen = ss.SparseGroupLasso(ss.Groups.from_sizes([5]), 1.0, 0.25)
    c = 1.7
    assert pen.dual_norm(np.full(5, -c)) == pytest.approx(np.sqrt(5) * c / (0.75 + np.sqrt(5) * 0.25), rel=1e-14)


def test_group_nuclear_reduces_to_group_lasso_and_to_nuclear_norms():
    rng = np.random.default_rng(2)
    g = ss.Groups.from_lists([[0, 1, 2, 3, 4, 5], [6, 7, 8, 9]], n_features=11, weights=[1.0, 2.0])
    v = rng.standard_normal(11)
    fro = ss.GroupNuclear(g, 0.8, 0.0, [(2, 3), (2, 2)])
    np.testing.assert_allclose(fro.prox(v, 1.1), ss.GroupLasso(g, 0.8).prox(v, 1.1), rtol=1e-12, atol=1e-14)
    nuc = ss.GroupNuclear(g, 0.8, 1.0, [(2, 3), (2, 2)])
    p = nuc.prox(v, 1.1)
    np.testing.assert_allclose(p[:6], ss.NuclearNorm(0.8, (2, 3)).prox(v[:6], 1.1), atol=1e-12)
    np.testing.assert_allclose(p[6:10], ss.NuclearNorm(1.6, (2, 2)).prox(v[6:10], 1.1), atol=1e-12)
    assert p[10] == v[10]  # in no group
    # matrix variable: row groups with shape (rows, n_targets) make X_g = x[g]
    x = rng.standard_normal((5, 3))
    pen = ss.GroupNuclear([[0, 1], [2, 3, 4]], 1.0, 1.0, [(2, 3), (3, 3)])
    want = np.linalg.svd(x[:2], compute_uv=False).sum() + np.linalg.svd(x[2:], compute_uv=False).sum()
    assert pen(x) == pytest.approx(want, rel=1e-13)
    assert pen.n_targets == 3


def test_nuclear_norm_layouts_agree():
    rng = np.random.default_rng(4)
    pen = ss.NuclearNorm(0.5, (3, 4))
    m = rng.standard_normal((3, 4))
    s = np.linalg.svd(m, compute_uv=False)
    assert pen(m) == pytest.approx(0.5 * s.sum(), rel=1e-14)
    assert pen.dual_norm(m) == pytest.approx(s[0], rel=1e-14)
    for layout in (m.ravel(), m.reshape(12, 1)):
        assert pen(layout) == pytest.approx(pen(m), rel=1e-14)
        np.testing.assert_allclose(pen.prox(layout, 2.0).reshape(3, 4), pen.prox(m, 2.0), atol=1e-14)
    np.testing.assert_allclose(np.linalg.svd(pen.prox(m, 2.0), compute_uv=False), np.maximum(s - 1.0, 0), atol=1e-13)


def test_tree_value_and_group_norms():
    t = ss.Tree.from_parents([2, 2, -1, 0], owns=[[0], [1, 4], [2], [3]], weights=[1.0, 2.0, 0.5, 3.0])
    pen = ss.TreeLasso(t, 2.0)
    x = np.array([1.0, -2.0, 3.0, 4.0, 0.5])
    want = [np.linalg.norm(x[t.group(k)]) for k in range(4)]
    np.testing.assert_allclose(pen.group_norms(x), want, rtol=1e-15)
    assert pen(x) == pytest.approx(2.0 * float(np.dot(t.weights, want)), rel=1e-15)


# ---------------------------------------------------------------- float32 input, output types
@pytest.mark.parametrize("name", EXACT_NAMES)
def test_float32_input_is_computed_in_float64(name):
    pen, shape, rng = make_case(name, None, 0)
    v32 = rng.standard_normal(shape).astype(np.float32)
    out = pen.prox(v32, 0.7)
    assert out.dtype == np.float64 and out.shape == shape
    np.testing.assert_array_equal(out, pen.prox(v32.astype(np.float64), 0.7))
    assert pen(v32) == pen(v32.astype(np.float64))
    assert isinstance(pen(v32), float) and isinstance(pen.dual_norm(v32), float)


# ---------------------------------------------------------------- caller arrays are never modified
@pytest.mark.parametrize("name,n_targets,seed", ALL_CASES[::3], ids=ALL_CASE_IDS[::3])
def test_caller_arrays_are_not_modified(name, n_targets, seed):
    pen, shape, rng = make_case(name, n_targets, seed)
    v = rng.standard_normal(shape)
    keep = v.copy()
    pen.prox(v, 0.5)
    pen(v)
    pen.dual_norm(v)
    pen.lambda_max(v)
    np.testing.assert_array_equal(v, keep)
    out = pen.prox(v, 0.0)
    out[...] = 7.0  # the result is a new array, never a view of v
    np.testing.assert_array_equal(v, keep)


def test_constructors_do_not_modify_or_alias_caller_arrays():
    idx = [np.array([0, 1]), np.array([2, 3])]
    w = np.array([1.0, 2.0])
    g = ss.Groups.from_lists(idx, n_features=5, weights=w)
    w[0] = 9.0
    idx[0][0] = 4
    assert g.weights[0] == 1.0 and g[0].tolist() == [0, 1]
    parents = np.array([-1, 0, 0])
    tw = np.array([1.0, 1.0, 1.0])
    t = ss.Tree.from_parents(parents, weights=tw)
    parents[1] = 2
    tw[0] = 5.0
    assert t.parents.tolist() == [-1, 0, 0] and t.weights[0] == 1.0
    shapes = [[2, 2]]
    pen = ss.GroupNuclear([[0, 1, 2, 3]], 1.0, 0.5, shapes)
    shapes[0][0] = 4
    assert pen.shapes == ((2, 2),)


# ---------------------------------------------------------------- bad input
GOOD_GROUPS = [[0, 1], [2, 3]]


@pytest.mark.parametrize("make,exc,match", [
    (lambda: ss.L1(-1.0), ParameterError, "lam"),
    (lambda: ss.L1(np.nan), ParameterError, "lam"),
    (lambda: ss.L1("1"), ParameterError, "lam"),
    (lambda: ss.GroupLasso(GOOD_GROUPS, -0.1), ParameterError, "lam"),
    (lambda: ss.GroupLasso([[0, 1], [1, 2]], 1.0), StructureError, "disjoint"),
    (lambda: ss.GroupLasso([[0, 1], []], 1.0), StructureError, "empty"),
    (lambda: ss.SparseGroupLasso(GOOD_GROUPS, 1.0, 1.5), ParameterError, "l1_ratio"),
    (lambda: ss.SparseGroupLasso(GOOD_GROUPS, 1.0, -0.1), ParameterError, "l1_ratio"),
    (lambda: ss.SparseGroupLasso(GOOD_GROUPS, 1.0, np.inf), ParameterError, "l1_ratio"),
    (lambda: ss.SparseGroupLasso(GOOD_GROUPS, -1.0, 0.5), ParameterError, "lam"),
    (lambda: ss.SparseGroupLasso([[0, 1], [1, 2]], 1.0, 0.5), StructureError, "disjoint"),
    (lambda: ss.SparseGroupLasso("ab", 1.0, 0.5), StructureError, "groups"),
    (lambda: ss.SparseGroupLasso([[0, 0]], 1.0, 0.5), StructureError, "duplicate"),
    (lambda: ss.TreeLasso([-1, 0, 0], 1.0), TypeError, "tree"),
    (lambda: ss.TreeLasso(ss.Tree.from_parents([-1, 0]), -2.0), ParameterError, "lam"),
    (lambda: ss.NuclearNorm(1.0, (3,)), ShapeError, "shape"),
    (lambda: ss.NuclearNorm(1.0, (3, 0)), ShapeError, "shape"),
    (lambda: ss.NuclearNorm(1.0, (3, 2.5)), ShapeError, "shape"),
    (lambda: ss.NuclearNorm(1.0, "ab"), ShapeError, "shape"),
    (lambda: ss.NuclearNorm(-1.0, (2, 2)), ParameterError, "lam"),
    (lambda: ss.GroupNuclear([[0, 1, 2]], 1.0, 0.5, (2, 2)), ShapeError, "shape"),
    (lambda: ss.GroupNuclear([[0, 1], [2, 3, 4, 5]], 1.0, 0.5, (2, 2)), ShapeError, "shape"),
    (lambda: ss.GroupNuclear([[0, 1, 2, 3]], 1.0, 0.5, [(2, 2), (2, 2)]), ShapeError, "shape"),
    (lambda: ss.GroupNuclear([[0, 1, 2, 3]], 1.0, 1.2, (2, 2)), ParameterError, "rank_weight"),
    (lambda: ss.GroupNuclear([[0, 1, 2, 3]], 1.0, np.nan, (2, 2)), ParameterError, "rank_weight"),
    (lambda: ss.GroupNuclear([[0, 1, 2, 3]], -1.0, 0.5, (2, 2)), ParameterError, "lam"),
    (lambda: ss.GroupNuclear([[0, 1, 2, 3], [3, 4, 5, 6]], 1.0, 0.5, (2, 2)), StructureError, "disjoint"),
    (lambda: ss.GroupLasso("ab", 1.0), StructureError, "'groups' parameter of GroupLasso"),
    (lambda: ss.GroupLasso(3, 1.0), StructureError, "'groups' parameter of GroupLasso"),
    (lambda: ss.GroupLasso(ss.Tree.from_parents([-1, 0]), 1.0), StructureError, "'groups'.*not a Tree"),
    (lambda: ss.GroupLasso([[0, 5], [1, [2]]], 1.0), StructureError, "'groups' parameter of GroupLasso is malformed"),
    (lambda: ss.SparseGroupLasso([[0, 1], [2, 9, 9]], 1.0, 0.5), StructureError, "'groups'.*duplicate"),
    (lambda: ss.GroupNuclear([[0, 1], [1, 2]], 1.0, 0.5, (1, 2)), StructureError, "'groups'.*disjoint"),
])
def test_constructors_reject_bad_input(make, exc, match):
    with pytest.raises(exc, match=match):
        make()


@pytest.mark.parametrize("name", PENALTY_NAMES)
def test_methods_reject_bad_input(name):
    pen, shape, rng = make_case(name, None, 0)
    good = rng.standard_normal(shape)
    for method, arg in ((pen.prox, "v"), (pen.__call__, "x"), (pen.dual_norm, "u"), (pen.lambda_max, "grad0")):
        bad_nan = good.copy()
        bad_nan[0] = np.nan
        bad_inf = good.copy()
        bad_inf[-1] = np.inf
        for bad in (bad_nan, bad_inf):
            with pytest.raises(ShapeError, match=f"'{arg}'.*finite"):
                method(bad)
        wrong_rows = () if pen.n_features is None and not isinstance(pen, ss.NuclearNorm) else (np.ones(shape[0] + 1),)
        for bad in wrong_rows + (np.ones((2, 2, 2)), None, "abc"):
            with pytest.raises(ShapeError, match=f"'{arg}'"):
                method(bad)
    for step in (-1.0, np.nan, np.inf, "1"):
        with pytest.raises(ParameterError, match="step"):
            pen.prox(good, step)
    with pytest.raises(ParameterError, match="lam"):
        pen.with_lam(-1.0)


def test_group_nuclear_checks_the_number_of_columns():
    pen = ss.GroupNuclear([[0, 1], [2, 3]], 1.0, 0.5, (2, 3))
    pen.prox(np.ones((4, 3)), 1.0)
    for bad in (np.ones(4), np.ones((4, 2))):
        with pytest.raises(ShapeError, match="'v'.*shape \\(4, 3\\)"):
            pen.prox(bad, 1.0)
    with pytest.raises(ShapeError, match="'x'"):
        ss.NuclearNorm(1.0, (2, 3))(np.ones((3, 2)))


def test_tree_group_norms_validate_their_argument():
    pen = ss.TreeLasso(ss.Tree.from_parents([-1, 0, 0]), 1.0)
    with pytest.raises(ShapeError, match="'x'.*3 rows"):
        pen.group_norms(np.ones(4))
    with pytest.raises(ShapeError, match="'x'.*finite"):
        pen.group_norms([1.0, np.nan, 0.0])


def test_sparse_group_dual_norms_validates_its_arguments():
    from structsparse.penalties.sparse_group_lasso import sparse_group_dual_norms

    ptr = np.array([0, 2, 3])
    assert sparse_group_dual_norms([3.0, -4.0, 1.0], ptr, [1.0, 1.0], [0.0, 0.0]).tolist() == [5.0, 1.0]
    with pytest.raises(ShapeError, match="'values'.*finite"):
        sparse_group_dual_norms([np.nan, 1.0, 1.0], ptr, [1.0, 1.0], [0.0, 0.0])
    with pytest.raises(ShapeError, match="'ptr'"):
        sparse_group_dual_norms([1.0, 1.0, 1.0], [0, 2, 4], [1.0, 1.0], [0.0, 0.0])
    with pytest.raises(ShapeError, match="'a'"):
        sparse_group_dual_norms([1.0, 1.0, 1.0], ptr, [1.0], [0.0, 0.0])
    with pytest.raises(ParameterError, match="'a' and 'b'"):
        sparse_group_dual_norms([1.0, 1.0, 1.0], ptr, [1.0, 1.0], [0.0, -1.0])


def test_register_penalty_extends_the_registry():
    from structsparse.penalties import registry

    before = registry.PENALTY_NAMES
    try:
        registry.register_penalty("l1_twice", lambda n, rng, k: ss.L1(2.0))
        assert registry.PENALTY_NAMES == before + ("l1_twice",)
        assert registry.random_penalty("l1_twice", 4, 0).lam == 2.0
        with pytest.raises(ParameterError, match="name"):
            registry.register_penalty("l1", lambda n, rng, k: ss.L1(1.0))
        with pytest.raises(TypeError, match="factory"):
            registry.register_penalty("other", "not callable")
    finally:
        registry.PENALTY_REGISTRY.pop("l1_twice", None)
        registry.PENALTY_NAMES = before


def _with_zero_weights(pen, rng):
    """The same penalty with about a third of its group (node) weights set to zero (never a tree's root)."""
    if isinstance(pen, ss.TreeLasso):
        w = pen.tree.weights.copy()
        w[rng.random(w.size) < 0.35] = 0.0
        w[pen.tree.root] = 1.0
        return ss.TreeLasso(pen.tree.with_weights(w), pen.lam)
    w = pen.groups.weights.copy()
    w[rng.random(w.size) < 0.35] = 0.0
    w[0] = 0.0
    groups = pen.groups.with_weights(w)
    if isinstance(pen, ss.GroupLasso):
        return ss.GroupLasso(groups, pen.lam)
    if isinstance(pen, ss.SparseGroupLasso):
        return ss.SparseGroupLasso(groups, pen.lam, pen.l1_ratio)
    return ss.GroupNuclear(groups, pen.lam, pen.rank_weight, pen.shapes)


@pytest.mark.parametrize("name", ["group_lasso", "sparse_group_lasso", "tree_lasso", "group_nuclear"])
@pytest.mark.parametrize("seed", [0, 1])
def test_zero_weights_match_cvxpy_and_leave_blocks_alone(name, seed):
    pen, shape, rng = make_case(name, [None, 2][seed], seed)
    pen = _with_zero_weights(pen, rng)
    v = 1.5 * rng.standard_normal(shape)
    step = 0.9
    tau = step * pen.lam
    p = pen.prox(v, step)
    ref = cvxpy_prox(pen, v, tau)
    assert_close_to_reference(p, ref, lambda x: 0.5 * float(np.sum((x - v) ** 2)) + tau * pen.omega(x), 1.0)
    if isinstance(pen, (ss.GroupLasso, ss.GroupNuclear)):
        idx = pen.groups[0]  # weight zero: not penalized, returned exactly
        np.testing.assert_array_equal(p[idx], v[idx])
    resid = v - p
    assert pen.dual_norm(resid) <= tau * (1 + 1e-9)
    assert float(np.sum(resid * p)) == pytest.approx(tau * pen.omega(p), rel=1e-9, abs=1e-12)


@pytest.mark.parametrize("name", EXACT_NAMES)
def test_penalties_pickle_and_deepcopy(name):
    import copy
    import pickle

    pen, shape, rng = make_case(name, 2, 0)
    x = rng.standard_normal(shape)
    for other in (pickle.loads(pickle.dumps(pen)), copy.deepcopy(pen), pen.with_lam(pen.lam)):
        np.testing.assert_array_equal(other.prox(x, 0.5), pen.prox(x, 0.5))
        assert other(x) == pen(x) and other.dual_norm(x) == pen.dual_norm(x)


@pytest.mark.parametrize("module", [
    "structsparse.penalties.sparse_group_lasso", "structsparse.penalties.tree_lasso",
    "structsparse.penalties.nuclear_norm", "structsparse.penalties.group_nuclear",
    "structsparse.penalties.registry", "structsparse.structure.groups", "structsparse.structure.tree",
    "structsparse.prox.operators",
])
def test_docstring_examples(module):
    import doctest
    import importlib

    mod = importlib.import_module(module)
    globs = {**vars(mod), "np": np, "Tree": ss.Tree, "Groups": ss.Groups}
    result = doctest.testmod(mod, globs=globs, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0 and result.attempted > 0
