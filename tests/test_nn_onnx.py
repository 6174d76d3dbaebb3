"""ONNX import and export: models built with onnx.helper, onnxruntime as the judge."""

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

import structsparse.nn as nn  # noqa: E402
from structsparse.exceptions import OnnxError, ParameterError  # noqa: E402
from structsparse.nn.onnx_io import nchw, ort_session  # noqa: E402

RNG = np.random.default_rng(0)


class B:
    """A tiny builder of ONNX graphs with random weights."""

    def __init__(self, shape):
        self.nodes, self.inits, self.shape, self.k = [], [], shape, 0

    def w(self, *shape, scale=0.5, positive=False):
        self.k += 1
        arr = RNG.standard_normal(shape).astype(np.float32) * scale
        if positive:
            arr = np.abs(arr) + 0.5
        name = f"w{self.k}"
        self.inits.append(numpy_helper.from_array(arr, name))
        return name

    def const(self, arr, dtype=np.int64):
        self.k += 1
        name = f"c{self.k}"
        self.inits.append(numpy_helper.from_array(np.asarray(arr, dtype=dtype), name))
        return name

    def op(self, op, inputs, **attrs):
        self.k += 1
        out = f"t{self.k}"
        self.nodes.append(helper.make_node(op, inputs, [out], name=f"{op.lower()}{self.k}", **attrs))
        return out

    def conv(self, x, cin, cout, k=3, pad=1, stride=1, **attrs):
        return self.op("Conv", [x, self.w(cout, cin, k, k), self.w(cout)], kernel_shape=[k, k], pads=[pad] * 4,
                       strides=[stride, stride], **attrs)

    def bn(self, x, c):
        return self.op("BatchNormalization", [x, self.w(c, positive=True), self.w(c), self.w(c),
                                              self.w(c, positive=True)], epsilon=1e-3)

    def gemm(self, x, fin, fout, transB=1):
        w = self.w(fout, fin) if transB else self.w(fin, fout)
        return self.op("Gemm", [x, w, self.w(fout)], transB=transB)

    def model(self, out, n_out):
        inp = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N"] + list(self.shape))
        outp = helper.make_tensor_value_info(out, TensorProto.FLOAT, ["N", n_out])
        g = helper.make_graph(self.nodes, "test", [inp], [outp], initializer=self.inits)
        m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
        m.ir_version = 8
        onnx.checker.check_model(m)
        return m


def ort_run(model, X):
    sess = ort_session(model)
    return sess.run(None, {sess.get_inputs()[0].name: X})[0]


def softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def check_import(model, shape, n=6):
    """from_onnx(model).forward agrees with onnxruntime on the original; the re-export agrees too."""
    X = RNG.random((n,) + shape, dtype=np.float32)
    ref = ort_run(model, X)
    net = nn.from_onnx(model)
    Xn = X.transpose(0, 2, 3, 1) if X.ndim == 4 else X
    out = net.forward(Xn)
    if net.output_activation == "softmax":
        out = softmax(out)
    np.testing.assert_allclose(out, ref, atol=1e-5, rtol=1e-5)
    again = ort_run(nn.to_onnx(net), X)
    np.testing.assert_allclose(again, ref, atol=1e-5, rtol=1e-5)
    return net


def mlp_model():
    b = B((12,))
    h = b.gemm("x", 12, 16)
    h = b.op("Relu", [h])
    h = b.op("MatMul", [h, b.w(16, 8)])
    h = b.op("Add", [h, b.w(8)])
    h = b.op("Relu", [h])
    h = b.gemm(h, 8, 5, transB=0)
    return b.model(b.op("Softmax", [h], axis=-1), 5)


def cnn_model():
    b = B((2, 8, 8))
    h = b.op("Relu", [b.bn(b.conv("x", 2, 6), 6)])
    h = b.op("MaxPool", [h], kernel_shape=[2, 2], strides=[2, 2])
    h = b.op("Relu", [b.conv(h, 6, 5, k=3, pad=0)])
    h = b.op("AveragePool", [h], kernel_shape=[3, 3], strides=[1, 1], pads=[1, 1, 1, 1], count_include_pad=1)
    h = b.op("Flatten", [h], axis=1)
    return b.model(b.gemm(h, 5 * 2 * 2, 4), 4)


def inception_model():
    b = B((3, 6, 6))
    x = b.op("Relu", [b.conv("x", 3, 4)])
    p1 = b.op("Relu", [b.conv(x, 4, 2, k=1, pad=0)])
    p2 = b.op("Relu", [b.conv(b.op("Relu", [b.conv(x, 4, 3, k=1, pad=0)]), 3, 3)])
    p3 = b.op("Relu", [b.conv(b.op("MaxPool", [x], kernel_shape=[3, 3], strides=[1, 1], pads=[1] * 4), 4, 2,
                              k=1, pad=0)])
    h = b.op("Concat", [p1, p2, p3], axis=1)
    h = b.op("GlobalAveragePool", [h])
    h = b.op("Reshape", [h, b.const([-1, 7])])
    return b.model(b.gemm(h, 7, 3), 3)


def densenet_model():
    b = B((2, 5, 5))
    x = b.conv("x", 2, 4)
    srcs, width = [x], 4
    for _ in range(2):
        cat = b.op("Concat", srcs, axis=1) if len(srcs) > 1 else srcs[0]
        h = b.conv(b.op("Relu", [b.bn(cat, width)]), width, 3)
        srcs.append(h)
        width += 3
    h = b.op("Concat", srcs, axis=1)
    h = b.op("Flatten", [b.op("GlobalAveragePool", [h])], axis=1)
    return b.model(b.gemm(h, width, 4), 4)


def se_model(conv_gate):
    b = B((4, 5, 5))
    x = b.op("Relu", [b.conv("x", 4, 6)])
    s = b.op("GlobalAveragePool", [x])
    if conv_gate:
        s = b.op("Relu", [b.conv(s, 6, 3, k=1, pad=0)])
        s = b.op("Sigmoid", [b.conv(s, 3, 6, k=1, pad=0)])
    else:
        s = b.op("Flatten", [s], axis=1)
        s = b.op("Relu", [b.gemm(s, 6, 3)])
        s = b.op("Sigmoid", [b.gemm(s, 3, 6)])
        s = b.op("Reshape", [s, b.const([-1, 6, 1, 1])])
    h = b.op("Mul", [x, s])
    h = b.op("Flatten", [h], axis=1)
    return b.model(b.gemm(h, 6 * 25, 3), 3)


def residual_model():
    b = B((3, 6, 6))
    x = b.op("Relu", [b.bn(b.conv("x", 3, 5), 5)])
    h = b.op("Relu", [b.bn(b.conv(x, 5, 5), 5)])
    h = b.bn(b.conv(h, 5, 5), 5)
    h = b.op("Relu", [b.op("Add", [h, x])])
    h = b.op("Flatten", [b.op("GlobalAveragePool", [h])], axis=1)
    return b.model(b.gemm(h, 5, 4), 4)


@pytest.mark.parametrize("build,shape", [
    (mlp_model, (12,)), (cnn_model, (2, 8, 8)), (inception_model, (3, 6, 6)), (densenet_model, (2, 5, 5)),
    (lambda: se_model(False), (4, 5, 5)), (lambda: se_model(True), (4, 5, 5)), (residual_model, (3, 6, 6)),
], ids=["mlp", "cnn", "inception", "densenet", "se_gemm", "se_conv", "residual"])
def test_import_matches_onnxruntime(build, shape):
    net = check_import(build(), shape)
    assert net.original_input_shape == ((shape[1], shape[2], shape[0]) if len(shape) == 3 else shape)


def test_import_maps_layers():
    soft = nn.from_onnx(mlp_model())
    assert nn.prune(soft).output_activation == "softmax"  # surgery keeps the final Softmax for the export
    assert nn.to_onnx(nn.prune(soft)).graph.node[-1].op_type == "Softmax"
    net = nn.from_onnx(se_model(False))
    kinds = [n.layer.kind for n in net.nodes]
    assert "squeeze_excite" in kinds and "dense" in kinds
    assert nn.from_onnx(mlp_model()).output_activation == "softmax"
    assert "add" in [n.layer.kind for n in nn.from_onnx(residual_model()).nodes]


def test_export_matches_forward(tmp_path):
    for net in (nn.small_cnn((4, 6), rng=1), nn.mlp((9,), rng=1), nn.block_net(6, rng=1)):
        r = np.random.default_rng(2)
        for n in net.nodes:  # non-trivial batch-norm statistics
            if n.layer.kind == "batchnorm":
                n.layer.state["mean"] = r.standard_normal(n.layer.state["mean"].shape).astype(np.float32)
                n.layer.state["var"] = (r.random(n.layer.state["var"].shape) + 0.5).astype(np.float32)
        X = r.random((5,) + net.original_input_shape, dtype=np.float32)
        path = tmp_path / "m.onnx"
        model = nn.to_onnx(net, path)
        onnx.checker.check_model(model)
        np.testing.assert_allclose(ort_run(str(path), nchw(X)), net.forward(X), atol=1e-5, rtol=1e-5)
        assert model.graph.input[0].type.tensor_type.shape.dim[1].dim_value == net.original_input_shape[-1]


def test_export_pruned_with_selections():
    """Pruned networks carry channel selections (Concat, SE gate, input); the export reproduces them."""
    r = np.random.default_rng(3)
    net = nn.block_net(8, rng=0)
    for n in net.nodes:
        if n.layer.kind in ("conv2d", "dense") and n.name != net.output:
            kill = r.random(n.layer.params["b"].size) < 0.4
            n.layer.params["W"][..., kill] = 0
            n.layer.params["b"][kill] = 0
    pruned = nn.prune(net)
    assert pruned.n_params < net.n_params
    X = r.random((4,) + net.original_input_shape, dtype=np.float32)
    np.testing.assert_allclose(ort_run(nn.to_onnx(pruned), nchw(X)), pruned.forward(X), atol=1e-5)
    back = nn.from_onnx(nn.to_onnx(pruned))
    np.testing.assert_allclose(back.forward(X), pruned.forward(X), atol=1e-5)


def test_residual_prune_and_export():
    net = nn.from_onnx(residual_model())
    conv = [n for n in net.nodes if n.layer.kind == "conv2d"][1]
    conv.layer.params["W"][..., :2] = 0  # two filters of the inner convolution
    conv.layer.params["b"][:2] = 0
    bn = net.consumers()[conv.name][0]
    net.node(bn).layer.params["gamma"][:2] = 0
    net.node(bn).layer.params["beta"][:2] = 0
    pruned = nn.prune(net)
    X = RNG.random((4, 6, 6, 3), dtype=np.float32)
    np.testing.assert_allclose(pruned.forward(X), net.forward(X), atol=1e-5)
    assert pruned.n_params < net.n_params
    np.testing.assert_allclose(ort_run(nn.to_onnx(pruned), nchw(X)), pruned.forward(X), atol=1e-5)


def test_add_layer_gradient():
    net = nn.from_onnx(residual_model()).astype(np.float64)
    X = RNG.random((3, 6, 6, 3))
    y = np.array([0, 1, 2])
    from structsparse.nn.training import softmax_cross_entropy
    net.forward(X, train=False, inplace=False)
    _, d = softmax_cross_entropy(net.forward(X, inplace=False), y)
    net.backward(d)
    node = net.nodes[0]
    g = node.layer.grads["b"][0]
    eps = 1e-6
    node.layer.params["b"][0] += eps
    lp, _ = softmax_cross_entropy(net.forward(X, inplace=False), y)
    node.layer.params["b"][0] -= 2 * eps
    lm, _ = softmax_cross_entropy(net.forward(X, inplace=False), y)
    assert abs((lp - lm) / (2 * eps) - g) < 1e-6


# ---------------------------------------------------------------- errors
def _cnn_with(op_attrs=None, op="Conv", extra=None):
    b = B((2, 6, 6))
    if op == "Conv":
        h = b.op("Conv", ["x", b.w(4, 2, 3, 3)], **op_attrs)
    else:
        h = b.op(op, ["x"], **(op_attrs or {}))
    h = b.op("Flatten", [b.op("GlobalAveragePool", [h])], axis=1)
    return b


@pytest.mark.parametrize("attrs,word", [
    (dict(kernel_shape=[3, 3], dilations=[2, 2]), "dilations"),
    (dict(kernel_shape=[3, 3], auto_pad="SAME_UPPER"), "auto_pad"),
    (dict(kernel_shape=[3, 3], pads=[1, 0, 1, 0]), "pads"),
    (dict(kernel_shape=[3, 3], strides=[1, 2]), "strides"),
])
def test_bad_conv_attribute_raises(attrs, word):
    b = _cnn_with(attrs)
    h = b.nodes[-1].output[0]
    model = b.model(b.gemm(h, 4, 3), 3)
    with pytest.raises(OnnxError, match=word) as err:
        nn.from_onnx(model)
    assert "Conv" in str(err.value) and "conv" in str(err.value)  # the op and the node name


def test_grouped_conv_raises():
    b = B((4, 6, 6))
    h = b.op("Conv", ["x", b.w(4, 2, 3, 3)], kernel_shape=[3, 3], group=2)
    h = b.op("Flatten", [b.op("GlobalAveragePool", [h])], axis=1)
    with pytest.raises(OnnxError, match="group=2"):
        nn.from_onnx(b.model(b.gemm(h, 4, 3), 3))


def test_unsupported_operator_names_node_and_list():
    b = B((5,))
    h = b.op("Tanh", [b.gemm("x", 5, 4)])
    model = b.model(b.gemm(h, 4, 2), 2)
    with pytest.raises(OnnxError) as err:
        nn.from_onnx(model)
    msg = str(err.value)
    assert "tanh" in msg and "'Tanh'" in msg and "Conv" in msg and "BatchNormalization" in msg
    assert isinstance(err.value, ParameterError) and isinstance(err.value, ValueError)


def test_other_errors():
    b = B((2, 6, 6))  # Sigmoid outside a gate
    h = b.op("Sigmoid", [b.conv("x", 2, 3)])
    h = b.op("Flatten", [b.op("GlobalAveragePool", [h])], axis=1)
    with pytest.raises(OnnxError, match="Sigmoid"):
        nn.from_onnx(b.model(b.gemm(h, 3, 2), 2))
    b = B((2, 6, 6))  # ceil_mode pooling
    h = b.op("MaxPool", ["x"], kernel_shape=[2, 2], strides=[2, 2], ceil_mode=1)
    h = b.op("Flatten", [b.op("GlobalAveragePool", [h])], axis=1)
    with pytest.raises(OnnxError, match="ceil_mode"):
        nn.from_onnx(b.model(b.gemm(h, 2, 2), 2))
    b = B((2, 6, 6))  # concatenation along height
    x = b.conv("x", 2, 3)
    h = b.op("Concat", [x, x], axis=2)
    h = b.op("Flatten", [b.op("GlobalAveragePool", [h])], axis=1)
    with pytest.raises(OnnxError, match="axis=2"):
        nn.from_onnx(b.model(b.gemm(h, 3, 2), 2))
    with pytest.raises(OnnxError, match="no ONNX file"):
        nn.from_onnx("/nonexistent/model.onnx")
    with pytest.raises(TypeError, match="path_or_model"):
        nn.from_onnx(3)
    with pytest.raises(TypeError, match="net"):
        nn.to_onnx("net")


def test_export_input_selection_and_se_selection():
    """A pruned network that reads some input channels and whose SE gate outputs some of what it reads."""
    r = np.random.default_rng(5)
    g = nn.Graph((6, 6, 3), rng=0)
    g.add(nn.Conv2D(6, 3, padding=1))
    x = g.add(nn.ReLU())
    s = g.add(nn.SqueezeExcite(2), x, name="se")
    g.add(nn.Conv2D(4, 1), s)
    g.add(nn.GlobalAvgPool2D())
    g.add(nn.Dense(3))
    g.nodes[0].layer.params["W"][:, :, 1, :] = 0          # input channel 1 unused
    g.node("conv2d2").layer.params["W"][:, :, [0, 3], :] = 0  # gated channels 0 and 3 unused (the squeeze reads them)
    p = nn.prune(g)
    assert list(p.input_index) == [0, 2] and list(p.node("se").layer.out_index) == [1, 2, 4, 5]
    X = r.random((4, 6, 6, 3), dtype=np.float32)
    np.testing.assert_allclose(p.forward(X), g.forward(X), atol=1e-6)
    model = nn.to_onnx(p)
    np.testing.assert_allclose(ort_run(model, nchw(X)), p.forward(X), atol=1e-5)
    np.testing.assert_allclose(nn.from_onnx(model).forward(X), p.forward(X), atol=1e-5)
    mlp = nn.mlp((16,), n_features=12, rng=0)
    mlp.nodes[0].layer.params["W"][[1, 4, 7]] = 0
    q = nn.prune(mlp)
    Xv = r.random((5, 12), dtype=np.float32)
    np.testing.assert_allclose(ort_run(nn.to_onnx(q), Xv), mlp.forward(Xv), atol=1e-5)


def test_constants_and_initializers_listed_as_inputs():
    """Constant nodes as weights, and initializers also listed as graph inputs (older exporters)."""
    b = B((4,))
    W = RNG.standard_normal((4, 3)).astype(np.float32)
    b.nodes.append(helper.make_node("Constant", [], ["cw"], value=numpy_helper.from_array(W, "cw")))
    h = b.op("MatMul", ["x", "cw"])
    h = b.op("Add", [h, b.w(3)])
    model = b.model(h, 3)
    model.graph.input.extend([helper.make_tensor_value_info(t.name, TensorProto.FLOAT, list(t.dims))
                              for t in model.graph.initializer])
    check_import(model, (4,))


def test_layout_errors():
    b = B((4,))  # an image output
    b2 = B((2, 6, 6))
    h = b2.conv("x", 2, 3)
    inp = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 2, 6, 6])
    out = helper.make_tensor_value_info(h, TensorProto.FLOAT, ["N", 3, 6, 6])
    model = helper.make_model(helper.make_graph(b2.nodes, "g", [inp], [out], initializer=b2.inits),
                              opset_imports=[helper.make_opsetid("", 17)])
    with pytest.raises(OnnxError, match="2-D"):
        nn.from_onnx(model)
    h = b.gemm("x", 4, 3)  # a float64 input
    inp = helper.make_tensor_value_info("x", TensorProto.DOUBLE, ["N", 4])
    out = helper.make_tensor_value_info(h, TensorProto.FLOAT, ["N", 3])
    model = helper.make_model(helper.make_graph(b.nodes, "g", [inp], [out], initializer=b.inits),
                              opset_imports=[helper.make_opsetid("", 17)])
    with pytest.raises(OnnxError, match="float32"):
        nn.from_onnx(model)
    inp = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 4, "W"])  # unknown size
    model = helper.make_model(helper.make_graph(b.nodes, "g", [inp], [out], initializer=b.inits),
                              opset_imports=[helper.make_opsetid("", 17)])
    with pytest.raises(OnnxError, match="known sizes"):
        nn.from_onnx(model)
    b3 = B((2, 6, 6))  # a Flatten whose features go straight to the output
    h = b3.op("Flatten", [b3.conv("x", 2, 2, k=1, pad=0)], axis=1)
    with pytest.raises(OnnxError, match="flattened"):
        nn.from_onnx(b3.model(h, 72))


def test_export_writes_relu_before_max_pool_only_where_exact():
    # Conv -> BN -> MaxPool -> Relu is written Conv -> BN -> Relu -> MaxPool (relu and max commute), so that
    # onnxruntime fuses the Relu into the convolution; a pool read by others, a padded pool, or a pool on an
    # activation with other readers keeps the network's order
    net = nn.small_cnn((4, 6), rng=3)
    for n in net.nodes:
        if n.layer.kind == "batchnorm":
            n.layer.params["beta"][...] = np.random.default_rng(4).standard_normal(n.layer.params["beta"].shape)
    ops = [nd.op_type for nd in nn.to_onnx(net).graph.node]
    assert ops == ["Conv", "BatchNormalization", "Relu", "Conv", "BatchNormalization", "Relu", "MaxPool",
                   "Flatten", "Gemm"]
    X = np.random.default_rng(5).standard_normal((6, 8, 8, 1)).astype(np.float32)
    np.testing.assert_allclose(ort_session(nn.to_onnx(net)).run(None, {"input": nchw(X)})[0], net.forward(X),
                               atol=1e-5, rtol=1e-5)
    g = nn.Graph((6, 6, 2), rng=0)
    c = g.add(nn.Conv2D(3, 3, padding=1))
    p = g.add(nn.MaxPool2D(2), c)
    r = g.add(nn.ReLU(), p)
    g.add(nn.Concat(), [r, p])             # the pool has a second reader: no swap
    g.add(nn.Flatten())
    g.add(nn.Dense(2))
    ops = [nd.op_type for nd in nn.to_onnx(g).graph.node]
    assert ops.index("MaxPool") < ops.index("Relu")
    X = np.random.default_rng(6).standard_normal((3, 6, 6, 2)).astype(np.float32)
    np.testing.assert_allclose(ort_session(nn.to_onnx(g)).run(None, {"input": nchw(X)})[0], g.forward(X),
                               atol=1e-5, rtol=1e-5)


def test_ort_runner_matches_session_run_for_every_batch():
    from structsparse.nn.onnx_io import ort_runner

    net = nn.small_cnn((4, 6), rng=7)
    model = nn.to_onnx(net)
    sess = ort_session(model)
    run = ort_runner(model, chunk=4)
    rng = np.random.default_rng(8)
    for n in (1, 3, 10, 3):                 # the bound buffers serve new data of a seen batch size
        X = nchw(rng.random((n, 8, 8, 1), dtype=np.float32))
        np.testing.assert_allclose(run(X), sess.run(None, {"input": X})[0], rtol=1e-6, atol=1e-6)
        np.testing.assert_allclose(run(X), net.forward(X.transpose(0, 2, 3, 1)), rtol=1e-5, atol=1e-5)
        X *= 0.5                            # the bound input is the caller's array: changes are seen
        np.testing.assert_allclose(run(X), sess.run(None, {"input": X})[0], rtol=1e-6, atol=1e-6)
    X64 = rng.random((2, 1, 8, 8))          # other dtypes and layouts are converted
    np.testing.assert_allclose(run(X64), sess.run(None, {"input": X64.astype(np.float32)})[0], rtol=1e-6)
