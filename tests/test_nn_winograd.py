"""Winograd F(2x2, 3x3) evaluation of 3x3 stride-1 convolutions: kernels against their numpy twins, and the
layer's output against the direct (im2col) convolution."""

import numpy as np
import pytest

from structsparse.nn import Conv2D
from structsparse.nn import _winograd as wg


def _padded(rng, n, th, tw, c):
    return rng.standard_normal((n, 2 * th + 2, 2 * tw + 2, c)).astype(np.float32)


@pytest.mark.parametrize("th, tw, c", [(4, 4, 32), (3, 5, 7), (1, 1, 4)])
def test_input_transform_matches_numpy_twin(th, tw, c):
    rng = np.random.default_rng(0)
    xp = _padded(rng, 3, th, tw, c)
    V1 = np.full((16, 3 * th * tw, c), np.nan, dtype=np.float32)
    V2 = V1.copy()
    wg.input_transform(xp, V1, th, tw)
    wg.input_transform_np(xp, V2, th, tw)
    np.testing.assert_allclose(V1, V2, rtol=0, atol=1e-5)


@pytest.mark.parametrize("ho, wo", [(8, 8), (7, 9), (1, 2)])
def test_output_transform_matches_numpy_twin(ho, wo):
    rng = np.random.default_rng(1)
    th, tw, n, f = (ho + 1) // 2, (wo + 1) // 2, 2, 5
    M = rng.standard_normal((16, n * th * tw, f)).astype(np.float32)
    b = rng.standard_normal(f).astype(np.float32)
    o1 = np.full((n, ho, wo, f), np.nan, dtype=np.float32)
    o2 = o1.copy()
    wg.output_transform(M, b, o1, th, tw)
    wg.output_transform_np(M, b, o2, th, tw)
    assert not np.isnan(o1).any()
    np.testing.assert_allclose(o1, o2, rtol=0, atol=1e-5)


def test_one_tile_is_the_direct_correlation():
    # the three transforms on one 4x4 tile and one channel give the 2x2 valid cross-correlation
    rng = np.random.default_rng(2)
    d = rng.standard_normal((4, 4))
    g = rng.standard_normal((3, 3))
    U = wg.filter_transform(g.reshape(3, 3, 1, 1))               # (16, 1, 1)
    V = np.empty((16, 1, 1))
    wg.input_transform_np(d.reshape(1, 4, 4, 1), V, 1, 1)
    out = np.empty((1, 2, 2, 1))
    wg.output_transform_np(V * U, np.zeros(1), out, 1, 1)
    direct = np.array([[np.sum(d[i:i + 3, j:j + 3] * g) for j in range(2)] for i in range(2)])
    np.testing.assert_allclose(out[0, :, :, 0], direct, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("shape, padding", [((64, 8, 8, 32), 1), ((40, 7, 9, 6), 1), ((40, 9, 6, 5), 0),
                                            ((20, 6, 6, 4), 2)])
def test_conv2d_winograd_matches_direct(shape, padding):
    rng = np.random.default_rng(3)
    layer = Conv2D(19, 3, padding=padding)
    layer.build(shape[1:], rng)
    layer.params["b"] = rng.standard_normal(19).astype(np.float32)
    x = rng.standard_normal(shape).astype(np.float32)
    x0 = x.copy()
    assert layer._winograd_ok(x) == wg.NUMBA_ENABLED
    got = layer.forward(x)
    assert np.array_equal(x, x0)  # the caller's array is not modified
    ref = layer.linear_forward(x) + layer.params["b"]
    np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-5 * np.abs(ref).max())
    # a second call reuses the buffers and gives the same result; a fresh array each time
    again = layer.forward(x)
    assert again is not got
    np.testing.assert_array_equal(again, got)


def test_small_batches_and_other_kernels_keep_im2col():
    rng = np.random.default_rng(4)
    layer = Conv2D(8, 3, padding=1)
    layer.build((8, 8, 16), rng)
    assert not layer._winograd_ok(np.zeros((1, 8, 8, 16), np.float32))      # 16 tiles < WINOGRAD_MIN_TILES
    strided = Conv2D(8, 3, stride=2, padding=1)
    strided.build((8, 8, 16), rng)
    assert not strided._winograd_ok(np.zeros((256, 8, 8, 16), np.float32))
    first = Conv2D(8, 3, padding=1)
    first.build((8, 8, 1), rng)
    assert not first._winograd_ok(np.zeros((256, 8, 8, 1), np.float32))    # a first layer: im2col


def test_output_transform_pool_matches_numpy_twin():
    rng = np.random.default_rng(5)
    for ho, wo in ((8, 8), (7, 5)):
        th, tw, n, f = (ho + 1) // 2, (wo + 1) // 2, 3, 6
        M = rng.standard_normal((16, n * th * tw, f)).astype(np.float32)
        b = rng.standard_normal(f).astype(np.float32)
        for relu in (False, True):
            o1 = np.full((n, ho // 2, wo // 2, f), np.nan, dtype=np.float32)
            o2 = o1.copy()
            wg.output_transform_pool(M, b, o1, th, tw, relu)
            wg.output_transform_pool_np(M, b, o2, th, tw, relu)
            np.testing.assert_allclose(o1, o2, rtol=0, atol=1e-5)
            assert (o1 >= 0).all() if relu else (o1 < 0).any()


def _direct(monkeypatch, net, X):
    """The reference: every convolution by im2col, every layer on its own (no fusion)."""
    with monkeypatch.context() as m:
        m.setattr(Conv2D, "WINOGRAD_MIN_TILES", 10 ** 12)
        return net.forward(X, inplace=False)


@pytest.mark.parametrize("batch", [1, 64, 300])
def test_fused_evaluation_matches_layer_by_layer(monkeypatch, batch):
    # conv -> ReLU -> padded conv (ReLU in the padded copy) -> max pool 2x2 -> ReLU (pool and ReLU in the
    # output transform), and a conv read by two nodes (no fusion), odd map sizes
    from structsparse import nn

    net = nn.Sequential([nn.Conv2D(6, 3, padding=1), nn.ReLU(), nn.Conv2D(12, 3, padding=1), nn.MaxPool2D(2),
                         nn.ReLU(), nn.Conv2D(8, 3, padding=1), nn.ReLU(), nn.Flatten(), nn.Dense(5)],
                        (9, 7, 2), rng=0)
    g = nn.Graph((6, 6, 3), rng=1)
    a = g.add(nn.Conv2D(8, 3, padding=1))
    r = g.add(nn.ReLU(), a)
    c = g.add(nn.Conv2D(8, 3, padding=1), r)
    p = g.add(nn.MaxPool2D(2), c)
    s = g.add(nn.Add(), [c, a])
    q = g.add(nn.MaxPool2D(2), s)
    j = g.add(nn.Concat(), [p, q])
    g.add(nn.Flatten(), j)
    g.add(nn.Dense(4))
    readers = net._readers()
    assert net._fused_into_convs(readers, net._fused_relus(readers)) == ({"relu1": "conv2d2"},
                                                                         {"conv2d2": "maxpool2d1"})
    readers = g._readers()
    assert g._fused_into_convs(readers, g._fused_relus(readers)) == ({}, {})   # shared activations: no fusion
    rng = np.random.default_rng(6)
    for model in (net, g):
        X = rng.standard_normal((batch,) + model.original_input_shape).astype(np.float32)
        X0 = X.copy()
        ref = _direct(monkeypatch, model, X)
        got = model.forward(X)
        np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-5 * np.abs(ref).max())
        np.testing.assert_allclose(model.forward(X), got, rtol=0, atol=0)   # buffers reused, same result
        assert np.array_equal(X, X0)


@pytest.mark.parametrize("shape, k, stride, padding", [((1, 8, 8, 1), 3, 1, 1), ((3, 9, 7, 3), 3, 2, 0),
                                                       ((2, 6, 6, 2), 5, 1, 2)])
def test_direct_conv_matches_numpy_twin_and_layer(shape, k, stride, padding):
    from structsparse.nn import _direct

    rng = np.random.default_rng(7)
    layer = Conv2D(11, k, stride=stride, padding=padding)
    layer.build(shape[1:], rng)
    layer.params["b"] = rng.standard_normal(11).astype(np.float32)
    x = rng.standard_normal(shape).astype(np.float32)
    xp = np.pad(x, ((0, 0), (padding, padding), (padding, padding), (0, 0)))
    ho, wo = layer.output_shape[:2]
    o1 = np.full((shape[0], ho, wo, 11), np.nan, dtype=np.float32)
    o2 = o1.copy()
    _direct.direct_conv(xp, layer.params["W"], layer.params["b"], o1, stride)
    _direct.direct_conv_np(xp, layer.params["W"], layer.params["b"], o2, stride)
    np.testing.assert_allclose(o1, o2, rtol=1e-5, atol=1e-5)
    ref = layer.linear_forward(x) + layer.params["b"]
    np.testing.assert_allclose(layer.forward(x), ref, rtol=1e-5, atol=1e-5)   # the layer takes this path
    np.testing.assert_allclose(o1, ref, rtol=1e-5, atol=1e-5)
