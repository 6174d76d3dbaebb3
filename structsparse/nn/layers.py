"""Layers of a numpy network: forward, backward and the hooks that surgery uses.

Conventions
-----------
- Images are NHWC: a batch has shape ``(N, H, W, C)``; vectors are ``(N, F)``.
  The channel (or feature, or unit) axis is always the last one, and it is
  the axis that structured pruning removes entries from.
- Parameters are float32 by default (``Layer.astype`` switches a layer to
  float64 for finite-difference checks); gradients have the parameters' dtype.
- ``forward(x, train)`` caches what ``backward(dout)`` needs; ``backward``
  fills ``grads`` and returns the gradient with respect to the input.
- FLOPs count a multiply-add as 2 and an elementwise operation as 1, per sample.

Surgery hooks (used by :mod:`structsparse.nn.surgery`): ``dead_out`` says
which output channels are identically zero whatever the input, given which
input channels are; ``request_in`` says which input channels the kept output
channels depend on; ``sliced`` returns a smaller copy keeping the given
input and output channels.
"""

import numpy as np

from .._validation import check_int, check_rng, check_scalar
from ..exceptions import ShapeError
from . import _direct, _winograd
from ._im2col import col2im, conv_output_size, im2col, pad_nhwc, windows

__all__ = [
    "Layer", "Dense", "Conv2D", "ReLU", "MaxPool2D", "AvgPool2D", "GlobalAvgPool2D",
    "Flatten", "BatchNorm", "SqueezeExcite", "Concat", "Add", "LAYER_TYPES",
]

DTYPE = np.float32


def _norms_over(arr, axes):
    """Euclidean norms of ``arr`` over ``axes`` (float64)."""
    a = np.asarray(arr, dtype=np.float64)
    return np.sqrt((a * a).sum(axis=axes)) if a.size else np.zeros(a.shape[-1])


class Layer:
    """Base class. Subclasses store their configuration in ``__init__``, create
    parameters in ``build`` and implement ``forward`` / ``backward``."""

    kind = "layer"
    role = "passer"      # producer | passer | flatten | concat | gate
    n_inputs = 1
    inplace_ok = False   # has forward_inplace(x) for evaluation when nothing else reads x
    reuses_output = False  # has forward_reusing(x): evaluation output in a buffer reused by the next call

    def __init__(self):
        self.params = {}
        self.grads = {}
        self.state = {}          # non-trainable arrays (batch-norm running statistics)
        self.input_shape = None  # per-sample shape(s)
        self.output_shape = None
        self._cache = None

    # ------------------------------------------------------------------ construction
    def build(self, input_shape, rng):
        """Create parameters for a per-sample ``input_shape`` drawn from ``rng`` (None, int or Generator);
        return the output shape."""
        self.input_shape = tuple(input_shape)
        self.output_shape = self._output_shape(self.input_shape)
        self._init_params(check_rng(rng, owner=f"{type(self).__name__}.build"))
        return self.output_shape

    def _output_shape(self, input_shape):
        return input_shape

    def _init_params(self, rng):
        pass

    def config(self):
        """JSON-serialisable configuration (what ``__init__`` needs)."""
        return {}

    def astype(self, dtype):
        """Cast parameters and state to ``dtype`` in place; return self."""
        for d in (self.params, self.state):
            for k in d:
                d[k] = d[k].astype(dtype)
        self.grads = {}
        return self

    def _check_input(self, x):
        if x.shape[1:] != self.input_shape:
            raise ShapeError(
                f"{type(self).__name__} expects inputs of per-sample shape {self.input_shape}. "
                f"Got {x.shape[1:]}."
            )

    # ------------------------------------------------------------------ computation
    def forward(self, x, train=False):
        raise NotImplementedError

    def backward(self, dout):
        raise NotImplementedError

    def flops(self):
        """FLOPs per sample (multiply-add = 2)."""
        return int(np.prod(self.output_shape))

    @property
    def n_channels(self):
        return self.output_shape[-1]

    # ------------------------------------------------------------------ surgery hooks
    def dead_out(self, dead_in, tol):
        """Output channels that are zero for every input, given the dead input channels.

        Parameters
        ----------
        dead_in : ndarray of bool
            The input channels known to be zero.
        tol : float
            Zero threshold: a weight group whose norm is at most ``tol`` counts as zero.

        Returns
        -------
        ndarray of bool
        """
        return dead_in.copy()

    def request_in(self, req_out, dead_out, dead_in, tol):
        """Input channels that must exist for the requested output channels.

        Channelwise layers need their input channel whenever the output
        channel is requested (even a zero one: a later batch norm may turn it
        into a nonzero constant); weighted layers skip dead inputs, since a
        zero channel adds nothing to them.

        Parameters
        ----------
        req_out : ndarray of bool
            The output channels a later layer reads.
        dead_out, dead_in : ndarray of bool
            The output and input channels known to be zero.
        tol : float
            Zero threshold: a weight whose norm is at most ``tol`` counts as zero.

        Returns
        -------
        ndarray of bool
        """
        return req_out.copy()

    def sliced(self, in_keep, out_keep):
        """A copy keeping input channels ``in_keep`` and output channels ``out_keep`` (bool masks)."""
        new = type(self)(**self.config())
        new.params = {k: v.copy() for k, v in self.params.items()}
        new.state = {k: v.copy() for k, v in self.state.items()}
        shape = tuple(self.input_shape[:-1]) + (int(in_keep.sum()),)
        new.input_shape = shape
        new.output_shape = new._output_shape(shape)
        return new

    def channel_importance(self):
        """Norm of the parameters of each output channel (producers), used by ``min_keep``."""
        return np.zeros(self.n_channels)


# ====================================================================== producers
class Dense(Layer):
    """Fully connected layer ``y = x @ W + b`` with ``W`` of shape ``(in, units)``.

    Inputs are flat, ``(N, in)``; outputs are ``(N, units)``. ``W`` is
    initialised with He scaling (standard deviation ``sqrt(2 / in)``) and
    ``b`` with zeros, both float32.

    Parameters
    ----------
    units : int
        Number of output units (at least 1): the width of ``b`` and the
        number of columns of ``W``.
    """

    kind = "dense"
    role = "producer"

    def __init__(self, units):
        super().__init__()
        self.units = check_int(units, "units", low=1, owner="Dense")

    def config(self):
        return {"units": self.units}

    def _output_shape(self, input_shape):
        if len(input_shape) != 1:
            raise ShapeError(f"Dense expects flat per-sample inputs (F,). Got {input_shape}; add a Flatten layer.")
        return (self.units,)

    def _init_params(self, rng):
        fan_in = self.input_shape[0]
        self.params["W"] = (rng.standard_normal((fan_in, self.units)) * np.sqrt(2.0 / max(fan_in, 1))).astype(DTYPE)
        self.params["b"] = np.zeros(self.units, dtype=DTYPE)

    def forward(self, x, train=False):
        self._check_input(x)
        self._cache = x
        return x @ self.params["W"] + self.params["b"]

    def backward(self, dout):
        x = self._cache
        self.grads["W"] = x.T @ dout
        self.grads["b"] = dout.sum(axis=0)
        return dout @ self.params["W"].T

    def flops(self):
        return 2 * self.input_shape[0] * self.units + self.units

    def dead_out(self, dead_in, tol):
        w = self.params["W"][~dead_in]
        norm = np.sqrt(_norms_over(w, 0) ** 2 + self.params["b"].astype(np.float64) ** 2)
        return norm <= tol

    def request_in(self, req_out, dead_out, dead_in, tol):
        live = req_out & ~dead_out
        return (_norms_over(self.params["W"][:, live], 1) > tol) & ~dead_in if live.any() else np.zeros_like(dead_in)

    def sliced(self, in_keep, out_keep):
        new = Dense(int(out_keep.sum()))
        new.params = {"W": self.params["W"][in_keep][:, out_keep].copy(), "b": self.params["b"][out_keep].copy()}
        new.input_shape = (int(in_keep.sum()),)
        new.output_shape = (new.units,)
        return new

    def channel_importance(self):
        return np.sqrt(_norms_over(self.params["W"], 0) ** 2 + self.params["b"].astype(np.float64) ** 2)


class Conv2D(Layer):
    """2-D convolution by im2col, NHWC, weights ``(kh, kw, Cin, Cout)``.

    The patch matrix lives in a buffer the layer keeps and reuses from one
    call to the next (as does the output of evaluation passes inside a
    graph), so call ``backward`` before the next ``forward`` of the same layer.
    Evaluation (``train=False``) picks the fastest of three exact evaluations
    of the same function: Winograd F(2x2, 3x3) for 3x3 stride-1 layers on at
    least ``WINOGRAD_MIN_TILES`` 2x2 output tiles, a direct kernel for layers
    with fewer than 4 input channels on at most ``DIRECT_MAX_PIXELS`` output
    pixels, im2col otherwise (results agree to float32 rounding, about 1e-6
    relative; FLOP counts are those of the direct convolution).

    Parameters
    ----------
    filters : int
        Number of output channels.
    kernel_size : int
    stride : int
    padding : int
        Zero padding on each side of both spatial axes.
    """

    kind = "conv2d"
    role = "producer"

    def __init__(self, filters, kernel_size=3, stride=1, padding=0):
        super().__init__()
        self.filters = check_int(filters, "filters", low=1, owner="Conv2D")
        self.kernel_size = check_int(kernel_size, "kernel_size", low=1, owner="Conv2D")
        self.stride = check_int(stride, "stride", low=1, owner="Conv2D")
        self.padding = check_int(padding, "padding", low=0, owner="Conv2D")

    def config(self):
        return {"filters": self.filters, "kernel_size": self.kernel_size,
                "stride": self.stride, "padding": self.padding}

    def _output_shape(self, input_shape):
        if len(input_shape) != 3:
            raise ShapeError(f"Conv2D expects per-sample inputs (H, W, C). Got {input_shape}.")
        h, w, _ = input_shape
        k, s, p = self.kernel_size, self.stride, self.padding
        ho, wo = conv_output_size(h, k, s, p), conv_output_size(w, k, s, p)
        if ho < 1 or wo < 1:
            raise ShapeError(f"Conv2D kernel {k} with padding {p} does not fit inputs of size {h}x{w}.")
        return (ho, wo, self.filters)

    def _init_params(self, rng):
        k, cin = self.kernel_size, self.input_shape[2]
        fan_in = k * k * cin
        self.params["W"] = (rng.standard_normal((k, k, cin, self.filters)) * np.sqrt(2.0 / fan_in)).astype(DTYPE)
        self.params["b"] = np.zeros(self.filters, dtype=DTYPE)

    def _padded(self, x):
        """``x`` zero-padded, in a buffer the layer reuses: its border is zeroed once and never
        written, each call copies only the interior (no allocation, no page faults)."""
        p = self.padding
        if p == 0:
            return x
        n, h, w, c = x.shape
        key = (h, w, c, x.dtype)
        held = getattr(self, "_pad_buffer", None)
        if held is None or held[0] != key or held[1].shape[0] < n:
            held = self._pad_buffer = (key, np.zeros((n, h + 2 * p, w + 2 * p, c), dtype=x.dtype))
        xp = held[1][:n]
        xp[:, p:p + h, p:p + w, :] = x
        return xp

    def linear_forward(self, x):
        """The convolution without bias (the operator a dot-test checks)."""
        k = self.kernel_size
        cols, ho, wo = im2col(x, k, k, self.stride, self.padding)
        w = self.params["W"].reshape(-1, self.filters)
        return (cols @ w).reshape(x.shape[0], ho, wo, self.filters)

    def linear_adjoint(self, dout, x_shape):
        """Adjoint of :meth:`linear_forward` with respect to the input."""
        k = self.kernel_size
        w = self.params["W"].reshape(-1, self.filters)
        dcols = dout.reshape(-1, self.filters) @ w.T
        return col2im(dcols, x_shape, k, k, self.stride, self.padding)

    # evaluation works through the batch in blocks whose patch rows and output rows fill about this many
    # bytes: the block's patch matrix is written and read back by the product, and its output gets its bias,
    # while they are still in the L2 cache (one patch matrix for a whole batch of 256 digits is 19 MB, and
    # writing it then streaming it back through the product cost more than the copy itself)
    BLOCK_BYTES = 1 << 20

    def _eval_plan(self, x):
        """Buffers and strided views for the evaluation of batches of ``x``'s shape (built once per shape).

        The views are the patch copy of each block (one ``copyto`` of ``N * Ho * Wo * kh`` runs of
        ``kw * C`` contiguous numbers, each run one opaque element) and its product's output rows.
        """
        n, h, w, c = x.shape
        key = (id(self), x.shape, x.dtype)  # a copy of the layer (copy.copy) builds its own buffers
        plans = getattr(self, "_plans", None)
        if plans is None or plans.get("owner") != id(self):
            plans = self._plans = {"owner": id(self)}
        plan = plans.get(key)
        if plan is not None:
            return plan
        k, s, p = self.kernel_size, self.stride, self.padding
        ho, wo = self.output_shape[0], self.output_shape[1]
        width = k * k * c
        item = x.dtype.itemsize
        per_sample = ho * wo * (width + self.filters) * item   # a block's patches and its output rows
        bs = int(max(1, min(n, self.BLOCK_BYTES // max(per_sample, 1))))
        few = c < 4
        if few:
            # few channels (a first layer): one block, column-major patches with a ones column (see below)
            bs, width_buf = n, width + 1
        else:
            width_buf = width
        if p:
            xp = np.zeros((n, h + 2 * p, w + 2 * p, c), dtype=x.dtype)  # the border stays zero
        else:
            xp = None
        cols = np.empty(bs * ho * wo * width_buf, dtype=x.dtype)
        out = np.empty((n * ho * wo, self.filters), dtype=x.dtype)
        run = k * c * item
        vtype = np.dtype((np.void, run))
        blocks = []
        for start in range(0, n, bs):
            m = min(bs, n - start)
            buf = cols[:m * ho * wo * width]
            row = width * item
            dst = np.ndarray((m, ho, wo, k), dtype=vtype, buffer=buf, strides=(ho * wo * row, wo * row, row, run))
            blocks.append((start, m, dst, buf.reshape(m * ho * wo, width),
                           out[start * ho * wo:(start + m) * ho * wo]))
        if len(plans) > 4:  # a few batch shapes (a chunked pass: full chunks and the remainder), not more
            for old in [k_ for k_ in plans if k_ != "owner"][:-2]:
                del plans[old]
        plan = plans[key] = {"key": key, "xp": xp, "blocks": blocks, "out": out, "cols": cols}
        self._plan = plan
        return plan

    # Winograd F(2x2, 3x3) (see _winograd) for 3x3 stride-1 layers of at least this many input channels, on
    # batches of at least this many 2x2 output tiles. It saves about 20 * tiles * Cin * Cout multiply-adds and its
    # filter transform costs 144 * Cin * Cout: below ~32 tiles the transform and the per-call overheads win
    # (measured on the digits CNN's 32 -> 64 layer: 1 sample (16 tiles) 31 vs 34 us, 4 samples 72 vs 107 us,
    # 16 samples 242 vs 409 us, 256 samples 4.5 vs 6.8 ms, against im2col)
    WINOGRAD_MIN_CHANNELS = 4
    WINOGRAD_MIN_TILES = 32
    # layers with fewer than 4 input channels run the direct numba kernel (see _direct) up to this many output
    # pixels per call (digits CNN first layer: 5 against 19 us at 64 pixels, 655 against 250 us at 16384)
    DIRECT_MAX_PIXELS = 1024

    def _winograd_ok(self, x):
        n, h, w, c = x.shape
        ho, wo = self.output_shape[0], self.output_shape[1]
        return (_winograd.NUMBA_ENABLED and self.kernel_size == 3 and self.stride == 1
                and c >= self.WINOGRAD_MIN_CHANNELS
                and n * ((ho + 1) // 2) * ((wo + 1) // 2) >= self.WINOGRAD_MIN_TILES)

    def _winograd_plan(self, x):
        """Buffers for Winograd evaluation of batches of ``x``'s shape (built once per shape)."""
        n, h, w, c = x.shape
        key = ("winograd", id(self), x.shape, x.dtype)
        plans = getattr(self, "_plans", None)
        if plans is None or plans.get("owner") != id(self):
            plans = self._plans = {"owner": id(self)}
        plan = plans.get(key)
        if plan is not None:
            return plan
        p, f = self.padding, self.filters
        ho, wo = self.output_shape[0], self.output_shape[1]
        th, tw = (ho + 1) // 2, (wo + 1) // 2
        # zero border (and the extra row/column of odd outputs) written once; each call fills the interior
        xp = np.zeros((n, 2 * th + 2, 2 * tw + 2, c), dtype=x.dtype)
        per_sample = 16 * th * tw * (c + f) * x.dtype.itemsize   # a block's V and M
        bs = int(max(1, min(n, (2 * self.BLOCK_BYTES) // max(per_sample, 1))))
        # flat: each block views a prefix as a C-contiguous (16, rows, C) array (a strided view would keep the
        # kernels from vectorizing over channels)
        V = np.empty(16 * bs * th * tw * c, dtype=x.dtype)
        M = np.empty(16 * bs * th * tw * f, dtype=x.dtype)
        out = np.empty((n, ho, wo, f), dtype=x.dtype)
        if len(plans) > 4:
            for old in [k_ for k_ in plans if k_ != "owner"][:-2]:
                del plans[old]
        plan = plans[key] = {"xp": xp, "V": V, "M": M, "out": out, "bs": bs, "th": th, "tw": tw}
        return plan

    def _forward_winograd(self, x, reuse, relu_input=False, pool_relu=None):
        """Evaluation forward by Winograd F(2x2, 3x3): per block of samples, input transform, 16 products, output
        transform with the bias (and, with ``pool_relu`` not None, a following 2x2 max pool, with a ReLU when
        True: see :meth:`forward_pooled`). ``relu_input`` applies a ReLU to ``x`` in the padded copy."""
        plan = self._winograd_plan(x)
        n, h, w, c = x.shape
        p, f = self.padding, self.filters
        th, tw, bs = plan["th"], plan["tw"], plan["bs"]
        xp = plan["xp"]
        if relu_input:
            np.maximum(x, 0, out=xp[:, p:p + h, p:p + w, :])
        else:
            xp[:, p:p + h, p:p + w, :] = x
        U = _winograd.filter_transform(self.params["W"].astype(x.dtype, copy=False))
        b = self.params["b"].astype(x.dtype, copy=False)
        if pool_relu is None:
            out = plan["out"]
        else:
            ho, wo = self.output_shape[0], self.output_shape[1]
            held = plan.get("pooled")
            if held is None:
                held = plan["pooled"] = np.empty((n, ho // 2, wo // 2, f), dtype=x.dtype)
            out = held
        for start in range(0, n, bs):
            m = min(bs, n - start)
            rows = m * th * tw
            V = plan["V"][:16 * rows * c].reshape(16, rows, c)
            M = plan["M"][:16 * rows * f].reshape(16, rows, f)
            _winograd.input_transform(xp[start:start + m], V, th, tw)
            np.matmul(V, U, out=M)
            if pool_relu is None:
                _winograd.output_transform(M, b, out[start:start + m], th, tw)
            else:
                _winograd.output_transform_pool(M, b, out[start:start + m], th, tw, bool(pool_relu))
        self._cache = ("eval", x)
        return out if reuse else out.copy()

    def fuses_pool(self, x, pool):
        """Whether an evaluation pass on ``x`` can compute ``pool(self(x))`` in one step (:meth:`forward_pooled`):
        Winograd evaluation applies (:attr:`WINOGRAD_MIN_TILES`) and ``pool`` is a 2x2, stride-2 max pool without
        padding (each 2x2 output tile is one pooling window)."""
        return (getattr(pool, "kind", None) == "maxpool2d" and pool.size == 2 and pool.stride == 2
                and pool.padding == 0 and self._winograd_ok(x))

    def forward_pooled(self, x, relu=False, relu_input=False):
        """Evaluation: ``maxpool2x2(self(x))`` (``relu(...)`` of it when ``relu``) without writing the conv output.

        Only when :meth:`fuses_pool` holds. The result is a buffer the layer reuses (as with
        :meth:`forward_reusing`). ``relu_input`` applies a ReLU to ``x`` first (in the padded copy).
        """
        return self._forward_winograd(x, True, relu_input=relu_input, pool_relu=bool(relu))

    def _forward_eval(self, x, reuse, relu_input=False):
        """Evaluation forward: blocked im2col into a reused buffer, one product per block, bias in place.

        ``relu_input`` (padded layers only) applies a ReLU to ``x`` in the padded copy, a pass saved."""
        if self._winograd_ok(x):
            return self._forward_winograd(x, reuse, relu_input=relu_input)
        plan = self._eval_plan(x)
        n, h, w, c = x.shape
        k, s, p = self.kernel_size, self.stride, self.padding
        ho, wo = self.output_shape[0], self.output_shape[1]
        xp = plan["xp"]
        if xp is None:
            xp = np.maximum(x, 0) if relu_input else np.ascontiguousarray(x)
        elif relu_input:
            np.maximum(x, 0, out=xp[:, p:p + h, p:p + w, :])
        else:
            xp[:, p:p + h, p:p + w, :] = x
        sn, sh, sw, _ = xp.strides
        vtype = plan["blocks"][0][2].dtype
        W = self.params["W"].reshape(-1, self.filters)
        if W.dtype != x.dtype:
            W = W.astype(x.dtype)
        if c < 4 and n * ho * wo <= self.DIRECT_MAX_PIXELS and _direct.NUMBA_ENABLED:
            # few channels and few pixels (a first layer on a handful of samples): the direct kernel
            out = plan["out"].reshape(n, ho, wo, self.filters)
            _direct.direct_conv(xp, self.params["W"].astype(x.dtype, copy=False),
                                self.params["b"].astype(x.dtype, copy=False), out, s)
            self._cache = ("eval", x)
            return out if reuse else out.copy()
        if c < 4:
            # few channels (a first layer): one strided copy per kernel offset and channel into a
            # column-major patch matrix (beats copying runs of kw * C numbers), with a ones column so
            # that the product with [W; b] (a few rows, cheap to build) adds the bias
            cols, _, _ = im2col(xp, k, k, s, 0, out=plan["cols"], ones_column=True)
            w_aug = np.concatenate([W, self.params["b"].astype(x.dtype, copy=False)[None, :]])
            np.matmul(cols, w_aug, out=plan["out"])
            blocks = ()
        else:
            blocks = plan["blocks"]
            # the bias tiled over a sample's output pixels: adding it row by row (inner loops of F numbers)
            # cost as much as the first layer's product
            b = np.tile(self.params["b"].astype(x.dtype, copy=False), ho * wo)
        for start, m, dst, cols, out in blocks:
            src = np.ndarray((m, ho, wo, k), dtype=vtype, buffer=xp, offset=start * sn,
                             strides=(sn, s * sh, s * sw, sh))
            np.copyto(dst, src)
            np.matmul(cols, W, out=out)
            per_sample = out.reshape(m, -1)
            np.add(per_sample, b, out=per_sample)
        out = plan["out"] if reuse else plan["out"].copy()
        self._cache = ("eval", x)  # backward (rare after evaluation) recomputes the patches
        return out.reshape(n, ho, wo, self.filters)

    def forward(self, x, train=False, _reuse=False):
        self._check_input(x)
        if not train:
            return self._forward_eval(x, _reuse)
        k = self.kernel_size
        ho, wo = self.output_shape[0], self.output_shape[1]
        # patches with a ones column times [W; b]: the bias rides in the matrix product
        size = x.shape[0] * ho * wo * (k * k * x.shape[3] + 1)
        buf = getattr(self, "_workspace", None)
        if buf is None or buf.size < size or buf.dtype != x.dtype:
            buf = self._workspace = np.empty(size, dtype=x.dtype)  # reused by later batches no larger
        cols, ho, wo = im2col(x, k, k, self.stride, self.padding, out=buf, ones_column=True,
                              padded=self._padded(x))
        w_aug = np.concatenate([self.params["W"].reshape(-1, self.filters), self.params["b"][None, :]])
        self._cache = (cols, x.shape)
        return (cols @ w_aug).reshape(x.shape[0], ho, wo, self.filters)

    reuses_output = True

    def forward_reusing(self, x, relu_input=False):
        """Evaluation forward writing into a buffer kept by the layer and reused by the next call.

        A fresh 10-100 MB output costs page faults on every call, a large share
        of the time once pruning has shrunk the product. The graph calls this
        only for activations that are consumed within the same forward pass
        (never for its output). ``relu_input=True`` computes ``self(relu(x))``,
        the ReLU applied while ``x`` is copied into the padded buffer.
        """
        if relu_input:
            self._check_input(x)
            return self._forward_eval(x, True, relu_input=True)
        return self.forward(x, train=False, _reuse=True)

    def backward(self, dout):
        if self._cache is not None and isinstance(self._cache[0], str):
            # after an evaluation pass: the patches of the whole batch, with the ones column
            x = self._cache[1]
            k = self.kernel_size
            cols, _, _ = im2col(x, k, k, self.stride, self.padding, ones_column=True)
            self._cache = (cols, x.shape)
        cols, x_shape = self._cache
        d2 = dout.reshape(-1, self.filters)
        g = cols.T @ d2                      # last row: the bias gradient (ones column)
        self.grads["W"] = g[:-1].reshape(self.params["W"].shape)
        self.grads["b"] = g[-1].copy()
        return self.linear_adjoint(dout, x_shape)

    def flops(self):
        ho, wo, _ = self.output_shape
        k, cin = self.kernel_size, self.input_shape[2]
        return ho * wo * self.filters * (2 * k * k * cin + 1)

    def dead_out(self, dead_in, tol):
        w = self.params["W"][:, :, ~dead_in, :]
        norm = np.sqrt(_norms_over(w, (0, 1, 2)) ** 2 + self.params["b"].astype(np.float64) ** 2)
        return norm <= tol

    def request_in(self, req_out, dead_out, dead_in, tol):
        live = req_out & ~dead_out
        if not live.any():
            return np.zeros_like(dead_in)
        return (_norms_over(self.params["W"][..., live], (0, 1, 3)) > tol) & ~dead_in

    def sliced(self, in_keep, out_keep):
        new = Conv2D(int(out_keep.sum()), self.kernel_size, self.stride, self.padding)
        new.params = {"W": self.params["W"][:, :, in_keep][..., out_keep].copy(),
                      "b": self.params["b"][out_keep].copy()}
        new.input_shape = self.input_shape[:2] + (int(in_keep.sum()),)
        new.output_shape = self.output_shape[:2] + (new.filters,)
        return new

    def channel_importance(self):
        return np.sqrt(_norms_over(self.params["W"], (0, 1, 2)) ** 2 + self.params["b"].astype(np.float64) ** 2)


# ====================================================================== channelwise
class ReLU(Layer):
    """Rectified linear unit (``relu(0) = 0``, so dead channels stay dead)."""

    kind = "relu"
    inplace_ok = True

    def forward_inplace(self, x):
        """Evaluation forward that overwrites ``x`` (the graph calls it when nothing else reads ``x``)."""
        self._check_input(x)
        return np.maximum(x, 0, out=x)

    def forward(self, x, train=False):
        self._check_input(x)
        out = np.maximum(x, 0)
        self._cache = out
        return out

    def backward(self, dout):
        return dout * (self._cache > 0)


class _Pool2D(Layer):
    def __init__(self, size=2, stride=None, padding=0):
        super().__init__()
        name = type(self).__name__
        self.size = check_int(size, "size", low=1, owner=name)
        self.stride = self.size if stride is None else check_int(stride, "stride", low=1, owner=name)
        self.padding = check_int(padding, "padding", low=0, owner=name)
        if 2 * self.padding > self.size:
            raise ShapeError(f"The 'padding' of {name} must be at most half its size ({self.size}). Got {self.padding}.")

    def config(self):
        return {"size": self.size, "stride": self.stride, "padding": self.padding}

    def _output_shape(self, input_shape):
        if len(input_shape) != 3:
            raise ShapeError(f"{type(self).__name__} expects per-sample inputs (H, W, C). Got {input_shape}.")
        h, w, c = input_shape
        ho = conv_output_size(h, self.size, self.stride, self.padding)
        wo = conv_output_size(w, self.size, self.stride, self.padding)
        if ho < 1 or wo < 1:
            raise ShapeError(f"{type(self).__name__} of size {self.size} does not fit inputs {h}x{w}.")
        return (ho, wo, c)

    def flops(self):
        return int(np.prod(self.output_shape)) * self.size * self.size


class MaxPool2D(_Pool2D):
    """Max pooling (padding with -inf); the gradient goes to the first maximum of each window.

    Maps ``(N, H, W, C)`` to ``(N, Ho, Wo, C)`` with
    ``Ho = (H + 2 * padding - size) // stride + 1`` (likewise ``Wo``).

    Parameters
    ----------
    size : int, default 2
        Side of the square pooling window (at least 1).
    stride : int or None, default None
        Step between windows (at least 1); None means ``stride = size``
        (non-overlapping windows).
    padding : int, default 0
        Padding with -inf on each side of both spatial axes; at most
        ``size / 2``.
    """

    kind = "maxpool2d"
    reuses_output = True

    def forward_reusing(self, x, relu=False):
        """Evaluation forward into a buffer reused by the next call (see ``Conv2D.forward_reusing``).

        ``relu=True`` returns ``relu(maxpool(x))`` at no extra cost (see :meth:`fuses_relu`).
        """
        return self.forward(x, train=False, _reuse=True, _relu=relu)

    def fuses_relu(self):
        """Whether an evaluation pass can apply a following ReLU inside the pooling.

        ``relu(max(x_1, ..., x_m)) = max(0, x_1, ..., x_m)``: starting the running
        maximum from 0 instead of from the first slice costs nothing and saves
        the ReLU's pass over the pooled map (NaN propagates either way).
        """
        return self.padding == 0

    def forward(self, x, train=False, _reuse=False, _relu=False):
        self._check_input(x)
        k = self.size
        n, h, w, c = x.shape
        if not train and self.padding == 0:
            # evaluation: running maximum over the k*k strided slices (contiguous channel runs,
            # no window copy, no argmax)
            # running maximum over the k*k strided slices into the output; the ReLU, when fused, is the
            # start value (max(0, x_1, ..., x_m)). (A separable pass, rows then columns, makes fewer calls
            # but writes and re-reads a half-size map: slower at batch 256.)
            ho, wo = self.output_shape[0], self.output_shape[1]
            s = self.stride
            shape = (n, ho, wo, c)
            held = getattr(self, "_pool_buffer", None)
            if _reuse:
                if held is None or held[0] != (id(self), x.shape, x.dtype):
                    held = self._pool_buffer = ((id(self), x.shape, x.dtype), np.empty(shape, dtype=x.dtype))
                out = held[1]
            else:
                out = np.empty(shape, dtype=x.dtype)
            if _relu:
                out.fill(0)
            else:
                np.copyto(out, x[:, 0:s * ho:s, 0:s * wo:s, :])
            for i in range(k):
                for j in range(k):
                    if i or j or _relu:
                        np.maximum(out, x[:, i:i + s * ho:s, j:j + s * wo:s, :], out=out)
            self._cache = ("fast", x)
            return out
        xp = pad_nhwc(x, self.padding, value=-np.inf)
        view = windows(xp, k, k, self.stride)                  # (N, Ho, Wo, C, k, k)
        flat = view.reshape(view.shape[:4] + (k * k,))
        arg = flat.argmax(axis=-1)
        out = np.take_along_axis(flat, arg[..., None], axis=-1)[..., 0]
        self._cache = (arg, x.shape)
        return out

    def backward(self, dout):
        if isinstance(self._cache[0], str):  # evaluation fast path kept no argmax: recompute it
            self.forward(self._cache[1], train=True)
        arg, (n, h, w, c) = self._cache
        k, s, p = self.size, self.stride, self.padding
        ho, wo = dout.shape[1], dout.shape[2]
        dxp = np.zeros((n, h + 2 * p, w + 2 * p, c), dtype=dout.dtype)
        for i in range(k):
            for j in range(k):
                dxp[:, i:i + s * ho:s, j:j + s * wo:s, :] += dout * (arg == i * k + j)
        return dxp[:, p:p + h, p:p + w, :] if p else dxp


class AvgPool2D(_Pool2D):
    """Average pooling; zero padding counts in the average (``avg(0) = 0``).

    Maps ``(N, H, W, C)`` to ``(N, Ho, Wo, C)`` with
    ``Ho = (H + 2 * padding - size) // stride + 1`` (likewise ``Wo``); each
    output is the mean of ``size * size`` entries, padded zeros included.

    Parameters
    ----------
    size : int, default 2
        Side of the square pooling window (at least 1).
    stride : int or None, default None
        Step between windows (at least 1); None means ``stride = size``
        (non-overlapping windows).
    padding : int, default 0
        Zero padding on each side of both spatial axes; at most ``size / 2``.
    """

    kind = "avgpool2d"

    def forward(self, x, train=False):
        self._check_input(x)
        k = self.size
        view = windows(pad_nhwc(x, self.padding), k, k, self.stride)
        self._cache = x.shape
        return view.mean(axis=(4, 5)).astype(x.dtype, copy=False)

    def backward(self, dout):
        n, h, w, c = self._cache
        k, s, p = self.size, self.stride, self.padding
        ho, wo = dout.shape[1], dout.shape[2]
        dxp = np.zeros((n, h + 2 * p, w + 2 * p, c), dtype=dout.dtype)
        share = dout / (k * k)
        for i in range(k):
            for j in range(k):
                dxp[:, i:i + s * ho:s, j:j + s * wo:s, :] += share
        return dxp[:, p:p + h, p:p + w, :] if p else dxp


class GlobalAvgPool2D(Layer):
    """Mean over the spatial axes: ``(N, H, W, C) -> (N, C)``."""

    kind = "globalavgpool2d"

    def _output_shape(self, input_shape):
        if len(input_shape) != 3:
            raise ShapeError(f"GlobalAvgPool2D expects per-sample inputs (H, W, C). Got {input_shape}.")
        return (input_shape[2],)

    def forward(self, x, train=False):
        self._check_input(x)
        self._cache = x.shape
        return x.mean(axis=(1, 2))

    def backward(self, dout):
        n, h, w, c = self._cache
        return np.broadcast_to(dout[:, None, None, :] / (h * w), (n, h, w, c)).copy()

    def flops(self):
        return int(np.prod(self.input_shape))


class BatchNorm(Layer):
    """Batch normalisation over the last axis (channels), for ``(N, F)`` or ``(N, H, W, C)``.

    Training mode normalises by the batch statistics and updates the running
    ones; evaluation mode uses the running statistics.

    Parameters
    ----------
    momentum : float, default 0.9
        Weight of the old running statistics in their update, in [0, 1]:
        ``running = momentum * running + (1 - momentum) * batch``.
    eps : float, default 1e-5
        Positive constant added to the variance before its square root.
    """

    kind = "batchnorm"
    inplace_ok = True

    def forward_inplace(self, x):
        """Evaluation forward that overwrites ``x`` (the graph calls it when nothing else reads ``x``)."""
        self._check_input(x)
        inv = (1.0 / np.sqrt(self.state["var"] + self.eps)).astype(x.dtype)
        scale = inv * self.params["gamma"]
        x *= scale
        x += self.params["beta"] - self.state["mean"] * scale
        self._cache = None
        return x

    def __init__(self, momentum=0.9, eps=1e-5):
        super().__init__()
        self.momentum = check_scalar(momentum, "momentum", low=0, high=1, owner="BatchNorm")
        self.eps = check_scalar(eps, "eps", low=0, low_inclusive=False, owner="BatchNorm")

    def config(self):
        return {"momentum": self.momentum, "eps": self.eps}

    def _init_params(self, rng):
        c = self.input_shape[-1]
        self.params["gamma"] = np.ones(c, dtype=DTYPE)
        self.params["beta"] = np.zeros(c, dtype=DTYPE)
        self.state["mean"] = np.zeros(c, dtype=DTYPE)
        self.state["var"] = np.ones(c, dtype=DTYPE)

    def forward(self, x, train=False):
        self._check_input(x)
        axes = tuple(range(x.ndim - 1))
        gamma, beta = self.params["gamma"], self.params["beta"]
        if train:
            mu = x.mean(axis=axes)
            var = x.var(axis=axes)
            m = self.momentum
            self.state["mean"] = (m * self.state["mean"] + (1 - m) * mu).astype(self.state["mean"].dtype)
            self.state["var"] = (m * self.state["var"] + (1 - m) * var).astype(self.state["var"].dtype)
        else:
            mu, var = self.state["mean"], self.state["var"]
            # evaluation: one scale and one shift per channel (two passes over x)
            inv = (1.0 / np.sqrt(var + self.eps)).astype(x.dtype)
            scale = inv * gamma
            out = x * scale
            out += beta - mu * scale
            self._cache = (x, inv, False, axes)  # x, not xhat: computed only if backward is called
            return out
        inv = (1.0 / np.sqrt(var + self.eps)).astype(x.dtype)
        xhat = (x - mu) * inv
        self._cache = (xhat, inv, train, axes)
        return xhat * gamma + beta

    def backward(self, dout):
        if self._cache is None:
            raise RuntimeError("BatchNorm.backward needs a forward pass that kept its input: "
                               "call Graph.forward(X, train=..., inplace=False).")
        xhat, inv, train, axes = self._cache
        gamma = self.params["gamma"]
        if not train:
            xhat = (xhat - self.state["mean"]) * inv
        self.grads["gamma"] = (dout * xhat).sum(axis=axes)
        self.grads["beta"] = dout.sum(axis=axes)
        dxhat = dout * gamma
        if not train:
            return dxhat * inv
        m = dout.size // dout.shape[-1]
        return (inv / m) * (m * dxhat - dxhat.sum(axis=axes) - xhat * (dxhat * xhat).sum(axis=axes))

    def flops(self):
        return 2 * int(np.prod(self.output_shape))

    def dead_out(self, dead_in, tol):
        g = self.params["gamma"].astype(np.float64)
        b = self.params["beta"].astype(np.float64)
        shift = b - g * self.state["mean"] / np.sqrt(self.state["var"].astype(np.float64) + self.eps)
        return (np.hypot(g, b) <= tol) | (dead_in & (np.abs(shift) <= tol))

    def sliced(self, in_keep, out_keep):
        new = super().sliced(in_keep, out_keep)
        new.params = {k: v[in_keep].copy() for k, v in self.params.items()}
        new.state = {k: v[in_keep].copy() for k, v in self.state.items()}
        return new


class Flatten(Layer):
    """``(N, H, W, C) -> (N, H * W * C)`` (C fastest, so feature ``f`` is channel ``f % C``)."""

    kind = "flatten"
    role = "flatten"

    def _output_shape(self, input_shape):
        return (int(np.prod(input_shape)),)

    def forward(self, x, train=False):
        self._check_input(x)
        return x.reshape(x.shape[0], -1)

    def backward(self, dout):
        return dout.reshape((dout.shape[0],) + self.input_shape)

    def flops(self):
        return 0

    def tile(self, channel_mask):
        """Feature mask from a channel mask of the input."""
        return np.tile(channel_mask, int(np.prod(self.input_shape[:-1])))

    def dead_out(self, dead_in, tol):
        return self.tile(dead_in)

    def request_in(self, req_out, dead_out, dead_in, tol):
        return req_out.reshape(-1, self.input_shape[-1]).any(axis=0)


class SqueezeExcite(Layer):
    """Squeeze-and-excitation gate: ``y = x * sigmoid(relu(mean_hw(x) @ W1 + b1) @ W2 + b2)``.

    ``W1`` is ``(C, hidden)`` and ``W2`` is ``(hidden, C)``. After surgery the
    gate may read more channels than it outputs (a channel the gate looks at
    but nothing downstream uses): ``out_index`` then selects the output
    channels among the inputs.

    Parameters
    ----------
    hidden : int, default 4
        Number of hidden units of the gate (at least 1).
    out_index : array_like of int or None, default None
        Indices of the input channels that are gated and output, in output
        order; None outputs every input channel. Maps ``(N, H, W, C)`` to
        ``(N, H, W, len(out_index))``.
    """

    kind = "squeeze_excite"
    role = "gate"

    def __init__(self, hidden=4, out_index=None):
        super().__init__()
        self.hidden = check_int(hidden, "hidden", low=1, owner="SqueezeExcite")
        self.out_index = None if out_index is None else np.asarray(out_index, dtype=np.int64)

    def config(self):
        return {"hidden": self.hidden,
                "out_index": None if self.out_index is None else self.out_index.tolist()}

    def _output_shape(self, input_shape):
        if len(input_shape) != 3:
            raise ShapeError(f"SqueezeExcite expects per-sample inputs (H, W, C). Got {input_shape}.")
        c = input_shape[2] if self.out_index is None else len(self.out_index)
        return input_shape[:2] + (c,)

    def _init_params(self, rng):
        c, r, co = self.input_shape[2], self.hidden, self.output_shape[2]
        self.params["W1"] = (rng.standard_normal((c, r)) * np.sqrt(2.0 / c)).astype(DTYPE)
        self.params["b1"] = np.zeros(r, dtype=DTYPE)
        self.params["W2"] = (rng.standard_normal((r, co)) * np.sqrt(1.0 / r)).astype(DTYPE)
        self.params["b2"] = np.zeros(co, dtype=DTYPE)

    def gate(self, x):
        """The gate values ``(N, C_out)`` for a batch."""
        s = x.mean(axis=(1, 2))
        z = s @ self.params["W1"] + self.params["b1"]
        a = np.maximum(z, 0)
        u = a @ self.params["W2"] + self.params["b2"]
        g = 1.0 / (1.0 + np.exp(-u))
        return g, (s, z, a)

    def forward(self, x, train=False):
        self._check_input(x)
        g, inner = self.gate(x)
        xs = x if self.out_index is None else x[..., self.out_index]
        self._cache = (x, xs, g, inner)
        return xs * g[:, None, None, :]

    def backward(self, dout):
        x, xs, g, (s, z, a) = self._cache
        n, h, w, c = x.shape
        dxs = dout * g[:, None, None, :]
        dg = (dout * xs).sum(axis=(1, 2))
        du = dg * g * (1 - g)
        self.grads["W2"] = a.T @ du
        self.grads["b2"] = du.sum(axis=0)
        da = du @ self.params["W2"].T
        dz = da * (z > 0)
        self.grads["W1"] = s.T @ dz
        self.grads["b1"] = dz.sum(axis=0)
        ds = dz @ self.params["W1"].T
        dx = np.broadcast_to((ds / (h * w))[:, None, None, :], x.shape).copy()
        if self.out_index is None:
            dx += dxs
        else:
            dx[..., self.out_index] += dxs
        return dx

    def flops(self):
        h, w, c = self.input_shape
        co = self.output_shape[2]
        return h * w * c + 4 * c * self.hidden + 3 * co + h * w * co

    def _live_hidden(self, tol):
        w1 = _norms_over(self.params["W1"], 0)
        w2 = _norms_over(self.params["W2"], 1)
        b1 = self.params["b1"].astype(np.float64)
        # a hidden unit whose pre-activation is 0 (relu -> 0) or whose output weights are 0 does nothing
        return ~((np.hypot(w1, b1) <= tol) | (w2 <= tol))

    def dead_out(self, dead_in, tol):
        return dead_in.copy() if self.out_index is None else dead_in[self.out_index]

    def request_in(self, req_out, dead_out, dead_in, tol):
        req = np.zeros(self.input_shape[2], dtype=bool)
        idx = np.arange(self.input_shape[2]) if self.out_index is None else self.out_index
        req[idx] = req_out
        live_h = self._live_hidden(tol)
        if live_h.any():
            req |= (_norms_over(self.params["W1"][:, live_h], 1) > tol) & ~dead_in
        return req

    def sliced(self, in_keep, out_keep):
        """``in_keep`` masks the input channels; ``out_keep`` masks the current output channels."""
        live_h = self._live_hidden(0.0)
        if not live_h.any():
            live_h[0] = True  # keep the gate well formed; a unit with zero weights changes nothing
        in_pos = np.flatnonzero(in_keep)
        cur_out = np.arange(self.input_shape[2]) if self.out_index is None else self.out_index
        kept_out = cur_out[out_keep]
        position = {int(ch): i for i, ch in enumerate(in_pos)}
        new_index = np.array([position[int(ch)] for ch in kept_out], dtype=np.int64)
        identity = len(new_index) == len(in_pos) and np.array_equal(new_index, np.arange(len(in_pos)))
        new = SqueezeExcite(int(live_h.sum()), None if identity else new_index)
        new.params = {"W1": self.params["W1"][in_keep][:, live_h].copy(),
                      "b1": self.params["b1"][live_h].copy(),
                      "W2": self.params["W2"][live_h][:, out_keep].copy(),
                      "b2": self.params["b2"][out_keep].copy()}
        new.input_shape = self.input_shape[:2] + (len(in_pos),)
        new.output_shape = new._output_shape(new.input_shape)
        return new


# ====================================================================== joins
class Concat(Layer):
    """Concatenation along the channel axis of several inputs with equal leading shapes.

    After surgery a concatenation may keep only some channels of an input
    (``select``: one index array per input, or None for all of it): that is
    how a DenseNet connection disappears while its source still feeds others.

    Parameters
    ----------
    select : list of (array_like of int or None) or None, default None
        One entry per input: the channel indices of that input to keep (in
        order), or None to keep all its channels. None keeps every channel
        of every input.
    """

    kind = "concat"
    role = "concat"
    n_inputs = None

    def __init__(self, select=None):
        super().__init__()
        self.select = None if select is None else [None if s is None else np.asarray(s, dtype=np.int64)
                                                   for s in select]

    def config(self):
        return {"select": None if self.select is None else
                [None if s is None else s.tolist() for s in self.select]}

    def build(self, input_shape, rng):
        shapes = [tuple(s) for s in input_shape]
        if len({s[:-1] for s in shapes}) != 1:
            raise ShapeError(f"Concat needs inputs with equal shapes except the last axis. Got {shapes}.")
        self.input_shape = shapes
        self.output_shape = self._output_shape(shapes)
        return self.output_shape

    def _widths(self, shapes):
        if self.select is None:
            return [s[-1] for s in shapes]
        return [s[-1] if sel is None else len(sel) for s, sel in zip(shapes, self.select)]

    def _output_shape(self, shapes):
        return shapes[0][:-1] + (sum(self._widths(shapes)),)

    def forward(self, xs, train=False):
        if len(xs) != len(self.input_shape):
            raise ShapeError(f"Concat expects {len(self.input_shape)} inputs. Got {len(xs)}.")
        parts = []
        for i, x in enumerate(xs):
            if x.shape[1:] != self.input_shape[i]:
                raise ShapeError(f"Concat input {i} must have per-sample shape {self.input_shape[i]}. Got {x.shape[1:]}.")
            sel = None if self.select is None else self.select[i]
            parts.append(x if sel is None else x[..., sel])
        self._cache = [x.shape for x in xs]
        return np.concatenate(parts, axis=-1)

    def backward(self, dout):
        grads, start = [], 0
        widths = self._widths(self.input_shape)
        for i, (shape, width) in enumerate(zip(self._cache, widths)):
            piece = dout[..., start:start + width]
            sel = None if self.select is None else self.select[i]
            if sel is None:
                grads.append(np.ascontiguousarray(piece))
            else:
                g = np.zeros(shape, dtype=dout.dtype)
                g[..., sel] = piece
                grads.append(g)
            start += width
        return grads

    def flops(self):
        return 0

    def _split(self, mask):
        out, start = [], 0
        for w in self._widths(self.input_shape):
            out.append(mask[start:start + w])
            start += w
        return out

    def dead_out_multi(self, dead_ins):
        parts = []
        for i, d in enumerate(dead_ins):
            sel = None if self.select is None else self.select[i]
            parts.append(d if sel is None else d[sel])
        return np.concatenate(parts)

    def request_in_multi(self, req_out, dead_out):
        live = self._split(req_out)
        reqs = []
        for i, (shape, part) in enumerate(zip(self.input_shape, live)):
            sel = None if self.select is None else self.select[i]
            if sel is None:
                reqs.append(part.copy())
            else:
                r = np.zeros(shape[-1], dtype=bool)
                r[sel] = part
                reqs.append(r)
        return reqs


class Add(Layer):
    """Elementwise sum of several inputs of equal shape (a residual connection).

    After surgery an input may carry more channels than the sum keeps (a
    channel another reader still needs): ``select`` then picks, for each
    input, the channels that enter the sum, in output order. Surgery keeps
    the channels of a sum in unison: an output channel stays whenever it is
    needed downstream, in every input (zero or not), so the sum is exact.

    Parameters
    ----------
    select : list of (array_like of int or None) or None, default None
        One entry per input: the channel indices of that input that enter
        the sum, or None for all of its channels. None uses every channel of
        every input.
    """

    kind = "add"
    role = "add"
    n_inputs = None

    def __init__(self, select=None):
        super().__init__()
        self.select = None if select is None else [None if s is None else np.asarray(s, dtype=np.int64)
                                                   for s in select]

    def config(self):
        return {"select": None if self.select is None else
                [None if s is None else s.tolist() for s in self.select]}

    def _sel(self, i):
        return None if self.select is None else self.select[i]

    def build(self, input_shape, rng):
        shapes = [tuple(s) for s in input_shape]
        if len(shapes) < 2:
            raise ShapeError(f"Add needs at least two inputs. Got {len(shapes)}.")
        outs = {s[:-1] + ((s[-1] if self._sel(i) is None else len(self._sel(i))),) for i, s in enumerate(shapes)}
        if len(outs) != 1:
            raise ShapeError(f"Add needs inputs of equal shapes (after any selection). Got {shapes}.")
        self.input_shape = shapes
        self.output_shape = outs.pop()
        return self.output_shape

    def _output_shape(self, shapes):
        s = shapes[0]
        return s[:-1] + ((s[-1] if self._sel(0) is None else len(self._sel(0))),)

    def forward(self, xs, train=False):
        if len(xs) != len(self.input_shape):
            raise ShapeError(f"Add expects {len(self.input_shape)} inputs. Got {len(xs)}.")
        out = None
        for i, x in enumerate(xs):
            if x.shape[1:] != self.input_shape[i]:
                raise ShapeError(f"Add input {i} must have per-sample shape {self.input_shape[i]}. Got {x.shape[1:]}.")
            sel = self._sel(i)
            part = x if sel is None else x[..., sel]
            if out is None:
                out = part.copy() if sel is None else part
            else:
                out += part
        self._cache = [x.shape for x in xs]
        return out

    def backward(self, dout):
        grads = []
        for i, shape in enumerate(self._cache):
            sel = self._sel(i)
            if sel is None:
                grads.append(dout.copy())
            else:
                g = np.zeros(shape, dtype=dout.dtype)
                g[..., sel] = dout
                grads.append(g)
        return grads

    def flops(self):
        return (len(self.input_shape) - 1) * int(np.prod(self.output_shape))

    def dead_out_multi(self, dead_ins):
        out = None
        for i, d in enumerate(dead_ins):
            sel = self._sel(i)
            part = d if sel is None else d[sel]
            out = part.copy() if out is None else out & part
        return out

    def request_in_multi(self, req_out, dead_out):
        reqs = []
        for i, shape in enumerate(self.input_shape):
            sel = self._sel(i)
            if sel is None:
                reqs.append(req_out.copy())
            else:
                r = np.zeros(shape[-1], dtype=bool)
                r[sel] = req_out
                reqs.append(r)
        return reqs


LAYER_TYPES = {cls.kind: cls for cls in (Dense, Conv2D, ReLU, MaxPool2D, AvgPool2D, GlobalAvgPool2D,
                                         Flatten, BatchNorm, SqueezeExcite, Concat, Add)}
