import itertools

import numpy as np
import pytest

import structsparse as ss
from structsparse import cs
from structsparse.cs._tree_projection import (count_rooted_subtrees, tree_projection_numba,
                                              tree_projection_numpy)
from structsparse.exceptions import ParameterError, ShapeError


def _rooted_subsets(model, k):
    """All rooted subtrees of k coefficients, by brute force over node subsets."""
    parent = model.node_parents
    n_nodes = parent.size
    extra = k - model.root_size
    for nodes in itertools.combinations(range(1, n_nodes), extra):
        chosen = set(nodes) | {0}
        if all(parent[v] in chosen for v in nodes):
            mask = np.zeros(n_nodes, bool)
            mask[list(chosen)] = True
            yield mask


@pytest.mark.parametrize("level,k", [(3, 5), (3, 7), (2, 6), (4, 6)])
def test_tree_projection_is_exact_against_brute_force(level, k):
    model = cs.TreeSparse(16, k, "haar", level)
    rng = np.random.default_rng(level * 10 + k)
    for _ in range(5):
        x = rng.standard_normal(16) * rng.exponential(size=16)
        best = max(float(np.sum(x[model._node_mask_to_support(m)] ** 2)) for m in _rooted_subsets(model, k))
        s = model.approx_support(x)
        assert s.size == k and model.is_rooted_subtree(s)
        assert np.isclose(np.sum(x[s] ** 2), best)


def test_tree_projection_numba_and_numpy_twins_agree():
    model = cs.TreeSparse(512, 60, "db2")
    rng = np.random.default_rng(0)
    for k in (model.root_size, 17, 60, 200):
        e = model.node_energy(rng.standard_normal(512))
        args = (e, model._size, model._parent, model._child_ptr, model._child_idx, k)
        a, b = tree_projection_numba(*args), tree_projection_numpy(*args)
        assert np.array_equal(a[0], b[0]) and np.isclose(a[1], b[1])


def test_count_of_rooted_subtrees_matches_enumeration():
    model = cs.TreeSparse(16, 5, "haar", 3)
    for k in (2, 4, 6):
        n = sum(1 for _ in _rooted_subsets(model, k))
        assert count_rooted_subtrees(model._size, model._parent, k) == n
        assert np.isclose(model.log_n_subspaces(k), np.log(n))


def test_tree_structure_children_are_next_finer_scale():
    model = cs.TreeSparse(64, 10, "db2", 3)
    c = model.root_size
    W = model.synthesis
    bands = W.band_slices()
    node_of = model.parent_of_coefficient
    par = model.node_parents
    # cD_{j-1}[2i] and cD_{j-1}[2i+1] are children of cD_j[i]
    for coarse, fine in zip(bands[1:-1], bands[2:]):
        for i in range(coarse.stop - coarse.start):
            for child in (fine.start + 2 * i, fine.start + 2 * i + 1):
                assert par[node_of[child]] == node_of[coarse.start + i]
    assert np.all(par[node_of[bands[1]]] == 0) and np.all(node_of[:c] == 0)
    tree = model.tree()
    assert isinstance(tree, ss.Tree) and tree.n_features == 64
    assert sorted(tree.group(0).tolist()) == list(range(64))


def test_block_approx_keeps_the_largest_blocks():
    model = cs.BlockSparse(24, 4, 2)
    x = np.zeros(24)
    x[0:4] = 1.0      # norm 2
    x[8:12] = 3.0     # norm 6
    x[16:20] = 0.5    # norm 1
    x[4] = 1.9        # norm 1.9
    assert np.array_equal(model.approx_support(x), np.r_[0:4, 8:12])
    assert np.array_equal(model.approx(x)[8:12], x[8:12]) and model.approx(x)[4] == 0
    g = model.groups()
    assert g.n_groups == 6 and g.is_disjoint


def test_sparse_approx_and_samples():
    model = cs.Sparse(50, 5)
    rng = np.random.default_rng(0)
    x = rng.standard_normal(50)
    s = model.approx_support(x)
    assert set(s) == set(np.argsort(-np.abs(x))[:5])
    assert np.count_nonzero(model.sample(rng)) == 5


def test_samples_and_supports_lie_in_the_model():
    rng = np.random.default_rng(3)
    b = cs.BlockSparse(64, 8, 3)
    x = b.sample(rng)
    assert np.count_nonzero(b.block_norms(x)) == 3
    s = b.sample_support(rng)
    assert s.size == 24 and np.all(np.diff(s.reshape(3, 8), axis=1) == 1)
    t = cs.TreeSparse(256, 30, "db4")
    for _ in range(5):
        assert t.is_rooted_subtree(t.sample_support(rng))
        coef = t.sample(rng)
        assert np.count_nonzero(coef) == 30 and t.is_rooted_subtree(np.flatnonzero(coef))
        assert np.isclose(np.linalg.norm(coef), 1.0)


def test_sample_bound_prefers_structure():
    b = cs.BlockSparse(1024, 8, 10)
    t = cs.TreeSparse(1024, 80, "db4")
    plain = b.plain()
    assert plain.support_size == 80
    assert b.sample_bound() < plain.sample_bound() and t.sample_bound() < plain.sample_bound()
    assert b.sample_order() < plain.sample_order()


def test_bad_model_arguments_name_the_argument():
    with pytest.raises(ParameterError, match="block_size"):
        cs.BlockSparse(100, 8, 2)
    with pytest.raises(ParameterError, match="k_blocks"):
        cs.BlockSparse(64, 8, 9)
    with pytest.raises(ParameterError, match="'k'"):
        cs.Sparse(10, 11)
    with pytest.raises(ParameterError, match="'k'"):
        cs.TreeSparse(64, 2, "haar", 3)  # the root alone owns 8 coefficients
    with pytest.raises(ShapeError, match="'x'"):
        cs.Sparse(10, 2).approx(np.ones(9))
    with pytest.raises(ShapeError, match="finite"):
        cs.BlockSparse(16, 4, 1).approx(np.full(16, np.nan))
