"""Inference plans (small evaluation batches): kernels against their numpy twins, the planned pass against the
general one (``inplace=False``, layer by layer), and the invalidation of the cached Winograd filter transforms."""

import numpy as np
import pytest

from structsparse import nn
from structsparse.exceptions import ParameterError
from structsparse.nn import _direct, _plan_kernels
from structsparse.nn._plan import NUMBA_ENABLED

needs_numba = pytest.mark.skipif(not NUMBA_ENABLED, reason="plans run numba kernels")


def _reference(net, X):
    """The general evaluation pass, each layer on its own (``inplace=False`` never runs a plan)."""
    return net.forward(X, inplace=False)


def _assert_close(got, ref):
    np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-5 * max(1.0, float(np.abs(ref).max())))


def _plan_of(net, X):
    return net._plans[(X.shape, X.dtype)]


# ---------------------------------------------------------------------------------------------------- kernels
@pytest.mark.parametrize("fn", [_plan_kernels.same_bits, _plan_kernels.same_bits_np])
@pytest.mark.parametrize("shape", [(3, 3, 4, 5), (3, 3, 4, 4)])   # 32-bit and 64-bit words
def test_same_bits_sees_every_single_bit_change(fn, shape):
    rng = np.random.default_rng(0)
    W = rng.standard_normal(shape).astype(np.float32)
    kept = _plan_kernels.words_of(W).copy()
    words = _plan_kernels.words_of(W)
    assert fn(words, kept)
    bits = 8 * words.dtype.itemsize
    for pos in (0, 17, words.size - 1):
        for bit in (0, 13, 31, bits - 1):
            flip = words.dtype.type(1) << words.dtype.type(bit)
            words[pos] ^= flip                     # through the view: W changes in place
            assert not fn(_plan_kernels.words_of(W), kept)
            words[pos] ^= flip
            assert fn(_plan_kernels.words_of(W), kept)
    W[1, 2, 3, 3] = np.nan
    assert fn(_plan_kernels.words_of(W), _plan_kernels.words_of(W).copy())   # NaN equals the same NaN


def test_words_of_is_a_view_or_none():
    W = np.zeros((4, 6), np.float32)
    w = _plan_kernels.words_of(W)
    assert w.dtype == np.uint64 and w.size == 12
    W[2, 3] = 1.5
    assert np.shares_memory(w, W) and w.view(np.float32)[15] == 1.5
    odd = np.zeros((3, 3), np.float32)                   # 36 bytes: 32-bit words
    assert _plan_kernels.words_of(odd).dtype == np.uint32 and _plan_kernels.words_of(odd).size == 9
    assert _plan_kernels.words_of(W[:, ::2]) is None
    assert _plan_kernels.words_of(np.zeros(3, np.float16)) is None


@pytest.mark.parametrize("shape, k, stride, padding, off", [((1, 8, 8, 1), 3, 1, 1, 1), ((2, 9, 7, 3), 3, 2, 0, 0),
                                                            ((2, 6, 6, 2), 5, 1, 2, 2), ((1, 7, 6, 1), 3, 2, 1, 0)])
@pytest.mark.parametrize("relu_in, relu", [(False, False), (False, True), (True, False), (True, True)])
def test_direct_conv_into_matches_numpy_twin_and_leaves_the_border(shape, k, stride, padding, off, relu_in, relu):
    rng = np.random.default_rng(1)
    layer = nn.Conv2D(7, k, stride=stride, padding=padding)
    layer.build(shape[1:], rng)
    layer.params["b"] = rng.standard_normal(7).astype(np.float32)
    x = rng.standard_normal(shape).astype(np.float32)
    x0 = x.copy()
    ho, wo = layer.output_shape[:2]
    o1 = np.full((shape[0], ho + 2 * off, wo + 2 * off, 7), -3.0, dtype=np.float32)
    o2 = o1.copy()
    args = (layer.params["W"], layer.params["b"])
    _direct.direct_conv_into(x, *args, o1, stride, padding, off, relu_in, relu)
    _direct.direct_conv_into_np(x, *args, o2, stride, padding, off, relu_in, relu)
    np.testing.assert_allclose(o1, o2, rtol=1e-5, atol=1e-5)
    assert np.array_equal(x, x0)
    ref = layer.linear_forward(np.maximum(x, 0) if relu_in else x) + layer.params["b"]
    if relu:
        ref = np.maximum(ref, 0)
    inner = o1[:, off:off + ho, off:off + wo]
    np.testing.assert_allclose(inner, ref, rtol=1e-5, atol=1e-5)
    border = np.ones(o1.shape, bool)
    border[:, off:off + ho, off:off + wo] = False
    assert (o1[border] == -3.0).all()


# ---------------------------------------------------------------------------------------------------- the plan
def _nets():
    cnn = nn.small_cnn((32, 64), rng=0)
    # ReLU in the padded copy, Winograd -> pool -> ReLU, Winograd -> ReLU, odd map sizes, strided and 5x5 layers
    odd = nn.Sequential([nn.Conv2D(6, 3, padding=1), nn.ReLU(), nn.Conv2D(12, 3, padding=1), nn.MaxPool2D(2),
                         nn.ReLU(), nn.Conv2D(8, 3, padding=1), nn.ReLU(), nn.Conv2D(5, 5, padding=2),
                         nn.Conv2D(6, 3, stride=2), nn.BatchNorm(), nn.ReLU(), nn.Flatten(), nn.Dense(5)],
                        (9, 7, 2), rng=0)
    # a convolution read by two nodes, a pool with padding, a ReLU read by two, a dense output read by a ReLU
    g = nn.Graph((6, 6, 3), rng=1)
    a = g.add(nn.Conv2D(8, 3, padding=1))
    r = g.add(nn.ReLU(), a)
    g.add(nn.Conv2D(8, 3, padding=1), r)
    c2 = g.add(nn.Conv2D(4, 3, padding=1), a)
    g.add(nn.MaxPool2D(3, stride=2, padding=1), c2)
    g.add(nn.ReLU())
    g.add(nn.Flatten())
    d = g.add(nn.Dense(6))
    g.add(nn.ReLU(), d)
    g.add(nn.Dense(3))   # c1 is read by nobody: computed all the same
    mlp = nn.mlp((16, 8), n_features=12, rng=2)
    # a ReLU of the input read by a direct convolution, a direct convolution writing into another one's input
    firsts = nn.Sequential([nn.ReLU(), nn.Conv2D(3, 3, padding=1), nn.ReLU(), nn.Conv2D(2, 3, stride=2, padding=1),
                            nn.Flatten(), nn.Dense(4)], (7, 7, 1), rng=3)
    return {"small_cnn": cnn, "odd": odd, "branches": g, "mlp": mlp, "firsts": firsts}


@needs_numba
@pytest.mark.parametrize("name", ["small_cnn", "odd", "branches", "mlp", "firsts"])
@pytest.mark.parametrize("batch", [1, 3, 16])
def test_plan_matches_the_layer_by_layer_pass(name, batch):
    net = _nets()[name]
    rng = np.random.default_rng(batch)
    for bn in (n.layer for n in net.nodes if n.layer.kind == "batchnorm"):
        bn.state["mean"] = rng.standard_normal(bn.state["mean"].shape).astype(np.float32)
        bn.state["var"] = rng.random(bn.state["var"].shape, dtype=np.float32) + 0.5
    X = rng.standard_normal((batch,) + net.original_input_shape).astype(np.float32)
    X0 = X.copy()
    got = net.forward(X)
    assert _plan_of(net, X).usable
    _assert_close(got, _reference(net, X))
    again = net.forward(X)
    assert again is not got
    np.testing.assert_array_equal(again, got)    # buffers reused, the same result, a fresh array
    got[...] = 0
    np.testing.assert_array_equal(net.forward(X), again)
    assert np.array_equal(X, X0)                 # the caller's array is not modified
    for cv in _plan_of(net, X)._convs:           # padded buffers: written inside their border only
        if cv.xp is not None:
            outside = np.ones(cv.xp.shape, bool)
            h, w = cv.layer.input_shape[:2]
            outside[:, cv.off:cv.off + h, cv.off:cv.off + w] = False
            assert not cv.xp[outside].any()


@needs_numba
def test_plan_fuses_what_it_should_on_the_digits_cnn():
    net = nn.small_cnn((32, 64), rng=0)
    from structsparse.nn.speed import fold_batchnorm

    net = fold_batchnorm(net)
    X = np.zeros((1, 8, 8, 1), np.float32)
    net.forward(X)
    plan = _plan_of(net, X)
    # conv 1 (direct, ReLU, into conv 2's padded buffer), conv 2 (Winograd, pool, ReLU), flatten, dense
    assert len(plan.steps) == 4


@needs_numba
def test_plan_float64_and_input_selection():
    net = nn.small_cnn((4, 6), input_shape=(6, 6, 2), rng=3).astype(np.float64)
    net.original_input_shape = (6, 6, 3)   # the network reads channels 0 and 2 of its input
    net.input_index = np.array([0, 2])
    X = np.random.default_rng(4).standard_normal((2, 6, 6, 3))
    got = net.forward(X)
    assert got.dtype == np.float64 and _plan_of(net, X[..., :2]).usable
    _assert_close(got, _reference(net, X))


@needs_numba
@pytest.mark.parametrize("change", ["scale in place", "one entry in place", "replace the array", "bias in place",
                                    "dense weights in place", "new params dict", "optimizer step"])
def test_a_changed_weight_changes_the_output(change):
    net = nn.small_cnn((8, 16), rng=5)
    X = np.random.default_rng(6).standard_normal((1, 8, 8, 1)).astype(np.float32)
    before = net.forward(X)
    conv2 = net.nodes[3].layer
    assert conv2.kind == "conv2d" and conv2.input_shape[2] >= conv2.WINOGRAD_MIN_CHANNELS  # Winograd, cached
    if change == "scale in place":
        conv2.params["W"] *= 2
    elif change == "one entry in place":
        conv2.params["W"][1, 1, 0, 3] += 10.0
    elif change == "replace the array":
        conv2.params["W"] = np.flip(conv2.params["W"], axis=3).copy()
    elif change == "bias in place":
        conv2.params["b"][:] = 1.0
    elif change == "new params dict":
        for n in net.nodes:
            if n.layer.params:
                n.layer.params = {k: v * 1.5 for k, v in n.layer.params.items()}
    elif change == "dense weights in place":     # kept transposed at batch 1
        net.nodes[-1].layer.params["W"][:, 3] += 1.0
    else:
        y = np.array([3])
        nn.train(net, np.repeat(X, 4, axis=0), np.repeat(y, 4), epochs=1, lr=0.5, progress=False)
    after = net.forward(X)
    assert np.abs(after - before).max() > 1e-3
    _assert_close(after, _reference(net, X))


@needs_numba
def test_structure_changes_rebuild_the_plan():
    net = nn.small_cnn((8, 16), rng=7)
    X = np.random.default_rng(8).standard_normal((1, 8, 8, 1)).astype(np.float32)
    net.forward(X)
    plan = _plan_of(net, X)
    copy = net.copy()
    assert "_plans" not in copy.__dict__
    # a node's layer replaced by a smaller one: the old plan no longer fits
    old = net.nodes[-1].layer
    new = nn.Dense(4)
    new.build(old.input_shape, np.random.default_rng(0))
    net.nodes[-1].layer = new
    assert not plan.fits(net)
    out = net.forward(X)
    assert out.shape == (1, 4) and _plan_of(net, X) is not plan
    _assert_close(out, _reference(net, X))
    _assert_close(copy.forward(X), _reference(copy, X))


@needs_numba
def test_backward_needs_a_pass_that_kept_its_caches():
    net = nn.small_cnn((4, 8), rng=9)
    X = np.random.default_rng(10).standard_normal((2, 8, 8, 1)).astype(np.float32)
    net.forward(X)
    with pytest.raises(ParameterError, match="inplace=False"):
        net.backward(np.ones((2, 10), np.float32))
    net.forward(X, inplace=False)
    net.backward(np.ones((2, 10), np.float32))
    assert net.nodes[0].layer.grads["W"].shape == net.nodes[0].layer.params["W"].shape


def test_graphs_with_other_layers_run_the_general_pass():
    g = nn.Graph((5, 5, 2), rng=11)
    a = g.add(nn.Conv2D(4, 3, padding=1))
    b = g.add(nn.Conv2D(4, 3, padding=1), "input")
    g.add(nn.Add(), [a, b])
    g.add(nn.GlobalAvgPool2D())
    g.add(nn.Dense(3))
    X = np.random.default_rng(12).standard_normal((1, 5, 5, 2)).astype(np.float32)
    _assert_close(g.forward(X), _reference(g, X))
    assert not _plan_of(g, X).usable
    # larger batches never plan
    X = np.random.default_rng(13).standard_normal((g.PLAN_MAX_SAMPLES + 1, 5, 5, 2)).astype(np.float32)
    _assert_close(g.forward(X), _reference(g, X))
    assert (X.shape, X.dtype) not in g._plans


@needs_numba
def test_plan_agrees_with_onnxruntime_at_batch_one():
    pytest.importorskip("onnx")
    ort = pytest.importorskip("onnxruntime")
    from structsparse.nn.onnx_io import nchw
    from structsparse.nn.speed import fold_batchnorm

    net = fold_batchnorm(nn.small_cnn((32, 64), rng=14))
    model = nn.to_onnx(net, softmax=False)
    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    X = np.random.default_rng(15).random((1, 8, 8, 1), dtype=np.float32)
    ref = sess.run(None, {sess.get_inputs()[0].name: nchw(X)})[0]
    got = net.forward(X)
    assert _plan_of(net, X).usable
    _assert_close(got, ref)


@pytest.mark.filterwarnings("error")
def test_check_input_fast_path_still_rejects_what_the_full_check_rejects():
    from structsparse.exceptions import ShapeError

    net = nn.small_cnn((4, 8), rng=16)
    X = np.random.default_rng(17).standard_normal((1, 8, 8, 1)).astype(np.float32)
    assert net.check_input(X) is X                       # the right dtype and shape: no copy
    for bad in (np.nan, np.inf, -np.inf):
        Y = X.copy()
        Y[0, 3, 4, 0] = bad
        with pytest.raises(ShapeError, match="finite"):
            net.forward(Y)
    big = np.full((2, 8, 8, 1), 3e38, np.float32)        # finite, its sum too large for float32: accepted
    assert net.check_input(big) is big
    with pytest.raises(ShapeError, match="shape"):
        net.forward(X[:, :7])
    assert net.check_input(X.astype(np.float64)).dtype == np.float32


@needs_numba
def test_plan_reads_strided_inputs():
    net = _nets()["firsts"]
    base = np.random.default_rng(18).standard_normal((2, 7, 7, 1)).astype(np.float32)
    X = base[:, ::-1, :, :]                              # a reversed view: not C-contiguous
    _assert_close(net.forward(X), _reference(net, np.ascontiguousarray(X)))


def test_unchecked_input_of_another_shape_gets_the_general_pass_error():
    from structsparse.exceptions import ShapeError

    net = nn.small_cnn((4, 8), rng=19)
    with pytest.raises(ShapeError, match="Conv2D"):
        net.forward(np.zeros((1, 9, 9, 1), np.float32), check=False)
