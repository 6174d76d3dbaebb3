"""Inference plans: a graph's evaluation pass on small batches as a list of prepared kernel calls.

At batch 1 the arithmetic of a small CNN takes a few microseconds; the
general evaluation pass (:meth:`Graph.forward`) spends more than that
deciding, per call and per layer, which fusions apply, which buffers to use
and which kernel to run, and it cannot use Winograd: the filter transform
costs as much as the convolution it saves. A plan decides all of that once
per graph and batch shape:

- each node becomes one step, a closure over its buffers; steps read and
  write a list of slots (one per node), so a call is a loop over steps;
- convolutions run a numba kernel: Winograd F(2x2, 3x3) for 3x3, stride-1
  layers of at least ``Conv2D.WINOGRAD_MIN_CHANNELS`` input channels, the
  direct kernel for layers of fewer than 4 input channels, the layer's own
  im2col evaluation otherwise;
- fusions: a ReLU, or a 2x2 max pool (and a ReLU after it) in a Winograd
  output transform, after a convolution that only it reads; a convolution
  (with its fused ReLU or pool) that only a planned, padded convolution reads
  writes straight into that convolution's (padded) input buffer; a ReLU that
  only a planned convolution reads is applied as that convolution reads it;
- Winograd filter transforms are cached between calls, and at batch 1 so are
  the transposed weights of dense layers (a matrix-vector product).

The cache and its invalidation. The plan holds no weights: every call reads
``layer.params`` afresh, so replaced arrays are used at once. The derived
arrays it keeps (Winograd filter transforms; at batch 1 the transposed weights
of dense layers) are each tied to the weight array they came from (identity)
and to a copy of that array's values, compared bit for bit before each use
(:func:`._plan_kernels.same_bits`, one vectorized pass, about 0.5 us for
18 432 weights): an in-place change of the weights (``W[...] = 0``, an
optimizer's ``W -= step``) is seen and the array derived again first. A plan
is tied to the graph's structure: the layer objects of its nodes, in order,
its output node and its input selection; :meth:`Graph.forward` rebuilds it
when any of these differ.
Changing a layer's configuration in place (its ``padding``, ``filters``...) is
not supported (surgery builds new layers).

Only graphs of ``Conv2D``, ``ReLU``, ``MaxPool2D``, ``Flatten``, ``Dense`` and
``BatchNorm`` nodes are planned, and only with numba enabled; other graphs run
the general pass. Results agree with the general pass to float32 rounding.
"""

import numpy as np

from . import _direct, _winograd
from ._plan_kernels import NUMBA_ENABLED, same_bits, words_of

__all__ = ["InferencePlan", "build_plan", "PLANNED_KINDS"]

INPUT = "input"
PLANNED_KINDS = frozenset({"conv2d", "relu", "maxpool2d", "flatten", "dense", "batchnorm"})


class _Derived:
    """An array derived from a weight array by ``fn`` (a Winograd filter transform, a transposed copy), kept
    between calls and recomputed when the weights change (see the module doc)."""

    __slots__ = ("fn", "W", "words", "kept", "value")

    def __init__(self, fn):
        self.fn = fn
        self.W = self.words = self.kept = self.value = None

    def get(self, W, dtype):
        if W is not self.W:
            self.W, self.words, self.value = W, words_of(W), None
        if self.words is None:  # no view of the weights' words: derive on every call
            return self.fn(W.astype(dtype, copy=False))
        if self.value is None or self.value.dtype != dtype or not same_bits(self.words, self.kept):
            self.value = self.fn(W.astype(dtype, copy=False))
            self.kept = self.words.copy()
        return self.value


def _transposed(W):
    return np.ascontiguousarray(W.T)


class _Conv:
    """Per-convolution decisions and buffers of a plan."""

    def __init__(self, node, n, dtype):
        layer = node.layer
        self.node, self.layer = node, layer
        h, w, c = layer.input_shape
        ho, wo, f = layer.output_shape
        k, s, p = layer.kernel_size, layer.stride, layer.padding
        if k == 3 and s == 1 and c >= layer.WINOGRAD_MIN_CHANNELS:
            self.mode = "winograd"
            th, tw = (ho + 1) // 2, (wo + 1) // 2
            self.th, self.tw = th, tw
            self.xp = np.zeros((n, 2 * th + 2, 2 * tw + 2, c), dtype=dtype)
            self.V = np.empty((16, n * th * tw, c), dtype=dtype)
            self.M = np.empty((16, n * th * tw, f), dtype=dtype)
            self.transform = _Derived(_winograd.filter_transform)
            self.off = p       # xp is padded: its input starts p rows and columns in
        elif c < 4:
            self.mode = "direct"
            self.xp = np.zeros((n, h, w, c), dtype=dtype)   # the kernel pads on the fly
            self.off = 0
        else:
            self.mode = "im2col"
            self.xp = None
        self.interior = None if self.xp is None else self.xp[:, self.off:self.off + h, self.off:self.off + w, :]
        self.filled = False    # an earlier step writes the interior of xp (else the step reads its input slot)
        self.relu_in = False   # a ReLU before this layer is applied as the input is read
        self.relu = False      # a ReLU after it, fused
        self.pool = None       # a 2x2 max pool after it, fused (Winograd only)
        self.pool_relu = False
        self.tail = node.name  # the last node this step computes
        self.dest = None       # the _Conv whose padded buffer receives the output


class InferencePlan:
    """A graph's evaluation pass on batches of one shape, as prepared steps (see the module doc).

    Parameters
    ----------
    graph : Graph
        The network; every node of a kind in :data:`PLANNED_KINDS`.
    shape : tuple of int
        The batch shape ``(N, ...)`` of the (selected) input the plan runs on.
    dtype : dtype
        The input's dtype (float32 or float64).
    """

    usable = True

    def __init__(self, graph, shape, dtype):
        self.layers = [nd.layer for nd in graph.nodes]
        self.output = graph.output
        self.input_index = graph.input_index
        self.shape, self.dtype = tuple(shape), np.dtype(dtype)
        self.steps = []
        self._build(graph)

    def fits(self, graph):
        """Whether the graph still has the structure this plan was built for."""
        return (graph.output == self.output and graph.input_index is self.input_index
                and [nd.layer for nd in graph.nodes] == self.layers)

    def run(self, X):
        """The network's output for the batch ``X`` (already selected and validated): a fresh array."""
        slots = [X] + self._empty   # per call: the plan holds no caller array between calls
        for step in self.steps:
            step(slots)
        out = slots[self._out]
        return out if self._out_fresh else out.copy()

    # ------------------------------------------------------------------ building
    def _build(self, graph):
        n, dtype = self.shape[0], self.dtype
        nodes = graph.nodes
        readers = graph._readers()
        consumers = graph.consumers()
        by_name = {nd.name: nd for nd in nodes}
        self._kinds = {nd.name: nd.layer.kind for nd in nodes}
        slot = {INPUT: 0}
        for i, nd in enumerate(nodes):
            slot[nd.name] = i + 1
        self._empty = [None] * len(nodes)
        self._out = slot[graph.output]

        def only_reader(name):
            """The node reading ``name`` if it is the only reader and ``name`` is not the output, else None."""
            if name == graph.output or readers[name] != 1:
                return None
            return by_name[consumers[name][0]]

        convs = {nd.name: _Conv(nd, n, dtype) for nd in nodes if nd.layer.kind == "conv2d"}
        self._convs = list(convs.values())
        fused = set()
        # epilogues of planned convolutions: ReLU, or 2x2 max pool (Winograd) and a ReLU after it
        for name, cv in convs.items():
            if cv.mode == "im2col":
                continue
            nxt = only_reader(name)
            if nxt is not None and nxt.layer.kind == "relu" and nxt.name != graph.output:
                cv.relu, cv.tail = True, nxt.name
                fused.add(nxt.name)
            elif (nxt is not None and cv.mode == "winograd" and nxt.layer.kind == "maxpool2d"
                  and nxt.name != graph.output and nxt.layer.size == 2 and nxt.layer.stride == 2
                  and nxt.layer.padding == 0):
                cv.pool, cv.tail = nxt.name, nxt.name
                fused.add(nxt.name)
                after = only_reader(nxt.name)
                if after is not None and after.layer.kind == "relu" and after.name != graph.output:
                    cv.pool_relu, cv.tail = True, after.name
                    fused.add(after.name)
            # the output goes straight into the next planned convolution's padded buffer
            nxt = only_reader(cv.tail)
            if (nxt is not None and nxt.name in convs and convs[nxt.name].mode != "im2col"
                    and not convs[nxt.name].filled):
                cv.dest = convs[nxt.name]
                cv.dest.filled = True
        # a ReLU read only by a planned convolution: applied in its padded copy
        for nd in nodes:
            if nd.layer.kind != "relu" or nd.name in fused or nd.name == graph.output:
                continue
            nxt = only_reader(nd.name)
            if nxt is not None and nxt.name in convs and convs[nxt.name].mode != "im2col" \
                    and not convs[nxt.name].filled:
                convs[nxt.name].relu_in = True
                fused.add(nd.name)
        # slots that hold memory the plan may overwrite (not the caller's input, nor a view of it)
        owned = {INPUT: False}
        self._out_fresh = False
        for nd in nodes:
            if nd.name in fused:
                continue
            kind = nd.layer.kind
            src = nd.inputs[0]
            if kind == "conv2d":
                cv = convs[nd.name]
                src_node = by_name.get(src)
                if cv.relu_in:   # the fused ReLU's input
                    src = src_node.inputs[0]
                self.steps.append(self._conv_step(cv, slot[src], slot[cv.tail], dtype))
                owned[nd.name] = owned[cv.tail] = True
            else:
                self.steps.append(self._simple_step(nd, slot[src], slot[nd.name], readers, owned[src],
                                                    consumers, fused, graph.output))
                owned[nd.name] = owned[src] if kind == "flatten" else True
                if kind == "maxpool2d" and self._pool_relu_fused(nd, consumers, readers, graph.output):
                    relu = consumers[nd.name][0]
                    fused.add(relu)
                    owned[relu] = True
                    self.steps.append(_alias(slot[nd.name], slot[relu]))
            if nd.name == graph.output:
                self._out_fresh = kind == "dense"

    def _pool_relu_fused(self, nd, consumers, readers, output):
        """A ReLU after a (non-Winograd) max pool read only by it is applied inside the pooling."""
        if nd.name == output or readers[nd.name] != 1 or nd.layer.padding != 0:
            return False
        reader = consumers[nd.name][0]
        return reader != output and self._kinds[reader] == "relu"

    def _conv_step(self, cv, src, dst, dtype):
        layer = cv.layer
        stride = layer.stride
        if cv.mode == "im2col":
            def step(slots):
                slots[dst] = layer.forward_reusing(slots[src])
            return step
        ho, wo, f = layer.output_shape
        n = self.shape[0]
        if (cv.dest is not None and cv.mode == "direct"
                and cv.dest.xp.shape[1:3] == (ho + 2 * cv.dest.off, wo + 2 * cv.dest.off)):
            out, off = cv.dest.xp, cv.dest.off   # the next layer's input buffer, written inside its border
        elif cv.dest is not None:
            # (a Winograd buffer with an extra row or column for odd sizes: its interior, a strided view)
            out, off = cv.dest.interior, 0
        elif cv.pool is not None:
            out = np.empty((n, ho // 2, wo // 2, f), dtype=dtype)
        else:
            out, off = np.empty((n, ho, wo, f), dtype=dtype), 0
        interior, xp, filled, relu_in = cv.interior, cv.xp, cv.filled, cv.relu_in
        if cv.mode == "direct":
            relu, pad = cv.relu, layer.padding
            result = out if cv.dest is None else cv.dest.interior

            def step(slots):
                params = layer.params   # read at each call: the weights may have been replaced
                _direct.direct_conv_into(xp if filled else slots[src], params["W"].astype(dtype, copy=False),
                                         params["b"].astype(dtype, copy=False), out, stride, pad, off, relu_in, relu)
                slots[dst] = result
            return step
        V, M, th, tw, transform = cv.V, cv.M, cv.th, cv.tw, cv.transform
        pool, pool_relu, relu = cv.pool is not None, cv.pool_relu, cv.relu

        def step(slots):
            if not filled:
                if relu_in:
                    np.maximum(slots[src], 0, out=interior)
                else:
                    interior[...] = slots[src]
            params = layer.params
            U = transform.get(params["W"], dtype)
            b = params["b"].astype(dtype, copy=False)
            _winograd.input_transform(xp, V, th, tw)
            np.matmul(V, U, out=M)
            if pool:
                _winograd.output_transform_pool(M, b, out, th, tw, pool_relu)
            else:
                _winograd.output_transform(M, b, out, th, tw)
                if relu:
                    np.maximum(out, 0, out=out)
            slots[dst] = out
        return step

    def _simple_step(self, nd, src, dst, readers, src_owned, consumers, fused, output):
        layer = nd.layer
        kind = layer.kind
        n = self.shape[0]
        in_place = src_owned and readers[nd.inputs[0]] == 1
        if kind == "relu":
            if in_place:
                def step(slots):
                    x = slots[src]
                    slots[dst] = np.maximum(x, 0, out=x)
            else:
                def step(slots):
                    slots[dst] = np.maximum(slots[src], 0)
            return step
        if kind == "maxpool2d":
            relu = self._pool_relu_fused(nd, consumers, readers, output)
            if layer.padding == 0:
                def step(slots):
                    slots[dst] = layer.forward(slots[src], False, _reuse=True, _relu=relu)
            else:
                def step(slots):
                    slots[dst] = layer.forward(slots[src], False)
            return step
        if kind == "flatten":
            def step(slots):
                slots[dst] = slots[src].reshape(n, -1)
            return step
        if kind == "dense":
            if n == 1:
                # one sample: W^T (kept, contiguous) times the vector is a plain matrix-vector product, twice
                # as fast as the (1, F) x (F, units) product (4 against 2 us for 1024 x 10 at load 5)
                wt, dtype = _Derived(_transposed), self.dtype

                def step(slots):
                    params = layer.params
                    out = np.dot(wt.get(params["W"], dtype), slots[src][0])
                    out += params["b"]
                    slots[dst] = out.reshape(1, -1)
            else:
                def step(slots):
                    params = layer.params
                    out = np.matmul(slots[src], params["W"])
                    out += params["b"]
                    slots[dst] = out
            return step
        if kind == "batchnorm":
            if in_place:
                def step(slots):
                    slots[dst] = layer.forward_inplace(slots[src])
            else:
                def step(slots):
                    slots[dst] = layer.forward(slots[src], False)
            return step
        raise AssertionError(f"no plan step for {kind!r}")  # build_plan admits PLANNED_KINDS only


def _alias(src, dst):
    def step(slots):
        slots[dst] = slots[src]
    return step


class _NoPlan:
    """What :func:`build_plan` returns for a graph it cannot plan: remembered, with the structure it was for."""

    usable = False

    def __init__(self, graph):
        self.layers = [nd.layer for nd in graph.nodes]
        self.output, self.input_index = graph.output, graph.input_index

    fits = InferencePlan.fits


def build_plan(graph, X):
    """An :class:`InferencePlan` for ``graph`` on batches shaped like ``X``; an object with ``usable`` False
    when the graph has layers the plan does not handle (or numba is disabled)."""
    if (not NUMBA_ENABLED or not graph.nodes or any(nd.layer.kind not in PLANNED_KINDS for nd in graph.nodes)
            or X.shape[1:] != graph.input_shape):  # (unchecked input of another shape: the general pass says so)
        return _NoPlan(graph)
    return InferencePlan(graph, X.shape, X.dtype)
