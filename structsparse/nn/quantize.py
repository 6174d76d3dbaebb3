"""Post-training quantization alongside structured sparsity: int8 weights, calibrated activations.

:func:`quantize` folds the batch norms, then

- quantizes every ``Conv2D``/``Dense`` weight symmetrically, per output
  channel (``per_channel=True``) or per tensor: ``s = max|W_c| / qmax``,
  ``q = clip(round(W / s), -qmax, qmax)`` (``qmax = 2**(bits-1) - 1``), stored as int8;
- quantizes every bias to int32 at scale ``s_in * s_w`` (what an integer
  kernel adds to its int32 accumulator);
- calibrates one symmetric activation scale (zero point 0) per *quantization
  point*: the network input and the output of every weighted layer except the
  last. The scale is ``percentile(|a|) / qmax`` of the activation that the next
  weighted layer reads, measured on the calibration batch. ReLU, max pooling and
  Flatten between two weighted layers share the scale of their producer: with a
  zero point of 0 they map grid values to grid values, so they commute with the
  quantization exactly.

:class:`QuantizedNet` computes the quantized network in numpy (the simulation:
float32 arithmetic on the dequantized values, activations rounded to their grid at
every quantization point, round half to even as ONNX ``QuantizeLinear``), and
:func:`~structsparse.nn.to_onnx` writes it with ``QuantizeLinear`` /
``DequantizeLinear`` pairs (QDQ) that onnxruntime turns into its integer kernels.
"""

from dataclasses import dataclass, field

import numpy as np

from .._validation import check_int, check_scalar
from ..exceptions import ParameterError, ShapeError
from .network import INPUT, Graph
from .speed import fold_batchnorm

__all__ = ["quantize", "QuantizedNet", "weight_bytes", "unit_params", "price_weights"]

_PASS = ("relu", "maxpool2d", "flatten")   # grid-preserving with a zero point of 0
_PRODUCERS = ("conv2d", "dense")


def _fq(x, scale, qmax):
    """Round ``x`` to the grid ``scale * [-qmax, qmax]`` (float32)."""
    s = np.float32(scale)
    return (np.clip(np.round(x / s), -qmax, qmax) * s).astype(np.float32, copy=False)


@dataclass(frozen=True)
class QuantizedNet:
    """A network with integer weights and calibrated activation scales (from :func:`quantize`).

    Attributes
    ----------
    net : Graph
        The batch-norm-folded network whose weights and biases are the
        dequantized values (``q * s``), so that ``net`` alone is the
        weight-only quantized network.
    bits : int
        Bits of the weights and activations.
    per_channel : bool
        Weight scales per output channel (else one per layer).
    weight_q, weight_scale : dict
        ``{node: int8 array}`` (same layout as the float weights) and
        ``{node: float32 array}`` of one scale per output channel (or one).
    bias_q, bias_scale : dict
        ``{node: int32 array}`` and its scales ``s_in * s_w``.
    act_scale : dict
        ``{point: float}``: the activation scale after ``"input"`` and after
        each weighted layer except the output one.
    chain : dict
        ``{node: point}``: which quantization point's grid each node's output lies on
        (None: not quantized, e.g. the float output logits).
    """

    net: Graph = field(repr=False)
    bits: int
    per_channel: bool
    weight_q: dict = field(repr=False)
    weight_scale: dict = field(repr=False)
    bias_q: dict = field(repr=False)
    bias_scale: dict = field(repr=False)
    act_scale: dict = field(repr=False)
    chain: dict = field(repr=False)

    def __repr__(self):
        return (f"QuantizedNet(bits={self.bits}, per_channel={self.per_channel}, "
                f"layers={len(self.weight_q)}, weight_bytes={self.weight_bytes})")

    @property
    def qmax(self):
        """Largest integer magnitude, ``2**(bits-1) - 1``."""
        return 2 ** (self.bits - 1) - 1

    @property
    def weight_bytes(self):
        """Bytes of the stored weights: int8 weights, int32 biases, float32 scales."""
        return weight_bytes(self)

    @property
    def input_shape(self):
        """Per-sample input shape of the network."""
        return self.net.original_input_shape

    def forward(self, X):
        """Logits of the quantized network, simulated in numpy.

        Parameters
        ----------
        X : array_like, shape (n_samples, *input_shape)
            Inputs (float).

        Returns
        -------
        ndarray, shape (n_samples, n_classes)
        """
        net = self.net
        X = net.check_input(X, "X", "QuantizedNet.forward")
        if net.input_index is not None:
            X = X[..., net.input_index]
        acts = {INPUT: _fq(X, self.act_scale[INPUT], self.qmax) if INPUT in self.act_scale else X}
        for n in net.nodes:
            args = [acts[i] for i in n.inputs]
            out = n.layer.forward(args if n.layer.n_inputs is None else args[0], False)
            if n.name in self.act_scale:
                out = _fq(out, self.act_scale[n.name], self.qmax)
            acts[n.name] = out
        return np.array(acts[net.output], dtype=np.float32)

    __call__ = forward

    def predict(self, X, batch_size=1024):
        """Predicted class of each sample.

        Parameters
        ----------
        X : array_like, shape (n_samples, *input_shape)
            Inputs.
        batch_size : int, default 1024
            Samples per forward pass.

        Returns
        -------
        ndarray of int
        """
        X = np.asarray(X, dtype=np.float32)
        out = [self.forward(X[i:i + batch_size]).argmax(axis=1) for i in range(0, len(X), batch_size)]
        return np.concatenate(out) if out else np.zeros(0, dtype=int)

    def score(self, X, y):
        """Accuracy on ``(X, y)``.

        Parameters
        ----------
        X : array_like
            Inputs.
        y : array_like of int
            Labels.

        Returns
        -------
        float
        """
        return float(np.mean(self.predict(X) == np.asarray(y)))


def weight_bytes(net):
    """Bytes of a network's stored weights.

    Parameters
    ----------
    net : Graph or QuantizedNet
        A float network (every parameter and batch-norm statistic at its
        dtype's size) or a quantized one (int8 weights, int32 biases and
        float32 scales).

    Returns
    -------
    int
    """
    if isinstance(net, QuantizedNet):
        total = sum(q.size * np.dtype(np.int8).itemsize for q in net.weight_q.values())
        total += sum(b.size * 4 for b in net.bias_q.values())
        total += sum(s.size * 4 for s in net.weight_scale.values()) + 4 * len(net.act_scale)
        return int(total)
    if isinstance(net, Graph):
        return int(sum(v.nbytes for n in net.nodes for d in (n.layer.params, n.layer.state) for v in d.values()))
    raise TypeError(f"The 'net' parameter of weight_bytes must be a Graph or QuantizedNet. Got {type(net).__name__}.")


def unit_params(net):
    """``{(producer, unit): parameters removed with that unit alone}``: the counterpart of ``unit_flops`` in bytes.

    A unit's own parameters (its filter or column of weights and its bias,
    and the four batch-norm numbers of its channel) plus the weights of
    every ``Dense``/``Conv2D`` that reads its channel (``kh * kw * Cout``
    per conv reader; ``units`` per flat feature of a dense reader, so a
    channel flattened from an ``H x W`` map counts ``H * W`` rows). In an
    int8 model each weight is one byte.

    Parameters
    ----------
    net : Graph
        A built network.

    Returns
    -------
    dict
        Maps ``(node name, channel index)`` to a parameter count (float).
    """
    from ._trace import channel_sources

    if not isinstance(net, Graph):
        raise TypeError(f"The 'net' parameter of unit_params must be a Graph. Got {type(net).__name__}.")
    src = channel_sources(net)
    saved = {}
    for n in net.nodes:
        layer = n.layer
        if layer.kind in ("concat", "flatten"):
            continue
        names, chans = src[n.name]
        c_out = max(layer.output_shape[-1], 1)
        if layer.kind in _PRODUCERS:
            per_out = layer.params["W"].size / c_out + 1.0
        elif layer.kind == "batchnorm":
            per_out = 4.0
        else:
            per_out = 0.0
        if per_out:
            for key in zip(names.tolist(), chans.tolist()):
                saved[key] = saved.get(key, 0.0) + per_out
        if layer.kind in _PRODUCERS:
            w = layer.params["W"]
            per_in = float(w.shape[-1]) if layer.kind == "dense" else float(w.shape[0] * w.shape[1] * w.shape[3])
            for key in zip(*(a.tolist() for a in src[n.inputs[0]])):
                saved[key] = saved.get(key, 0.0) + per_in
    return saved


def price_weights(net, by="filters", layers=None, flops=1.0, params=1.0):
    """Group weights that price the FLOPs and the parameters a unit removes, for a joint FLOPs + bytes budget.

    ``w_g = flops * F_g / mean(F) + params * P_g / mean(P)``, with ``F_g``
    the FLOPs (:func:`~structsparse.nn.unit_flops`) and ``P_g`` the
    parameters (:func:`unit_params`) that removing unit ``g`` alone saves.
    With ``params=0`` this is ``weights="flops"``. A FLOPs price alone
    makes the group lasso keep the units that cost few FLOPs but many
    parameters (the last conv layer's filters, each feeding ``H * W`` rows
    of the fully connected layer); pricing both removes them as well, so a
    model pruned to a FLOPs budget also stores fewer bytes.

    Parameters
    ----------
    net : Graph
        The network whose groups will be penalized (not modified).
    by : {"filters", "neurons"}, default "filters"
        Kind of groups (see :func:`~structsparse.nn.groups`).
    layers : list of str, optional
        The layers whose groups are priced (as in :func:`~structsparse.nn.groups`).
    flops, params : float, default 1.0
        Weights of the two prices (>= 0, not both 0).

    Returns
    -------
    callable
        ``weights(map_name, sizes) -> ndarray``, to pass as ``weights=`` to
        :func:`~structsparse.nn.groups`, :func:`~structsparse.nn.penalty` or
        :func:`~structsparse.nn.prune_to_budget` for networks of ``net``'s
        architecture.
    """
    from .groups import groups, unit_flops

    if not isinstance(net, Graph):
        raise TypeError(f"The 'net' parameter of price_weights must be a Graph. Got {type(net).__name__}.")
    if by not in ("filters", "neurons"):
        raise ParameterError(f"The 'by' parameter of price_weights must be 'filters' or 'neurons'. Got {by!r}.")
    flops = check_scalar(flops, "flops", low=0, owner="price_weights")
    params = check_scalar(params, "params", low=0, owner="price_weights")
    if flops == 0 and params == 0:
        raise ParameterError("price_weights: 'flops' and 'params' cannot both be 0.")
    maps = groups(net, by=by, layers=layers, weights=None)
    f_unit, p_unit = unit_flops(net), unit_params(net)
    f = {m.name: np.array([f_unit[(m.name.split(":", 1)[1], j)] for j in m.labels], dtype=float) for m in maps}
    p = {m.name: np.array([p_unit[(m.name.split(":", 1)[1], j)] for j in m.labels], dtype=float) for m in maps}
    f_mean = np.mean(np.concatenate(list(f.values())))
    p_mean = np.mean(np.concatenate(list(p.values())))
    table = {name: flops * f[name] / f_mean + params * p[name] / p_mean for name in f}

    def weights(map_name, sizes):
        if map_name not in table or len(table[map_name]) != len(sizes):
            raise ParameterError(f"price_weights: group map {map_name!r} with {len(sizes)} groups is not one of "
                                 f"the network it was made for ({sorted(table)}).")
        return table[map_name].copy()

    return weights


def _plan(net, owner):
    """Quantization points and the point whose grid each node's output lies on."""
    readers = {INPUT: []}
    for n in net.nodes:
        readers.setdefault(n.name, [])
        for i in n.inputs:
            readers.setdefault(i, []).append(n)
    chain = {INPUT: INPUT}
    points = {INPUT}
    for n in net.nodes:
        kind = n.layer.kind
        if kind in _PRODUCERS:
            chain[n.name] = n.name if n.name != net.output else None
            if n.name != net.output:
                points.add(n.name)
            if chain.get(n.inputs[0]) is None:
                raise ParameterError(f"{owner}: layer {n.name!r} reads a tensor that is not on a quantization grid.")
        elif kind in _PASS:
            chain[n.name] = chain[n.inputs[0]]
        else:
            raise ParameterError(
                f"{owner}: layer {n.name!r} of kind {kind!r} cannot be quantized (supported: Conv2D, Dense, ReLU, "
                f"MaxPool2D, Flatten, and batch norms that fold into the layer before them).")
    # a point's scale is calibrated on the last tensor of its single-reader chain (what the next layer reads)
    end = {}
    for p in points:
        t = p
        while True:
            nxt = readers.get(t, [])
            if len(nxt) != 1 or nxt[0].layer.kind not in _PASS:
                break
            t = nxt[0].name
        end[p] = t
    return chain, points, end


def quantize(net, bits=8, per_channel=True, calibration=None, percentile=100.0):
    """Quantize ``net``: symmetric integer weights and calibrated activation scales.

    Parameters
    ----------
    net : Graph
        A trained network (not modified) built from Conv2D, Dense, ReLU,
        MaxPool2D, Flatten and batch norms that fold into the layer before
        them (:func:`~structsparse.nn.fold_batchnorm`).
    bits : int, default 8
        Bits of the weights and activations, 2 to 8 (stored as int8).
    per_channel : bool, default True
        One weight scale per output channel (else one per layer).
    calibration : array_like, shape (n_samples, *input_shape)
        Inputs whose activations set the activation scales (use training or
        validation data, never the test split).
    percentile : float, default 100.0
        Percentile of ``|activation|`` mapped to the largest integer (100: the maximum).

    Returns
    -------
    QuantizedNet
    """
    owner = "quantize"
    if not isinstance(net, Graph):
        raise TypeError(f"The 'net' parameter of {owner} must be a structsparse.nn Graph. Got {type(net).__name__}.")
    bits = check_int(bits, "bits", low=2, high=8, owner=owner)
    if not isinstance(per_channel, (bool, np.bool_)):
        raise TypeError(f"The 'per_channel' parameter of {owner} must be a bool. Got {type(per_channel).__name__}.")
    percentile = check_scalar(percentile, "percentile", low=0, high=100, low_inclusive=False, owner=owner)
    if calibration is None:
        raise ParameterError(f"The 'calibration' parameter of {owner} is required (a batch of inputs).")
    X = net.check_input(calibration, "calibration", owner)
    if X.shape[0] < 1:
        raise ShapeError(f"The 'calibration' parameter of {owner} needs at least one sample.")
    for node, pname, p in net.parameters():
        if not np.all(np.isfinite(p)):
            raise ParameterError(f"{owner}: parameter {node}.{pname} contains NaN or inf.")
    qmax = 2 ** (bits - 1) - 1
    folded = fold_batchnorm(net).astype(np.float32)
    chain, points, end = _plan(folded, owner)
    # float activations of every node on the calibration batch
    Xc = X[..., folded.input_index] if folded.input_index is not None else X
    acts = {INPUT: Xc}
    for n in folded.nodes:
        args = [acts[i] for i in n.inputs]
        acts[n.name] = n.layer.forward(args if n.layer.n_inputs is None else args[0], False).copy()
    act_scale = {}
    for p in sorted(points, key=str):
        a = np.abs(acts[end[p]]).ravel()
        m = float(np.percentile(a, percentile)) if percentile < 100 else float(a.max(initial=0.0))
        act_scale[p] = np.float32(m / qmax) if m > 0 else np.float32(1.0)
    weight_q, weight_scale, bias_q, bias_scale = {}, {}, {}, {}
    for n in folded.nodes:
        if n.layer.kind not in _PRODUCERS:
            continue
        W = n.layer.params["W"].astype(np.float32)
        if per_channel:
            m = np.abs(W.reshape(-1, W.shape[-1])).max(axis=0)
        else:
            m = np.full(W.shape[-1], np.abs(W).max(initial=0.0))
        s = np.where(m > 0, m / qmax, 1.0).astype(np.float32)
        q = np.clip(np.round(W / s), -qmax, qmax).astype(np.int8)
        s_in = act_scale[chain[n.inputs[0]]]
        sb = (np.float32(s_in) * s).astype(np.float32)
        b = n.layer.params["b"].astype(np.float64)
        qb = np.clip(np.round(b / sb), -2 ** 31, 2 ** 31 - 1).astype(np.int32)
        n.layer.params["W"] = (q.astype(np.float32) * s).astype(np.float32)
        n.layer.params["b"] = (qb.astype(np.float32) * sb).astype(np.float32)
        weight_q[n.name], weight_scale[n.name] = q, s
        bias_q[n.name], bias_scale[n.name] = qb, sb
    folded.pruning = dict(getattr(net, "pruning", None) or {})
    return QuantizedNet(net=folded, bits=bits, per_channel=bool(per_channel), weight_q=weight_q,
                        weight_scale=weight_scale, bias_q=bias_q, bias_scale=bias_scale, act_scale=act_scale,
                        chain=chain)
