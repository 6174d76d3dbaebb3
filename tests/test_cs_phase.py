import json
import os
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pytest

from structsparse import cs
from structsparse.exceptions import ParameterError

MODEL = cs.BlockSparse(128, 8, 3)
METHODS = ["model_cosamp", "block_omp"]
GRID = [25, 40, 60]


def test_sweep_is_reproducible_across_executors(tmp_path):
    serial = cs.phase_transition(MODEL, METHODS, GRID, 3, executor=cs.SerialExecutor(), rng=7, progress=False)
    with ProcessPoolExecutor(max_workers=2) as pool:
        parallel = cs.phase_transition(MODEL, METHODS, GRID, 3, executor=pool, rng=7, progress=False)
    key = lambda rows: [(r["method"], r["m"], r["trial"], r["success"], r["error"], r["n_iter"]) for r in rows]  # noqa: E731
    assert key(serial) == key(parallel)  # everything but the wall-clock time
    assert len(serial) == len(METHODS) * len(GRID) * 3
    assert set(serial[0]) == {"method", "m", "trial", "success", "error", "time", "n_iter"}
    rates = cs.success_rates(serial)
    # more measurements never hurt on average, and at M=60 (20 per block-dimension) all succeed
    for method in METHODS:
        ms, rate = rates[method]
        assert list(ms) == GRID and rate[-1] == 1.0 and rate[0] <= rate[-1]
        assert all(r["success"] == (r["error"] <= 1e-3) for r in serial)


def test_default_process_pool_runs(tmp_path):
    table = cs.phase_transition(MODEL, ["model_cosamp"], [60], 2, rng=1, progress=False, n_workers=2)
    assert len(table) == 2 and all(r["success"] for r in table)


def test_interrupted_sweep_resumes_from_the_file(tmp_path):
    path = tmp_path / "sweep.json"
    calls = []

    class Counting(cs.SerialExecutor):
        def submit(self, fn, *args, **kwargs):
            calls.append(args[3:5])  # (m, trial)
            if len(calls) == 4:
                raise KeyboardInterrupt  # the user presses Ctrl-C mid-sweep
            return super().submit(fn, *args, **kwargs)

    with pytest.raises(KeyboardInterrupt):
        cs.phase_transition(MODEL, METHODS, GRID, 2, executor=Counting(), rng=3, resume_file=path, progress=False)
    meta, rows = cs.load_table(path)
    assert meta["base_seed"] == 3 and len(rows) == 3 * len(METHODS)
    calls.clear()
    table = cs.phase_transition(MODEL, METHODS, GRID, 2, executor=cs.SerialExecutor(), rng=3, resume_file=path,
                                progress=False)
    full = cs.phase_transition(MODEL, METHODS, GRID, 2, executor=cs.SerialExecutor(), rng=3, progress=False)
    assert [(r["method"], r["m"], r["trial"], r["success"]) for r in table] == \
        [(r["method"], r["m"], r["trial"], r["success"]) for r in full]
    # the saved file is complete JSON with every row, and no temporary file is left behind
    assert len(json.loads(path.read_text())["rows"]) == len(full)
    assert [p.name for p in tmp_path.iterdir()] == ["sweep.json"]


def test_resume_file_of_another_sweep_is_refused(tmp_path):
    path = tmp_path / "sweep.json"
    cs.phase_transition(MODEL, ["block_omp"], [40], 1, executor=cs.SerialExecutor(), rng=0, resume_file=path,
                        progress=False)
    with pytest.raises(ParameterError, match="different sweep"):
        cs.phase_transition(cs.BlockSparse(128, 8, 4), ["block_omp"], [40], 1, executor=cs.SerialExecutor(),
                            rng=0, resume_file=path, progress=False)


def test_transition_point_interpolates():
    table = [{"method": "l1", "m": m, "trial": t, "success": s, "error": 0.0, "time": 0.0, "n_iter": 1}
             for m, succ in ((10, [0, 0]), (20, [0, 1]), (30, [1, 1])) for t, s in enumerate(succ)]
    assert cs.transition_point(table, "l1") == 20.0
    assert cs.transition_point(table, "l1", level=0.75) == 25.0
    assert cs.transition_point(table, "l1", level=1.01) is None


def test_phase_bad_arguments():
    with pytest.raises(ParameterError, match="'methods'"):
        cs.phase_transition(MODEL, ["nope"], [40], 1, executor=cs.SerialExecutor())
    with pytest.raises(ParameterError, match="'m_grid'"):
        cs.phase_transition(MODEL, ["l1"], [400], 1, executor=cs.SerialExecutor())
    with pytest.raises(ParameterError, match="'executor'"):
        cs.phase_transition(MODEL, ["l1"], [40], 1, executor="pool")


def test_dask_distributed_executor():
    distributed = pytest.importorskip("dask.distributed")
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as client:
        table = cs.phase_transition(MODEL, ["model_cosamp"], [40, 60], 2, executor=client.get_executor(), rng=5,
                                    progress=False)
    ref = cs.phase_transition(MODEL, ["model_cosamp"], [40, 60], 2, executor=cs.SerialExecutor(), rng=5,
                              progress=False)
    assert [r["success"] for r in table] == [r["success"] for r in ref] and len(table) == 4


def test_code_stamp_changes_with_the_sources(tmp_path):
    from structsparse.cs.phase import code_stamp

    pkg = tmp_path / "cs"
    pkg.mkdir()
    (pkg / "a.py").write_text("x = 1\n")
    first = code_stamp(root=tmp_path, packages=("cs",))
    assert first == code_stamp(root=tmp_path, packages=("cs",))
    (pkg / "a.py").write_text("x = 2\n")
    second = code_stamp(root=tmp_path, packages=("cs",))
    assert second["sources_sha256"] != first["sources_sha256"]
    (pkg / "b.py").write_text("")
    assert code_stamp(root=tmp_path, packages=("cs",))["sources_sha256"] != second["sources_sha256"]
    # the real one covers the cs front end and records the installed version
    real = code_stamp()
    assert real["version"] != "" and len(real["sources_sha256"]) == 64


def test_a_sweep_resumes_only_when_made_by_the_same_code(tmp_path):
    from structsparse.cs.phase import resumable

    path = tmp_path / "sweep.json"
    old = {"version": "0.0.1", "sources_sha256": "0" * 64}
    new = {"version": "0.1.0", "sources_sha256": "1" * 64}
    assert not resumable(path, new)  # nothing saved yet
    first = cs.phase_transition(MODEL, ["model_cosamp"], [40], 2, executor=cs.SerialExecutor(), rng=3,
                                resume_file=path, progress=False, stamp=old)
    assert cs.load_table(path)[0]["stamp"] == old
    # the same code resumes (no trial recomputed: the saved rows come back as they were)
    assert resumable(path, old)
    again = cs.phase_transition(MODEL, ["model_cosamp"], [40], 2, executor=cs.SerialExecutor(), rng=3,
                                resume_file=path, progress=False, stamp=old)
    assert [r["time"] for r in again] == [r["time"] for r in first]
    # without the check, other code cannot reuse the file by accident
    with pytest.raises(ParameterError, match="stamp"):
        cs.phase_transition(MODEL, ["model_cosamp"], [40], 2, executor=cs.SerialExecutor(), rng=3,
                            resume_file=path, progress=False, stamp=new)
    # other code: the file is set aside and the sweep is recomputed
    assert not resumable(path, new)
    assert not path.exists() and (tmp_path / "sweep.json.stale").exists()
    fresh = cs.phase_transition(MODEL, ["model_cosamp"], [40], 2, executor=cs.SerialExecutor(), rng=3,
                                resume_file=path, progress=False, stamp=new)
    assert cs.load_table(path)[0]["stamp"] == new
    assert [r["error"] for r in fresh] == [r["error"] for r in first]  # same seeds, recomputed
    # a file without a stamp (made before stamps existed) is never resumed
    meta, rows = cs.load_table(path)
    meta.pop("stamp")
    path.write_text(json.dumps({"meta": meta, "rows": rows}))
    assert not resumable(path, new)
