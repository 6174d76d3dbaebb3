"""Groups and Tree: constructors, views, immutability and malformed input."""

import numpy as np
import pytest

import structsparse as ss
from structsparse.exceptions import StructureError
from structsparse.penalties.registry import random_tree


# ---------------------------------------------------------------- Groups
def test_from_lists_stores_flat_arrays():
    g = ss.Groups.from_lists([[4, 0], [2], [1, 3, 5]], n_features=7, weights=[1.0, 0.5, 2.0])
    assert g.indices.tolist() == [4, 0, 2, 1, 3, 5]
    assert g.ptr.tolist() == [0, 2, 3, 6]
    assert g.indices.dtype == np.int64 and g.ptr.dtype == np.int64 and g.weights.dtype == np.float64
    assert g.n_features == 7 and g.n_groups == 3 and len(g) == 3
    assert g.sizes.tolist() == [2, 1, 3]
    assert g.is_disjoint
    assert g.covered.tolist() == [True] * 6 + [False]
    assert g.counts.tolist() == [1, 1, 1, 1, 1, 1, 0]
    assert [a.tolist() for a in g] == [[4, 0], [2], [1, 3, 5]]
    assert g[1].tolist() == [2] and g[-1].tolist() == [1, 3, 5]
    assert g.to_lists() == [[4, 0], [2], [1, 3, 5]]
    assert g.weights.tolist() == [1.0, 0.5, 2.0]


def test_from_lists_defaults_and_overlap():
    g = ss.Groups.from_lists([[0, 1], [1, 2]])
    assert g.n_features == 3 and not g.is_disjoint
    assert g.counts.tolist() == [1, 2, 1]
    assert g.weights.tolist() == [1.0, 1.0]
    # integral floats and numpy arrays are accepted as indices
    h = ss.Groups.from_lists([np.array([0.0, 1.0]), (2,)])
    assert h.indices.tolist() == [0, 1, 2]


def test_sqrt_size_weights_and_with_weights():
    g = ss.Groups.from_sizes([1, 4, 9], weights="sqrt_size")
    np.testing.assert_array_equal(g.weights, [1.0, 2.0, 3.0])
    h = g.with_weights([2.0, 2.0, 2.0])
    assert h.weights.tolist() == [2.0, 2.0, 2.0] and g.weights.tolist() == [1.0, 2.0, 3.0]
    assert h != g and h.with_weights("sqrt_size") == g and hash(h.with_weights("sqrt_size")) == hash(g)


def test_from_sizes_contiguous_from_labels():
    g = ss.Groups.from_sizes([2, 3])
    assert g.to_lists() == [[0, 1], [2, 3, 4]] and g.n_features == 5
    c = ss.Groups.contiguous(n_features=7, size=3)
    assert c.to_lists() == [[0, 1, 2], [3, 4, 5], [6]]
    assert ss.Groups.contiguous(5000, 10).n_groups == 500
    lab = ss.Groups.from_labels([2, -1, 0, 2, 0, 5])
    assert lab.to_lists() == [[2, 4], [0, 3], [5]]
    assert lab.n_features == 6 and lab.covered.tolist() == [True, False, True, True, True, True]


def test_groups_are_immutable():
    g = ss.Groups.from_lists([[0, 1], [2, 3]])
    for attr in ("indices", "ptr", "weights", "n_features", "anything"):
        with pytest.raises(AttributeError, match="immutable"):
            setattr(g, attr, 1)
    with pytest.raises(AttributeError, match="immutable"):
        del g.indices
    for arr in (g.indices, g.ptr, g.weights):
        with pytest.raises(ValueError, match="read-only"):
            arr[0] = 1
    with pytest.raises(ValueError, match="read-only"):
        g[0][0] = 3  # views of the group are read-only too


@pytest.mark.parametrize("call,match", [
    (lambda: ss.Groups.from_lists([[0, 1], []]), "lists.*group 1 is empty"),
    (lambda: ss.Groups.from_lists([]), "lists"),
    (lambda: ss.Groups.from_lists("ab"), "lists"),
    (lambda: ss.Groups.from_lists(5), "lists"),
    (lambda: ss.Groups.from_lists([[0, 1], [2, 3]], n_features=3), "out of range"),
    (lambda: ss.Groups.from_lists([[0, -1]]), "out of range"),
    (lambda: ss.Groups.from_lists([[0, 1, 1]]), "duplicate"),
    (lambda: ss.Groups.from_lists([[0, [1, 2]], [3]]), "lists.*group 0.*flat list of integer"),
    (lambda: ss.Groups.from_lists([[0, 1.5]]), "group 0.*integer"),
    (lambda: ss.Groups.from_lists([[0, np.nan]]), "group 0.*integer"),
    (lambda: ss.Groups.from_lists([["a", "b"]]), "group 0.*integer"),
    (lambda: ss.Groups.from_lists([[True, False]]), "group 0.*integer"),
    (lambda: ss.Groups.from_lists([3, 4]), "group 0 must be a list"),
    (lambda: ss.Groups.from_lists([[0], [1]], n_features=0), "n_features"),
    (lambda: ss.Groups.from_lists([[0], [1]], n_features=2.0), "n_features"),
    (lambda: ss.Groups.from_lists([[0], [1]], weights=[1.0]), "weights.*one entry per group"),
    (lambda: ss.Groups.from_lists([[0], [1]], weights=[1.0, -1.0]), "weights.*non-negative"),
    (lambda: ss.Groups.from_lists([[0], [1]], weights=[1.0, np.nan]), "weights.*finite"),
    (lambda: ss.Groups.from_lists([[0], [1]], weights=[1.0, np.inf]), "weights.*finite"),
    (lambda: ss.Groups.from_lists([[0], [1]], weights="size"), "weights"),
    (lambda: ss.Groups.from_lists([[0], [1]], weights=["a", "b"]), "weights"),
    (lambda: ss.Groups.from_sizes([2, 0]), "sizes"),
    (lambda: ss.Groups.from_sizes([]), "sizes"),
    (lambda: ss.Groups.from_sizes([1.5, 2]), "sizes"),
    (lambda: ss.Groups.contiguous(0, 2), "n_features"),
    (lambda: ss.Groups.contiguous(10, 0), "size"),
    (lambda: ss.Groups.contiguous(10, True), "size"),
    (lambda: ss.Groups.from_labels([-2, 0]), "labels"),
    (lambda: ss.Groups.from_labels([-1, -1]), "labels"),
    (lambda: ss.Groups.from_labels([0.5, 1]), "labels"),
    (lambda: ss.Groups.from_labels([[0, 1]]), "labels"),
])
def test_groups_reject_malformed_input(call, match):
    with pytest.raises(StructureError, match=match):
        call()


def test_groups_indexing_errors():
    g = ss.Groups.from_sizes([2, 2])
    with pytest.raises(IndexError):
        g[2]
    with pytest.raises(TypeError):
        g["a"]


def test_groups_do_not_keep_caller_arrays():
    members = np.array([0, 1, 2])
    w = np.array([1.0])
    g = ss.Groups.from_lists([members], weights=w)
    members[0] = 2
    w[0] = 5.0
    assert g.indices.tolist() == [0, 1, 2] and g.weights.tolist() == [1.0]
    assert members.flags.writeable and w.flags.writeable  # the caller's arrays were not frozen


# ---------------------------------------------------------------- Tree
def _descendants_groups(parents, owns):
    """Group of every node by brute force: the node's variables and those of every node below it."""
    n = len(parents)
    groups = []
    for node in range(n):
        members = []
        for other in range(n):
            k = other
            while k != -1 and k != node:
                k = parents[k]
            if k == node:
                members.extend(owns[other])
        groups.append(sorted(members))
    return groups


def test_tree_default_ownership_and_groups():
    t = ss.Tree.from_parents([-1, 0, 0, 1, 1])
    assert t.n_nodes == 5 and t.n_features == 5 and t.root == 0
    assert t.group(0).tolist() == [0, 1, 2, 3, 4]
    assert t.group(1).tolist() == [1, 3, 4]
    assert t.group(3).tolist() == [3]
    assert t.children(1).tolist() == [3, 4] and t.children(2).tolist() == []
    assert t.depth().tolist() == [0, 1, 1, 2, 2]
    assert t.preorder.tolist() == [0, 1, 3, 4, 2]
    assert t.weights.tolist() == [1.0] * 5


@pytest.mark.parametrize("seed", range(8))
def test_tree_groups_match_brute_force(seed):
    t = random_tree(25, seed)
    owns = [t.owns(k).tolist() for k in range(t.n_nodes)]
    want = _descendants_groups(t.parents.tolist(), owns)
    assert [t.group(k).tolist() for k in range(t.n_nodes)] == want
    assert sorted(v for o in owns for v in o) == list(range(25))
    # groups are nested or disjoint, and to_groups keeps order and weights
    g = t.to_groups()
    assert g.to_lists() == want and np.array_equal(g.weights, t.weights)
    sets = [set(x) for x in want]
    for a in sets:
        for b in sets:
            assert a <= b or b <= a or not (a & b)
    # preorder: every node comes after its parent, and kernel arrays agree with it
    pos = np.empty(t.n_nodes, dtype=int)
    pos[t.preorder] = np.arange(t.n_nodes)
    assert all(pos[t.parents[k]] < pos[k] for k in range(t.n_nodes) if t.parents[k] >= 0)
    var_order, own_ptr, parent, weights = t.kernel_arrays()
    assert parent[0] == -1 and np.all(parent[1:] < np.arange(1, t.n_nodes))
    np.testing.assert_array_equal(weights, t.weights[t.preorder])
    for k, node in enumerate(t.preorder):
        assert sorted(var_order[own_ptr[k]:own_ptr[k + 1]].tolist()) == sorted(owns[node])


def test_tree_with_several_variables_per_node_and_sqrt_size():
    t = ss.Tree.from_parents([1, -1, 1], owns=[[0, 5], [1], [2, 3, 4]], weights="sqrt_size")
    assert t.root == 1 and t.n_features == 6
    assert t.group(1).tolist() == list(range(6))
    assert t.group(2).tolist() == [2, 3, 4]
    np.testing.assert_allclose(t.weights, np.sqrt([2, 6, 3]))
    u = t.with_weights([1.0, 2.0, 3.0])
    assert u.weights.tolist() == [1.0, 2.0, 3.0] and u.group(0).tolist() == [0, 5]
    assert u != t and u.with_weights("sqrt_size") == t and hash(u.with_weights("sqrt_size")) == hash(t)


def test_complete_tree():
    t = ss.Tree.complete(depth=10, branching=2)
    assert t.n_nodes == 2047 == t.n_features
    assert t.depth().max() == 10
    assert t.group(0).size == 2047 and t.group(1).size == 1023 and t.group(2046).size == 1
    t3 = ss.Tree.complete(depth=2, branching=3)
    assert t3.n_nodes == 13 and t3.children(0).tolist() == [1, 2, 3] and t3.depth().max() == 2
    assert ss.Tree.complete(0).n_nodes == 1 and ss.Tree.complete(1).n_nodes == 3


def test_tree_is_immutable():
    t = ss.Tree.from_parents([-1, 0, 0])
    for attr in ("parents", "weights", "n_nodes", "anything"):
        with pytest.raises(AttributeError, match="immutable"):
            setattr(t, attr, 1)
    with pytest.raises(AttributeError, match="immutable"):
        del t.parents
    for arr in (t.parents, t.weights, t.preorder, *t.kernel_arrays()):
        with pytest.raises(ValueError, match="read-only"):
            arr[0] = 1
    with pytest.raises(TypeError, match="from_parents"):
        ss.Tree([-1, 0])


@pytest.mark.parametrize("call,match", [
    (lambda: ss.Tree.from_parents([-1, 0, 3, 2]), "parents.*cycle"),
    (lambda: ss.Tree.from_parents([-1, 1]), "parents.*own parent"),
    (lambda: ss.Tree.from_parents([-1, -1, 0]), "parents.*exactly one root.*2"),
    (lambda: ss.Tree.from_parents([1, 0]), "parents.*exactly one root.*0"),
    (lambda: ss.Tree.from_parents([-1, 0, 5]), "parents.*out of range"),
    (lambda: ss.Tree.from_parents([-1, 0, -2]), "parents.*out of range"),
    (lambda: ss.Tree.from_parents([]), "parents"),
    (lambda: ss.Tree.from_parents([-1.0, 0.0]), "parents"),
    (lambda: ss.Tree.from_parents([[-1, 0]]), "parents"),
    (lambda: ss.Tree.from_parents([-1, [0, 1]]), "parents"),
    (lambda: ss.Tree.from_parents([-1, 0], owns=[[0], [0]]), "owns.*variable 0 is owned 2 times"),
    (lambda: ss.Tree.from_parents([-1, 0], owns=[[0], [2]]), "owns.*variable 1 is owned 0 times"),
    (lambda: ss.Tree.from_parents([-1, 0], owns=[[0], [1]], n_features=3), "owns.*variable 2 is owned 0 times"),
    (lambda: ss.Tree.from_parents([-1, 0], owns=[[0], [1, 2]], n_features=2), "owns.*lie in"),
    (lambda: ss.Tree.from_parents([-1, 0], owns=[[0], [-1]]), "owns.*lie in"),
    (lambda: ss.Tree.from_parents([-1, 0], owns=[[0], []]), "owns.*node 1 owns no variable"),
    (lambda: ss.Tree.from_parents([-1, 0], owns=[[0]]), "owns.*each of the 2 nodes"),
    (lambda: ss.Tree.from_parents([-1, 0], owns=[[0], [1.5]]), "owns.*node 1"),
    (lambda: ss.Tree.from_parents([-1, 0], owns=[[0], [[1], [2, 3]]]), "owns.*node 1"),
    (lambda: ss.Tree.from_parents([-1, 0], owns=[[0], [1]], n_features=True), "n_features"),
    (lambda: ss.Tree.from_parents([-1, 0], n_features=3), "n_features"),
    (lambda: ss.Tree.from_parents([-1, 0], weights=[1.0, -1.0]), "weights.*non-negative"),
    (lambda: ss.Tree.from_parents([-1, 0], weights=[1.0, np.nan]), "weights.*finite"),
    (lambda: ss.Tree.from_parents([-1, 0], weights=[1.0]), "weights"),
    (lambda: ss.Tree.complete(-1), "depth"),
    (lambda: ss.Tree.complete(2.0), "depth"),
    (lambda: ss.Tree.complete(3, branching=0), "branching"),
])
def test_tree_rejects_malformed_input(call, match):
    with pytest.raises(StructureError, match=match):
        call()


def test_tree_does_not_keep_caller_arrays():
    parents = np.array([-1, 0, 0])
    owns = [np.array([0, 3]), np.array([1]), np.array([2])]
    w = np.ones(3)
    t = ss.Tree.from_parents(parents, owns=owns, weights=w)
    parents[2] = 1
    owns[0][1] = 9
    w[1] = 4.0
    assert t.parents.tolist() == [-1, 0, 0] and t.owns(0).tolist() == [0, 3] and t.weights.tolist() == [1.0] * 3
    assert parents.flags.writeable and owns[0].flags.writeable and w.flags.writeable


def test_tree_node_arguments_are_checked():
    from structsparse.exceptions import ParameterError

    t = ss.Tree.from_parents([-1, 0, 0])
    for method in (t.group, t.owns, t.children):
        for bad in (-1, 3, 1.0, "a", True):
            with pytest.raises(ParameterError, match="'node'"):
                method(bad)
    assert t.group(np.int64(1)).tolist() == [1]


def test_groups_init_rejects_non_integer_arrays():
    with pytest.raises(StructureError, match="'indices'.*integer"):
        ss.Groups([0.5, 1.0], [0, 2], 3)
    with pytest.raises(StructureError, match="'ptr'.*integer"):
        ss.Groups([0, 1], [0.0, 2.0], 3)
    with pytest.raises(StructureError, match="'ptr'"):
        ss.Groups([0, 1], [0, 3], 3)
    with pytest.raises(StructureError, match="non-empty"):
        ss.Groups([0, 1], [0, 0, 2], 3)
    g = ss.Groups(np.array([2, 0]), np.array([0, 1, 2]), 3)
    assert g.to_lists() == [[2], [0]]


def test_groups_and_trees_pickle_and_copy():
    import copy
    import pickle

    g = ss.Groups.from_lists([[3, 0], [2]], n_features=5, weights=[1.0, 2.5])
    t = ss.Tree.from_parents([2, 2, -1], owns=[[0], [1, 3], [2]], weights=[1.0, 2.0, 3.0])
    for obj in (g, t):
        back = pickle.loads(pickle.dumps(obj))
        assert back == obj and back is not obj and hash(back) == hash(obj)
        assert copy.copy(obj) is obj and copy.deepcopy(obj) is obj  # immutable: sharing is safe
        with pytest.raises(ValueError, match="read-only"):
            back.weights[0] = 7.0
    assert pickle.loads(pickle.dumps(t)).group(2).tolist() == [0, 1, 2, 3]
