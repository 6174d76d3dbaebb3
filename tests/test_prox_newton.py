"""The proximal Newton subproblem: its kernels (numba against numpy) and solve_block on non-least-squares fits."""

import numpy as np
import pytest
import scipy.sparse as sp

import structsparse as ss
from structsparse._numba import NUMBA_ENABLED
from structsparse.solvers._newton_kernels import (
    pn_cd_dense_numba, pn_cd_dense_numpy, subdiff_distance_numba, subdiff_distance_numpy,
)


def _model_problem(rng, n=40, sizes=(1, 1, 3, 2, 1, 4), t1=0.3, t2=0.5):
    m = int(sum(sizes))
    AT = rng.standard_normal((m + 3, n))           # three rows not in the working set
    cols = rng.permutation(m + 3)[:m].astype(np.int64)
    ptr = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    nb = len(sizes)
    T1 = np.full(nb, t1)
    T2 = np.array([t2 if s > 1 else 0.0 for s in sizes])
    h = rng.uniform(0.05, 0.25, n)
    G = rng.standard_normal(m) * 3.0
    Aws = AT[cols]
    lips = np.array([np.linalg.eigvalsh((Aws[ptr[g]:ptr[g + 1]] * h) @ Aws[ptr[g]:ptr[g + 1]].T)[-1]
                     if sizes[g] > 1 else -1.0 for g in range(nb)])
    x0 = np.where(rng.random(m) < 0.5, rng.standard_normal(m), 0.0)
    return AT, cols, ptr, T1, T2, lips, G, h, x0, Aws


def _model_value(x, x0, G, h, Aws, ptr, t1, t2):
    u = Aws.T @ (x - x0)
    pen = sum(t1[g] * np.abs(x[ptr[g]:ptr[g + 1]]).sum() + t2[g] * np.linalg.norm(x[ptr[g]:ptr[g + 1]])
              for g in range(ptr.size - 1))
    return G @ (x - x0) + 0.5 * h @ (u * u) + pen


def _run(kernel, prob, epochs, tol):
    AT, cols, ptr, t1, t2, lips, G, h, x0, _ = prob
    x, hu, lips = x0.copy(), np.zeros(AT.shape[1]), lips.copy()
    V = np.zeros((int(np.diff(ptr).max()), 1))
    ran, kkt = kernel(AT, cols, ptr, t1, t2, lips, G, h, x, hu, V, epochs, tol)
    return x, hu, lips, int(ran), float(kkt)


@pytest.mark.skipif(not NUMBA_ENABLED, reason="numba disabled")
@pytest.mark.parametrize("epochs", [1, 7])
def test_model_kernel_numba_matches_numpy(epochs):
    prob = _model_problem(np.random.default_rng(0))
    a = _run(pn_cd_dense_numba, prob, epochs, 0.0)
    b = _run(pn_cd_dense_numpy, prob, epochs, 0.0)
    for u, v in zip(a[:3], b[:3]):
        np.testing.assert_allclose(u, v, rtol=1e-10, atol=1e-12)
    assert a[3] == b[3] == epochs
    assert a[4] == pytest.approx(b[4], rel=1e-9, abs=1e-12)


@pytest.mark.skipif(not NUMBA_ENABLED, reason="numba disabled")
def test_model_kernel_refuses_a_small_scratch():
    prob = _model_problem(np.random.default_rng(0))
    AT, cols, ptr, t1, t2, lips, G, h, x0, _ = prob
    with pytest.raises(ValueError, match="scratch"):
        pn_cd_dense_numba(AT, cols, ptr, t1, t2, lips.copy(), G, h, x0.copy(), np.zeros(AT.shape[1]),
                          np.zeros((1, 1)), 1, 0.0)


@pytest.mark.parametrize("kernel", [pn_cd_dense_numba, pn_cd_dense_numpy])
def test_model_kernel_minimizes_the_model(kernel):
    """At convergence: the subdifferential distance vanishes, hu = h * A_ws (x - x0), and no perturbation is lower."""
    prob = _model_problem(np.random.default_rng(1))
    AT, cols, ptr, t1, t2, lips0, G, h, x0, Aws = prob
    x, hu, lips, ran, kkt = _run(kernel, prob, 5000, 1e-11)
    assert kkt <= 1e-11 and ran < 5000
    np.testing.assert_allclose(hu, h * (Aws.T @ (x - x0)), atol=1e-10)
    singles = np.diff(ptr) == 1
    np.testing.assert_allclose(lips[singles], (Aws[ptr[:-1][singles]] ** 2) @ h)   # exact singleton constants
    best = _model_value(x, x0, G, h, Aws, ptr, t1, t2)
    rng = np.random.default_rng(2)
    for _ in range(50):
        assert _model_value(x + 1e-4 * rng.standard_normal(x.size), x0, G, h, Aws, ptr, t1, t2) >= best - 1e-12
    # the KKT helper agrees: at the model's minimizer, -grad of the model is in the subdifferential
    grad = G + Aws @ hu
    assert subdiff_distance_numpy(grad, x, ptr, t1, t2).max() <= 1e-10


@pytest.mark.skipif(not NUMBA_ENABLED, reason="numba disabled")
def test_subdiff_distance_numba_matches_numpy_and_closed_form():
    rng = np.random.default_rng(3)
    ptr = np.array([0, 1, 2, 5, 7], dtype=np.int64)
    t1, t2 = np.array([0.5, 0.5, 0.2, 0.0]), np.array([0.0, 0.0, 1.0, 0.7])
    x = np.array([0.0, 2.0, 0.0, 0.0, 0.0, 1.0, -1.0])
    grad = rng.standard_normal(7)
    a, b = subdiff_distance_numba(grad, x, ptr, t1, t2), subdiff_distance_numpy(grad, x, ptr, t1, t2)
    np.testing.assert_allclose(a, b)
    assert a[0] == pytest.approx(max(abs(grad[0]) - 0.5, 0.0))        # zero singleton: soft threshold
    assert a[1] == pytest.approx(abs(grad[1] + 0.5))                   # nonzero singleton
    st = np.maximum(np.abs(grad[2:5]) - 0.2, 0.0)
    assert a[2] == pytest.approx(max(np.linalg.norm(st) - 1.0, 0.0))   # zero sparse-group block
    v = grad[5:7] + 0.7 * x[5:7] / np.linalg.norm(x[5:7])
    assert a[3] == pytest.approx(np.linalg.norm(v))                    # nonzero group block


def _logistic(n=120, p=300, seed=0):
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((n, p))
    w = np.zeros(p)
    w[:6] = 2.0
    y = np.sign(A @ w + rng.standard_normal(n))
    y[y == 0] = 1.0
    return A, y


@pytest.mark.parametrize("kind", ["l1", "group", "sparse_group"])
@pytest.mark.parametrize("frac", [0.3, 0.02])
def test_dense_path_matches_sparse_path_and_certifies(kind, frac):
    """The in-place dense Newton path and the scaled-copy path (sparse design) reach the same optimum."""
    A, y = _logistic()
    groups = ss.Groups.contiguous(A.shape[1], 5)
    make = {"l1": lambda lam: ss.L1(lam), "group": lambda lam: ss.GroupLasso(groups, lam),
            "sparse_group": lambda lam: ss.SparseGroupLasso(groups, lam, 0.5)}[kind]
    lam = frac * ss.lambda_max(ss.Logistic(A, y), make(1.0))
    dense = ss.solve_block(ss.Logistic(np.asfortranarray(A), y), make(lam), tol=1e-10)
    dense_c = ss.solve_block(ss.Logistic(A, y), make(lam), tol=1e-10)
    sparse = ss.solve_block(ss.Logistic(sp.csr_matrix(A), y), make(lam), tol=1e-10)
    assert dense.converged and sparse.converged and dense_c.converged
    assert dense.gap <= 1e-10 * dense.objective
    assert abs(dense.objective - sparse.objective) <= 1e-9 * sparse.objective
    assert abs(dense_c.objective - dense.objective) <= 1e-9 * dense.objective
    np.testing.assert_allclose(dense.x, sparse.x, atol=1e-4)


@pytest.mark.parametrize("datafit", ["huber", "poisson"])
def test_dense_path_other_datafits(datafit):
    rng = np.random.default_rng(4)
    A = rng.standard_normal((80, 150)) * 0.3
    w = np.zeros(150)
    w[:5] = 1.0
    if datafit == "huber":
        fit = ss.Huber(A, A @ w + 0.1 * rng.standard_normal(80), delta=0.5)
    else:
        fit = ss.Poisson(A, rng.poisson(np.exp(A @ w * 0.5)).astype(float))
    pen = ss.L1(0.05 * ss.lambda_max(fit, ss.L1(1.0)))
    res = ss.solve_block(fit, pen, tol=1e-9)
    ref = ss.fista(fit, pen, tol=1e-12, max_iter=200_000)
    assert res.converged
    assert res.objective <= ref.objective + 1e-7 * abs(ref.objective)


@pytest.mark.parametrize("cycling", [True, False])
@pytest.mark.parametrize("sizes", [(1,) * 30, (1, 3, 2, 1, 4, 1, 2, 3, 1, 1)])
def test_model_descent_with_extrapolation_reaches_the_kernel_minimizer(cycling, sizes, monkeypatch):
    """Active-set cycling and Anderson steps (combinations of stored h*A d vectors) keep hu = h * A_ws (x - x0)
    and reach the minimizer of plain coordinate descent."""
    from structsparse.solvers import _prox_newton
    from structsparse.solvers._prox_newton import _block_pen, _kernels, _model_descent

    monkeypatch.setattr(_prox_newton, "_ACTIVE_CYCLING", cycling)
    prob = _model_problem(np.random.default_rng(5), n=60, sizes=sizes)
    AT, cols, ptr, t1, t2, lips, G, h, x0, Aws = prob

    def pen(v):
        return _block_pen(v, ptr, t1, t2)

    cd = _kernels()[0]
    V = np.zeros((max(sizes), 1))
    x, hu, epochs = _model_descent(cd, AT, cols, ptr, t1, t2, lips.copy(), G, h, x0, V, pen, 1e-10)
    np.testing.assert_allclose(hu, h * (Aws.T @ (x - x0)), atol=1e-9)
    x_ref, _, _, _, kkt = _run(pn_cd_dense_numpy, prob, 20_000, 1e-12)
    assert kkt <= 1e-12
    assert _model_value(x, x0, G, h, Aws, ptr, t1, t2) <= _model_value(x_ref, x0, G, h, Aws, ptr, t1, t2) + 1e-9
    np.testing.assert_allclose(x, x_ref, atol=1e-6)


@pytest.mark.skipif(not NUMBA_ENABLED, reason="numba disabled")
@pytest.mark.parametrize("cycling", [True, False])
@pytest.mark.parametrize("sizes", [(1,) * 30, (1, 3, 2, 1, 4, 1, 2, 3, 1, 1)])
@pytest.mark.parametrize("t1", [0.3, 2.0])   # a dense minimizer; a sparse one (epochs over the nonzero blocks)
def test_fused_model_descent_matches_its_python_twin(cycling, sizes, t1, monkeypatch):
    """The one-call kernel takes the Python loop's steps: same epochs, same x and hu (extrapolation off, where
    the two would otherwise differ only by rounding in the accept test of an Anderson step)."""
    from structsparse.solvers import _prox_newton
    from structsparse.solvers._newton_kernels import pn_model_descent_numba
    from structsparse.solvers._prox_newton import _block_pen, _model_descent

    never = 10 ** 6
    monkeypatch.setattr(_prox_newton, "_ACTIVE_CYCLING", cycling)
    monkeypatch.setattr(_prox_newton, "_ANDERSON_K", never)
    AT, cols, ptr, t1, t2, lips, G, h, x0, _ = _model_problem(np.random.default_rng(7), n=60, sizes=sizes, t1=t1)
    V = np.zeros((max(sizes), 1))
    x0_before = x0.copy()
    a = pn_model_descent_numba(AT, cols, ptr, t1, t2, lips.copy(), G, h, x0, V, 1e-9, 1000, never, cycling)
    b = _model_descent(pn_cd_dense_numpy, AT, cols, ptr, t1, t2, lips.copy(), G, h, x0, V,
                       lambda v: _block_pen(v, ptr, t1, t2), 1e-9)
    np.testing.assert_array_equal(x0, x0_before)
    assert a[2] == b[2] > 2
    np.testing.assert_allclose(a[0], b[0], rtol=0, atol=1e-12)
    np.testing.assert_allclose(a[1], b[1], rtol=0, atol=1e-12)


@pytest.mark.parametrize("cycling", [True, False])
@pytest.mark.parametrize("sizes", [(1,) * 30, (1, 3, 2, 1, 4, 1, 2, 3, 1, 1)])
@pytest.mark.parametrize("t1", [0.3, 2.0])
def test_fused_model_descent_with_extrapolation_reaches_the_minimizer(cycling, sizes, t1):
    """With Anderson steps on: hu stays h * A_ws (x - x0), and x is the model's minimizer (plain coordinate
    descent run to 1e-12 as the reference)."""
    from structsparse.solvers._newton_kernels import pn_model_descent_numba

    prob = _model_problem(np.random.default_rng(5), n=60, sizes=sizes, t1=t1)
    AT, cols, ptr, t1, t2, lips, G, h, x0, Aws = prob
    V = np.zeros((max(sizes), 1))
    x, hu, epochs = pn_model_descent_numba(AT, cols, ptr, t1, t2, lips.copy(), G, h, x0, V, 1e-10, 1000, 5,
                                           cycling)
    np.testing.assert_allclose(hu, h * (Aws.T @ (x - x0)), atol=1e-9)
    grad = G + Aws @ hu
    assert subdiff_distance_numpy(grad, x, ptr, t1, t2).max() <= 1e-9
    x_ref, _, _, _, kkt = _run(pn_cd_dense_numpy, prob, 20_000, 1e-12)
    assert kkt <= 1e-12
    assert _model_value(x, x0, G, h, Aws, ptr, t1, t2) <= _model_value(x_ref, x0, G, h, Aws, ptr, t1, t2) + 1e-9
    np.testing.assert_allclose(x, x_ref, atol=1e-6)


def test_small_solve_matches_numpy_and_flags_a_singular_matrix():
    """The Anderson weights' solve: Gaussian elimination with pivoting, against numpy; a singular matrix
    (a zero column) is flagged, not divided by."""
    from structsparse.solvers._newton_kernels import _solve_small

    rng = np.random.default_rng(3)
    M = rng.standard_normal((5, 5))
    M[0, 0] = 0.0                                   # needs a row exchange
    b = rng.standard_normal(5)
    c, ok = _solve_small(M, b)
    assert ok
    np.testing.assert_allclose(c, np.linalg.solve(M, b), rtol=1e-10)
    M[:, 2] = 0.0
    M_before = M.copy()
    _, ok = _solve_small(M, b)
    assert not ok
    np.testing.assert_array_equal(M, M_before)       # the caller's matrix is not changed


def test_group_step_constants_bound_the_exact_ones():
    """Exact for nonzero groups at the weights they were computed with; an upper bound everywhere, also
    after the weights change (max(h / h0) L(h0), or max(h) ||A_g||_F^2 for zero groups)."""
    from structsparse.solvers._prox_newton import _GroupLipschitz
    from structsparse.solvers.working_set import _Design

    rng = np.random.default_rng(6)
    A = np.asfortranarray(rng.standard_normal((50, 24)))
    design = _Design(A)
    cols = rng.permutation(24)[:18].astype(np.int64)
    ptr = np.array([0, 3, 6, 7, 12, 18], dtype=np.int64)
    x = np.zeros(18)
    x[[0, 7, 13]] = 1.0                              # groups 0, 3, 4 nonzero
    AT, rows = design.columns(cols)
    gl = _GroupLipschitz(design, cols, ptr)

    def exact(h):
        Aw = A[:, cols] * np.sqrt(h)[:, None]
        return np.array([np.linalg.norm(Aw[:, ptr[g]:ptr[g + 1]], 2) ** 2 for g in range(5)])

    h0 = rng.uniform(0.05, 0.25, 50)
    lips0 = gl.bounds(AT, rows, x, h0)
    assert np.all(lips0 >= exact(h0) * (1 - 1e-12))
    np.testing.assert_allclose(lips0[[0, 3, 4]], exact(h0)[[0, 3, 4]], rtol=1e-10)
    assert lips0[2] > exact(h0)[2] * (1 + 1e-3)     # zero group: the Frobenius bound, not computed
    h1 = rng.uniform(0.01, 0.25, 50)
    x[3] = -2.0                                      # group 1 turns nonzero: exact at h1
    lips1 = gl.bounds(AT, rows, x, h1)
    assert np.all(lips1 >= exact(h1) * (1 - 1e-12))
    np.testing.assert_allclose(lips1[1], exact(h1)[1], rtol=1e-10)
