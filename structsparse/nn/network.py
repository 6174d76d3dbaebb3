"""Networks: a directed acyclic graph of layers, a sequential shortcut and block builders.

A :class:`Graph` holds its nodes in topological order (each node is added
after its inputs). ``"input"`` names the network input. Block builders
(:func:`inception`, :func:`dense_block`) add their nodes to a graph and record
the block's structure in ``graph.blocks`` so that group maps and analysis can
find its pathways and connections.

After input-feature pruning a graph may read only some channels of its
input: ``input_index`` lists them (indices into the last axis of the original
input), and :meth:`Graph.forward` still accepts the original input.
"""

import copy
import math

import numpy as np

from .._validation import check_array, check_int, check_rng
from ..exceptions import ParameterError, ShapeError
from ._plan import build_plan
from .layers import BatchNorm, Concat, Conv2D, Layer, ReLU

__all__ = ["Graph", "Sequential", "Node", "inception", "dense_block"]

INPUT = "input"


class Node:
    """One layer of a graph and the names of the nodes it reads.

    Parameters
    ----------
    name : str
        Unique name of the node in its graph.
    layer : Layer
        The layer this node applies.
    inputs : iterable of str
        Names of the nodes whose outputs the layer reads, in order
        (``"input"`` is the network input); stored as a list. A
        :class:`~structsparse.nn.Concat` reads several, other layers one.
    """

    __slots__ = ("name", "layer", "inputs")

    def __init__(self, name, layer, inputs):
        self.name = name
        self.layer = layer
        self.inputs = list(inputs)

    def __repr__(self):
        return f"Node({self.name!r}, {type(self.layer).__name__}, inputs={self.inputs})"


class Graph:
    """A network as a DAG of layers.

    Parameters
    ----------
    input_shape : tuple of int
        Per-sample input shape: ``(F,)`` for vectors, ``(H, W, C)`` for images.
    rng : int or Generator, optional
        Seed for the initial weights of the layers added later.
    """

    def __init__(self, input_shape, rng=None):
        try:
            shape = tuple(int(s) for s in input_shape)
        except (TypeError, ValueError):
            raise ShapeError(f"The 'input_shape' parameter of Graph must be a tuple of ints. Got {input_shape!r}.") from None
        if not shape or any(s < 1 for s in shape):
            raise ShapeError(f"The 'input_shape' parameter of Graph must be non-empty and positive. Got {shape}.")
        self.original_input_shape = shape
        self.input_index = None
        self.nodes = []
        self.output = None
        self.blocks = []
        self._rng = check_rng(rng)
        self._shapes = {INPUT: shape}

    # ------------------------------------------------------------------ building
    @property
    def input_shape(self):
        """Per-sample shape the first layers see (after any input selection)."""
        return self._shapes[INPUT]

    def _fresh_name(self, kind):
        taken = {n.name for n in self.nodes}
        i = 1
        while f"{kind}{i}" in taken:
            i += 1
        return f"{kind}{i}"

    def add(self, layer, inputs=None, name=None):
        """Append ``layer`` reading ``inputs`` (a name or list of names; default: the last node).

        Returns the new node's name. The layer's parameters are created here.
        """
        if not isinstance(layer, Layer):
            raise ParameterError(f"The 'layer' parameter of Graph.add must be a Layer. Got {type(layer).__name__}.")
        if inputs is None:
            inputs = [self.nodes[-1].name if self.nodes else INPUT]
        elif isinstance(inputs, str):
            inputs = [inputs]
        inputs = list(inputs)
        for i in inputs:
            if i not in self._shapes:
                raise ParameterError(f"Graph.add: unknown input node {i!r}; known: {sorted(self._shapes)}.")
        if layer.n_inputs == 1 and len(inputs) != 1:
            raise ShapeError(f"{type(layer).__name__} takes one input. Got {len(inputs)}: {inputs}.")
        name = name or self._fresh_name(layer.kind)
        if name in self._shapes:
            raise ParameterError(f"Graph.add: a node named {name!r} already exists.")
        shapes = [self._shapes[i] for i in inputs]
        out = layer.build(shapes if layer.n_inputs is None else shapes[0], self._rng)
        self.nodes.append(Node(name, layer, inputs))
        self._shapes[name] = tuple(out)
        self.output = name
        return name

    def shape_of(self, name):
        """Per-sample output shape of a node (or of ``"input"``)."""
        if name not in self._shapes:
            raise ParameterError(f"The 'name' parameter of Graph.shape_of: no node named {name!r}; "
                                 f"known: {sorted(self._shapes)}.")
        return self._shapes[name]

    @property
    def output_shape(self):
        return self._shapes[self.output]

    def node(self, name):
        for n in self.nodes:
            if n.name == name:
                return n
        raise ParameterError(f"The 'name' parameter of Graph.node: no node named {name!r}; "
                             f"known: {[n.name for n in self.nodes]}.")

    def consumers(self):
        """Map each node name (and ``"input"``) to the names of the nodes reading it."""
        out = {INPUT: []}
        out.update({n.name: [] for n in self.nodes})
        for n in self.nodes:
            for i in n.inputs:
                out[i].append(n.name)
        return out

    # ------------------------------------------------------------------ computation
    def check_input(self, X, name="X", owner="Graph.forward"):
        """Validate a batch against the original input shape; return it as float32 (or float64)."""
        dtype = np.float64 if self.dtype == np.float64 else np.float32
        if (type(X) is np.ndarray and X.dtype == dtype == np.float32 and X.ndim >= 2
                and X.shape[1:] == self.original_input_shape and math.isfinite(np.add.reduce(X, None, np.float64))):
            # float32 of the right shape with a finite sum (a NaN or an infinity never sums to a finite number;
            # float32 numbers summed in float64 cannot overflow): one reduction instead of check_array's
            # conversions and min and max (12 us at batch 1); anything else gets the full check
            return X
        X = check_array(X, name, dtype=dtype, owner=owner)
        if X.shape[1:] != self.original_input_shape or X.ndim < 2:
            raise ShapeError(
                f"The '{name}' parameter of {owner} must have shape (n_samples, "
                f"{', '.join(map(str, self.original_input_shape))}). Got {X.shape}."
            )
        return X

    @property
    def dtype(self):
        for n in self.nodes:
            for v in n.layer.params.values():
                return v.dtype
        return np.dtype(np.float32)

    def forward(self, X, train=False, check=True, inplace=None, chunk=None):
        """Output (logits) for a batch ``X`` of the original input shape.

        In evaluation mode (``train=False``) channelwise layers overwrite
        activations that nothing else reads and convolutions write into
        buffers they reuse (``inplace``, default on in evaluation; the
        returned output is always a fresh array); pass ``inplace=False`` to
        back-propagate through an evaluation-mode pass (gradient checks).
        ``chunk`` (evaluation only) runs the batch in slices of that many
        samples, so that each slice's activations stay in cache. With
        ``inplace`` on, evaluation also fuses layers whose intermediate
        activation nobody else reads: a ReLU after a max pool, a ReLU before a
        padded convolution (applied in its padded copy) and a 2x2 max pool
        after a Winograd-evaluated convolution (computed from its output tiles).
        Evaluation batches of at most ``PLAN_MAX_SAMPLES`` samples (``inplace``
        not False) of graphs made of convolutions, ReLUs, max pools, flattens,
        dense layers and batch norms run an inference plan instead
        (:mod:`structsparse.nn._plan`): the same function, its steps, buffers and
        Winograd filter transforms prepared once per batch shape (a transform is
        recomputed when its weights change, in place or not). Such a pass keeps
        nothing for :meth:`backward`.
        """
        if check:
            X = self.check_input(X)
        if chunk is not None and not train and X.shape[0] > chunk:
            return np.concatenate([self.forward(X[i:i + chunk], False, False, inplace)
                                   for i in range(0, X.shape[0], chunk)])
        if self.input_index is not None:
            X = X[..., self.input_index]
        if not train and inplace is not False and X.shape[0] <= self.PLAN_MAX_SAMPLES:
            out = self._run_plan(X)
            if out is not None:
                return out
        acts = {INPUT: X}
        inplace = (not train) if inplace is None else (inplace and not train)
        readers = self._readers() if inplace else None
        fused = self._fused_relus(readers) if inplace else {}
        relu_in, pool_of = self._fused_into_convs(readers, fused) if inplace else ({}, {})
        done = set()
        for n in self.nodes:
            if n.name in done:
                continue
            if n.name in fused or n.name in relu_in:
                # evaluation: a ReLU whose only input is a max pool read by nothing else ran inside it; or a
                # ReLU read only by a padded convolution, applied there while its input is padded
                acts[n.name] = acts[n.inputs[0]]
                continue
            args = [acts[i] for i in n.inputs]
            layer = n.layer
            if n.name in pool_of or (n.inputs[0] in relu_in and layer.kind == "conv2d"):
                rin = n.inputs[0] in relu_in
                pool = pool_of.get(n.name)
                if pool is not None and layer.fuses_pool(args[0], self.node(pool).layer):
                    # evaluation: conv -> 2x2 max pool (-> ReLU) in one pass, the conv output never written
                    acts[pool] = layer.forward_pooled(args[0], relu=pool in fused.values(), relu_input=rin)
                    acts[n.name] = None
                    done.add(pool)
                    continue
                if rin:
                    acts[n.name] = layer.forward_reusing(args[0], relu_input=True)
                    continue
            if n.name in fused.values():
                if n.name != self.output:
                    acts[n.name] = layer.forward_reusing(args[0], relu=True)
                else:
                    acts[n.name] = layer.forward(args[0], False, _relu=True)
            elif readers is not None and layer.inplace_ok and n.inputs[0] != INPUT and readers[n.inputs[0]] == 1:
                # evaluation: overwrite an activation that only this layer reads (no new allocation)
                acts[n.name] = layer.forward_inplace(args[0])
            elif readers is not None and layer.reuses_output and n.name != self.output:
                # evaluation: an activation used only inside this pass goes into the layer's reused buffer
                acts[n.name] = layer.forward_reusing(args[0])
            else:
                acts[n.name] = layer.forward(args if layer.n_inputs is None else args[0], train)
        out = acts[self.output]
        if readers is not None and not out.flags.owndata:
            out = out.copy()  # the output may be a view of a reused buffer (e.g. Flatten of a Conv2D)
        self._out_shape = out.shape  # what backward's dout must match
        return out

    # evaluation passes on at most this many samples run an inference plan (see _plan): its per-call cost is a
    # loop over prepared steps, and it keeps Winograd filter transforms between calls. Digits CNN, CPU time
    # against the general pass at load 7-9: 3.1x faster at 1 sample, 1.5x at 8, 1.3x at 16, 0.95x at 32
    PLAN_MAX_SAMPLES = 16

    def _run_plan(self, X):
        """The output of the inference plan for ``X``'s batch shape (built on first use, rebuilt when the graph's
        structure changed), or None when the graph cannot be planned (then that is remembered too)."""
        plans = self.__dict__.get("_plans")
        if plans is None:
            plans = self._plans = {}
        key = (X.shape, X.dtype)
        plan = plans.get(key)
        if plan is None or not plan.fits(self):
            if len(plans) > 8:  # a few batch shapes, not more
                plans.clear()
            plan = plans[key] = build_plan(self, X)
        if not plan.usable:
            return None
        self._out_shape = None  # a plan keeps no caches for backward (back-propagate through inplace=False)
        return plan.run(X)

    def _fused_relus(self, readers):
        """``{relu node: max-pool node}`` for ReLUs an evaluation pass applies inside the pooling
        (the pool is read only by the ReLU, so no one sees the pooled map before its ReLU)."""
        fused = {}
        kinds = {n.name: n.layer for n in self.nodes}
        for n in self.nodes:
            src = n.inputs[0]
            if (n.layer.kind == "relu" and src != INPUT and readers[src] == 1
                    and kinds[src].kind == "maxpool2d" and kinds[src].fuses_relu()):
                fused[n.name] = src
        return fused

    def _fused_into_convs(self, readers, fused):
        """Evaluation fusions around convolutions: ``({relu: conv}, {conv: max pool})``.

        A ReLU whose input nothing else reads and which only a padded ``Conv2D`` reads is applied by that
        convolution while it copies its input into the padded buffer. A ``Conv2D`` read only by a 2x2, stride-2
        max pool may compute the pooled map directly (Winograd evaluation, decided per batch by
        ``Conv2D.fuses_pool``). Outputs of the network are never fused away.
        """
        consumers = self.consumers()
        kinds = {n.name: n.layer for n in self.nodes}
        relu_in, pool_of = {}, {}
        for n in self.nodes:
            src = n.inputs[0] if n.inputs else INPUT
            if (n.layer.kind == "relu" and n.name not in fused and n.name != self.output and src != INPUT
                    and readers[src] == 1 and readers[n.name] == 1):
                reader = kinds[consumers[n.name][0]]
                if reader.kind == "conv2d" and reader.padding > 0:
                    relu_in[n.name] = consumers[n.name][0]
            if n.layer.kind == "conv2d" and n.name != self.output and readers[n.name] == 1:
                pool = consumers[n.name][0]
                pl = kinds[pool]
                if (pool != self.output and pl.kind == "maxpool2d" and pl.size == 2 and pl.stride == 2
                        and pl.padding == 0):
                    pool_of[n.name] = pool
        return relu_in, pool_of

    def _readers(self):
        counts = {INPUT: 0}
        for n in self.nodes:
            counts.setdefault(n.name, 0)
            for i in n.inputs:
                counts[i] = counts.get(i, 0) + 1
        counts[self.output] = counts.get(self.output, 0) + 1  # the caller reads the output
        return counts

    __call__ = forward

    def backward(self, dout):
        """Back-propagate ``dout`` (gradient of the loss w.r.t. the output); fill every layer's grads."""
        if getattr(self, "_out_shape", None) is None:
            raise ParameterError("Graph.backward: call forward first (there is no pass to back-propagate; a small "
                                 "evaluation batch runs an inference plan, pass inplace=False to back-propagate).")
        dout = np.asarray(dout)
        if dout.shape != self._out_shape:
            raise ShapeError(f"The 'dout' parameter of Graph.backward must have the shape of the last forward "
                             f"output {self._out_shape}. Got {dout.shape}.")
        grads = {self.output: dout}
        for n in reversed(self.nodes):
            g = grads.pop(n.name, None)
            if g is None:
                for k, v in n.layer.params.items():
                    n.layer.grads[k] = np.zeros_like(v)
                continue
            gin = n.layer.backward(g)
            if n.layer.n_inputs == 1:
                gin = [gin]
            for i, gi in zip(n.inputs, gin):
                if i == INPUT:
                    continue
                grads[i] = gi if i not in grads else grads[i] + gi
        return None

    def predict(self, X, batch_size=1024):
        """Predicted class of each sample."""
        X = self.check_input(X, owner="Graph.predict")
        out = [self.forward(X[i:i + batch_size], check=False, chunk=256).argmax(axis=1)
               for i in range(0, len(X), batch_size)]
        return np.concatenate(out) if out else np.zeros(0, dtype=int)

    def score(self, X, y):
        """Accuracy on ``(X, y)``."""
        pred = self.predict(X)
        y = np.asarray(y)
        if y.shape != pred.shape:
            raise ShapeError(f"The 'y' parameter of Graph.score must hold one label per sample of X, shape "
                             f"{pred.shape}. Got {y.shape}.")
        return float(np.mean(pred == y))

    # ------------------------------------------------------------------ parameters
    def parameters(self):
        """List of ``(node_name, param_name, array)`` for every trainable array."""
        return [(n.name, k, v) for n in self.nodes for k, v in n.layer.params.items()]

    @property
    def n_params(self):
        """Number of trainable scalars."""
        return int(sum(v.size for _, _, v in self.parameters()))

    def astype(self, dtype):
        """A copy with parameters and state cast to ``dtype`` (float64 for gradient checks)."""
        try:
            floating = np.issubdtype(np.dtype(dtype), np.floating)
        except TypeError:
            floating = False
        if not floating:
            raise ParameterError(f"The 'dtype' parameter of Graph.astype must be a floating dtype. Got {dtype!r}.")
        new = self.copy()
        for n in new.nodes:
            n.layer.astype(dtype)
        return new

    def copy(self):
        """Deep copy (no shared arrays)."""
        new = copy.copy(self)
        new.nodes = [Node(n.name, _copy_layer(n.layer), n.inputs) for n in self.nodes]
        new.blocks = copy.deepcopy(self.blocks)
        new._shapes = dict(self._shapes)
        new.input_index = None if self.input_index is None else self.input_index.copy()
        new._out_shape = None  # the copied layers hold no forward pass
        new._rng = np.random.default_rng(0)  # layers added to a copy get reproducible weights
        new.__dict__.pop("_plans", None)  # inference plans hold buffers and the original's layers
        return new

    def save(self, path, metrics=None):
        """Write the network to ``path`` (``.npz``, atomically) and a readable description beside it (``.json``).

        The file holds every parameter and batch-norm statistic, the input
        selection, the architecture, the pruning record and a checksum of the
        weights; its description carries the kind (``structsparse.nn.Graph``)
        and the format version, which :meth:`load` checks.

        Parameters
        ----------
        path : str or Path
            Target file; ``.npz`` is appended when missing. The folder must exist.
        metrics : dict, optional
            Anything JSON-serialisable to keep with the model (accuracy, FLOPs...).

        Returns
        -------
        Path
            The ``.npz`` path written.
        """
        from .io import save_network

        return save_network(self, path, metrics)

    @classmethod
    def load(cls, path):
        """Read a network written by :meth:`save`.

        Parameters
        ----------
        path : str or Path
            The ``.npz`` file (used as given).

        Returns
        -------
        Graph
            The rebuilt network (a :class:`Graph`, whatever class it was saved
            from), with its parameters, batch-norm statistics, input selection,
            pruning record (``pruning``) and saved ``metrics``.

        Raises
        ------
        ParameterError
            The file holds another kind of object (a sysid model, a pruning
            recipe, the ``.json`` description); the message says what.
        MissingFileError
            The file does not exist (a ``ParameterError`` and a ``FileNotFoundError``;
            until 0.3 also the ``StructureError`` 0.1 raised).
        StructureError
            The file is damaged, or its weights do not fit its architecture.
        """
        from .io import load_network

        return load_network(path)

    def summary(self):
        """One line per node: name, type, output shape, parameter count."""
        lines = [f"{'node':<16}{'type':<16}{'output':<18}{'params':>8}"]
        for n in self.nodes:
            p = sum(v.size for v in n.layer.params.values())
            lines.append(f"{n.name:<16}{type(n.layer).__name__:<16}{str(self._shapes[n.name]):<18}{p:>8}")
        return "\n".join(lines)

    def __repr__(self):
        return f"{type(self).__name__}(input_shape={self.original_input_shape}, nodes={len(self.nodes)})"


def _copy_layer(layer):
    new = copy.copy(layer)
    new.params = {k: v.copy() for k, v in layer.params.items()}
    new.state = {k: v.copy() for k, v in layer.state.items()}
    new.grads = {}
    new._cache = None
    new.__dict__.pop("_workspace", None)  # scratch buffers are never shared between copies
    new.__dict__.pop("_out_buffer", None)
    new.__dict__.pop("_pad_buffer", None)
    return new


class Sequential(Graph):
    """A chain of layers.

    Parameters
    ----------
    layers : list of Layer
    input_shape : tuple of int
    rng : int or Generator, optional
    """

    def __init__(self, layers, input_shape, rng=None):
        if isinstance(layers, Layer) or not hasattr(layers, "__iter__"):
            raise TypeError(f"The 'layers' parameter of Sequential must be a list of Layer. Got {type(layers).__name__}.")
        super().__init__(input_shape, rng)
        for layer in layers:
            self.add(layer)


def inception(graph, x, branches, name="inception"):
    """Add an Inception-style block: parallel pathways from ``x``, concatenated.

    Parameters
    ----------
    graph : Graph
    x : str
        Name of the node the pathways read.
    branches : list of list of Layer
        Each pathway is a chain of layers.
    name : str
        Prefix of the block's node names.

    Returns
    -------
    str
        Name of the concatenation node.
    """
    ends, paths = [], []
    for b, layers in enumerate(branches):
        if not layers:
            raise ParameterError(f"inception: branch {b} of block {name!r} is empty.")
        prev, path = x, []
        for j, layer in enumerate(layers):
            prev = graph.add(layer, prev, name=f"{name}.b{b}.{j}")
            path.append(prev)
        ends.append(prev)
        paths.append(path)
    out = graph.add(Concat(), ends, name=f"{name}.concat")
    graph.blocks.append({"type": "inception", "name": name, "input": x, "branches": paths, "concat": out})
    return out


def dense_block(graph, x, n_layers, growth, kernel_size=3, name="dense"):
    """Add a DenseNet-style block: layer ``l`` reads the concatenation of ``x`` and all earlier outputs.

    Each layer is BatchNorm -> ReLU -> Conv2D(growth, kernel_size, same padding).

    Parameters
    ----------
    graph : Graph
        The graph the block's nodes are added to; the block's structure is
        also appended to ``graph.blocks``.
    x : str
        Name of the node the block reads; its output must be an image
        ``(H, W, C)``.
    n_layers : int
        Number of BatchNorm -> ReLU -> Conv2D layers in the block.
    growth : int
        Output channels of each layer's convolution.
    kernel_size : int, default 3
        Side of the convolution kernels; must be odd (same padding
        ``kernel_size // 2`` keeps ``H`` and ``W``).
    name : str, default "dense"
        Prefix of the block's node names.

    Returns
    -------
    str
        Name of the block output (the concatenation of ``x`` and every layer's output):
        ``C + n_layers * growth`` channels for an input of ``C`` channels.
    """
    if kernel_size % 2 == 0:
        raise ParameterError(f"dense_block needs an odd 'kernel_size' for same padding. Got {kernel_size}.")
    n_layers = check_int(n_layers, "n_layers", low=1, owner="dense_block")
    growth = check_int(growth, "growth", low=1, owner="dense_block")
    sources, layers = [x], []
    for l in range(n_layers):
        cat = graph.add(Concat(), list(sources), name=f"{name}.l{l}.concat")
        bn = graph.add(BatchNorm(), cat, name=f"{name}.l{l}.bn")
        act = graph.add(ReLU(), bn, name=f"{name}.l{l}.relu")
        conv = graph.add(Conv2D(growth, kernel_size, padding=kernel_size // 2), act, name=f"{name}.l{l}.conv")
        layers.append({"concat": cat, "bn": bn, "conv": conv, "sources": list(sources)})
        sources.append(conv)
    out = graph.add(Concat(), list(sources), name=f"{name}.out")
    graph.blocks.append({"type": "dense", "name": name, "input": x, "layers": layers, "concat": out})
    return out
