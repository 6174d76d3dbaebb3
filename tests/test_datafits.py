"""Registry-driven property tests of every datafit: gradient by finite differences, Fenchel-Young, the dual value
at the natural dual point, the cvxpy expression, Lipschitz bounds; and the datafits' input validation.

The ``check_*`` functions take a datafit registry name, so a datafit registered at runtime is checked by calling
them (tests/test_registry_extension.py does).
"""

import cvxpy as cp
import numpy as np
import pytest
import scipy.sparse as sp
from scipy.sparse.linalg import aslinearoperator

import structsparse as ss
from structsparse.datafits.registry import accepts_several_targets, datafit_names, random_datafit
from structsparse.exceptions import ParameterError, ShapeError

NAMES = datafit_names()


def _targets(name):
    return (None, 3) if accepts_several_targets(name) else (None,)


def make_fits(name, seed=0, n_samples=23, n_features=9):
    """Random datafits of kind ``name`` on a dense design (one and, where accepted, several right-hand sides)."""
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((n_samples, n_features)) / np.sqrt(n_samples)
    return [random_datafit(name, A, rng, n_targets=k) for k in _targets(name)], rng


def _point(fit, rng, scale=1.0):
    return scale * rng.standard_normal(fit.x_shape)


# ---------------------------------------------------------------- the checks, one per property
def check_gradient(name, seed=0):
    """``grad`` matches central finite differences of ``value`` (in x), and ``raw_grad`` those of ``value_from_Ax``."""
    fits, rng = make_fits(name, seed)
    for fit in fits:
        for scale in (0.3, 1.0):
            x = _point(fit, rng, scale)
            g = fit.grad(x)
            assert g.shape == fit.x_shape
            h = 1e-6
            fd = np.zeros(fit.x_shape)
            for i in np.ndindex(fit.x_shape):
                e = np.zeros(fit.x_shape)
                e[i] = h
                fd[i] = (fit.value(x + e) - fit.value(x - e)) / (2 * h)
            np.testing.assert_allclose(g, fd, rtol=1e-5, atol=1e-6 * max(1.0, np.abs(fd).max()))
            z = fit.matvec(x)
            d = rng.standard_normal(z.shape)
            directional = (fit.value_from_Ax(z + h * d) - fit.value_from_Ax(z - h * d)) / (2 * h)
            assert float(np.vdot(fit.raw_grad(z), d)) == pytest.approx(directional, rel=1e-5, abs=1e-6)


def check_fenchel_young(name, seed=0):
    """``F(z) + F*(F'(z)) = <z, F'(z)>`` (equality) and ``F(z) + F*(u) >= <z, u>`` for ``u`` in the domain."""
    fits, rng = make_fits(name, seed)
    for fit in fits:
        for _ in range(5):
            z = fit.matvec(_point(fit, rng))
            u = fit.raw_grad(z)
            lhs = fit.value_from_Ax(z) + fit.conjugate(u)
            rhs = float(np.vdot(z, u))
            assert lhs == pytest.approx(rhs, rel=1e-9, abs=1e-9 * max(1.0, abs(fit.value_from_Ax(z))))
            # u' = F'(z') for another z' lies in the conjugate's domain: the inequality is strict in general
            u2 = fit.raw_grad(fit.matvec(_point(fit, rng, 2.0)))
            gap = fit.value_from_Ax(z) + fit.conjugate(u2) - float(np.vdot(z, u2))
            assert gap >= -1e-9 * max(1.0, abs(fit.value_from_Ax(z)))
            # the conjugate is the supremum: it is at least <u, z'> - F(z') for any z'
            z3 = fit.matvec(_point(fit, rng))
            assert fit.conjugate(u) >= float(np.vdot(u, z3)) - fit.value_from_Ax(z3) - 1e-9 * max(1.0, abs(rhs))


def check_dual_value(name, seed=0):
    """At the natural dual point ``theta = -F'(z)``, ``D(theta) = -F*(-theta) = F(z) - <z, F'(z)>``."""
    fits, rng = make_fits(name, seed)
    for fit in fits:
        for _ in range(3):
            z = fit.matvec(_point(fit, rng))
            theta = fit.dual_point(z)
            np.testing.assert_array_equal(theta, -fit.raw_grad(z))
            want = fit.value_from_Ax(z) - float(np.vdot(z, fit.raw_grad(z)))
            assert fit.dual_value(theta) == pytest.approx(want, rel=1e-9, abs=1e-9)
            # a rescaled dual point stays in the conjugate's domain (finite dual value) for every s >= 1
            for s in (1.0, 1.7, 25.0):
                assert np.isfinite(fit.dual_value(theta / s))
            # weak duality: D(theta) <= F(z') + <theta, z'> for every z' (Fenchel-Young for -theta)
            z2 = fit.matvec(_point(fit, rng))
            bound = fit.value_from_Ax(z2) + float(np.vdot(theta, z2))
            assert fit.dual_value(theta) <= bound + 1e-9 * max(1.0, abs(bound))


def check_cvxpy_expression(name, seed=0):
    """The cvxpy expression evaluates to the numpy value (on z and through A x)."""
    fits, rng = make_fits(name, seed)
    for fit in fits:
        x = _point(fit, rng)
        z = fit.matvec(x)
        assert fit.cvxpy_fit(cp.Constant(z)).value == pytest.approx(fit.value_from_Ax(z), rel=1e-10)
        assert fit.cvxpy(cp.Constant(x)).value == pytest.approx(fit.value(x), rel=1e-10)
        assert fit.cvxpy_fit(cp.Variable(z.shape)).is_dcp()
        # its minimizer over x is where the numpy gradient vanishes (when the minimum is attained)
        if "least_squares" in fit.capabilities:
            xv = cp.Variable(fit.x_shape)
            cp.Problem(cp.Minimize(fit.cvxpy(xv))).solve(solver=cp.CLARABEL)
            assert np.linalg.norm(fit.grad(xv.value)) <= 1e-6 * max(1.0, np.linalg.norm(fit.grad(np.zeros(fit.x_shape))))


def _random_blocks(n_features, rng):
    perm = rng.permutation(n_features)
    sizes = []
    while sum(sizes) < n_features:
        sizes.append(int(min(rng.integers(1, 4), n_features - sum(sizes))))
    return perm.astype(np.int64), np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)


def check_lipschitz(name, seed=0):
    """Per-block constants bound the gradient's change along each block; the global one along any direction."""
    fits, rng = make_fits(name, seed)
    for fit in fits:
        idx, ptr = _random_blocks(fit.n_features, rng)
        if "block_lipschitz" not in fit.capabilities:
            with pytest.raises(ParameterError):
                fit.block_lipschitz(idx, ptr)
            continue
        L_blocks = fit.block_lipschitz(idx, ptr)
        assert L_blocks.shape == (ptr.size - 1,) and np.all(L_blocks >= 0)
        L = fit.lipschitz
        for _ in range(4):
            x = _point(fit, rng, 2.0)
            g0 = fit.grad(x)
            d_all = rng.standard_normal(fit.x_shape)
            change = np.linalg.norm(fit.grad(x + d_all) - g0)
            assert change <= L * np.linalg.norm(d_all) * (1 + 1e-9)
            for g in range(ptr.size - 1):
                cols = idx[ptr[g]:ptr[g + 1]]
                d = np.zeros(fit.x_shape)
                d[cols] = rng.standard_normal((cols.size,) + fit.x_shape[1:])
                # the block of the gradient changes by at most L_g ||d|| when x moves along the block
                change = np.linalg.norm((fit.grad(x + d) - g0)[cols])
                assert change <= L_blocks[g] * np.linalg.norm(d) * (1 + 1e-9) + 1e-12
        # the bound is the block's curvature times ||A_g||^2: tight for a quadratic fit
        A = fit.A
        for g in range(ptr.size - 1):
            cols = idx[ptr[g]:ptr[g + 1]]
            Ag = A[:, cols]
            assert L_blocks[g] == pytest.approx(fit.curvature * np.linalg.norm(Ag, 2) ** 2, rel=1e-6)


def check_hessian(name, seed=0):
    """Where a datafit declares a Hessian, it is the derivative of ``raw_grad`` (finite differences)."""
    fits, rng = make_fits(name, seed)
    for fit in fits:
        if "hessian" not in fit.capabilities:
            continue
        z = fit.matvec(_point(fit, rng))
        h = 1e-6
        fd = (fit.raw_grad(z + h) - fit.raw_grad(z - h)) / (2 * h)
        np.testing.assert_allclose(fit.raw_hessian(z), fd, rtol=1e-5, atol=1e-7)


CHECKS = [check_gradient, check_fenchel_young, check_dual_value, check_cvxpy_expression, check_lipschitz,
          check_hessian]


@pytest.mark.parametrize("check", CHECKS, ids=[c.__name__ for c in CHECKS])
@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("seed", [0, 1])
def test_datafit_property(name, check, seed):
    check_property = check  # each check_* function asserts its property
    check_property(name, seed)


@pytest.mark.parametrize("name", NAMES)
def test_designs_give_the_same_values(name):
    # dense, sparse and operator designs are the same datafit
    fits, rng = make_fits(name, 3)
    for fit in fits:
        x = _point(fit, rng)
        for other in (sp.csr_matrix(fit.A), aslinearoperator(fit.A)):
            twin = fit.with_design(other)
            assert twin.value(x) == pytest.approx(fit.value(x), rel=1e-12)
            np.testing.assert_allclose(twin.grad(x), fit.grad(x), rtol=1e-12, atol=1e-14)
            if isinstance(other, sp.spmatrix):
                assert twin.lipschitz == pytest.approx(fit.lipschitz, rel=1e-6)
            else:  # power iteration on an operator: an estimate with a safety margin, never below the true one
                assert fit.lipschitz * (1 - 1e-9) <= twin.lipschitz <= 1.05 * fit.lipschitz


@pytest.mark.parametrize("name", NAMES)
def test_caller_arrays_are_not_modified(name):
    rng = np.random.default_rng(4)
    A = rng.standard_normal((15, 6))
    fit = random_datafit(name, A, rng)
    y = np.array(fit.y)
    A0, y0 = A.copy(), y.copy()
    twin = type(fit)(A, y) if name != "huber" else type(fit)(A, y, delta=fit.delta)
    x = rng.standard_normal(6)
    x0 = x.copy()
    twin.value(x), twin.grad(x), twin.conjugate(twin.raw_grad(twin.matvec(x)))
    np.testing.assert_array_equal(A, A0)
    np.testing.assert_array_equal(y, y0)
    np.testing.assert_array_equal(x, x0)
    y[0] = 123.0  # the datafit holds its own copy
    assert twin.y[0] != 123.0


# ---------------------------------------------------------------- closed forms and validation
def test_closed_form_values():
    A = np.eye(3)
    assert ss.LeastSquares(A, [1.0, 2.0, 2.0]).value(np.zeros(3)) == pytest.approx(4.5)
    assert ss.Logistic(A, [1, -1, 1]).value(np.zeros(3)) == pytest.approx(3 * np.log(2))
    # sum log(1 + exp(-y * A x)) away from zero too, in both label encodings (saturated scores included)
    z = np.array([0.5, -2.0, 40.0])
    want = np.log1p(np.exp(-0.5)) + np.log1p(np.exp(-2.0)) + (40.0 + np.log1p(np.exp(-40.0)))
    assert ss.Logistic(A, [1, -1, -1]).value(z) == pytest.approx(want, rel=1e-14)
    assert ss.Logistic(A, [1, 0, 0]).value(z) == pytest.approx(want, rel=1e-14)
    assert ss.Huber(A, [0.5, 3.0, -2.0], delta=1.0).value(np.zeros(3)) == pytest.approx(0.125 + 2.5 + 1.5)
    assert ss.Poisson(A, [1.0, 0.0, 2.0]).value(np.array([0.0, 1.0, np.log(2.0)])) == pytest.approx(
        1.0 + np.e + 2.0 - 2.0 * np.log(2.0))


def test_logistic_labels():
    A = np.ones((4, 2))
    zero_one = ss.Logistic(A, [0, 1, 1, 0])
    np.testing.assert_array_equal(zero_one.y, [-1.0, 1.0, 1.0, -1.0])
    assert zero_one.value(np.ones(2)) == pytest.approx(ss.Logistic(A, [-1, 1, 1, -1]).value(np.ones(2)))
    for bad in ([0, 1, 2, 1], [-1, 0, 1, 1], [0.5, 1, 1, 0], [3, 3, 3, 3]):
        with pytest.raises(ParameterError, match="'y'"):
            ss.Logistic(A, bad)
    with pytest.raises(ShapeError, match="'y'"):
        ss.Logistic(A, np.ones((4, 2)))  # one right-hand side only


def test_poisson_counts():
    A = np.ones((3, 2))
    ss.Poisson(A, [0.0, 2.0, 5.0])
    ss.Poisson(A, [[0.0, 1.0], [2.0, 0.5], [1.0, 1.0]])
    for bad in ([0.0, -1.0, 2.0], [[0.0, 1.0], [2.0, -0.5], [1.0, 1.0]]):
        with pytest.raises(ParameterError, match="'y'"):
            ss.Poisson(A, bad)


@pytest.mark.parametrize("cls", [ss.LeastSquares, ss.Logistic, ss.Huber, ss.Poisson])
def test_shape_and_value_errors_name_the_argument(cls):
    A = np.ones((4, 2))
    y = np.array([1.0, 0.0, 1.0, 1.0])
    with pytest.raises(ShapeError, match="'y'"):
        cls(A, y[:3])
    with pytest.raises(ShapeError, match="'A'"):
        cls(np.ones(4), y)
    with pytest.raises((ShapeError, ParameterError), match="'A'"):
        cls(np.full((4, 2), np.nan), y)
    with pytest.raises((ShapeError, ParameterError), match="'y'"):
        cls(A, [1.0, np.nan, 1.0, 0.0])
    with pytest.raises(ParameterError, match="lipschitz"):
        cls(A, y, lipschitz=-1.0)


def test_huber_delta_is_validated():
    with pytest.raises(ParameterError, match="delta"):
        ss.Huber(np.ones((2, 2)), [0.0, 1.0], delta=0.0)
    # the message's range excludes what the check refuses: a finite delta, so (0, inf), not (0, inf]
    for delta in (0.0, np.inf):
        with pytest.raises(ParameterError, match=r"'delta' parameter of Huber must be a finite float in the "
                                                 r"range \(0, inf\)\. Got"):
            ss.Huber(np.ones((2, 2)), [0.0, 1.0], delta=delta)


def test_random_datafit_rejects_bad_input():
    A = np.ones((5, 2))
    with pytest.raises(ParameterError, match="name"):
        random_datafit("hinge", A, 0)
    with pytest.raises(ParameterError, match="right-hand side"):
        random_datafit("logistic", A, 0, n_targets=2)
    with pytest.raises(ParameterError, match="rng"):
        random_datafit("least_squares", A, -1)


@pytest.mark.parametrize("order", ["C", "F"])
def test_dense_validation_pass_matches_the_exact_checks(order):
    """One pass over a dense design gives its column norms and decides finiteness and scale like the exact checks."""
    rng = np.random.default_rng(3)
    y = np.array([1.0, -1.0, 1.0, 1.0, -1.0])
    A = np.asarray(rng.standard_normal((5, 3)), order=order)
    fit = ss.Logistic(A, y)
    np.testing.assert_allclose(fit._colnorm2, (A ** 2).sum(axis=0), rtol=1e-14)
    assert not fit._colnorm2.flags.writeable
    assert fit.with_design(2.0 * A)._colnorm2 == pytest.approx(4.0 * fit._colnorm2, rel=1e-14)
    assert ss.Logistic(sp.csr_matrix(A), y)._colnorm2 is None
    # entries at the edges of the accepted range [1e-100, 1e100], and an all-zero design, are accepted
    for big in (1e100, 1e-100, 3e-100, 0.0):
        B = np.asarray(np.zeros((5, 3)), order=order)
        B[2, 1] = big
        ss.LeastSquares(B, y)
    # outside it, refused with the scale message, including entries whose squares underflow to zero
    for big in (2e100, 1e160, 5e-101, 1e-170):
        B = np.asarray(np.zeros((5, 3)), order=order)
        B[4, 2] = -big
        with pytest.raises(ParameterError, match="'A'.*largest entry magnitude"):
            ss.LeastSquares(B, y)
    for bad in (np.nan, np.inf, -np.inf):
        B = A.copy(order=order)
        B[0, 2] = bad
        with pytest.raises(ShapeError, match="'A'.*finite"):
            ss.Logistic(B, y)


def test_design_pass_kernels_agree_with_numpy():
    """The one-pass kernels (rows of a C-ordered design, columns of an F-ordered one) match their numpy twin."""
    from structsparse.datafits._design_pass import (
        colnorm_rmatvec, colnorm_rmatvec_cols_numba, colnorm_rmatvec_numpy, colnorm_rmatvec_rows_numba)

    rng = np.random.default_rng(4)
    for n, p in ((7, 5), (1, 3), (6, 1), (33, 17)):   # lengths around the 4-way unrolling
        A = rng.standard_normal((n, p))
        v = rng.standard_normal(n)
        want_sq, want_g = (A * A).sum(axis=0), A.T @ v
        for sq, g in (colnorm_rmatvec_rows_numba(A, v), colnorm_rmatvec_cols_numba(np.asfortranarray(A).T, v),
                      colnorm_rmatvec_numpy(A, v), colnorm_rmatvec(np.asfortranarray(A), v),
                      colnorm_rmatvec(A[:, ::1], v)):
            np.testing.assert_allclose(sq, want_sq, rtol=1e-13)
            np.testing.assert_allclose(g, want_g, rtol=1e-12, atol=1e-13)
    # NaN and infinities reach the outputs (the validation relies on it; the kernels' fastmath flags keep them)
    for bad in (np.nan, np.inf, -np.inf):
        A = rng.standard_normal((9, 5))
        A[3, 2] = bad
        for sq, _ in (colnorm_rmatvec_rows_numba(A, np.ones(9)),
                      colnorm_rmatvec_cols_numba(np.asfortranarray(A).T, np.ones(9))):
            assert not np.isfinite(sq[2]) and np.all(np.isfinite(np.delete(sq, 2)))


@pytest.mark.parametrize("name", datafit_names())
def test_dual_point_product_at_zero(name):
    """The product kept from the validation pass is ``A^T dual_point(0)`` (one target), for C and F designs."""
    rng = np.random.default_rng(5)
    A = rng.standard_normal((12, 6))
    fit = random_datafit(name, A, 0)
    for design in (A, np.asfortranarray(A)):
        f = fit.with_design(design)
        theta0 = f.dual_point(np.zeros(f.y.shape)).reshape(-1)
        np.testing.assert_allclose(f._dual0_product, A.T @ theta0, rtol=1e-12, atol=1e-14)
        assert not f._dual0_product.flags.writeable
