"""The identify / identifiable commands and the demo part, through structsparse.cli.main."""

import json

import numpy as np
import pytest

from structsparse.cli import main
from structsparse.sysid import Pattern, StateSpace, example_system


@pytest.fixture
def data_dir(tmp_path):
    system, pattern = example_system()
    rng = np.random.default_rng(0)
    u = rng.standard_normal((600, 2))
    sim = system.simulate(u, measurement_noise=0.01, rng=1)
    table = np.hstack([u, sim.y, sim.x])
    np.savetxt(tmp_path / "data.csv", table, delimiter=",", header="u1,u2,y1,y2,x1,x2,x3,x4", comments="")
    pattern.save(tmp_path / "pattern.json")
    return tmp_path


def test_identify_with_pattern_prints_saves_and_plots(data_dir, capsys):
    out, fig = data_dir / "model.json", data_dir / "fit.png"
    rc = main(["identify", str(data_dir / "data.csv"), "--inputs", "u1,u2", "--outputs", "y1,y2", "--order", "4",
               "--pattern", str(data_dir / "pattern.json"), "--out", str(out), "--plot", str(fig)])
    text = capsys.readouterr().out
    assert rc == 0
    assert "locally identifiable" in text and "fit per output" in text and "A =" in text
    system, _ = example_system()
    model = StateSpace.load(out)
    np.testing.assert_allclose(model.A, system.A, atol=0.02)
    saved = json.loads(out.read_text())
    assert saved["format"] == "structsparse.sysid.IdentifiedModel" and len(saved["fit"]) == 2
    assert fig.stat().st_size > 1000


def test_identify_without_pattern_reports_similarity_ambiguity(data_dir, capsys):
    rc = main(["identify", str(data_dir / "data.csv"), "--inputs", "u1,u2", "--outputs", "y1,y2", "--order", "4",
               "--out", str(data_dir / "m.npz")])
    text = capsys.readouterr().out
    assert rc == 0 and "16 unidentifiable" in text
    assert StateSpace.load(data_dir / "m.npz").n_states == 4


def test_identify_with_states_and_penalty(data_dir, capsys):
    rc = main(["identify", str(data_dir / "data.csv"), "--inputs", "u1,u2", "--outputs", "y1,y2", "--order", "4",
               "--states", "x1,x2,x3,x4", "--penalty", "l1"])
    text = capsys.readouterr().out
    assert rc == 0
    assert "states are measured" in text
    # exact states: the found support of A is the true one (11 nonzeros), B has 4
    assert "Found pattern: 11 entries of A, 4 of B" in text


def test_identify_penalty_takes_penalty_names_and_notes_old_ones(data_dir, capsys):
    args = ["identify", str(data_dir / "data.csv"), "--inputs", "u1,u2", "--outputs", "y1,y2", "--order", "4",
            "--states", "x1,x2,x3,x4", "--penalty"]
    assert main(args + ["sparse_group_lasso"]) == 0
    new = capsys.readouterr()
    assert "deprecated" not in new.err
    assert main(args + ["sparse_group"]) == 0
    old = capsys.readouterr()
    assert "--penalty sparse_group is deprecated" in old.err and "sparse_group_lasso" in old.err
    assert old.out == new.out  # the same identification
    # the IdentifiedModel file reads back whole
    out = data_dir / "found.npz"
    assert main(args + ["group_lasso", "--out", str(out)]) == 0
    from structsparse.sysid import IdentifiedModel

    assert IdentifiedModel.load(out).method == "states-penalized"


def test_identify_bad_input(data_dir, capsys):
    rc = main(["identify", str(data_dir / "data.csv"), "--inputs", "u1,u9", "--outputs", "y1", "--order", "2"])
    assert rc == 2 and "u9" in capsys.readouterr().err
    rc = main(["identify", str(data_dir / "nope.csv"), "--inputs", "u1", "--outputs", "y1", "--order", "2"])
    assert rc == 2 and "does not exist" in capsys.readouterr().err
    bad = data_dir / "nan.csv"
    bad.write_text("u1,y1\n1,2\n3,\n5,6\n")
    rc = main(["identify", str(bad), "--inputs", "u1", "--outputs", "y1", "--order", "1"])
    assert rc == 2 and "NaN" in capsys.readouterr().err
    (data_dir / "broken.json").write_text("{oops")
    rc = main(["identify", str(data_dir / "data.csv"), "--inputs", "u1,u2", "--outputs", "y1,y2", "--order", "4",
               "--pattern", str(data_dir / "broken.json")])
    assert rc == 2 and "not valid JSON" in capsys.readouterr().err


def test_identifiable_exit_status(data_dir, capsys):
    assert main(["identifiable", str(data_dir / "pattern.json")]) == 0
    assert "locally identifiable" in capsys.readouterr().out
    Pattern.full(3, 1, 1).save(data_dir / "free.json")
    assert main(["identifiable", str(data_dir / "free.json")]) == 1
    assert "9 unidentifiable" in capsys.readouterr().out


def test_demo_part(tmp_path, capsys):
    from structsparse.sysid.demo import demo_part

    assert demo_part(tmp_path, 0)
    text = capsys.readouterr().out
    assert "F1 1.000" in text
    for name in ("sysid_outputs.png", "sysid_poles.png", "sysid_patterns.png"):
        assert (tmp_path / name).stat().st_size > 1000
