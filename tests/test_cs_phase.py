import dataclasses
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
    saved = cs.PhaseTable.load(path)
    assert saved.meta["base_seed"] == 3 and len(saved) == 3 * len(METHODS)
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
    with pytest.raises(TypeError, match="'executor'"):
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
    assert cs.PhaseTable.load(path).meta["stamp"] == old
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
    assert cs.PhaseTable.load(path).meta["stamp"] == new
    assert [r["error"] for r in fresh] == [r["error"] for r in first]  # same seeds, recomputed
    # a file without a stamp (made before stamps existed) is never resumed
    saved = cs.PhaseTable.load(path)
    meta, rows = saved.meta, saved.to_records()
    meta.pop("stamp")
    path.write_text(json.dumps({"meta": meta, "rows": rows}))
    assert not resumable(path, new)


# ----------------------------------------------------------------------------- PhaseTable
def _sweep():
    return cs.phase_transition(MODEL, METHODS, [25, 60], 2, executor=cs.SerialExecutor(), rng=5, progress=False)


def test_phase_table_behaves_like_the_list_it_replaces():
    table = _sweep()
    assert isinstance(table, cs.PhaseTable)
    rows = table.to_records()
    assert isinstance(rows, list) and len(table) == len(rows) == 2 * 2 * len(METHODS)
    assert list(table) == rows and table[0] == rows[0] and table[-1] == rows[-1] and table[1:3] == rows[1:3]
    assert rows == sorted(rows, key=lambda r: (r["method"], r["m"], r["trial"]))
    # to_records gives copies: changing them leaves the table alone
    rows[0]["success"] = "changed"
    assert table[0]["success"] in (True, False)
    assert table.methods == sorted(METHODS) and table.m_values == [25, 60]
    assert table.meta["base_seed"] == 5 and table.meta["model"] == "BlockSparse"
    assert repr(table.model) == repr(MODEL)
    # the rates are those of the rows
    ms, rate = table.success_rates()["model_cosamp"]
    want = [np.mean([r["success"] for r in table if r["method"] == "model_cosamp" and r["m"] == m]) for m in (25, 60)]
    assert list(ms) == [25, 60] and np.allclose(rate, want)
    assert table.transition_point("model_cosamp") == cs.transition_point(table.to_records(), "model_cosamp")
    # a short repr, no wall of rows
    text = repr(table)
    assert text.startswith("PhaseTable(") and len(text) < 160 and "rows=8" in text
    with pytest.raises(dataclasses.FrozenInstanceError):
        table.rows = ()


def test_phase_table_checks_its_rows():
    with pytest.raises(TypeError, match="rows"):
        cs.PhaseTable("l1")
    with pytest.raises(TypeError, match="row 0"):
        cs.PhaseTable([3])
    with pytest.raises(ParameterError, match="success"):
        cs.PhaseTable([{"method": "l1", "m": 3}])
    with pytest.raises(TypeError, match="meta"):
        cs.PhaseTable([], meta=[1])


def test_phase_table_save_load_round_trip(tmp_path):
    table = _sweep()
    path = table.save(tmp_path / "table.json")
    data = json.loads(path.read_text())
    assert data["format"] == "structsparse.cs.PhaseTable" and data["version"] == 1
    back = cs.PhaseTable.load(path)
    assert back == table and back.meta == table.meta
    # a sweep's resume file is a saved table too
    resumed = tmp_path / "sweep.json"
    again = cs.phase_transition(MODEL, METHODS, [25, 60], 2, executor=cs.SerialExecutor(), rng=5, progress=False,
                                resume_file=resumed)
    assert cs.PhaseTable.load(resumed).to_records() == again.to_records()
    # files written before the header existed still load
    legacy = tmp_path / "legacy.json"
    legacy.write_text(json.dumps({"meta": table.meta, "rows": table.to_records()}))
    assert cs.PhaseTable.load(legacy) == table


def test_phase_table_load_refuses_another_kind_of_file(tmp_path):
    from structsparse import sysid

    system, pattern = sysid.example_system()
    system.save(tmp_path / "model.json")
    with pytest.raises(ParameterError, match="holds a structsparse.sysid.StateSpace, not a structsparse.cs.PhaseTable"):
        cs.PhaseTable.load(tmp_path / "model.json")
    pattern.save(tmp_path / "pattern.json")
    with pytest.raises(ParameterError, match="structsparse.sysid.Pattern"):
        cs.PhaseTable.load(tmp_path / "pattern.json")
    # and the other way round: a table is not a model
    _sweep().save(tmp_path / "table.json")
    with pytest.raises(ParameterError, match="holds a structsparse.cs.PhaseTable"):
        sysid.StateSpace.load(tmp_path / "table.json")
    with pytest.raises(ParameterError, match="holds a structsparse.cs.PhaseTable"):
        sysid.Pattern.load(tmp_path / "table.json")
    # a newer format version is refused, naming the version
    data = json.loads((tmp_path / "table.json").read_text())
    data["version"] = 99
    (tmp_path / "v99.json").write_text(json.dumps(data))
    with pytest.raises(ParameterError, match="version 99"):
        cs.PhaseTable.load(tmp_path / "v99.json")


def test_deprecated_names_warn_and_still_work(tmp_path):
    from structsparse.cs.phase import run_trial

    table = _sweep()
    table.save(tmp_path / "t.json")
    with pytest.warns(DeprecationWarning, match="PhaseTable.load"):
        meta, rows = cs.load_table(tmp_path / "t.json")
    assert meta == table.meta and rows == table.to_records()  # what it always returned
    args = ("BlockSparse", MODEL.params(), ["model_cosamp"], 40, 1)
    with pytest.warns(DeprecationWarning, match="base_seed"):
        old = run_trial(*args, base_seed=11)
    new = run_trial(*args, rng=11)
    assert [(r["error"], r["success"]) for r in old] == [(r["error"], r["success"]) for r in new]
    # an int rng is the trial's seed: the same trial every call; a Generator gives one draw of that seed
    assert run_trial(*args, rng=11)[0]["error"] == new[0]["error"]
    assert run_trial(*args, rng=np.random.default_rng(3))[0]["error"] == \
        run_trial(*args, rng=int(np.random.default_rng(3).integers(2 ** 62)))[0]["error"]
    with pytest.raises(ParameterError, match="base_seed"):
        run_trial(*args, rng=1, base_seed=2)


def test_wrong_types_raise_type_error_naming_the_argument():
    for kw, name in (({"methods": 3}, "methods"), ({"m_grid": "10,20"}, "m_grid"), ({"executor": "pool"}, "executor")):
        args = {"methods": ["l1"], "m_grid": [20], "executor": cs.SerialExecutor(), **kw}
        with pytest.raises(TypeError, match=f"'{name}'"):
            cs.phase_transition(MODEL, args["methods"], args["m_grid"], 1, executor=args["executor"], progress=False)
    with pytest.raises(TypeError, match="'model'"):
        cs.phase_transition("BlockSparse", ["l1"], [20], 1, progress=False)
    with pytest.raises(TypeError, match="'table'"):
        cs.success_rates(3)
