"""nn.speedup: onnxruntime as the judge, the efficiency check, CSR with the dense path's chunking."""

import numpy as np
import pytest

import structsparse.nn as nn
import structsparse.nn.speed as speed
from structsparse.exceptions import ParameterError


@pytest.fixture(scope="module")
def pair():
    net = nn.small_cnn((8, 16), rng=0)
    small = net.copy()
    m = nn.groups(small, by="filters", layers=["conv2d1"])[0]
    v = m.gather(small)
    v[m.groups.indices[m.groups.ptr[0]:m.groups.ptr[4]]] = 0
    m.scatter(small, v)
    return small, nn.prune(small)


def test_onnxruntime_is_default_and_agrees(pair):
    pytest.importorskip("onnxruntime")
    dense, pruned = pair
    s = nn.speedup(dense, pruned, batch=32, repeats=1, chunk=8)
    assert s.runtime == "onnxruntime" and s.threads == 1
    assert s.dense_time == s.ort_dense_time and s.pruned_time == s.ort_pruned_time
    assert s.realized == pytest.approx(s.ort_dense_time / s.ort_pruned_time)
    assert s.efficiency == pytest.approx(s.realized / s.theoretical)
    # the FLOPs of the networks timed: batch norms folded into the layers before them
    assert s.theoretical == pytest.approx(nn.flops(nn.fold_batchnorm(dense)) / nn.flops(nn.fold_batchnorm(pruned)))
    assert s.theoretical != pytest.approx(nn.flops(dense) / nn.flops(pruned))
    unfolded = nn.speedup(dense, pruned, batch=8, repeats=1, chunk=8, fold=False)
    assert unfolded.theoretical == pytest.approx(nn.flops(dense) / nn.flops(pruned))
    assert s.numpy_over_ort == pytest.approx(s.numpy_dense_time / s.ort_dense_time)
    assert s.ort_max_abs_diff < 1e-4 and s.max_abs_diff < 1e-4
    assert s.measurement_problem == (s.efficiency > 1.05)


def test_numpy_runtime(pair):
    dense, pruned = pair
    s = nn.speedup(dense, pruned, batch=16, repeats=1, runtime="numpy")
    assert s.runtime == "numpy" and s.ort_dense_time is None
    assert s.dense_time == s.numpy_dense_time
    with pytest.raises(ParameterError, match="runtime"):
        nn.speedup(dense, pruned, runtime="tensorrt")


def test_missing_onnxruntime_names_the_extra(pair, monkeypatch):
    monkeypatch.setattr(speed, "has_onnxruntime", lambda: False)
    dense, pruned = pair
    with pytest.raises(ImportError, match="runtime"):
        nn.speedup(dense, pruned, batch=4, runtime="onnxruntime")
    assert nn.speedup(dense, pruned, batch=4, repeats=1).runtime == "numpy"  # the default falls back


def test_impossible_efficiency_is_flagged(pair, monkeypatch):
    dense, pruned = pair
    ratio = nn.flops(nn.fold_batchnorm(dense)) / nn.flops(nn.fold_batchnorm(pruned))  # the networks timed

    def fake(fns, X, repeats=5, warmup=1, warm=True):  # pruned "runs" 2x faster than its FLOPs allow
        return [1.0, 1.0 / (2 * ratio), 1.0] if len(fns) == 3 else [1.0, 1.0 / (2 * ratio), 1.0, 1.0, 1.0]

    monkeypatch.setattr(speed, "time_forward", fake)
    with pytest.warns(RuntimeWarning, match="measurement problem"):
        s = nn.speedup(dense, pruned, batch=4, runtime="numpy")
    assert s.measurement_problem is True and s.efficiency == pytest.approx(2.0)


def test_csr_forward_chunks_like_dense(pair):
    dense, _ = pair
    net = nn.fold_batchnorm(dense)
    mats = speed._magnitude_csr(net, 1.0)  # density 1: the same function as the dense network
    X = np.random.default_rng(0).random((37, 8, 8, 1), dtype=np.float32)
    ref = net.forward(X, chunk=None)
    for chunk in (None, 8):
        run = speed.csr_forward(net, mats, chunk=chunk)
        np.testing.assert_allclose(run(X), ref, atol=1e-4)
        np.testing.assert_allclose(run(X[:5]), ref[:5], atol=1e-4)  # buffers reused across batch sizes
