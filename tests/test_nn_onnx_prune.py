"""Pruning an imported ONNX model through prune_onnx and the CLI; onnxruntime judges the written file."""

import os

import numpy as np
import pytest

pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")

import structsparse.nn as nn  # noqa: E402
from structsparse.cli import main  # noqa: E402
from structsparse.exceptions import ParameterError, ShapeError  # noqa: E402
from structsparse.nn.onnx_io import nchw, ort_session  # noqa: E402
from structsparse.nn.onnx_prune import load_data, prune_onnx  # noqa: E402


@pytest.fixture(scope="module")
def onnx_cnn(tmp_path_factory):
    """A CNN trained briefly on digits, exported to ONNX (with a softmax), and its data in NCHW."""
    folder = tmp_path_factory.mktemp("onnx")
    X_tr, X_te, y_tr, y_te = nn.load_digits_split(rng=0, n_samples=400)
    net = nn.small_cnn((12, 16), rng=0)
    nn.train(net, X_tr, y_tr, epochs=3, lr=0.05, progress=False, rng=0)
    nn.to_onnx(net, folder / "net.onnx", softmax=True)
    X = np.concatenate([X_tr, X_te]).transpose(0, 3, 1, 2)
    y = np.concatenate([y_tr, y_te])
    np.savez(folder / "data.npz", X=X, y=y)
    return folder, net


def test_prune_onnx_writes_smaller_equivalent_model(onnx_cnn, tmp_path):
    folder, dense = onnx_cnn
    out = tmp_path / "pruned.onnx"
    r = prune_onnx(folder / "net.onnx", folder / "data.npz", out, budget=0.6, epochs=2, fine_tune_epochs=1,
                   lam0=2.0, grow=3.0, max_trials=4, rng=0)
    assert r.flops <= 0.6 * r.dense_flops
    assert r.params < r.dense_params
    # onnxruntime on the written file gives structsparse.nn's outputs on the pruned network
    X = np.random.default_rng(1).random((16, 8, 8, 1), dtype=np.float32)
    got = ort_session(str(out)).run(None, {"input": nchw(X)})[0]
    z = r.net.forward(X)
    ref = np.exp(z - z.max(axis=1, keepdims=True))
    ref /= ref.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(got, ref, atol=1e-5)
    assert r.max_abs_diff < 1e-5
    # the file shrinks in proportion to the kept parameters (4 bytes each, plus a small fixed graph)
    assert out.stat().st_size == r.bytes
    assert abs(r.bytes / r.dense_bytes - r.params / r.dense_params) < 0.05
    assert abs(r.dense_bytes - 4 * r.dense_params) < 0.1 * r.dense_bytes


def test_cli_prune_onnx(onnx_cnn, tmp_path, capsys):
    folder, _ = onnx_cnn
    out = tmp_path / "pruned.onnx"
    code = main(["prune", "--model", str(folder / "net.onnx"), "--data", str(folder / "data.npz"),
                 "--budget-flops", "0.6", "--out", str(out), "--epochs", "2", "--fine-tune-epochs", "1",
                 "--lam0", "2", "--grow", "3", "--max-trials", "4"])
    text = capsys.readouterr().out
    assert code == 0, text
    assert "onnxruntime" in text and "ONNX bytes" in text
    back = nn.from_onnx(out)
    assert nn.flops(back) <= 0.6 * nn.flops(nn.from_onnx(folder / "net.onnx"))


def test_cli_checks_output_before_training(onnx_cnn, tmp_path, capsys, monkeypatch):
    folder, _ = onnx_cnn
    import structsparse.nn.onnx_prune as op

    def boom(*a, **k):  # training must not start
        raise AssertionError("training started")

    monkeypatch.setattr(op, "prune_to_budget", boom)
    base = ["prune", "--model", str(folder / "net.onnx"), "--data", str(folder / "data.npz")]
    assert main(base + ["--out", str(tmp_path / "missing" / "p.onnx")]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert main(base + ["--out", str(tmp_path / "p.npz")]) == 2
    assert ".onnx" in capsys.readouterr().err
    if os.geteuid() != 0:
        ro = tmp_path / "ro"
        ro.mkdir()
        ro.chmod(0o500)
        assert main(base + ["--out", str(ro / "p.onnx")]) == 2
        assert "cannot write" in capsys.readouterr().err
    assert main(["prune", "--model", str(folder / "net.onnx"), "--out", str(tmp_path / "p.onnx")]) == 2
    assert "--data" in capsys.readouterr().err


def test_data_file_errors(onnx_cnn, tmp_path):
    folder, dense = onnx_cnn
    net = nn.from_onnx(folder / "net.onnx")
    np.savez(tmp_path / "nokey.npz", X=np.zeros((20, 1, 8, 8)), labels=np.zeros(20))
    with pytest.raises(ParameterError, match="lacks \\['y'\\]"):
        load_data(tmp_path / "nokey.npz", net)
    np.savez(tmp_path / "nhwc.npz", X=np.zeros((20, 8, 8, 1)), y=np.zeros(20, int))
    with pytest.raises(ShapeError, match="1, 8, 8"):
        load_data(tmp_path / "nhwc.npz", net)
    np.savez(tmp_path / "labels.npz", X=np.zeros((20, 1, 8, 8)), y=np.full(20, 12))
    with pytest.raises(ParameterError, match="labels in \\[0, 10\\)"):
        load_data(tmp_path / "labels.npz", net)
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    with pytest.raises(ParameterError, match="not a readable"):
        load_data(tmp_path / "junk.npz", net)
    with pytest.raises(ParameterError, match="no file"):
        load_data(tmp_path / "absent.npz", net)
    X = np.random.default_rng(0).random((20, 1, 8, 8))
    Xn, y = load_data((X, np.arange(20) % 10), net)
    np.testing.assert_array_equal(Xn, X.transpose(0, 2, 3, 1).astype(np.float32))  # NCHW -> NHWC
    assert X.shape == (20, 1, 8, 8)  # the caller's array is untouched
