"""nn.profile: latency percentiles, throughput and memory, computed and measured."""

import numpy as np
import pytest

import structsparse.nn as nn
from structsparse.exceptions import ParameterError


@pytest.fixture(scope="module")
def net():
    return nn.small_cnn((4, 6), rng=0)


@pytest.mark.parametrize("runtime", ["numpy", "onnxruntime"])
def test_profile_percentiles_and_memory(net, runtime):
    if runtime == "onnxruntime":
        pytest.importorskip("onnxruntime")
    r = nn.profile(net, batch_sizes=(1, 8), runtime=runtime, n_runs=7, warmup=1, rng=0)
    for b in (1, 8):
        ts = r.times[b]
        assert ts.shape == (7,) and np.all(ts > 0)
        assert r.p50[b] == pytest.approx(np.median(ts))
        assert min(ts) <= r.p50[b] <= r.p90[b] <= r.p99[b] <= max(ts)
        assert r.throughput[b] == pytest.approx(b / r.p50[b])
        # computed: the weights plus the peak of float32 activations at that batch size
        assert r.memory_computed[b] == nn.weight_bytes(net) + nn.memory(net, batch=b).peak_activations
    assert r.memory_computed[8] > r.memory_computed[1]
    if runtime == "numpy":
        # measured by tracemalloc: at least the output, at most a few times the computed peak
        for b in (1, 8):
            assert nn.weight_bytes(net) + b * 10 * 4 <= r.memory_measured[b] <= 4 * r.memory_computed[b]
    assert "p50" in repr(r)


def test_profile_quantized_and_errors(net):
    X = np.random.default_rng(0).random((20, 8, 8, 1), dtype=np.float32)
    q = nn.quantize(net, calibration=X)
    r = nn.profile(q, batch_sizes=(4,), runtime="numpy", n_runs=5, X=X)
    assert r.memory_computed[4] == q.weight_bytes + nn.memory(q.net, batch=4).peak_activations
    with pytest.raises(ParameterError, match="runtime"):
        nn.profile(net, runtime="torch")
    with pytest.raises(ParameterError, match="n_runs"):
        nn.profile(net, n_runs=1)
    with pytest.raises(TypeError, match="'net'"):
        nn.profile("net")
