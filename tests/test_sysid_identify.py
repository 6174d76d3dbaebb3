"""identify: subspace, structured PEM, measured states, pattern discovery, bad input; the issue's figures."""

import numpy as np
import pytest

import structsparse as ss
from structsparse.exceptions import ParameterError, ShapeError
from structsparse.sysid import (IdentifiedModel, OrderWarning, Pattern, StabilityWarning, StateSpace, example_network, example_system,
                                fit_index, fit_similarity, identify, moesp, pem_refine, pole_error, random_system,
                                support_scores)
from structsparse.sysid.pem import output_error_jacobian
from structsparse.sysid.subspace import input_output_regressors, stabilize


def _data(system, n=1000, noise=0.01, seed=0):
    rng = np.random.default_rng(seed)
    u = rng.standard_normal((n, system.n_inputs))
    y = system.simulate(u, measurement_noise=noise, rng=seed + 100).y
    return u, y


def _max_relative_entry_error(true, found):
    return max(float(np.max(np.abs(F - T)[T != 0] / np.abs(T[T != 0])))
               for T, F in zip(true.matrices[:3], found.matrices[:3]))


# ---------------------------------------------------------------------------- building blocks
def test_moesp_noise_free_recovers_poles_and_behaviour():
    system = random_system(3, 2, 2, density=1.0, rng=4)
    u, y = _data(system, n=400, noise=0.0)
    res = moesp(u, y, 3)
    assert pole_error(system.poles(), res.model.poles()) < 1e-8
    np.testing.assert_allclose(res.model.markov_parameters(6), system.markov_parameters(6), atol=1e-8)
    assert res.singular_values[3] < 1e-8 * res.singular_values[0]  # rank 3 visible


def test_regressors_reproduce_the_simulation():
    system = random_system(3, 2, 2, density=1.0, rng=1, feedthrough=True)
    rng = np.random.default_rng(0)
    u = rng.standard_normal((50, 2))
    x0 = rng.standard_normal(3)
    Phi = input_output_regressors(system.A, system.C, u, 2, feedthrough=True)
    params = np.concatenate([x0, system.B.ravel(), system.D.ravel()])
    np.testing.assert_allclose(Phi @ params, system.simulate(u, x0=x0).y.ravel(), atol=1e-12)


def test_output_error_jacobian_matches_finite_differences():
    _, pat = example_system()
    pat = Pattern(pat.masks["A"], pat.masks["B"], np.array([[0, 1, 0, 0], [0, 0, 0, 1]], bool),
                  np.ones((2, 2), bool), values=pat.values)  # free C and D entries too
    rng = np.random.default_rng(0)
    u = rng.standard_normal((60, 2))
    theta = pat.to_theta(*example_system()[0].matrices) * 0.9
    x0 = rng.standard_normal(4)
    y0, J = output_error_jacobian(pat, theta, x0, u)
    z = np.concatenate([theta, x0])
    eps = 1e-6
    for k in range(z.size):
        zp, zm = z.copy(), z.copy()
        zp[k] += eps
        zm[k] -= eps
        yp = output_error_jacobian(pat, zp[:-4], zp[-4:], u)[0]
        ym = output_error_jacobian(pat, zm[:-4], zm[-4:], u)[0]
        np.testing.assert_allclose(J[:, :, k], (yp - ym) / (2 * eps), atol=1e-6)


def test_pem_recovers_truth_from_perturbed_start():
    system, pat = example_system()
    u, y = _data(system, noise=0.0, n=300)
    theta = pat.to_theta(*system.matrices)
    res = pem_refine(u, y, pat, theta * 1.05)
    np.testing.assert_allclose(res.theta, theta, atol=1e-6)
    assert res.converged and res.history["cost"][-1] <= res.history["cost"][0]


def test_pem_rejects_unstable_start():
    system, pat = example_system()
    u, y = _data(system, n=200)
    with pytest.raises(ValueError, match="unstable"):
        pem_refine(u, y, pat, pat.to_theta(*system.matrices) * 3)


def test_stabilize_mirrors_outside_poles():
    A = np.diag([1.25, 0.5])
    A2, changed = stabilize(A)
    assert changed
    np.testing.assert_allclose(np.sort(np.linalg.eigvals(A2).real), [0.5, 0.8])
    same, changed = stabilize(np.diag([0.3, 0.2]))
    assert not changed and np.array_equal(same, np.diag([0.3, 0.2]))


def test_fit_similarity_undoes_a_transform():
    system, pat = example_system()
    T = np.random.default_rng(0).standard_normal((4, 4))
    moved = system.transform(T)
    fits = fit_similarity(moved, pat, n_starts=40, rng=0)
    back = moved.transform(fits[0].T)
    assert fits[0].residual < 1e-8
    np.testing.assert_allclose(back.A, system.A, atol=1e-6)
    np.testing.assert_allclose(back.B, system.B, atol=1e-6)


# ---------------------------------------------------------------------------- the figures
def test_figure_unstructured_fit_within_0p1_of_true_model():
    system, _ = example_system()
    for seed in range(3):
        u, y = _data(system, seed=seed)
        true_fit = fit_index(y, system.simulate(u).y)
        res = identify(u, y, 4, rng=seed)
        assert res.method == "subspace+pem"
        assert np.all(res.fit >= true_fit - 0.1)
        assert pole_error(system.poles(), res.model.poles()) < 5e-3
        assert res.model.is_stable()
        assert len(res.history["pem_cost"]) >= 1


def test_figure_structured_entries_within_2_percent():
    system, pat = example_system()
    for seed in range(3):
        u, y = _data(system, seed=seed)
        res = identify(u, y, 4, pattern=pat, rng=seed)
        assert res.identifiability.identifiable
        assert _max_relative_entry_error(system, res.model) <= 0.02
        assert pat.violation(res.model) == 0.0  # known values and zeros are kept exactly
        assert res.pattern is pat


def test_figure_network_discovery_f1_is_one():
    net = example_network(rng=0)
    rng = np.random.default_rng(0)
    u = rng.standard_normal((2000, 5))
    x = net.simulate(u, process_noise=0.01, rng=1).x
    for penalty in ("sparse_group_lasso", "l1"):
        res = identify(u, None, 20, penalty=penalty, x=x)
        assert res.method == "states-penalized"
        assert support_scores(net, res.pattern)["f1"] == 1.0
    assert np.max(np.abs(res.model.A - net.A)) < 0.05
    np.testing.assert_array_equal(res.model.C, np.eye(20))


@pytest.mark.parametrize("kind", ["sparse_group_lasso", "group_lasso"])
def test_group_penalties_recover_influences(kind):
    """Row groups are a state's influence / an input's reach: a state with no influence is found."""
    net = example_network(n_states=8, n_inputs=2, rng=3)
    A = net.A.copy()
    A[:, 5] = 0.0
    A[5, 5] = 0.5  # state 5 keeps its own dynamics only
    net = StateSpace(A, net.B, net.C, net.D)
    rng = np.random.default_rng(0)
    u = rng.standard_normal((1500, 2))
    x = net.simulate(u, process_noise=0.01, rng=2).x
    res = identify(u, None, 8, penalty=kind, x=x)
    offdiag = np.delete(res.pattern.masks["A"][:, 5], 5)
    assert not offdiag.any()
    assert support_scores(net, res.pattern)["recall"] == 1.0


def test_penalty_instance_used_at_its_lam():
    net = example_network(n_states=6, n_inputs=2, rng=1)
    rng = np.random.default_rng(0)
    u = rng.standard_normal((800, 2))
    x = net.simulate(u, process_noise=0.01, rng=2).x
    huge = identify(u, None, 6, penalty=ss.L1(1e6), x=x)
    assert not huge.pattern.masks["A"].any()  # above lam_max: nothing selected
    assert len(huge.history["path"]["lams"]) == 1


# ---------------------------------------------------------------------------- measured states, exact
def test_states_least_squares_exact_and_under_pattern():
    system, pat = example_system()
    rng = np.random.default_rng(0)
    u = rng.standard_normal((200, 2))
    sim = system.simulate(u)
    res = identify(u, sim.y, 4, x=sim.x)
    for M, N in zip(system.matrices, res.model.matrices):
        np.testing.assert_allclose(N, M, atol=1e-9)
    # with a pattern the fixed entries are exact and free ones estimated
    res = identify(u, sim.y + 0.01 * rng.standard_normal(sim.y.shape), 4, pattern=pat, x=sim.x)
    assert pat.violation(res.model) == 0.0
    np.testing.assert_allclose(res.model.A, system.A, atol=1e-9)
    assert res.method == "states-ls"


def test_outputs_only_without_pattern_estimates_feedthrough():
    system = random_system(2, 1, 1, density=1.0, rng=5, feedthrough=True)
    u, y = _data(system, n=500, noise=0.0)
    res = identify(u, y, 2, feedthrough=True)
    np.testing.assert_allclose(res.model.D, system.D, atol=1e-6)
    assert np.all(res.fit > 99.99)


# ---------------------------------------------------------------------------- bad input
def test_records_of_different_lengths():
    system, _ = example_system()
    u, y = _data(system, n=100)
    with pytest.raises(ShapeError, match="different lengths"):
        identify(u, y[:-1], 4)
    with pytest.raises(ShapeError, match="different lengths"):
        identify(u, y, 4, x=np.zeros((99, 4)))


def test_nan_samples():
    system, _ = example_system()
    u, y = _data(system, n=100)
    y[17, 1] = np.nan
    with pytest.raises(ShapeError, match="'y'.*sample 17"):
        identify(u, y, 4)


def test_order_the_data_cannot_support():
    system, _ = example_system()
    u, y = _data(system, n=60)
    with pytest.raises(ParameterError, match="do not support order 30"):
        identify(u, y, 30)
    with pytest.raises(ParameterError, match="order"):
        identify(u, y, 3, x=np.zeros((60, 4)))


def test_order_above_true_order_warns_on_exact_data():
    system = random_system(2, 1, 1, density=1.0, rng=0)
    u, y = _data(system, n=400, noise=0.0)
    with pytest.warns(OrderWarning, match="fewer than 4 states"):
        moesp(u, y, 4)


def test_unstable_result_warns():
    A = np.array([[1.05, 0.1], [0.0, 0.6]])
    system = StateSpace(A, [[1.0], [0.5]], np.eye(2))
    rng = np.random.default_rng(0)
    u = rng.standard_normal((100, 1))
    x = system.simulate(u).x
    with pytest.warns(StabilityWarning, match="unstable"):
        res = identify(u, None, 2, x=x)
    assert not res.model.is_stable()


def test_wrong_pattern_or_penalty_use():
    system, pat = example_system()
    u, y = _data(system, n=200)
    with pytest.raises(ParameterError, match="needs|pass 'x'"):
        identify(u, y, 4, penalty="l1")
    with pytest.raises(ShapeError, match="pattern"):
        identify(u, y, 3, pattern=pat)
    with pytest.raises(ParameterError, match="penalty"):
        identify(u, y, 4, penalty="lasso", x=system.simulate(u).x)
    with pytest.raises(ParameterError, match="must leave A and B"):
        identify(u, y, 4, pattern=pat, penalty="l1", x=system.simulate(u).x)


def test_unidentifiable_pattern_warns():
    system, _ = example_system()
    u, y = _data(system, n=300)
    zeros_only = Pattern.from_system(system)
    with pytest.warns(UserWarning, match="not identifiable"):
        res = identify(u, y, 4, pattern=zeros_only, rng=0, n_starts=5)
    assert np.all(res.fit > 95)  # the behaviour is still found


def test_inputs_are_not_modified():
    system, pat = example_system()
    u, y = _data(system, n=300)
    u0, y0 = u.copy(), y.copy()
    identify(u, y, 4, pattern=pat, rng=0)
    np.testing.assert_array_equal(u, u0)
    np.testing.assert_array_equal(y, y0)


@pytest.mark.parametrize("suffix", [".json", ".npz"])
def test_identified_model_save_load(tmp_path, suffix):
    system, pat = example_system()
    u, y = _data(system, n=300)
    res = identify(u, y, 4, pattern=pat, rng=0)
    path = tmp_path / f"m{suffix}"
    res.save(path)
    back = StateSpace.load(path)
    np.testing.assert_array_equal(back.A, res.model.A)
    np.testing.assert_allclose(res.simulate(u), res.y_sim)
    assert "fit per output" in res.summary()
    # the whole result comes back: model, x0, fit, NRMSE, pattern (free entries and known values), method
    again = IdentifiedModel.load(path)
    assert isinstance(again, IdentifiedModel) and again.method == res.method == "subspace+pem"
    for M, N in zip(again.model.matrices, res.model.matrices):
        np.testing.assert_array_equal(M, N)
    assert again.model.dt == res.model.dt
    for name in ("x0", "fit", "nrmse"):
        np.testing.assert_array_equal(getattr(again, name), getattr(res, name))
    assert again.pattern == res.pattern and again.pattern.fixed_nonzero() > 0
    np.testing.assert_allclose(again.simulate(u), res.y_sim)  # from the saved x0
    assert again.y_sim is None and again.history == {} and repr(again) == repr(res)


def test_identified_model_load_refuses_another_kind(tmp_path):
    system, pat = example_system()
    system.save(tmp_path / "model.json")
    system.save(tmp_path / "model.npz")
    pat.save(tmp_path / "pattern.json")
    for name, held in (("model.json", "structsparse.sysid.StateSpace"), ("model.npz", "structsparse.sysid.StateSpace"),
                       ("pattern.json", "structsparse.sysid.Pattern")):
        with pytest.raises(ParameterError, match=f"holds a {held}, not a structsparse.sysid.IdentifiedModel"):
            IdentifiedModel.load(tmp_path / name)
    with pytest.raises(ParameterError, match="holds a structsparse.sysid.Pattern, not a structsparse.sysid.StateSpace"):
        StateSpace.load(tmp_path / "pattern.json")
    with pytest.raises(ParameterError, match="holds a structsparse.sysid.StateSpace, not a structsparse.sysid.Pattern"):
        Pattern.load(tmp_path / "model.json")
    with pytest.raises(ParameterError, match="does not exist"):
        IdentifiedModel.load(tmp_path / "none.json")


def test_results_are_frozen_with_a_short_repr():
    import dataclasses

    system, pat = example_system()
    u, y = _data(system, n=300)
    res = identify(u, y, 4, rng=0)
    text = repr(res)
    assert text.startswith("IdentifiedModel(method='subspace+pem', n_states=4") and len(text) < 160
    with pytest.raises(dataclasses.FrozenInstanceError):
        res.fit = None
    verdict = ss.sysid.identifiability(pat, rng=0)
    assert repr(verdict) == ("IdentifiabilityResult(identifiable=True, n_parameters={}, rank={}, n_unidentifiable=0)"
                             .format(verdict.n_parameters, verdict.rank))
    sim = system.simulate(u)
    assert repr(sim) == "SimulationResult(n_samples=300, n_outputs=2, n_states=4)"
    with pytest.raises(dataclasses.FrozenInstanceError):
        sim.y = None


def test_penalty_kinds_are_penalty_names_and_old_ones_warn():
    net = example_network(n_states=6, n_inputs=2, rng=1)
    u = np.random.default_rng(0).standard_normal((600, 2))
    x = net.simulate(u, process_noise=0.01, rng=2).x
    for old, new in (("group", "group_lasso"), ("sparse_group", "sparse_group_lasso")):
        with pytest.warns(DeprecationWarning, match=f"penalty='{new}'"):
            before = identify(u, None, 6, penalty=old, x=x)
        after = identify(u, None, 6, penalty=new, x=x)
        assert after.pattern == before.pattern and after.history["path"]["penalty"] == new
        # the kind is the name of the solver-layer penalty it builds
        assert new == {"group_lasso": ss.GroupLasso, "sparse_group_lasso": ss.SparseGroupLasso}[new].name
    with pytest.raises(TypeError, match="penalty"):
        identify(u, None, 6, penalty=3, x=x)
    with pytest.raises(TypeError, match="pattern"):
        identify(u, None, 6, pattern="free", x=x)


def test_early_stop_of_pem_warns():
    from structsparse.exceptions import ConvergenceWarning

    system, _ = example_system()
    u, y = _data(system, n=300)
    with pytest.warns(ConvergenceWarning, match="max_nfev"):
        identify(u, y, 4, max_nfev=1)
