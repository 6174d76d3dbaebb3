import numpy as np
import pytest

from structsparse import cs
from structsparse.cli import main


def test_recover_synthetic_block(capsys, tmp_path):
    out = tmp_path / "rec.png"
    assert main(["recover", "--model", "block", "--n", "1024", "--block-size", "8", "--k", "10", "--m", "300",
                 "--method", "model_cosamp", "--seed", "1", "--plot", str(out)]) == 0
    text = capsys.readouterr().out
    assert "relative error" in text and "80 of 80 true nonzeros found, 0 false positives" in text
    assert "time" in text and out.stat().st_size > 1000


def test_recover_tree_and_data_file(capsys, tmp_path):
    assert main(["recover", "--model", "tree", "--n", "256", "--k", "24", "--m", "100", "--wavelet", "db2",
                 "--method", "model_cosamp"]) == 0
    assert "24 of 24 true nonzeros found" in capsys.readouterr().out
    model = cs.BlockSparse(128, 8, 2)
    A = cs.as_matrix(cs.gaussian(60, 128, 0))
    x = model.sample(1)
    np.savez(tmp_path / "p.npz", A=A, y=A @ x, x=x)
    assert main(["recover", "--data", str(tmp_path / "p.npz"), "--n", "128", "--k", "2",
                 "--method", "group_lasso"]) == 0
    text = capsys.readouterr().out
    assert "16 of 16 true nonzeros found" in text
    err = float(text.split("relative error ")[1].split()[0])
    assert err < 1e-8


def test_recover_errors_are_one_line(capsys):
    assert main(["recover", "--block-size", "7"]) == 2
    assert "block_size" in capsys.readouterr().err
    assert main(["recover", "--data", "/nonexistent.npz"]) == 2


def test_rip_on_saved_and_generated_matrices(capsys, tmp_path):
    np.save(tmp_path / "A.npy", cs.as_matrix(cs.gaussian(60, 128, 0)))
    assert main(["rip", "--matrix", str(tmp_path / "A.npy"), "--n", "128", "--k", "2", "--samples", "10",
                 "--plot", str(tmp_path / "rip.png")]) == 0
    text = capsys.readouterr().out
    assert "lower bound" in text and "model BlockSparse" in text and "plain sparse" in text
    assert (tmp_path / "rip.png").exists()
    assert main(["rip", "--n", "128", "--k", "2", "--m", "50", "--samples", "5", "--search", "random"]) == 0
    assert main(["rip", "--matrix", str(tmp_path / "A.npy"), "--n", "256"]) == 2


def test_phase_command_saves_results_and_plot(capsys, tmp_path):
    out, fig = tmp_path / "res.json", tmp_path / "phase.png"
    assert main(["phase", "--n", "128", "--k", "3", "--m-grid", "30:60:15", "--trials", "2", "--workers", "1",
                 "--methods", "model_cosamp", "block_omp", "--out", str(out), "--plot", str(fig),
                 "--no-progress"]) == 0
    text = capsys.readouterr().out
    assert "model_cosamp" in text and "50% point" in text and out.exists() and fig.exists()
    table = cs.PhaseTable.load(out)
    assert len(table) == 2 * 3 * 2 and table.methods == ["block_omp", "model_cosamp"]


def test_plots_write_files(tmp_path):
    import matplotlib.pyplot as plt

    from structsparse.cs.plots import plot_phase_transition, plot_recovery, plot_rip

    m = cs.BlockSparse(64, 8, 2)
    x = m.sample(0)
    for path, fig in (
        ("a.png", plot_recovery(x, x, m, path=tmp_path / "a.png")),
        ("b.png", plot_recovery(cs.TreeSparse(64, 12, "haar").sample(0), np.zeros(64), cs.TreeSparse(64, 12, "haar"),
                                path=tmp_path / "b.png")),
        ("c.png", plot_phase_transition(cs.phase_transition(m, ["l1"], [20, 40], 1, executor=cs.SerialExecutor(),
                                                            progress=False), m, path=tmp_path / "c.png")),
        ("d.png", plot_rip(cs.rip_estimate(cs.gaussian(30, 64, 0), m, 5), path=tmp_path / "d.png")),
    ):
        assert (tmp_path / path).stat().st_size > 1000
        plt.close(fig)


def test_demo_part_passes(tmp_path, capsys):
    from structsparse.cs.demo import demo_part

    assert demo_part(tmp_path, 0) is True
    assert {"cs_block_recovery.png", "cs_tree_recovery.png", "cs_rip.png"} <= {p.name for p in tmp_path.iterdir()}
    assert "relative error" in capsys.readouterr().out
