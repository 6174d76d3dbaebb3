"""StateSpace, simulation, conversions, random systems, the propagation kernel."""

import json
import sys

import numpy as np
import pytest
from scipy import signal

from structsparse.exceptions import ParameterError, ShapeError
from structsparse.sysid import Pattern, StateSpace, random_system
from structsparse.sysid._kernels import _propagate_numba, propagate_numpy
from structsparse._numba import NUMBA_ENABLED


@pytest.fixture
def system():
    A = np.array([[0.5, 0.2, 0.0], [0.0, 0.3, 0.1], [0.1, 0.0, -0.4]])
    B = np.array([[1.0, 0.0], [0.0, 1.0], [0.5, 0.5]])
    C = np.array([[1.0, 0.0, 1.0]])
    D = np.array([[0.1, 0.0]])
    return StateSpace(A, B, C, D, dt=0.1)


@pytest.mark.parametrize("kwargs, name", [
    (dict(A=np.zeros((2, 3)), B=np.zeros((2, 1)), C=np.zeros((1, 2))), "'A'"),
    (dict(A=np.zeros((2, 2)), B=np.zeros((3, 1)), C=np.zeros((1, 2))), "'B'"),
    (dict(A=np.zeros((2, 2)), B=np.zeros((2, 1)), C=np.zeros((1, 3))), "'C'"),
    (dict(A=np.zeros((2, 2)), B=np.zeros((2, 1)), C=np.zeros((1, 2)), D=np.zeros((2, 2))), "'D'"),
])
def test_shape_errors_name_the_matrix(kwargs, name):
    with pytest.raises(ShapeError, match=name):
        StateSpace(**kwargs)


def test_nan_matrix_rejected():
    with pytest.raises(ShapeError, match="'A'"):
        StateSpace([[np.nan]], [[1.0]], [[1.0]])


def test_simulate_matches_scipy_dlsim(system):
    rng = np.random.default_rng(0)
    u = rng.standard_normal((50, 2))
    x0 = np.array([1.0, -1.0, 0.5])
    res = system.simulate(u, x0=x0)
    _, y_ref, x_ref = signal.dlsim(system.to_dlti(), u, x0=x0)
    np.testing.assert_allclose(res.y, y_ref, atol=1e-12)
    np.testing.assert_allclose(res.x, x_ref, atol=1e-12)
    np.testing.assert_allclose(res.x_final, system.A @ res.x[-1] + system.B @ u[-1], atol=1e-12)


def test_simulate_noise_levels(system):
    u = np.zeros((20000, 2))
    res = system.simulate(u, measurement_noise=0.1, rng=0)
    assert abs(res.y.std() - 0.1) < 0.005          # no state excitation: output is the noise
    res = system.simulate(u, process_noise=0.2, rng=1)
    w = res.x[1:] - res.x[:-1] @ system.A.T
    assert abs(w.std() - 0.2) < 0.01


def test_simulate_does_not_modify_input(system):
    u = np.ones((10, 2))
    u_copy = u.copy()
    system.simulate(u, measurement_noise=0.1, rng=0)
    np.testing.assert_array_equal(u, u_copy)


def test_simulate_bad_input(system):
    with pytest.raises(ShapeError, match="'u'.*2 channel"):
        system.simulate(np.zeros((10, 3)))
    u = np.zeros((10, 2))
    u[3, 1] = np.nan
    with pytest.raises(ShapeError, match="sample 3, channel 1"):
        system.simulate(u)
    with pytest.raises(ParameterError, match="measurement_noise"):
        system.simulate(np.zeros((10, 2)), measurement_noise=-1)


def test_poles_stability_markov(system):
    np.testing.assert_allclose(np.sort_complex(system.poles()), np.sort_complex(np.linalg.eigvals(system.A)))
    assert system.is_stable()
    assert not StateSpace([[1.2]], [[1.0]], [[1.0]]).is_stable()
    mk = system.markov_parameters(4)
    np.testing.assert_allclose(mk[0], system.D)
    np.testing.assert_allclose(mk[3], system.C @ system.A @ system.A @ system.B)


def test_transform_keeps_behaviour(system):
    T = np.array([[1.0, 2.0, 0.0], [0.0, 1.0, 1.0], [1.0, 0.0, 3.0]])
    other = system.transform(T)
    np.testing.assert_allclose(other.markov_parameters(6), system.markov_parameters(6), atol=1e-12)


def test_to_dlti(system):
    d = system.to_dlti()
    assert isinstance(d, signal.dlti)
    assert d.dt == 0.1
    np.testing.assert_allclose(d.A, system.A)


def test_to_control(system):
    control = pytest.importorskip("control")
    c = system.to_control()
    assert c.dt == 0.1
    np.testing.assert_allclose(np.sort_complex(control.poles(c)), np.sort_complex(system.poles()))


def test_to_control_missing_gives_clear_error(system, monkeypatch):
    monkeypatch.setitem(sys.modules, "control", None)
    with pytest.raises(ImportError, match="pip install control"):
        system.to_control()


@pytest.mark.parametrize("suffix", [".json", ".npz"])
def test_save_load_roundtrip(system, tmp_path, suffix):
    path = tmp_path / f"model{suffix}"
    system.save(path)
    back = StateSpace.load(path)
    for M, N in zip(system.matrices, back.matrices):
        np.testing.assert_array_equal(M, N)
    assert back.dt == system.dt
    assert not list(tmp_path.glob(".*tmp"))  # no temporary file left behind


def test_load_errors(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(ParameterError, match="not valid JSON"):
        StateSpace.load(bad)
    bad.write_text(json.dumps({"x": 1}))
    with pytest.raises(ParameterError, match="does not hold a state-space model"):
        StateSpace.load(bad)
    with pytest.raises(ParameterError, match="does not exist"):
        StateSpace.load(tmp_path / "missing.json")
    with pytest.raises(ParameterError, match=".json or .npz"):
        StateSpace([[0.5]], [[1.0]], [[1.0]]).save(tmp_path / "m.txt")


def test_random_system_stable_on_random_pattern():
    for seed in range(5):
        s = random_system(6, 2, 3, density=0.4, rng=seed)
        assert s.spectral_radius() <= 0.9 + 1e-9
        assert (s.n_states, s.n_inputs, s.n_outputs) == (6, 2, 3)
        assert np.all(s.D == 0)


def test_random_system_on_given_pattern_respects_it():
    rng = np.random.default_rng(0)
    mA = rng.random((5, 5)) < 0.5
    np.fill_diagonal(mA, True)
    C0 = rng.standard_normal((2, 5))
    pat = Pattern(mA, rng.random((5, 2)) < 0.5, np.zeros((2, 5), bool), values={"C": C0})
    s = random_system(5, 2, 2, rng=1, pattern=pat)
    assert s.is_stable()
    assert np.all(s.A[~mA] == 0)
    np.testing.assert_array_equal(s.C, C0)
    assert pat.violation(s) == 0.0
    with pytest.raises(ShapeError, match="pattern"):
        random_system(4, 2, 2, rng=0, pattern=pat)


def test_random_system_same_seed_same_system():
    a, b = random_system(4, 1, 1, rng=3), random_system(4, 1, 1, rng=3)
    np.testing.assert_array_equal(a.A, b.A)


@pytest.mark.skipif(not NUMBA_ENABLED, reason="numba disabled")
def test_propagate_numba_matches_numpy():
    rng = np.random.default_rng(0)
    A = rng.standard_normal((5, 5)) * 0.3
    F = rng.standard_normal((40, 5, 3))
    S0 = rng.standard_normal((5, 3))
    np.testing.assert_allclose(_propagate_numba(A, F, S0), propagate_numpy(A, F, S0), rtol=1e-12, atol=1e-12)
