"""Prox functions on arrays and their kernels: numba versus numpy twins, the tree prox versus the
naive children-before-parents composition, the worked example, exact dual-norm kernels, bad input."""

import contextlib
import io
import json
import os
import subprocess
import sys

import numpy as np
import pytest

import structsparse as ss
from structsparse._numba import NUMBA_ENABLED
from structsparse.exceptions import ParameterError, ShapeError, StructureError
from structsparse.penalties._dual_kernels import sparse_group_dual_numba, sparse_group_dual_numpy
from structsparse.penalties.registry import random_groups, random_tree
from structsparse.prox._group_kernels import group_shrink_numba, group_shrink_numpy
from structsparse.prox._tree_kernels import (
    tree_group_sq_norms_numba,
    tree_group_sq_norms_numpy,
    tree_prox_numba,
    tree_prox_numpy,
    tree_prox_vector_numba,
    tree_prox_vector_numpy,
    tree_root_excess_numba,
    tree_root_excess_numpy,
)

P = ss.prox


def test_kernels_are_compiled_when_numba_is_enabled():
    for kernel in (group_shrink_numba, tree_prox_numba, tree_prox_vector_numba, tree_group_sq_norms_numba,
                   tree_root_excess_numba, sparse_group_dual_numba):
        assert hasattr(kernel, "py_func") == NUMBA_ENABLED


# ---------------------------------------------------------------- worked example
def test_worked_example():
    v = [3.0, 4.0, 1.0, 2.0]
    np.testing.assert_allclose(P.group_soft_threshold(v, [[0, 1], [2, 3]], 3.0), [1.2, 1.6, 0.0, 0.0], rtol=1e-15)
    g = ss.Groups.from_lists([[0, 1], [2, 3]])
    np.testing.assert_allclose(P.group_soft_threshold(np.array(v), g, 3.0), [1.2, 1.6, 0.0, 0.0], rtol=1e-15)
    # as a column: one right-hand side, same result
    out = P.group_soft_threshold(np.array(v)[:, None], g, 3.0)
    assert out.shape == (4, 1)
    np.testing.assert_allclose(out[:, 0], [1.2, 1.6, 0.0, 0.0], rtol=1e-15)


# ---------------------------------------------------------------- numba == numpy twins
def _random_shrink_case(rng, n_cols):
    n = int(rng.integers(1, 40))
    g = random_groups(n, rng)
    v = rng.standard_normal((n, n_cols)) * rng.uniform(0.1, 3)
    thr = rng.uniform(0, 2, g.n_groups)
    thr[rng.random(g.n_groups) < 0.3] = 0.0  # zero thresholds (zero weights) leave groups unchanged
    v[g[0]] = 0.0  # an all-zero group
    return v, g, thr


@pytest.mark.parametrize("n_cols", [1, 3])
def test_group_shrink_numba_equals_numpy(n_cols):
    rng = np.random.default_rng(n_cols)
    for _ in range(30):
        v, g, thr = _random_shrink_case(rng, n_cols)
        keep = v.copy()
        a = group_shrink_numba(v, g.indices, g.ptr, thr)
        b = group_shrink_numpy(v, g.indices, g.ptr, thr)
        np.testing.assert_allclose(a, b, rtol=1e-13, atol=1e-15)
        np.testing.assert_array_equal(v, keep)
        # and both equal the definition, group by group
        want = v.copy()
        for idx, t in zip(g, thr):
            nrm = np.linalg.norm(v[idx])
            want[idx] = v[idx] * (max(0.0, 1 - t / nrm) if nrm > 0 else (1.0 if t == 0 else 0.0))
        np.testing.assert_allclose(a, want, rtol=1e-13, atol=1e-15)


def _random_tree_case(rng, n_cols, zero_weights):
    t = random_tree(int(rng.integers(1, 40)), rng)
    if zero_weights:
        w = t.weights.copy()
        w[rng.random(t.n_nodes) < 0.3] = 0.0
        t = t.with_weights(w)
    v = rng.standard_normal((t.n_features, n_cols))
    return t, v


@pytest.mark.parametrize("n_cols", [1, 2])
@pytest.mark.parametrize("zero_weights", [False, True])
def test_tree_kernels_numba_equal_numpy(n_cols, zero_weights):
    rng = np.random.default_rng(10 * n_cols + zero_weights)
    for _ in range(30):
        t, v = _random_tree_case(rng, n_cols, zero_weights)
        keep = v.copy()
        arrays = t.kernel_arrays()
        tau = float(rng.uniform(0, 1.5))
        np.testing.assert_allclose(tree_prox_numba(v, *arrays, tau), tree_prox_numpy(v, *arrays, tau),
                                   rtol=1e-12, atol=1e-15)
        col = np.ascontiguousarray(v[:, 0])
        np.testing.assert_allclose(tree_prox_vector_numba(col, *arrays, tau), tree_prox_vector_numpy(col, *arrays, tau),
                                   rtol=1e-12, atol=1e-15)
        np.testing.assert_array_equal(tree_prox_vector_numba(col, *arrays, tau), tree_prox_numba(col[:, None], *arrays, tau)[:, 0])
        np.testing.assert_allclose(tree_group_sq_norms_numba(v, *arrays[:3]), tree_group_sq_norms_numpy(v, *arrays[:3]),
                                   rtol=1e-13)
        assert tree_root_excess_numba(v, *arrays, tau) == pytest.approx(tree_root_excess_numpy(v, *arrays, tau),
                                                                         rel=1e-12, abs=1e-14)
        np.testing.assert_array_equal(v, keep)


def naive_tree_prox(v, tree, tau):
    """The definition: single-group block shrinks applied children before parents (deepest first)."""
    out = np.array(v, dtype=float, copy=True)
    depth = tree.depth()
    for node in sorted(range(tree.n_nodes), key=lambda k: -depth[k]):
        idx = tree.group(node)
        t = tau * tree.weights[node]
        nrm = np.linalg.norm(out[idx])
        out[idx] *= max(0.0, 1 - t / nrm) if nrm > t else (1.0 if t == 0 else 0.0)
    return out


@pytest.mark.parametrize("seed", range(12))
def test_tree_prox_equals_naive_composition(seed):
    rng = np.random.default_rng(seed)
    t, v = _random_tree_case(rng, 1 + seed % 2, zero_weights=seed % 3 == 0)
    v = v[:, 0] if seed % 4 == 0 else v
    for tau in (0.0, 0.05, 0.4, 2.0):
        np.testing.assert_allclose(P.tree_prox(v, t, tau), naive_tree_prox(v, t, tau), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("zero_root", [False, True])
def test_tree_dual_norm_equals_bisection_on_the_naive_prox(zero_root):
    """The dual norm is the smallest t with prox_{t Omega}(u) = 0; the reference bisects on the naive prox."""
    rng = np.random.default_rng(int(zero_root))
    for _ in range(15):
        t, v = _random_tree_case(rng, 1 + int(rng.integers(2)), zero_weights=False)
        if zero_root:
            w = t.weights.copy()
            w[t.root] = 0.0
            t = t.with_weights(w)
            v[t.owns(t.root)] = 0.0  # the root's own variables are free then
        v = v * 10.0 ** rng.uniform(-3, 3)
        lo, hi = 0.0, 1.0
        while np.any(naive_tree_prox(v, t, hi)):
            hi *= 2.0
        for _ in range(80):
            mid = 0.5 * (lo + hi)
            lo, hi = (lo, mid) if not np.any(naive_tree_prox(v, t, mid)) else (mid, hi)
        assert ss.TreeLasso(t, 1.0).dual_norm(v) == pytest.approx(hi, rel=1e-11)


def test_tree_prox_on_complete_tree_and_group_norms():
    t = ss.Tree.complete(depth=6, branching=2)
    v = np.random.default_rng(0).standard_normal(t.n_features)
    np.testing.assert_allclose(P.tree_prox(v, t, 0.3), naive_tree_prox(v, t, 0.3), rtol=1e-12, atol=1e-14)
    sq = tree_group_sq_norms_numba(v[:, None], *t.kernel_arrays()[:3])
    want = [np.sum(v[t.group(node)] ** 2) for node in t.preorder]
    np.testing.assert_allclose(sq, want, rtol=1e-13)


# ---------------------------------------------------------------- exact dual norm of a||.||_2 + b||.||_1
def dual_by_bisection(u, a, b):
    """Smallest t with ||ST(u, b t)||_2 <= a t, by plain bisection on the definition."""
    def inside(t):
        return np.linalg.norm(np.maximum(np.abs(u) - b * t, 0.0)) <= a * t

    lo, hi = 0.0, 1.0
    while not inside(hi):
        hi *= 2
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        lo, hi = (lo, mid) if inside(mid) else (mid, hi)
    return hi


def test_sparse_group_dual_kernels_are_exact():
    rng = np.random.default_rng(0)
    for _ in range(40):
        sizes = rng.integers(1, 9, size=int(rng.integers(1, 6)))
        ptr = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
        vals = rng.standard_normal(ptr[-1]) * rng.uniform(0.01, 100)
        vals[rng.random(vals.size) < 0.2] = 0.0
        if rng.random() < 0.3:  # ties
            vals[: ptr[1]] = rng.choice([-1.5, 1.5], ptr[1])
        a = rng.uniform(0, 2, sizes.size)
        b = rng.uniform(0, 2, sizes.size)
        a[rng.random(sizes.size) < 0.2] = 0.0
        b[rng.random(sizes.size) < 0.2] = 0.0
        absval = np.abs(vals)
        x = sparse_group_dual_numba(absval, ptr, a, b)
        y = sparse_group_dual_numpy(absval, ptr, a, b)
        np.testing.assert_allclose(x, y, rtol=1e-13)
        for g in range(sizes.size):
            seg = vals[ptr[g]:ptr[g + 1]]
            if not np.any(seg):
                assert x[g] == 0.0
            elif a[g] == 0 and b[g] == 0:
                assert x[g] == np.inf
            else:
                assert x[g] == pytest.approx(dual_by_bisection(seg, a[g], b[g]), rel=1e-12)


# ---------------------------------------------------------------- the other prox functions
def test_soft_threshold_and_sparse_group_soft_threshold():
    rng = np.random.default_rng(1)
    v = rng.standard_normal((8, 2))
    np.testing.assert_array_equal(P.soft_threshold(v, 0.5), np.sign(v) * np.maximum(np.abs(v) - 0.5, 0))
    g = ss.Groups.from_lists([[0, 3, 5], [1, 2]], n_features=8, weights=[1.0, 2.0])
    for r in (0.0, 0.3, 1.0):
        want = P.group_soft_threshold(P.soft_threshold(v, 0.7 * r), g.with_weights(g.weights * (1 - r)), 0.7)
        np.testing.assert_allclose(P.sparse_group_soft_threshold(v, g, 0.7, r), want, rtol=1e-14)
        np.testing.assert_allclose(ss.SparseGroupLasso(g, 0.35, r).prox(v, 2.0), want, rtol=1e-14)


def test_spectral_prox_soft_thresholds_singular_values():
    m = np.random.default_rng(2).standard_normal((5, 3))
    u, s, vt = np.linalg.svd(m, full_matrices=False)
    out = P.spectral_prox(m, lambda x: np.maximum(x - 0.8, 0))
    np.testing.assert_allclose(out, (u * np.maximum(s - 0.8, 0)) @ vt, atol=1e-13)
    np.testing.assert_allclose(P.spectral_prox(m, lambda x: x), m, atol=1e-13)


@pytest.mark.parametrize("func,args", [
    (P.soft_threshold, (0.4,)),
    (P.group_soft_threshold, ([[0, 1], [2, 3, 4]], 0.4)),
    (P.sparse_group_soft_threshold, ([[0, 1], [2, 3, 4]], 0.4, 0.5)),
    (P.tree_prox, (ss.Tree.from_parents([-1, 0, 0, 1, 1]), 0.4)),
])
def test_float32_input_gives_float64_and_caller_array_untouched(func, args):
    v32 = np.random.default_rng(3).standard_normal(5).astype(np.float32)
    keep = v32.copy()
    out = func(v32, *args)
    assert out.dtype == np.float64 and out.shape == (5,)
    np.testing.assert_array_equal(out, func(v32.astype(np.float64), *args))
    np.testing.assert_array_equal(v32, keep)
    v = v32.astype(np.float64)
    res = func(v, *args)
    res[...] = 9.0  # a new array, never a view of the input
    np.testing.assert_array_equal(v, keep)


def test_spectral_prox_float32_and_no_mutation():
    m = np.random.default_rng(4).standard_normal((3, 4)).astype(np.float32)
    keep = m.copy()
    out = P.spectral_prox(m, lambda s: np.maximum(s - 0.1, 0))
    assert out.dtype == np.float64
    np.testing.assert_array_equal(m, keep)


# ---------------------------------------------------------------- bad input
TREE5 = ss.Tree.from_parents([-1, 0, 0, 1, 1])
GROUPS5 = [[0, 1], [2, 3, 4]]


@pytest.mark.parametrize("call,exc,match", [
    (lambda: P.soft_threshold([1.0, np.nan], 0.1), ShapeError, "'v'.*finite"),
    (lambda: P.soft_threshold([1.0, np.inf], 0.1), ShapeError, "'v'.*finite"),
    (lambda: P.soft_threshold([1.0, 2.0], -0.1), ParameterError, "tau"),
    (lambda: P.soft_threshold([1.0, 2.0], np.nan), ParameterError, "tau"),
    (lambda: P.soft_threshold(None, 0.1), ShapeError, "'v'"),
    (lambda: P.group_soft_threshold(np.ones(5), GROUPS5, -1.0), ParameterError, "tau"),
    (lambda: P.group_soft_threshold(np.ones(6), ss.Groups.from_lists(GROUPS5), 1.0), ShapeError, "5 features.*6 rows"),
    (lambda: P.group_soft_threshold(np.ones((5, 2, 2)), GROUPS5, 1.0), ShapeError, "'v'.*dimension"),
    (lambda: P.group_soft_threshold([1.0, np.nan, 0, 0, 0], GROUPS5, 1.0), ShapeError, "'v'.*finite"),
    (lambda: P.group_soft_threshold(np.ones(3), [[0, 1], [1, 2]], 1.0), StructureError, "disjoint"),
    (lambda: P.group_soft_threshold(np.ones(3), [[0, 1], []], 1.0), StructureError, "empty"),
    (lambda: P.group_soft_threshold(np.ones(3), [[0, 5]], 1.0), StructureError, "out of range"),
    (lambda: P.group_soft_threshold(np.ones(3), [[0, 0]], 1.0), StructureError, "duplicate"),
    (lambda: P.group_soft_threshold(np.ones(5), TREE5, 1.0), StructureError, "groups.*Tree"),
    (lambda: P.sparse_group_soft_threshold(np.ones(5), GROUPS5, 1.0, 1.5), ParameterError, "l1_ratio"),
    (lambda: P.sparse_group_soft_threshold(np.ones(5), GROUPS5, 1.0, -0.5), ParameterError, "l1_ratio"),
    (lambda: P.sparse_group_soft_threshold(np.ones(5), GROUPS5, -1.0, 0.5), ParameterError, "tau"),
    (lambda: P.sparse_group_soft_threshold(np.ones(4), GROUPS5, 1.0, 0.5), StructureError, "out of range.*4 rows of 'v'"),
    (lambda: P.sparse_group_soft_threshold(np.ones(3), [[0, 1], [1, 2]], 1.0, 0.5), StructureError, "disjoint"),
    (lambda: P.tree_prox(np.ones(5), [-1, 0, 0, 1, 1], 1.0), TypeError, "tree"),
    (lambda: P.tree_prox(np.ones(4), TREE5, 1.0), ShapeError, "'v' has 4 rows"),
    (lambda: P.tree_prox(np.ones(5), TREE5, -1.0), ParameterError, "tau"),
    (lambda: P.tree_prox([1.0, 2.0, np.nan, 0, 0], TREE5, 1.0), ShapeError, "'v'.*finite"),
    (lambda: P.spectral_prox(np.ones(4), lambda s: s), ShapeError, "'m'.*dimension"),
    (lambda: P.spectral_prox(np.full((2, 2), np.nan), lambda s: s), ShapeError, "'m'.*finite"),
    (lambda: P.spectral_prox(np.ones((2, 2)), "soft"), TypeError, "vector_prox"),
    (lambda: P.spectral_prox(np.ones((2, 2)), lambda s: -s), ShapeError, "vector_prox"),
    (lambda: P.spectral_prox(np.ones((2, 2)), lambda s: s[:1]), ShapeError, "vector_prox"),
])
def test_prox_functions_reject_bad_input(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


_FALLBACK_SCRIPT = """
import json, numpy as np
from structsparse._numba import NUMBA_ENABLED
from structsparse.penalties.registry import PENALTY_NAMES, random_penalty
out = {"numba": NUMBA_ENABLED}
for name in PENALTY_NAMES:
    rng = np.random.default_rng(7)
    pen = random_penalty(name, 15, rng, n_targets=2)
    v = rng.standard_normal((15, 2))
    out[name] = [pen.prox(v, 0.8).tolist(), pen(v), pen.dual_norm(v - pen.prox(v, 0.8))]
print(json.dumps(out))
"""


def test_numpy_fallback_gives_the_same_penalties():
    """With numba disabled every penalty runs on the numpy twins and gives the same results."""
    env = dict(os.environ, STRUCTSPARSE_DISABLE_NUMBA="1")   # read at import: a process of its own
    proc = subprocess.run([sys.executable, "-c", _FALLBACK_SCRIPT], env=env, capture_output=True, text=True,
                          timeout=120, check=True, cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    fallback = json.loads(proc.stdout)
    # the compiled side in this process (numba as the suite runs it; no second interpreter to start), through
    # the same script and the same JSON round trip
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(_FALLBACK_SCRIPT, {"__name__": "fallback_compiled"})
    compiled = json.loads(printed.getvalue())
    assert fallback.pop("numba") is False and compiled.pop("numba") is NUMBA_ENABLED
    assert fallback.keys() == compiled.keys()
    for name in compiled:
        np.testing.assert_allclose(fallback[name][0], compiled[name][0], rtol=1e-12, atol=1e-14)
        assert fallback[name][1] == pytest.approx(compiled[name][1], rel=1e-13)
        assert fallback[name][2] == pytest.approx(compiled[name][2], rel=1e-11)


@pytest.mark.parametrize("n_cols", [1, 3])
def test_tree_prox_level_layout_equals_preorder_layout(n_cols):
    """The public prox runs on the level-order layout; any parents-first numbering must give the same prox."""
    rng = np.random.default_rng(77 + n_cols)
    for _ in range(30):
        t, v = _random_tree_case(rng, n_cols, False)
        tau = float(rng.uniform(0, 1.5))
        level = t.kernel_arrays("level")
        assert np.all(level[2][1:] < np.arange(1, t.n_nodes)) and level[2][0] == -1
        np.testing.assert_allclose(tree_prox_numba(v, *level, tau), tree_prox_numba(v, *t.kernel_arrays(), tau),
                                   rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(tree_prox_numpy(v, *level, tau), tree_prox_numpy(v, *t.kernel_arrays(), tau),
                                   rtol=1e-12, atol=1e-15)
    with pytest.raises(ValueError, match="order"):
        t.kernel_arrays("postorder")
