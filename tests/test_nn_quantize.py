"""Quantization alongside sparsity: int8 weights, calibrated activations, QDQ export judged by onnxruntime."""

import numpy as np
import pytest

import structsparse.nn as nn
from structsparse.exceptions import ParameterError


@pytest.fixture(scope="module")
def trained():
    X_tr, X_va, X_te, y_tr, y_va, y_te = nn.load_digits_splits(rng=0, n_samples=600)
    net = nn.small_cnn((8, 12), rng=0)
    nn.train(net, X_tr, y_tr, epochs=4, lr=0.05, rng=0, progress=False)
    return net, X_tr, X_te, y_te


def test_weights_are_symmetric_per_channel_int8(trained):
    net, X_tr, _, _ = trained
    q = nn.quantize(net, bits=8, per_channel=True, calibration=X_tr[:200])
    folded = nn.fold_batchnorm(net)
    for name, wq in q.weight_q.items():
        assert wq.dtype == np.int8 and np.abs(wq).max() <= 127
        W = folded.node(name).layer.params["W"]
        s = q.weight_scale[name]
        # the largest weight of every (nonzero) output channel maps to +-127
        flat = np.abs(wq.reshape(-1, wq.shape[-1])).max(axis=0)
        assert np.all(flat[np.abs(W.reshape(-1, W.shape[-1])).max(axis=0) > 0] == 127)
        # rounding error at most half a step, and the network carries the dequantized weights
        assert np.all(np.abs(W - wq * s) <= s / 2 + 1e-7)
        np.testing.assert_array_equal(q.net.node(name).layer.params["W"], wq.astype(np.float32) * s)
        assert q.bias_q[name].dtype == np.int32
    t = nn.quantize(net, per_channel=False, calibration=X_tr[:200])
    assert all(np.unique(s).size == 1 for s in t.weight_scale.values())
    # int8 storage: about a quarter of the float bytes
    assert nn.weight_bytes(q) < 0.3 * nn.weight_bytes(net)
    assert q.weight_bytes == nn.weight_bytes(q)


def test_activation_scales_and_simulation(trained):
    net, X_tr, X_te, y_te = trained
    q = nn.quantize(net, calibration=X_tr[:200])
    # calibration: the input scale maps the largest calibration pixel to 127
    assert q.act_scale["input"] == pytest.approx(np.abs(X_tr[:200]).max() / 127, rel=1e-6)
    # 8 bits: the simulated network stays close to the float one; 2 bits does not
    z, zq = net.forward(X_te), q.forward(X_te)
    rel8 = np.abs(z - zq).max() / np.abs(z).max()
    q2 = nn.quantize(net, bits=2, calibration=X_tr[:200])
    rel2 = np.abs(z - q2.forward(X_te)).max() / np.abs(z).max()
    assert rel8 < 0.05 < rel2
    assert abs(q.score(X_te, y_te) - net.score(X_te, y_te)) <= 0.02
    # the simulated input is on its grid
    sc = q.act_scale["input"]
    g = np.round(X_te / sc)
    assert np.all(np.abs(g) <= 127)


def test_qdq_export_runs_in_onnxruntime_with_integer_kernels(trained, tmp_path):
    ort = pytest.importorskip("onnxruntime")
    import onnx

    net, X_tr, X_te, _ = trained
    q = nn.quantize(net, calibration=X_tr[:200])
    model = nn.to_onnx(q, tmp_path / "q.onnx")
    onnx.checker.check_model(model)
    ops = {n.op_type for n in model.graph.node}
    assert {"QuantizeLinear", "DequantizeLinear"} <= ops
    assert {i.data_type for i in model.graph.initializer if i.name.endswith(".W")} == {onnx.TensorProto.INT8}
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.log_severity_level = 3
    opts.optimized_model_filepath = str(tmp_path / "opt.onnx")
    sess = ort.InferenceSession(str(tmp_path / "q.onnx"), opts, providers=["CPUExecutionProvider"])
    got = sess.run(None, {"input": nn.onnx_io.nchw(X_te)})[0]
    ref = q.forward(X_te)
    # Tolerance: onnxruntime's integer kernels and the simulation put every activation on the same grid, except
    # where float32 rounding of the rescaling lands on the other side of a rounding boundary: one step (LSB)
    # at an input of the last layer then moves a logit by at most LSB * max column l1 norm of its weights.
    last = q.net.nodes[-1].name
    lsb = q.act_scale[q.chain[q.net.nodes[-1].inputs[0]]]
    bound = lsb * np.abs(q.net.node(last).layer.params["W"]).sum(axis=0).max()
    assert np.abs(got - ref).max() <= bound
    assert np.mean(got.argmax(1) == ref.argmax(1)) >= 0.99
    # onnxruntime turned the QDQ groups into its quantized kernels
    optimized = {n.op_type for n in onnx.load(str(tmp_path / "opt.onnx")).graph.node}
    assert "QLinearConv" in optimized
    # the file holds int8 weights: far smaller than the float export
    assert (tmp_path / "q.onnx").stat().st_size < 0.5 * len(nn.to_onnx(net).SerializeToString())


def test_pruned_then_quantized(trained):
    net, X_tr, X_te, _ = trained
    pruned = net.copy()
    conv = pruned.nodes[0].layer
    conv.params["W"][..., :4] = 0
    conv.params["b"][:4] = 0
    bn = pruned.nodes[1].layer
    bn.params["gamma"][:4] = 0
    bn.params["beta"][:4] = 0
    pruned.nodes[3].layer.params["W"][:, :, :4, :] = 0  # what the next layer reads from them
    small = nn.prune(pruned)
    assert small.nodes[0].layer.params["W"].shape[-1] == 4
    q = nn.quantize(small, calibration=X_tr[:200])
    full = nn.quantize(pruned, calibration=X_tr[:200])
    assert q.weight_bytes < nn.weight_bytes(small) / 3
    # removing zero channels changes neither the scales nor (up to summation order) the quantized function
    for name in q.weight_scale:
        keep = slice(4, None) if name == small.nodes[0].name else slice(None)
        np.testing.assert_allclose(q.weight_scale[name], full.weight_scale[name][keep], rtol=1e-6)
    assert q.act_scale == pytest.approx(full.act_scale, rel=1e-6)
    np.testing.assert_array_equal(q.predict(X_te), full.predict(X_te))


def test_quantize_rejects_bad_input(trained):
    net, X_tr, _, _ = trained
    with pytest.raises(ParameterError, match="calibration"):
        nn.quantize(net)
    with pytest.raises(ParameterError, match="bits"):
        nn.quantize(net, bits=9, calibration=X_tr[:10])
    with pytest.raises(TypeError, match="per_channel"):
        nn.quantize(net, per_channel="yes", calibration=X_tr[:10])
    with pytest.raises(TypeError, match="'net'"):
        nn.quantize("net", calibration=X_tr[:10])
    blocks = nn.block_net(4, rng=0)
    with pytest.raises(ParameterError, match="cannot be quantized"):
        nn.quantize(blocks, calibration=X_tr[:10])


def test_unit_params_is_what_removing_one_unit_saves():
    # float32 weight bytes (parameters and batch-norm statistics) drop by exactly 4 * unit_params
    from structsparse.nn.quantize import unit_params

    net = nn.small_cnn((5, 7), rng=0)
    saved = unit_params(net)
    assert saved[("conv2d1", 0)] == 9 * 1 + 1 + 4 + 9 * 7           # own filter, bias, BN; conv2's 3x3x7 reads
    assert saved[("conv2d2", 0)] == 9 * 5 + 1 + 4 + 4 * 4 * 10      # own; 16 flattened rows of the dense layer
    for node, j in (("conv2d1", 2), ("conv2d2", 3)):
        trial = net.copy()
        layer = trial.node(node).layer
        layer.params["W"][..., j] = 0
        layer.params["b"][j] = 0
        bn = trial.node({"conv2d1": "batchnorm1", "conv2d2": "batchnorm2"}[node]).layer
        bn.params["gamma"][j] = 0
        bn.params["beta"][j] = 0
        pruned = nn.prune(trial)
        assert nn.weight_bytes(net) - nn.weight_bytes(pruned) == 4 * saved[(node, j)]


def test_price_weights_reduce_to_flops_price_and_price_parameters():
    from structsparse.nn.quantize import price_weights

    net = nn.small_cnn((6, 10), rng=0)
    flops_only = nn.groups(net, weights=price_weights(net, params=0.0))
    reference = nn.groups(net, weights="flops")
    for a, b in zip(flops_only, reference):
        np.testing.assert_allclose(a.groups.weights, b.groups.weights, rtol=1e-12)
    both = {m.name: m.groups.weights for m in nn.groups(net, weights=price_weights(net, flops=1.0, params=1.0))}
    flops = {m.name: m.groups.weights for m in reference}
    # the second conv layer's filters feed 16 rows each of the dense layer: the parameter price weighs them up
    # relative to the first layer's, whose units cost more FLOPs
    ratio_f = flops["filters:conv2d1"][0] / flops["filters:conv2d2"][0]
    ratio_b = both["filters:conv2d1"][0] / both["filters:conv2d2"][0]
    assert ratio_b < ratio_f
    with pytest.raises(ParameterError, match="both"):
        price_weights(net, flops=0, params=0)
    with pytest.raises(ParameterError, match="not one of"):
        nn.groups(nn.small_cnn((3, 4), rng=0), layers=["conv2d1"], weights=price_weights(net, layers=["conv2d2"]))
