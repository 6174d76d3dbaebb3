"""Faults (issue 10, item 3): Ctrl-C on a long command, a killed parent and its pool workers, a writer
killed mid-save, a saved network whose weights were changed.

Each test drives a real subprocess (SIGINT, SIGKILL) and checks what the user sees and what is left on disk.
"""

import json
import os
import re
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from structsparse import cs
from structsparse._atomic import atomic_write_text, clean_stale_temporaries
from structsparse.exceptions import StructureError

PHASE = ["phase", "--model", "block", "--n", "256", "--block-size", "8", "--k", "6", "--m-grid", "40:200:4",
         "--trials", "30", "--methods", "group_lasso", "--no-progress", "--seed", "0"]


def _cli(args):
    # SIGINT back to its default first: a test runner started in the background of a non-interactive shell
    # ignores SIGINT, and its children would inherit that; a user's terminal does not
    # faulthandler: should the command crash (a signal in native code), its stacks are in stderr for the report
    return [sys.executable, "-X", "faulthandler", "-c", "import signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler); "
            "from structsparse.cli import main; sys.exit(main(sys.argv[1:]))", *args]


def _rows(path):
    try:
        return json.load(open(path))["rows"]
    except (OSError, ValueError, KeyError):
        return []


def _wait_for_rows(path, proc, timeout=60.0):
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        if proc.poll() is not None:
            break
        if len(_rows(path)) > 0:
            return True
        time.sleep(0.1)
    return False


def _cpu_seconds(pid):
    """CPU time (user + system) the process has used so far, from ``/proc``; ``None`` without it."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _let_it_work(proc, cpu_seconds):
    """Wait until the child has used ``cpu_seconds`` of CPU (or exited).

    A fixed wall-clock sleep is not enough on a loaded machine: the signal could arrive while the child is
    still importing, which is not what these tests are about. Without ``/proc``, sleep twice as long.
    """
    if _cpu_seconds(proc.pid) is None:
        time.sleep(2 * cpu_seconds)
        return
    t0 = time.monotonic()
    while proc.poll() is None and time.monotonic() - t0 < 300:
        used = _cpu_seconds(proc.pid)
        if used is None or used >= cpu_seconds:
            return
        time.sleep(0.1)


@pytest.fixture(scope="module")
def warm_phase():
    """Run the sweep's kernels once, so that the timed command below spends its CPU on trials.

    On a fresh install numba compiles them on first use (over 8 s of CPU on CI), and a Ctrl-C after 8 s of CPU
    would then find no finished trial to save.
    """
    small = PHASE[:PHASE.index("--m-grid")] + ["--m-grid", "40:44:4", "--trials", "1", "--methods", "group_lasso",
                                                "--no-progress", "--seed", "0"]
    done = subprocess.run(_cli(small), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, timeout=600)
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("workers", ["1", "2"])
def test_ctrl_c_on_phase_saves_and_resumes(tmp_path, workers, warm_phase):
    out = tmp_path / "sweep.json"
    args = PHASE + ["--workers", workers, "--out", str(out)]
    proc = subprocess.Popen(_cli(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        if workers == "1":  # a serial sweep saves what it finished when it stops: give it time for some trials
            _let_it_work(proc, 8.0)
        else:
            assert _wait_for_rows(out, proc), "the sweep saved no trial"
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert "Traceback" not in err
    assert len(lines) == 1, err
    saved = len(_rows(out))
    assert lines[0] == f"interrupted: {saved} trials saved in {out}; rerun the same command to resume"
    assert proc.returncode == 130, err   # a crash prints faulthandler's stacks in err (_cli)
    assert saved > 0
    assert not [p for p in os.listdir(tmp_path) if p != "sweep.json"], "a temporary file was left behind"

    # the same command resumes, and says how far the sweep got
    total = len(range(40, 201, 4)) * 30
    proc = subprocess.Popen(_cli(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        first = proc.stdout.readline().strip()
        time.sleep(2)  # Ctrl-C while the resumed sweep runs
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert first == f"resuming: {saved} of {total} trials done"
    assert "Traceback" not in err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("interrupted: ") and lines[0].endswith("rerun the same command to resume")
    assert len(_rows(out)) >= saved


def _children(pid):
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as fh:
                    fields = fh.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry))
    return found


def _alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.skipif(not os.path.isdir("/proc"), reason="needs /proc to find the workers")
def test_killing_the_parent_stops_its_pool_workers(tmp_path):
    out = tmp_path / "sweep.json"
    proc = subprocess.Popen(_cli(PHASE + ["--workers", "2", "--out", str(out)]), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        assert _wait_for_rows(out, proc)
        workers = _children(proc.pid)
        assert workers, "no pool worker found"
        proc.kill()
        proc.wait(timeout=10)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and any(_alive(w) for w in workers):
            time.sleep(0.2)
        assert not any(_alive(w) for w in workers), "pool workers outlived their parent"
    finally:
        if proc.poll() is None:
            proc.kill()
        for w in _children(proc.pid):
            os.kill(w, signal.SIGKILL)


WRITER = """
import sys
from structsparse._atomic import atomic_write_text
text = "x" * 50_000_000
print("ready", flush=True)
while True:
    atomic_write_text(sys.argv[1], text)
"""


def test_sigkill_during_save_leaves_no_temporary_after_the_next_save(tmp_path):
    target = tmp_path / "big.txt"
    atomic_write_text(target, "old")
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(target)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "ready"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and len(os.listdir(tmp_path)) < 2:  # kill it while a temporary exists
        time.sleep(0.005)
    proc.kill()
    proc.wait()
    assert len(os.listdir(tmp_path)) == 2, "the writer was not caught mid-save"
    content = target.read_text()
    assert content == "old" or content == "x" * 50_000_000  # never half a file
    atomic_write_text(target, "new")
    assert os.listdir(tmp_path) == ["big.txt"]
    assert target.read_text() == "new"


def test_temporaries_of_live_writers_are_kept(tmp_path):
    target = tmp_path / "f.json"
    mine = tmp_path / f".f.json.{os.getpid()}-abc.json"  # this process is alive: a save in progress
    mine.write_text("partial")
    dead = tmp_path / ".f.json.999999999-abc.json"  # no such process
    dead.write_text("partial")
    legacy_old = tmp_path / ".f.json.zz9.json"  # an older name without a pid: only age tells
    legacy_old.write_text("partial")
    os.utime(legacy_old, (time.time() - 3600, time.time() - 3600))
    legacy_new = tmp_path / ".f.json.zz8.json"
    legacy_new.write_text("partial")
    removed = clean_stale_temporaries(target)
    assert sorted(p.name for p in removed) == sorted([dead.name, legacy_old.name])
    assert mine.exists() and legacy_new.exists()


def test_sweep_load_cleans_stale_temporaries(tmp_path):
    model = cs.BlockSparse(64, 4, 2)
    out = tmp_path / "s.json"
    cs.phase_transition(model, ["model_cosamp"], [30], 1, executor=cs.SerialExecutor(), rng=0, resume_file=out,
                        progress=False)
    (tmp_path / ".s.json.999999999-x.json").write_text("{")
    rows = cs.PhaseTable.load(out).to_records()
    assert len(rows) == 1 and os.listdir(tmp_path) == ["s.json"]


def test_pattern_model_and_recipe_loads_clean_stale_temporaries(tmp_path):
    from structsparse import nn, sysid

    sys_ = sysid.random_system(2, 1, 1, rng=0)
    pattern = sysid.Pattern.from_system(sys_)
    targets = []
    model_json, model_npz = tmp_path / "m.json", tmp_path / "m.npz"
    sys_.save(model_json)
    sys_.save(model_npz)
    targets += [(model_json, lambda: sysid.StateSpace.load(model_json)),
                (model_npz, lambda: sysid.StateSpace.load(model_npz))]
    pat = tmp_path / "p.json"
    pattern.save(pat)
    targets.append((pat, lambda: sysid.Pattern.load(pat)))
    for target, load in targets:
        stale = tmp_path / f".{target.name}.999999999-x{target.suffix}"  # its writer (no such pid) was killed
        stale.write_text("partial")
        load()
        assert not stale.exists(), target.name
    recipe = tmp_path / "r.json"
    stale = tmp_path / ".r.json.999999999-x.json"
    stale.write_text("partial")
    with pytest.raises(nn.recipe.RecipeError):  # no recipe there: the load still cleans before it refuses
        nn.Recipe.load(recipe)
    assert not stale.exists()


def test_network_file_and_its_json_cannot_disagree(tmp_path):
    import structsparse.nn as nn

    net = nn.mlp(hidden=(4,), n_classes=3, n_features=5, rng=0)
    path = net.save(tmp_path / "net.npz")
    described = json.loads((tmp_path / "net.json").read_text())
    with np.load(path) as data:
        arrays = {k: data[k] for k in data.files}
    inside = json.loads(str(next(v for k, v in arrays.items() if v.dtype.kind == "U")))
    assert described["weights_sha256"] == inside["weights_sha256"]
    key = next(k for k in arrays if k.startswith("param/"))
    arrays[key] = arrays[key] * 2
    with open(path, "wb") as fh:
        np.savez(fh, **arrays)
    with pytest.raises(StructureError, match="checksum"):
        nn.Graph.load(path)


def test_ctrl_c_on_other_long_commands_prints_one_line():
    args = ["verify", "--n-problems", "50"]  # any command: the CLI's main turns Ctrl-C into one line
    proc = subprocess.Popen(_cli(args), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        _let_it_work(proc, 6.0)
        assert proc.poll() is None, "the command finished before it could be interrupted"
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    lines = [ln for ln in err.splitlines() if ln.strip() and "it/s" not in ln and "%|" not in ln]
    assert "Traceback" not in err
    assert proc.returncode == 130, err   # a crash prints faulthandler's stacks in err (_cli)
    assert len(lines) == 1 and "interrupted" in lines[0], err
