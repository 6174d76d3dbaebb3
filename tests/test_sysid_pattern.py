"""Pattern: masks, known values, parameter vectors, JSON files."""

import json

import numpy as np
import pytest

from structsparse.exceptions import ParameterError, ShapeError
from structsparse.sysid import Pattern, StateSpace


@pytest.fixture
def pattern():
    return Pattern(A=[[1, 1], [0, 1]], B=[[0], [1]], C=[[0, 0]], values={"C": [[1.0, 0.0]], "A": [[9, 9], [0.5, 9]]})


def test_sizes_and_free_entries(pattern):
    assert (pattern.n_states, pattern.n_inputs, pattern.n_outputs) == (2, 1, 1)
    assert pattern.n_free == 4
    assert pattern.free_entries() == [("A", 0, 0), ("A", 0, 1), ("A", 1, 1), ("B", 1, 0)]
    # values at free positions are ignored (stored as zero), fixed ones kept
    np.testing.assert_array_equal(pattern.values["A"], [[0, 0], [0.5, 0]])
    assert pattern.fixed_nonzero() == 2
    assert not pattern.masks["D"].any()


def test_theta_roundtrip(pattern):
    theta = np.array([0.1, 0.2, 0.3, 0.4])
    A, B, C, D = pattern.to_matrices(theta)
    np.testing.assert_array_equal(A, [[0.1, 0.2], [0.5, 0.3]])
    np.testing.assert_array_equal(B, [[0.0], [0.4]])
    np.testing.assert_array_equal(C, [[1.0, 0.0]])
    np.testing.assert_array_equal(pattern.to_theta(A, B, C, D), theta)
    assert pattern.violation(StateSpace(A, B, C, D)) == 0.0
    assert pattern.violation(StateSpace(A, B, [[1.0, 0.3]], D)) == pytest.approx(0.3)
    with pytest.raises(ShapeError, match="theta"):
        pattern.to_matrices(np.zeros(3))


@pytest.mark.parametrize("kwargs, match", [
    (dict(A=np.ones((2, 3)), B=np.ones((2, 1)), C=np.ones((1, 2))), "'A' mask.*square"),
    (dict(A=np.ones((2, 2)), B=np.ones((3, 1)), C=np.ones((1, 2))), "'B' mask.*2 rows"),
    (dict(A=np.ones((2, 2)), B=np.ones((2, 1)), C=np.ones((1, 3))), "'C' mask.*2 columns"),
    (dict(A=np.ones((2, 2)), B=np.ones((2, 1)), C=np.ones((1, 2)), D=np.ones((2, 2))), "'D' mask.*\\(1, 1\\)"),
    (dict(A=np.full((2, 2), 0.5), B=np.ones((2, 1)), C=np.ones((1, 2))), "'A' mask.*boolean"),
    (dict(A=np.ones(2), B=np.ones((2, 1)), C=np.ones((1, 2))), "'A' mask.*2-D"),
])
def test_wrong_masks(kwargs, match):
    with pytest.raises(ShapeError, match=match):
        Pattern(**kwargs)


def test_bad_values():
    with pytest.raises(ShapeError, match="values\\['C'\\]"):
        Pattern(np.ones((2, 2)), np.ones((2, 1)), np.zeros((1, 2)), values={"C": np.ones((2, 2))})
    with pytest.raises(ParameterError, match="values"):
        Pattern(np.ones((2, 2)), np.ones((2, 1)), np.zeros((1, 2)), values={"E": np.ones((2, 2))})


def test_json_roundtrip_is_exact(pattern, tmp_path):
    path = tmp_path / "p.json"
    pattern.save(path)
    assert Pattern.load(path) == pattern
    d = json.loads(path.read_text())
    assert d["free"]["A"] == [[1, 1], [0, 1]]
    assert not list(tmp_path.glob(".*tmp"))


def test_corrupt_and_wrong_files(tmp_path):
    path = tmp_path / "p.json"
    path.write_text('{"free": {"A": [[1, 1]')
    with pytest.raises(ParameterError, match="not valid JSON"):
        Pattern.load(path)
    path.write_text(json.dumps({"free": {"A": [[1]]}}))
    with pytest.raises(ParameterError, match="lacks the mask"):
        Pattern.load(path)
    path.write_text(json.dumps({"free": {"A": [[1, 1], [1, 1]], "B": [[1], [1], [1]], "C": [[1, 1]]}}))
    with pytest.raises(ShapeError, match="'B' mask"):
        Pattern.load(path)
    path.write_text(json.dumps([1, 2]))
    with pytest.raises(ParameterError, match="does not hold a sysid pattern"):
        Pattern.load(path)
    with pytest.raises(ParameterError, match="does not exist"):
        Pattern.load(tmp_path / "none.json")


def test_from_system_and_full():
    s = StateSpace([[0.5, 0.0], [0.2, 0.1]], [[1.0], [0.0]], [[0.0, 2.0]])
    p = Pattern.from_system(s, fixed=("C",))
    np.testing.assert_array_equal(p.masks["A"], [[True, False], [True, True]])
    np.testing.assert_array_equal(p.values["C"], [[0.0, 2.0]])
    assert not p.masks["C"].any()
    full = Pattern.full(3, 2, 1, feedthrough=True)
    assert full.n_free == 9 + 6 + 3 + 2
    assert "free" in repr(full) and "*" in full.describe()


def test_masks_are_read_only(pattern):
    with pytest.raises(ValueError):
        pattern.masks["A"][0, 0] = False
