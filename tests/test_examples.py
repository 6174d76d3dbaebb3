"""Every gallery example in examples/ runs headless, prints what it shows, and draws a figure.

The examples are what the documentation build executes (sphinx-gallery); this test runs them alone, one process
each, so a broken example is named directly. Marked ``docs`` (minutes in all): ``python -m pytest -m docs``.
"""

import os
import pathlib
import subprocess
import sys
import time

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "examples").glob("plot_*.py"))

#: What issue 14 asks the gallery to cover: each task and an example that does it.
TASKS = {
    "recover a block-sparse signal": "plot_block_sparse_recovery",
    "recover a real ECG": "plot_real_ecg",
    "recover a real image": "plot_real_image",
    "a phase transition on a dask cluster": "plot_phase_transition_dask",
    "identify a state-space model with a pattern, check identifiability": "plot_sysid_pattern",
    "discover a network's pattern": "plot_sysid_network_discovery",
    "verify a solver against cvxpy": "plot_verify_against_cvxpy",
    "group and sparse-group logistic feature selection on real data": "plot_group_logistic_breast_cancer",
    "an overlapping group lasso": "plot_overlapping_group_lasso",
    "a budget": "plot_budget",
    "prune a numpy CNN": "plot_prune_cnn",
    "prune an imported ONNX model": "plot_prune_onnx",
    "Inception branches and DenseNet connections": "plot_inception_densenet",
}


def test_gallery_covers_the_tasks():
    names = {p.stem for p in EXAMPLES}
    assert len(names) >= 15
    missing = {task: ex for task, ex in TASKS.items() if ex not in names}
    assert not missing, missing
    for path in EXAMPLES:  # sphinx-gallery format: a docstring with a title underlined by '='
        head = path.read_text().split('"""')[1]
        lines = [line for line in head.strip().splitlines()]
        assert len(lines) >= 3 and set(lines[1]) == {"="} and len(lines[1]) >= len(lines[0]), path.name


@pytest.mark.docs
@pytest.mark.parametrize("script", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_example_runs(script, tmp_path):
    env = dict(os.environ, MPLBACKEND="Agg", PYTHONPATH=str(ROOT))
    code = (f"import runpy, matplotlib.pyplot as plt\nrunpy.run_path({str(script)!r}, run_name='__main__')\n"
            "assert plt.get_fignums(), 'the example draws no figure'\n")
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=300)
    elapsed = time.perf_counter() - start
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.strip(), "an example prints what it shows"
    print(f"{script.name}: {elapsed:.1f} s")
