"""Full-size compressive-sensing figures (run with: pytest -m slow tests/test_cs_slow.py)."""

from pathlib import Path

import numpy as np
import pytest

from structsparse import cs

pytestmark = pytest.mark.slow

# figures go to benchmarks/results; the sweeps themselves start from scratch (a stale saved sweep must not pass)
OUT = Path(__file__).resolve().parent.parent / "benchmarks" / "results"


def test_block_phase_transition_full_size(tmp_path):
    """N=1024, blocks of 8, 10 active, Gaussian, noiseless, 20 trials per M (issue 4, item 6)."""
    import matplotlib.pyplot as plt

    from structsparse.cs.plots import plot_phase_transition

    OUT.mkdir(parents=True, exist_ok=True)
    model = cs.BlockSparse(1024, 8, 10)
    grid = list(range(120, 341, 20))
    table = cs.phase_transition(model, ["group_lasso", "model_cosamp", "l1"], grid, 20, rng=2024,
                                resume_file=tmp_path / "cs_block_phase.json")
    rates = cs.success_rates(table)
    gl_ms, gl = rates["group_lasso"]
    assert cs.transition_point(table, "group_lasso") <= 200
    assert np.all(gl[gl_ms >= 240] == 1.0)
    assert cs.transition_point(table, "model_cosamp") <= 170
    l1_half = cs.transition_point(table, "l1")
    assert abs(l1_half - cs.predicted_threshold(model, "l1")) <= 30
    plt.close(plot_phase_transition(table, model, path=OUT / "cs_block_phase.png"))


def test_tree_phase_transition_full_size(tmp_path):
    """Tree-sparse piecewise-smooth signals, N=1024, db4: model-based CoSaMP needs clearly fewer measurements."""
    import matplotlib.pyplot as plt

    from structsparse.cs.plots import plot_phase_transition

    OUT.mkdir(parents=True, exist_ok=True)
    model = cs.TreeSparse(1024, 40, "db4")
    table = cs.phase_transition(model, ["model_cosamp", "cosamp", "l1"], list(range(60, 261, 20)), 20, rng=7,
                                resume_file=tmp_path / "cs_tree_phase.json")
    mc = cs.transition_point(table, "model_cosamp")
    assert mc + 30 <= cs.transition_point(table, "cosamp")
    assert mc + 30 <= cs.transition_point(table, "l1")
    plt.close(plot_phase_transition(table, model, path=OUT / "cs_tree_phase.png"))


def test_group_lasso_recovery_at_m300_reaches_1e6():
    model = cs.BlockSparse(1024, 8, 10)
    errors = []
    for seed in range(10):
        rng = np.random.default_rng(seed)
        A = cs.gaussian(300, 1024, rng)
        x0 = model.sample(rng)
        errors.append(cs.recover(A, A @ x0, model, method="group_lasso").relative_error(x0))
    assert max(errors) <= 1e-6


def test_rip_swap_search_separates_block_and_plain_at_full_size():
    est = cs.rip_estimate(cs.gaussian(300, 1024, 0), cs.BlockSparse(1024, 8, 10), n_samples=100, search="swap",
                          rng=1, n_swaps=300)
    assert est.delta_plain > est.delta_model + 0.8
