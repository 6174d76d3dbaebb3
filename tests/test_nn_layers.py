"""Layers and blocks: gradients against finite differences (float64), the conv dot-test, im2col."""

import numpy as np
import pytest

import structsparse.nn as nn
from structsparse.exceptions import ShapeError
from structsparse.nn._im2col import col2im, im2col, pad_nhwc, windows


def _randomize(net, rng, scale=0.5):
    for _, _, p in net.parameters():
        p[...] = rng.standard_normal(p.shape) * scale
    for n in net.nodes:
        for k, v in n.layer.state.items():
            v[...] = rng.uniform(0.5, 1.5, v.shape) if k == "var" else rng.standard_normal(v.shape) * 0.1


def _loss_and_grads(net, X, R, train):
    out = net.forward(X, train=train, check=False, inplace=False)
    net.backward(R)
    return float((out * R).sum())


def _input_grad(net, X, R, train):
    """Gradient w.r.t. the input through a throwaway identity-like first consumer."""
    acts = net.forward(X, train=train, check=False, inplace=False)
    grads = {net.output: R}
    for n in reversed(net.nodes):
        g = grads.pop(n.name, None)
        if g is None:
            continue
        gin = n.layer.backward(g)
        gin = gin if n.layer.n_inputs is None else [gin]
        for i, gi in zip(n.inputs, gin):
            grads[i] = gi if i not in grads else grads[i] + gi
    return acts, grads["input"]


def check_gradients(net, X, train, rng, n_checks=6, eps=1e-6):
    """Largest relative error over sampled parameter entries and input entries."""
    net = net.astype(np.float64)
    X = X.astype(np.float64)
    out = net.forward(X, train=train, check=False, inplace=False)
    R = rng.standard_normal(out.shape)
    f = lambda: float((net.forward(X, train=train, check=False, inplace=False) * R).sum())  # noqa: E731
    _loss_and_grads(net, X, R, train)
    worst = 0.0
    for node, name, p in net.parameters():
        grad = net.node(node).layer.grads[name].copy()
        for _ in range(n_checks):
            idx = tuple(int(rng.integers(0, s)) for s in p.shape)
            old = p[idx]
            p[idx] = old + eps
            fp = f()
            p[idx] = old - eps
            fm = f()
            p[idx] = old
            num = (fp - fm) / (2 * eps)
            worst = max(worst, abs(num - grad[idx]) / max(1.0, abs(num)))
    _, gx = _input_grad(net, X, R, train)
    for _ in range(n_checks):
        idx = tuple(int(rng.integers(0, s)) for s in X.shape)
        old = X[idx]
        X[idx] = old + eps
        fp = f()
        X[idx] = old - eps
        fm = f()
        X[idx] = old
        num = (fp - fm) / (2 * eps)
        worst = max(worst, abs(num - gx[idx]) / max(1.0, abs(num)))
    return worst


LAYER_CASES = {
    "dense": (lambda: [nn.Dense(5)], (7,)),
    "conv_s1_p1": (lambda: [nn.Conv2D(4, 3, padding=1)], (6, 6, 3)),
    "conv_s2_p1": (lambda: [nn.Conv2D(4, 3, stride=2, padding=1)], (7, 7, 2)),
    "conv_k1": (lambda: [nn.Conv2D(3, 1)], (5, 5, 2)),
    "relu": (lambda: [nn.Dense(6), nn.ReLU()], (5,)),
    "maxpool": (lambda: [nn.Conv2D(3, 1), nn.MaxPool2D(2)], (6, 6, 2)),
    "maxpool_overlap_pad": (lambda: [nn.Conv2D(3, 1), nn.MaxPool2D(3, stride=1, padding=1)], (5, 5, 2)),
    "avgpool": (lambda: [nn.Conv2D(3, 1), nn.AvgPool2D(3, stride=2, padding=1)], (6, 6, 2)),
    "gap": (lambda: [nn.Conv2D(3, 1), nn.GlobalAvgPool2D()], (4, 4, 2)),
    "flatten": (lambda: [nn.Conv2D(3, 1), nn.Flatten(), nn.Dense(4)], (3, 3, 2)),
    "batchnorm_4d": (lambda: [nn.Conv2D(3, 3, padding=1), nn.BatchNorm()], (5, 5, 2)),
    "batchnorm_2d": (lambda: [nn.Dense(4), nn.BatchNorm()], (6,)),
    "squeeze_excite": (lambda: [nn.Conv2D(6, 1), nn.SqueezeExcite(3)], (4, 4, 2)),
    "squeeze_excite_subset": (lambda: [nn.Conv2D(4, 1), nn.SqueezeExcite(3, out_index=[0, 2])], (4, 4, 2)),
}


@pytest.mark.parametrize("train", [True, False])
@pytest.mark.parametrize("case", sorted(LAYER_CASES))
def test_layer_gradients_match_finite_differences(case, train):
    make, shape = LAYER_CASES[case]
    rng = np.random.default_rng(1)
    net = nn.Sequential(make(), shape, rng=0)
    _randomize(net, rng)
    X = rng.standard_normal((4,) + shape)
    assert check_gradients(net, X, train, rng) < 1e-6


def _inception_graph():
    g = nn.Graph((6, 6, 3), rng=0)
    nn.inception(g, "input", [[nn.Conv2D(2, 1)],
                              [nn.Conv2D(2, 1), nn.ReLU(), nn.Conv2D(3, 3, padding=1)],
                              [nn.AvgPool2D(3, stride=1, padding=1), nn.Conv2D(2, 1)]])
    return g


def _dense_block_graph():
    g = nn.Graph((5, 5, 3), rng=0)
    nn.dense_block(g, "input", n_layers=3, growth=2)
    return g


def _se_graph():
    g = nn.Graph((4, 4, 3), rng=0)
    g.add(nn.Conv2D(5, 3, padding=1))
    g.add(nn.SqueezeExcite(2))
    return g


@pytest.mark.parametrize("train", [True, False])
@pytest.mark.parametrize("make", [_inception_graph, _dense_block_graph, _se_graph, lambda: nn.block_net(8)])
def test_block_gradients_match_finite_differences(make, train):
    rng = np.random.default_rng(2)
    net = make()
    _randomize(net, rng, 0.4)
    X = rng.standard_normal((3,) + net.original_input_shape)
    assert check_gradients(net, X, train, rng, n_checks=3) < 1e-5


def test_inception_concatenates_pathways_in_order():
    g = _inception_graph()
    X = np.random.default_rng(0).random((2, 6, 6, 3)).astype(np.float32)
    out = g.forward(X)
    b0 = g.node("inception.b0.0").layer.forward(X)
    assert out.shape == (2, 6, 6, 7)
    np.testing.assert_allclose(out[..., :2], b0, rtol=1e-6)


def test_dense_block_feeds_each_layer_all_earlier_outputs():
    g = _dense_block_graph()
    widths = [g.shape_of(f"dense.l{l}.concat")[-1] for l in range(3)]
    assert widths == [3, 5, 7]
    assert g.output_shape == (5, 5, 9)


@pytest.mark.parametrize("stride,padding,k", [(1, 1, 3), (2, 1, 3), (2, 0, 2), (1, 2, 5)])
def test_conv_dot_test(stride, padding, k):
    """<A x, y> = <x, A^T y> for the convolution and its adjoint (the input gradient)."""
    rng = np.random.default_rng(3)
    net = nn.Sequential([nn.Conv2D(4, k, stride=stride, padding=padding)], (7, 6, 3), rng=0)
    conv = net.nodes[0].layer.astype(np.float64)
    x = rng.standard_normal((2, 7, 6, 3))
    ax = conv.linear_forward(x)
    y = rng.standard_normal(ax.shape)
    aty = conv.linear_adjoint(y, x.shape)
    lhs, rhs = float((ax * y).sum()), float((x * aty).sum())
    assert abs(lhs - rhs) <= 1e-10 * max(1.0, abs(lhs))


def test_im2col_matches_window_definition_and_col2im_is_adjoint():
    rng = np.random.default_rng(4)
    cases = [(c, k, s, p) for c in (1, 3, 5) for k, s, p in [(3, 1, 1), (3, 2, 0), (2, 2, 1)]]
    for c, k, s, p in cases:  # few channels and many channels take different copy paths
        x = rng.standard_normal((2, 6, 5, c))
        cols, ho, wo = im2col(x, k, k, s, p)
        ref = np.ascontiguousarray(windows(pad_nhwc(x, p), k, k, s).transpose(0, 1, 2, 4, 5, 3)).reshape(cols.shape)
        np.testing.assert_array_equal(cols, ref)
        y = rng.standard_normal(cols.shape)
        assert np.isclose((cols * y).sum(), (x * col2im(y, x.shape, k, k, s, p)).sum())
        with_ones, _, _ = im2col(x, k, k, s, p, ones_column=True)
        np.testing.assert_array_equal(with_ones[:, :-1], cols)
        assert np.all(with_ones[:, -1] == 1)


def test_forward_is_float32_and_batchnorm_modes_differ():
    rng = np.random.default_rng(5)
    net = nn.small_cnn((4, 6), rng=0)
    X = rng.random((8, 8, 8, 1))
    out = net.forward(X)
    assert out.dtype == np.float32
    train_out = net.forward(X, train=True)
    # running statistics start at (0, 1): evaluation differs from batch statistics
    assert not np.allclose(train_out, out)
    bn = net.nodes[1].layer
    assert not np.allclose(bn.state["mean"], 0)


def test_inplace_evaluation_does_not_touch_caller_data():
    rng = np.random.default_rng(6)
    net = nn.small_cnn((4, 6), rng=0)
    X = rng.random((5, 8, 8, 1)).astype(np.float32)
    X0 = X.copy()
    a = net.forward(X)
    b = net.forward(X)
    np.testing.assert_array_equal(X, X0)
    np.testing.assert_array_equal(a, b)


def test_bad_shapes_raise_clear_errors():
    net = nn.small_cnn((4, 6), rng=0)
    with pytest.raises(ShapeError, match="X"):
        net.forward(np.zeros((3, 8, 8, 2)))
    with pytest.raises(ShapeError, match="Dense"):
        nn.Sequential([nn.Conv2D(2, 3), nn.Dense(3)], (8, 8, 1))
    with pytest.raises(ShapeError, match="does not fit"):
        nn.Sequential([nn.Conv2D(2, 5)], (3, 3, 1))
    g = nn.Graph((4, 4, 2))
    a = g.add(nn.Conv2D(2, 1))
    b = g.add(nn.MaxPool2D(2), "input")
    with pytest.raises(ShapeError, match="Concat"):
        g.add(nn.Concat(), [a, b])


def test_reused_buffers_never_leak_into_returned_outputs():
    rng = np.random.default_rng(7)
    net = nn.Sequential([nn.Conv2D(3, 3, padding=1), nn.ReLU(), nn.Conv2D(2, 1), nn.Flatten()], (5, 5, 2), rng=0)
    X1 = rng.random((4, 5, 5, 2)).astype(np.float32)
    X2 = rng.random((4, 5, 5, 2)).astype(np.float32)
    a = net.forward(X1)
    a_copy = a.copy()
    net.forward(X2)
    np.testing.assert_array_equal(a, a_copy)           # the first result was not overwritten
    # a small batch runs the inference plan, whose 3x3 direct kernel adds its products in another order:
    # agreement to float32 rounding, relative to the output's scale (a few entries are cancellations near 1e-5)
    ref = net.forward(X1, inplace=False)
    np.testing.assert_allclose(net.forward(X1), ref, rtol=1e-5, atol=1e-6 * np.abs(ref).max())


def test_chunked_evaluation_matches_one_pass():
    rng = np.random.default_rng(8)
    net = nn.block_net(8, rng=0)
    X = rng.random((37, 8, 8, 1)).astype(np.float32)
    np.testing.assert_allclose(net.forward(X, chunk=8), net.forward(X), rtol=1e-5, atol=1e-6)


def test_evaluation_fast_paths_match_plain_definitions():
    # the ReLU fused into the max pool, the reused zero-bordered padding buffer (batches of changing
    # size: a buffer from a larger batch serves a smaller one) and both im2col copy paths
    # (column-major for 1 channel, opaque runs for 5) against convolutions written from the definition
    rng = np.random.default_rng(9)
    net = nn.Sequential([nn.Conv2D(5, 3, padding=1), nn.ReLU(), nn.Conv2D(6, 3, padding=1), nn.MaxPool2D(2),
                         nn.ReLU(), nn.Flatten(), nn.Dense(3)], (6, 6, 1), rng=0)
    assert net._fused_relus(net._readers()) == {"relu2": "maxpool2d1"}

    def reference(X):
        x = X.astype(np.float64)
        for n in net.nodes:
            layer, p = n.layer, n.layer.params
            if layer.kind == "conv2d":
                win = windows(pad_nhwc(x, layer.padding), 3, 3, 1)          # (N, Ho, Wo, C, 3, 3)
                x = np.einsum("nhwcij,ijcf->nhwf", win, p["W"].astype(np.float64)) + p["b"]
            elif layer.kind == "relu":
                x = np.maximum(x, 0)
            elif layer.kind == "maxpool2d":
                x = windows(x, 2, 2, 2).max(axis=(4, 5))
            elif layer.kind == "flatten":
                x = x.reshape(len(x), -1)
            else:
                x = x @ p["W"] + p["b"]
        return x

    for n in (9, 4, 7):
        X = rng.standard_normal((n, 6, 6, 1)).astype(np.float32)
        np.testing.assert_allclose(net.forward(X), reference(X), rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(net.forward(X, chunk=3), reference(X), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("stride,padding,k,cin", [(1, 1, 3, 5), (2, 0, 3, 5), (1, 2, 5, 5), (2, 1, 2, 5),
                                                  (2, 0, 3, 2), (1, 1, 3, 1)])
def test_blocked_evaluation_conv_matches_definition(monkeypatch, stride, padding, k, cin):
    # evaluation runs the batch in blocks of patch rows: force blocks of 2 samples (the last one
    # partial) and compare with the convolution from its definition and with the training path
    # (fewer than 4 input channels: one column-major block with a ones column)
    rng = np.random.default_rng(10)
    layer = nn.Conv2D(7, k, stride=stride, padding=padding)
    layer.build((7, 7, cin), rng)
    layer.params["b"][...] = rng.standard_normal(7)
    X = rng.standard_normal((5, 7, 7, cin)).astype(np.float32)
    ho = (7 + 2 * padding - k) // stride + 1
    monkeypatch.setattr(nn.Conv2D, "BLOCK_BYTES", 2 * ho * ho * (k * k * cin + 7) * 4)
    monkeypatch.setattr(nn.Conv2D, "WINOGRAD_MIN_TILES", 1 << 62)   # the im2col path (Winograd: test_nn_winograd)
    win = windows(pad_nhwc(X.astype(np.float64), padding), k, k, stride)
    ref = np.einsum("nhwcij,ijcf->nhwf", win, layer.params["W"].astype(np.float64)) + layer.params["b"]
    out = layer.forward(X)
    assert len(layer._plan["blocks"]) == (3 if cin >= 4 else 1) and out.dtype == np.float32
    np.testing.assert_allclose(out, ref, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(layer.forward(X, train=True), ref, rtol=1e-5, atol=1e-5)
    again = layer.forward_reusing(X[:5] * 2)   # the reused output buffer holds the new batch
    np.testing.assert_allclose(again, 2 * ref - layer.params["b"], rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(out, ref, rtol=1e-5, atol=1e-5)   # the earlier result is untouched
    # backward after an evaluation pass recomputes the patches: same gradients as after a training pass
    R = rng.standard_normal(out.shape).astype(np.float32)
    layer.forward(X)
    dx_eval = layer.backward(R)
    gw_eval = layer.grads["W"].copy()
    layer.forward(X, train=True)
    np.testing.assert_allclose(dx_eval, layer.backward(R), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(gw_eval, layer.grads["W"], rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("size,stride", [(2, 2), (3, 2), (3, 1), (1, 1), (2, 1)])
@pytest.mark.parametrize("relu", [False, True])
def test_separable_maxpool_matches_definition(size, stride, relu):
    rng = np.random.default_rng(11)
    pool = nn.MaxPool2D(size, stride=stride)
    pool.build((7, 6, 3), rng)
    X = rng.standard_normal((4, 7, 6, 3)).astype(np.float32)
    ref = windows(X, size, size, stride).max(axis=(4, 5))
    if relu:
        ref = np.maximum(ref, 0)
    np.testing.assert_array_equal(pool.forward_reusing(X, relu=relu), ref)
    np.testing.assert_array_equal(pool.forward(X, _relu=relu), ref)
    np.testing.assert_array_equal(pool.forward(X, train=True), windows(X, size, size, stride).max(axis=(4, 5)))
