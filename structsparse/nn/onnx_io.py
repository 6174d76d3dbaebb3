"""ONNX in and out: :func:`from_onnx` reads a model into a :class:`Graph`, :func:`to_onnx` writes one.

Only the ``onnx`` package is used (no torch). ``structsparse.nn`` computes in
NHWC float32 while ONNX CNNs are NCHW; the conversion is exact and keeps
the usual ONNX layout on the outside:

- an exported model takes NCHW input ``(N, C, H, W)`` (vectors ``(N, F)``),
  like any ONNX CNN, and :func:`from_onnx` expects the same;
- convolution weights are transposed between ``(Cout, Cin, kh, kw)`` and
  ``(kh, kw, Cin, Cout)``;
- ``Flatten`` orders features ``C, H, W`` in ONNX and ``H, W, C`` here: no
  transpose is inserted, the rows of the ``Gemm``/``MatMul`` (or the
  channels of a ``BatchNormalization``) that read the flat vector are
  permuted instead; a flat vector that nothing can absorb the permutation
  into gets a ``Gather`` that restores ONNX order;
- ``GlobalAveragePool`` gives ``(N, C, 1, 1)`` in ONNX and ``(N, C)`` here;
  a following ``Flatten``/``Reshape`` costs nothing and a 1x1 ``Conv`` on it
  becomes a ``Dense`` layer.

Supported operators: ``Conv``, ``Gemm``, ``MatMul`` (+ ``Add`` of a bias),
``BatchNormalization``, ``Relu``, ``MaxPool``, ``AveragePool``,
``GlobalAveragePool``, ``Flatten``/``Reshape`` to 2-D, ``Concat`` along
channels, ``Add`` of two tensors (residual), ``Sigmoid``/``Mul`` in a
squeeze-and-excitation gate (``GlobalAveragePool -> Gemm or 1x1 Conv ->
Relu -> Gemm or 1x1 Conv -> Sigmoid [-> Reshape/Unsqueeze] -> Mul``),
``Gather`` of constant channel indices (what :func:`to_onnx` writes for
pruned selections), ``Constant``, and ``Softmax`` at the output (dropped
on import, the network returns logits; recorded in
``net.output_activation`` and written back by :func:`to_onnx`). Anything
else raises :class:`~structsparse.exceptions.OnnxError` naming the node, its
operator and what is supported; no partial network is ever returned.
"""

import io
from pathlib import Path

import numpy as np

from .._atomic import atomic_target
from ..exceptions import OnnxError
from .layers import (Add, AvgPool2D, BatchNorm, Concat, Conv2D, Dense, Flatten, GlobalAvgPool2D, MaxPool2D, ReLU,
                     SqueezeExcite)
from .network import INPUT, Graph

__all__ = ["from_onnx", "to_onnx", "SUPPORTED_OPS"]

SUPPORTED_OPS = ("Conv", "Gemm", "MatMul", "Add", "BatchNormalization", "Relu", "MaxPool", "AveragePool",
                 "GlobalAveragePool", "Flatten", "Reshape", "Concat", "Sigmoid", "Mul", "Softmax", "Gather",
                 "Constant")
_SUPPORTED = ", ".join(SUPPORTED_OPS)
OPSET = 17


def _onnx():
    try:
        import onnx
        from onnx import helper, numpy_helper
    except ImportError:  # pragma: no cover - onnx is a core dependency
        raise ImportError("structsparse.nn ONNX support needs the 'onnx' package: pip install onnx") from None
    return onnx, helper, numpy_helper


def _perm_index(hwc):
    """``perm`` with ``ours[i] = onnx[perm[i]]`` for a flattened ``(H, W, C)`` map (ONNX flattens ``C, H, W``)."""
    h, w, c = hwc
    return np.arange(h * w * c).reshape(c, h, w).transpose(1, 2, 0).ravel()


class _T:
    """An ONNX tensor as seen from the graph under construction."""

    __slots__ = ("node", "kind", "perm")

    def __init__(self, node, kind, perm=None):
        self.node = node      # name of the structsparse node computing it
        self.kind = kind      # "image" (N,C,H,W), "vec" (N,F), "pooled" (N,C,1,1 in ONNX, N,C here)
        self.perm = perm      # (H, W, C) when a flat vector is in ONNX C,H,W order, else None


# ====================================================================== import
class _Importer:
    def __init__(self, model):
        onnx, helper, numpy_helper = _onnx()
        self.helper, self.nph = helper, numpy_helper
        self.model = model
        g = model.graph
        self.g = g
        self.consts = {t.name: numpy_helper.to_array(t) for t in g.initializer}
        for t in g.sparse_initializer:
            raise OnnxError(f"from_onnx: sparse initializer {t.values.name!r} is not supported.")
        self.producer = {}
        self.readers = {}
        for idx, node in enumerate(g.node):
            for o in node.output:
                if o:
                    self.producer[o] = (idx, node)
            for i in node.input:
                if i:
                    self.readers[i] = self.readers.get(i, 0) + 1
        for o in g.output:
            self.readers[o.name] = self.readers.get(o.name, 0) + 1
        for node in g.node:
            if node.op_type == "Constant":
                self._constant(node)
        self.t = {}
        self.names = set()

    # ---------------------------------------------------------------- helpers
    def fail(self, node, msg):
        label = node.name or (node.output[0] if node.output else "?")
        raise OnnxError(f"from_onnx: node {label!r} (op {node.op_type}): {msg}")

    def attrs(self, node):
        return {a.name: self.helper.get_attribute_value(a) for a in node.attribute}

    def _constant(self, node):
        a = self.attrs(node)
        if "value" not in a or len(a) != 1:
            self.fail(node, f"only Constant with a 'value' tensor is supported. Got attributes {sorted(a)}.")
        self.consts[node.output[0]] = self.nph.to_array(a["value"])

    def const(self, node, pos, what):
        if pos >= len(node.input) or not node.input[pos]:
            return None
        name = node.input[pos]
        if name not in self.consts:
            self.fail(node, f"its {what} ({name!r}) must be a constant initializer; computed {what}s are not "
                            "supported.")
        return np.asarray(self.consts[name])

    def tensor(self, node, pos=0):
        name = node.input[pos]
        if name not in self.t:
            if name in self.consts:
                self.fail(node, f"input {name!r} is a constant where a computed tensor is expected.")
            self.fail(node, f"input {name!r} is not computed by a supported node.")
        return self.t[name]

    def fresh(self, node, idx):
        base = node.name or f"{node.op_type.lower()}_{idx}"
        name, k = base, 1
        while name in self.names or name == INPUT:
            k += 1
            name = f"{base}_{k}"
        self.names.add(name)
        return name

    def add(self, node, idx, layer, inputs, params=None, state=None):
        name = self.fresh(node, idx)
        try:
            self.net.add(layer, [t.node for t in inputs], name=name)
        except ValueError as exc:
            self.fail(node, f"does not fit its input ({exc}).")
        for store, given in ((layer.params, params or {}), (layer.state, state or {})):
            for k, v in given.items():
                v = np.array(v, dtype=np.float32)  # a writable copy (onnx arrays may be read-only)
                if v.shape != store[k].shape:
                    self.fail(node, f"parameter {k} has shape {v.shape}; expected {store[k].shape}.")
                if not np.all(np.isfinite(v)):
                    self.fail(node, f"parameter {k} contains NaN or inf.")
                store[k] = v
        return name

    def check_outputs(self, node, n=1):
        extra = [o for o in node.output[n:] if o]
        if extra:
            self.fail(node, f"only its first {n} output(s) are supported; it also outputs {extra}.")

    @staticmethod
    def _pair(node, a, key, default, fail):
        v = list(a.get(key, default))
        if len(v) != 2:
            fail(node, f"attribute {key}={v}: only 2-D spatial operators are supported.")
        return v

    def spatial(self, node, a, kernel, allow=()):
        """Square kernel, equal strides, equal symmetric pads, unit dilations: return (k, stride, pad)."""
        auto = a.get("auto_pad", b"NOTSET")
        auto = auto.decode() if isinstance(auto, bytes) else auto
        if auto not in ("NOTSET", "VALID"):
            self.fail(node, f"auto_pad={auto!r} is not supported (supported: NOTSET with explicit pads, VALID).")
        ks = self._pair(node, a, "kernel_shape", kernel, self.fail)
        strides = self._pair(node, a, "strides", [1, 1], self.fail)
        dil = self._pair(node, a, "dilations", [1, 1], self.fail)
        pads = list(a.get("pads", [0, 0, 0, 0]))
        if auto == "VALID":
            pads = [0, 0, 0, 0]
        if len(pads) != 4:
            self.fail(node, f"pads={pads}: expected 4 values.")
        if ks[0] != ks[1]:
            self.fail(node, f"kernel_shape={ks}: only square kernels are supported.")
        if strides[0] != strides[1]:
            self.fail(node, f"strides={strides}: only equal strides are supported.")
        if dil != [1, 1]:
            self.fail(node, f"dilations={dil}: only dilations of 1 are supported.")
        if len(set(pads)) != 1:
            self.fail(node, f"pads={pads}: only equal padding on every side is supported.")
        known = {"auto_pad", "kernel_shape", "strides", "dilations", "pads"} | set(allow)
        unknown = sorted(set(a) - known)
        if unknown:
            self.fail(node, f"attributes {unknown} are not supported.")
        return int(ks[0]), int(strides[0]), int(pads[0])

    def gemm_weights(self, node):
        """``(W (in, units), b (units,))`` of a Gemm with constant B and C."""
        a = self.attrs(node)
        unknown = sorted(set(a) - {"alpha", "beta", "transA", "transB"})
        if unknown:
            self.fail(node, f"attributes {unknown} are not supported.")
        if a.get("transA", 0):
            self.fail(node, "transA=1 is not supported (the input must be (N, features)).")
        B = self.const(node, 1, "weight B")
        if B is None or B.ndim != 2:
            self.fail(node, "B must be a constant 2-D matrix.")
        W = (B.T if a.get("transB", 0) else B).astype(np.float64) * float(a.get("alpha", 1.0))
        units = W.shape[1]
        C = self.const(node, 2, "bias C")
        if C is None:
            b = np.zeros(units)
        else:
            if C.size not in (1, units) or (C.ndim == 2 and C.shape[0] != 1) or C.ndim > 2:
                self.fail(node, f"bias C of shape {C.shape} is not supported (need ({units},), (1, {units}) or a "
                                "scalar).")
            b = np.broadcast_to(C.astype(np.float64).ravel(), (units,)) * float(a.get("beta", 1.0))
        return W, b

    def conv_weights(self, node, pointwise=False):
        a = self.attrs(node)
        if a.get("group", 1) != 1:
            self.fail(node, f"group={a['group']} is not supported (only group=1, no grouped or depthwise "
                            "convolution).")
        W = self.const(node, 1, "weight W")
        if W is None or W.ndim != 4:
            self.fail(node, "W must be a constant 4-D tensor (2-D convolution).")
        k, s, p = self.spatial(node, a, W.shape[2:], allow=("group",))
        if W.shape[2] != W.shape[3]:
            self.fail(node, f"weights of shape {W.shape}: only square kernels are supported.")
        b = self.const(node, 2, "bias B")
        b = np.zeros(W.shape[0]) if b is None else b.ravel()
        if b.shape != (W.shape[0],):
            self.fail(node, f"bias of shape {b.shape} does not match {W.shape[0]} output channels.")
        if pointwise and (k != 1 or p != 0):
            self.fail(node, f"on a (N, C, 1, 1) tensor only 1x1 convolutions without padding are supported; "
                            f"got kernel {k}, pads {p}.")
        return W, b, k, s, p

    # ---------------------------------------------------------------- graph
    def run(self):
        g = self.g
        inputs = [i for i in g.input if i.name not in self.consts]
        if len(inputs) != 1:
            raise OnnxError(f"from_onnx: the model must have exactly one (non-constant) input. Got "
                            f"{[i.name for i in inputs]}.")
        if len(g.output) != 1:
            raise OnnxError(f"from_onnx: the model must have exactly one output. Got {[o.name for o in g.output]}.")
        inp = inputs[0]
        tt = inp.type.tensor_type
        if tt.elem_type != 1:
            raise OnnxError(f"from_onnx: input {inp.name!r} must be float32 (elem_type 1). Got elem_type "
                            f"{tt.elem_type}.")
        dims = [d.dim_value if d.HasField("dim_value") else None for d in tt.shape.dim]
        if len(dims) not in (2, 4) or any(d is None or d < 1 for d in dims[1:]):
            raise OnnxError(f"from_onnx: input {inp.name!r} must be (N, C, H, W) or (N, F) with known sizes "
                            f"after the batch axis. Got {dims}.")
        if len(dims) == 4:
            shape, kind = (dims[2], dims[3], dims[1]), "image"
        else:
            shape, kind = (dims[1],), "vec"
        self.net = Graph(shape)
        self.t[inp.name] = _T(INPUT, kind)
        self.softmax = False
        absorbed, gates = self.find_gates()
        out_name = g.output[0].name
        for idx, node in enumerate(g.node):
            if node.op_type == "Constant" or idx in absorbed:
                continue
            if idx in gates:
                self.se(node, idx, gates[idx])
                continue
            handler = getattr(self, "op_" + node.op_type, None)
            if handler is None:
                self.fail(node, f"operator {node.op_type!r} is not supported. Supported: {_SUPPORTED}.")
            handler(node, idx)
        if out_name not in self.t:
            raise OnnxError(f"from_onnx: the output {out_name!r} is not computed by a supported node.")
        out = self.t[out_name]
        if out.node == INPUT:
            raise OnnxError("from_onnx: the model computes nothing (its output is its input).")
        if out.kind != "vec":
            raise OnnxError(f"from_onnx: the output {out_name!r} must be a 2-D tensor (N, classes); it is an image "
                            "or pooled map here. Add a Flatten.")
        if out.perm is not None:
            raise OnnxError(f"from_onnx: the output {out_name!r} is a flattened feature map; end with Gemm/MatMul.")
        self.net.output = out.node
        self.net.output_activation = "softmax" if self.softmax else None
        return self.net

    # ---------------------------------------------------------------- SE gates
    def _prod(self, name):
        return self.producer.get(name)

    def _single(self, name):
        return self.readers.get(name, 0) == 1

    def find_gates(self):
        """Squeeze-and-excitation patterns: ``{mul index: spec}`` and the node indices they absorb."""
        absorbed, gates = set(), {}
        for idx, node in enumerate(self.g.node):
            if node.op_type != "Mul" or len(node.input) != 2:
                continue
            for gpos in (1, 0):
                spec = self._match_gate(node.input[gpos], node.input[1 - gpos])
                if spec is not None:
                    gates[idx] = spec
                    absorbed.update(spec["chain"])
                    break
        return absorbed, gates

    def _match_gate(self, gate, xname):
        chain = []
        cur = gate
        p = self._prod(cur)
        n_reshape = 0
        while p and p[1].op_type in ("Reshape", "Unsqueeze") and self._single(cur):
            n_reshape += 1
            chain.append(p[0])
            cur = p[1].input[0]
            p = self._prod(cur)
        if not p or p[1].op_type != "Sigmoid" or not self._single(cur) or n_reshape > 1:
            return None
        chain.append(p[0])
        cur = p[1].input[0]
        lins = []
        for step in ("lin2", "relu", "lin1"):
            p = self._prod(cur)
            if not p or not self._single(cur):
                return None
            want = ("Relu",) if step == "relu" else ("Gemm", "Conv")
            if p[1].op_type not in want:
                return None
            if step != "relu":
                lins.append(p[1])
            chain.append(p[0])
            cur = p[1].input[0]
        lin2, lin1 = lins
        if lin1.op_type != lin2.op_type:
            return None
        if lin2.op_type == "Gemm" and n_reshape != 1 or lin2.op_type == "Conv" and n_reshape != 0:
            return None
        p = self._prod(cur)
        while p and p[1].op_type in ("Flatten", "Reshape", "Squeeze") and self._single(cur) and lin1.op_type == "Gemm":
            chain.append(p[0])
            cur = p[1].input[0]
            p = self._prod(cur)
        if not p or p[1].op_type != "GlobalAveragePool" or not self._single(cur):
            return None
        chain.append(p[0])
        src = p[1].input[0]
        out_index = None
        if xname != src:
            px = self._prod(xname)
            if not (px and px[1].op_type == "Gather" and px[1].input[0] == src and self._single(xname)
                    and px[1].input[1] in self.consts):
                return None
            if self.attrs(px[1]).get("axis", 0) != 1:
                return None
            out_index = np.asarray(self.consts[px[1].input[1]]).astype(np.int64).ravel()
            chain.append(px[0])
        return {"chain": chain, "src": src, "lin1": lin1, "lin2": lin2, "out_index": out_index,
                "reshapes": [self.g.node[i] for i in chain if self.g.node[i].op_type in ("Reshape", "Unsqueeze")]}

    def _gate_linear(self, node):
        if node.op_type == "Gemm":
            return self.gemm_weights(node)
        W, b, _, _, _ = self.conv_weights(node, pointwise=True)
        return W[:, :, 0, 0].T.astype(np.float64), b

    def se(self, node, idx, spec):
        if spec["src"] not in self.t:
            self.fail(node, f"the gated tensor {spec['src']!r} is not computed by a supported node.")
        x = self.t[spec["src"]]
        if x.kind != "image":
            self.fail(node, "a squeeze-and-excitation gate must gate a (N, C, H, W) feature map.")
        W1, b1 = self._gate_linear(spec["lin1"])
        W2, b2 = self._gate_linear(spec["lin2"])
        c = self.net.shape_of(x.node)[-1]
        co = c if spec["out_index"] is None else len(spec["out_index"])
        for r in spec["reshapes"]:
            ok = False
            if r.op_type == "Reshape":
                shp = self.const(r, 1, "shape")
                ok = shp is not None and shp.size == 4 and list(shp[1:]) == [co, 1, 1]
            else:
                axes = self.attrs(r).get("axes")
                axes = self.const(r, 1, "axes") if axes is None else np.asarray(axes)
                ok = axes is not None and sorted(int(v) % 4 for v in np.ravel(axes)) == [2, 3]
            if not ok:
                self.fail(r, f"in the gate of {node.name or node.output[0]!r} it must give (N, {co}, 1, 1).")
        if W1.shape[0] != c or W2.shape[1] != co or W1.shape[1] != W2.shape[0]:
            self.fail(node, f"gate weights {W1.shape}, {W2.shape} do not fit {c} channels gating {co}.")
        idx_arr = spec["out_index"]
        if idx_arr is not None:
            idx_arr = np.where(idx_arr < 0, idx_arr + c, idx_arr)
            if idx_arr.min() < 0 or idx_arr.max() >= c:
                self.fail(node, "its channel Gather has indices out of range.")
        layer = SqueezeExcite(W1.shape[1], idx_arr)
        name = self.add(node, idx, layer, [x], {"W1": W1, "b1": b1, "W2": W2, "b2": b2})
        self.t[node.output[0]] = _T(name, "image")

    # ---------------------------------------------------------------- operators
    def op_Conv(self, node, idx):
        x = self.tensor(node)
        self.check_outputs(node)
        if x.kind == "vec":
            self.fail(node, "Conv needs a (N, C, H, W) input; this one is 2-D.")
        W, b, k, s, p = self.conv_weights(node, pointwise=x.kind == "pooled")
        if x.kind == "pooled":
            name = self.add(node, idx, Dense(W.shape[0]), [x], {"W": W[:, :, 0, 0].T, "b": b})
            self.t[node.output[0]] = _T(name, "pooled")
            return
        name = self.add(node, idx, Conv2D(W.shape[0], k, s, p), [x], {"W": W.transpose(2, 3, 1, 0), "b": b})
        self.t[node.output[0]] = _T(name, "image")

    def _dense(self, node, idx, W, b):
        x = self.tensor(node)
        if x.kind != "vec":
            self.fail(node, f"{node.op_type} needs a 2-D input (N, features); Flatten the feature map first.")
        if x.perm is not None:
            W = W[_perm_index(x.perm)]
        name = self.add(node, idx, Dense(W.shape[1]), [x], {"W": W, "b": b})
        self.t[node.output[0]] = _T(name, "vec")

    def op_Gemm(self, node, idx):
        self.check_outputs(node)
        W, b = self.gemm_weights(node)
        self._dense(node, idx, W, b)

    def op_MatMul(self, node, idx):
        self.check_outputs(node)
        B = self.const(node, 1, "weight B")
        if B is None or B.ndim != 2:
            self.fail(node, "MatMul is supported as (N, features) @ constant 2-D matrix.")
        self._dense(node, idx, B.astype(np.float64), np.zeros(B.shape[1]))

    def op_Add(self, node, idx):
        self.check_outputs(node)
        if len(node.input) != 2:
            self.fail(node, "Add needs two inputs.")
        ca, cb = (node.input[0] in self.consts), (node.input[1] in self.consts)
        if ca and cb:
            self.fail(node, "adding two constants is not supported.")
        if ca or cb:
            pos = 1 if ca else 0
            x = self.tensor(node, pos)
            c = self.const(node, 1 - pos, "bias")
            layer = self.net.node(x.node).layer if x.node != INPUT else None
            if layer is None or layer.kind not in ("dense", "conv2d") or not self._single(node.input[pos]):
                self.fail(node, "adding a constant is supported only as the bias of the Conv/Gemm/MatMul whose "
                                "output it alone reads.")
            units = layer.params["b"].size
            fits = (c.size == units and (c.ndim <= 2 and x.kind == "vec" and c.shape[-1] == units
                                         or x.kind != "vec" and c.shape[-3:] == (units, 1, 1)
                                         and all(d == 1 for d in c.shape[:-3]))) or c.size == 1
            if not fits:
                self.fail(node, f"bias of shape {c.shape} does not broadcast channelwise over {units} channels.")
            layer.params["b"] = (layer.params["b"] + np.broadcast_to(c.ravel(), (units,))).astype(np.float32)
            self.t[node.output[0]] = x
            return
        a, b = self.tensor(node, 0), self.tensor(node, 1)
        if a.kind != b.kind or a.perm != b.perm:
            self.fail(node, "Add needs two tensors of the same layout.")
        name = self.add(node, idx, Add(), [a, b])
        self.t[node.output[0]] = _T(name, a.kind, a.perm)

    def op_BatchNormalization(self, node, idx):
        a = self.attrs(node)
        unknown = sorted(set(a) - {"epsilon", "momentum", "training_mode", "spatial"})
        if unknown:
            self.fail(node, f"attributes {unknown} are not supported.")
        if a.get("training_mode", 0):
            self.fail(node, "training_mode=1 is not supported (export the model in evaluation mode).")
        if a.get("spatial", 1) != 1:
            self.fail(node, "spatial=0 is not supported.")
        self.check_outputs(node)
        x = self.tensor(node)
        vals = [self.const(node, i, w) for i, w in ((1, "scale"), (2, "bias"), (3, "mean"), (4, "var"))]
        if any(v is None for v in vals):
            self.fail(node, "scale, bias, mean and var must all be given as constants.")
        vals = [v.ravel().astype(np.float64) for v in vals]
        if x.perm is not None:
            h, w, c = x.perm
            vals = [v[_perm_index(x.perm)] for v in vals]
        eps = float(a.get("epsilon", 1e-5))
        mom = float(a.get("momentum", 0.9))
        if eps <= 0 or not 0 <= mom <= 1:
            self.fail(node, f"epsilon={eps} must be > 0 and momentum={mom} in [0, 1].")
        name = self.add(node, idx, BatchNorm(momentum=mom, eps=eps), [x],
                        {"gamma": vals[0], "beta": vals[1]}, {"mean": vals[2], "var": vals[3]})
        self.t[node.output[0]] = _T(name, x.kind, x.perm)

    def op_Relu(self, node, idx):
        x = self.tensor(node)
        name = self.add(node, idx, ReLU(), [x])
        self.t[node.output[0]] = _T(name, x.kind, x.perm)

    def _pool(self, node, idx, cls, allow):
        x = self.tensor(node)
        self.check_outputs(node)
        if x.kind != "image":
            self.fail(node, f"{node.op_type} needs a (N, C, H, W) input.")
        a = self.attrs(node)
        if "kernel_shape" not in a:
            self.fail(node, "kernel_shape is required.")
        if a.get("ceil_mode", 0):
            self.fail(node, "ceil_mode=1 is not supported.")
        if a.get("storage_order", 0):
            self.fail(node, "storage_order=1 is not supported.")
        k, s, p = self.spatial(node, a, a["kernel_shape"], allow=("ceil_mode", "storage_order") + allow)
        if 2 * p > k:
            self.fail(node, f"padding {p} larger than half the window {k} is not supported.")
        if cls is AvgPool2D and p and not a.get("count_include_pad", 0):
            self.fail(node, "padded AveragePool is supported only with count_include_pad=1 (zeros count).")
        name = self.add(node, idx, cls(k, s, p), [x])
        self.t[node.output[0]] = _T(name, "image")

    def op_MaxPool(self, node, idx):
        self._pool(node, idx, MaxPool2D, ())

    def op_AveragePool(self, node, idx):
        self._pool(node, idx, AvgPool2D, ("count_include_pad",))

    def op_GlobalAveragePool(self, node, idx):
        x = self.tensor(node)
        if x.kind != "image":
            self.fail(node, "GlobalAveragePool needs a (N, C, H, W) input.")
        name = self.add(node, idx, GlobalAvgPool2D(), [x])
        self.t[node.output[0]] = _T(name, "pooled")

    def _flatten(self, node, idx):
        x = self.tensor(node)
        if x.kind == "vec":
            self.t[node.output[0]] = x
        elif x.kind == "pooled":
            self.t[node.output[0]] = _T(x.node, "vec")
        else:
            shape = self.net.shape_of(x.node)
            name = self.add(node, idx, Flatten(), [x])
            perm = shape if shape[0] * shape[1] > 1 and shape[2] > 1 else None
            self.t[node.output[0]] = _T(name, "vec", perm)

    def op_Flatten(self, node, idx):
        if self.attrs(node).get("axis", 1) != 1:
            self.fail(node, f"axis={self.attrs(node)['axis']}: only Flatten(axis=1) to (N, features) is supported.")
        self._flatten(node, idx)

    def op_Reshape(self, node, idx):
        if self.attrs(node).get("allowzero", 0):
            self.fail(node, "allowzero=1 is not supported.")
        shape = self.const(node, 1, "shape")
        x = self.tensor(node)
        per = self.net.shape_of(x.node)
        features = int(np.prod(per))
        s = [] if shape is None else [int(v) for v in shape.ravel()]
        if len(s) != 2 or not (s[1] in (features, -1) and s[0] in (0, -1) or s[1] == features and s[0] > 0):
            self.fail(node, f"shape {s}: only Reshape to 2-D (N, {features}) is supported (e.g. [-1, {features}] or "
                            "[0, -1]).")
        self._flatten(node, idx)

    def op_Concat(self, node, idx):
        axis = self.attrs(node).get("axis")
        xs = [self.tensor(node, i) for i in range(len(node.input))]
        kinds = {x.kind for x in xs}
        if len(kinds) != 1:
            self.fail(node, "Concat needs inputs of the same layout.")
        kind = kinds.pop()
        ok_axes = (1, -3) if kind == "image" else (1, -1) if kind == "vec" else (1, -3)
        if axis not in ok_axes:
            self.fail(node, f"axis={axis}: only concatenation along channels (axis 1) is supported.")
        if kind == "vec" and any(x.perm is not None for x in xs):
            self.fail(node, "concatenating flattened feature maps is not supported.")
        name = self.add(node, idx, Concat(), xs)
        self.t[node.output[0]] = _T(name, kind)

    def op_Gather(self, node, idx):
        x = self.tensor(node)
        if self.attrs(node).get("axis", 0) != 1:
            self.fail(node, "only Gather along axis 1 (channels or features) is supported.")
        ind = self.const(node, 1, "indices")
        if ind is None or ind.ndim != 1:
            self.fail(node, "indices must be a constant 1-D array.")
        width = int(self.net.shape_of(x.node)[-1])
        ind = ind.astype(np.int64)
        ind = np.where(ind < 0, ind + width, ind)
        if ind.size == 0 or ind.min() < 0 or ind.max() >= width:
            self.fail(node, f"indices out of range for {width} channels.")
        if x.perm is not None:
            ind = np.argsort(_perm_index(x.perm))[ind]  # ONNX positions -> our positions
        if np.array_equal(ind, np.arange(width)):
            self.t[node.output[0]] = _T(x.node, x.kind)
            return
        name = self.add(node, idx, Concat([ind]), [x])
        self.t[node.output[0]] = _T(name, x.kind)

    def op_Softmax(self, node, idx):
        x = self.tensor(node)
        if node.output[0] != self.g.output[0].name or self.readers.get(node.output[0], 0) != 1:
            self.fail(node, "Softmax is supported only as the last operator (its output the model's output).")
        if x.kind != "vec" or x.perm is not None or self.attrs(node).get("axis", -1) not in (1, -1):
            self.fail(node, "Softmax is supported over the classes of a 2-D output (axis 1 or -1).")
        self.softmax = True
        self.t[node.output[0]] = x

    def op_Sigmoid(self, node, idx):
        self.fail(node, "Sigmoid is supported only inside a squeeze-and-excitation gate (GlobalAveragePool -> "
                        "Gemm/1x1 Conv -> Relu -> Gemm/1x1 Conv -> Sigmoid [-> Reshape] -> Mul with the map).")

    def op_Mul(self, node, idx):
        self.fail(node, "Mul is supported only as the product of a feature map with its squeeze-and-excitation "
                        "gate (GlobalAveragePool -> Gemm/1x1 Conv -> Relu -> Gemm/1x1 Conv -> Sigmoid -> Mul).")


def _as_model(path_or_model, owner):
    onnx, _, _ = _onnx()
    if isinstance(path_or_model, onnx.ModelProto):
        return path_or_model
    if isinstance(path_or_model, (bytes, bytearray)):
        try:
            return onnx.load_model_from_string(bytes(path_or_model))
        except Exception as exc:  # noqa: BLE001 - protobuf raises several types
            raise OnnxError(f"{owner}: the bytes are not an ONNX model ({exc}).") from None
    if not isinstance(path_or_model, (str, Path)):
        raise TypeError(f"The 'path_or_model' parameter of {owner} must be a path or an onnx.ModelProto. "
                        f"Got {type(path_or_model).__name__}.")
    path = Path(path_or_model)
    if not path.is_file():
        raise OnnxError(f"{owner}: no ONNX file at {path}.")
    try:
        return onnx.load(str(path))
    except Exception as exc:  # noqa: BLE001
        raise OnnxError(f"{owner}: {path} is not a readable ONNX model ({exc}).") from None


def from_onnx(path_or_model):
    """Read an ONNX model into a :class:`~structsparse.nn.Graph` (NHWC, float32).

    Parameters
    ----------
    path_or_model : str, Path, bytes or onnx.ModelProto
        The model: a ``.onnx`` file, its serialized bytes, or a loaded
        ``ModelProto``. Its single input is ``(N, C, H, W)`` or ``(N, F)``
        float32 with known sizes after the batch axis; its single output
        is ``(N, classes)``.

    Returns
    -------
    Graph
        The network. It takes NHWC input: pass ``X.transpose(0, 2, 3, 1)``
        for an NCHW batch ``X``. A final ``Softmax`` is not part of it
        (``forward`` gives logits); ``net.output_activation`` is
        ``"softmax"`` then, else None.

    Raises
    ------
    OnnxError
        For any operator, attribute or layout outside the supported set
        (see the module documentation), naming the node and its operator.
    TypeError
        When ``path_or_model`` is of another type.
    """
    model = _as_model(path_or_model, "from_onnx")
    return _Importer(model).run()


# ====================================================================== export
class _Exporter:
    def __init__(self, net, softmax, opset):
        onnx, helper, numpy_helper = _onnx()
        self.onnx, self.helper, self.nph = onnx, helper, numpy_helper
        self.net = net
        self.softmax = softmax
        self.opset = opset
        self.nodes, self.inits = [], []
        self.used = set()

    def name(self, base):
        name, k = base, 1
        while name in self.used:
            k += 1
            name = f"{base}_{k}"
        self.used.add(name)
        return name

    def init(self, base, arr, dtype=np.float32):
        name = self.name(base)
        self.inits.append(self.nph.from_array(np.ascontiguousarray(np.asarray(arr, dtype=dtype)), name))
        return name

    def node(self, op, inputs, base, **attrs):
        out = self.name(base)
        self.nodes.append(self.helper.make_node(op, inputs, [out], name=out, **attrs))
        return out

    def gather(self, tensor, index, base):
        return self.node("Gather", [tensor, self.init(base + ".index", index, np.int64)], base, axis=1)

    def plain(self, t, base):
        """A flat tensor in our feature order (Gather from ONNX C,H,W order when needed)."""
        tensor, kind, perm = t
        if perm is None:
            return t
        return (self.gather(tensor, _perm_index(perm), base + ".order"), kind, None)

    def run(self):
        net, helper = self.net, self.helper
        shape = net.original_input_shape
        if len(shape) == 3:
            dims, kind = ["N", shape[2], shape[0], shape[1]], "image"
        elif len(shape) == 1:
            dims, kind = ["N", shape[0]], "vec"
        else:
            raise OnnxError(f"to_onnx: inputs of per-sample shape {shape} are not supported (need (H, W, C) or (F,)).")
        self.used.add("input")
        rec = {INPUT: ("input", kind, None)}
        if net.input_index is not None:
            rec[INPUT] = (self.gather("input", net.input_index, "input.select"), kind, None)
        if getattr(self, "q", None) is not None and INPUT in self.q.act_scale:
            rec[INPUT] = (self.qdq(rec[INPUT][0], INPUT, "input"), kind, None)
        swap = {} if getattr(self, "q", None) is not None else self._relu_first(net)
        relu_of = {pool: relu for relu, pool in swap.items()}
        for n in net.nodes:
            if n.name in swap:  # written before its max pool (below)
                rec[n.name] = rec[swap[n.name]]
                continue
            ins = [rec[i] for i in n.inputs]
            if n.name in relu_of:
                x = ins[0]
                ins = [(self.node("Relu", [x[0]], relu_of[n.name]), x[1], x[2])]
            rec[n.name] = self.layer(n, ins)
        out = rec[net.output]
        if out[1] != "vec":
            raise OnnxError(f"to_onnx: the output node {net.output!r} must give (N, classes); it gives a feature map.")
        out = self.plain(out, net.output)
        tensor = out[0]
        if tensor == "input" or tensor.startswith("input.select") and net.nodes == []:
            raise OnnxError("to_onnx: the network has no layers.")
        if self.softmax:
            tensor = self.node("Softmax", [tensor], "softmax", axis=-1)
        # the model output is called "output"
        for nd in self.nodes:
            for k, o in enumerate(nd.output):
                if o == tensor:
                    nd.output[k] = "output"
            for k, i in enumerate(nd.input):
                if i == tensor:
                    nd.input[k] = "output"
        n_out = net.output_shape[-1]
        graph = helper.make_graph(
            self.nodes, "structsparse",
            [helper.make_tensor_value_info("input", self.onnx.TensorProto.FLOAT, dims)],
            [helper.make_tensor_value_info("output", self.onnx.TensorProto.FLOAT, ["N", n_out])],
            initializer=self.inits)
        model = helper.make_model(graph, producer_name="structsparse",
                                  opset_imports=[helper.make_opsetid("", self.opset)])
        model.ir_version = 8
        return model

    @staticmethod
    def _relu_first(net):
        """``{relu: max pool}`` for the pairs written as ``Relu -> MaxPool`` instead of ``MaxPool -> Relu``.

        ``relu(maxpool(x)) = maxpool(relu(x))`` exactly (both monotone; a max pool
        without padding has real entries in every window), and with the ReLU
        next to the ``Conv`` that feeds the pool (possibly through a
        ``BatchNormalization``, which onnxruntime folds into it) onnxruntime
        fuses it into the convolution kernel instead of running it as one more
        pass over the pooled map. Only pairs where nothing else reads the pool,
        the pool reads a Conv (or a batch norm of one) read by nothing else.
        """
        readers = net._readers()
        layer = {n.name: n for n in net.nodes}
        swap = {}
        for n in net.nodes:
            src = n.inputs[0] if n.inputs else INPUT
            if n.layer.kind != "relu" or src == INPUT or readers[src] != 1:
                continue
            pool = layer[src]
            if pool.layer.kind != "maxpool2d" or pool.layer.padding != 0:
                continue
            feed = pool.inputs[0]
            if feed == INPUT or readers[feed] != 1:
                continue
            if layer[feed].layer.kind == "batchnorm":
                bn_src = layer[feed].inputs[0]
                if bn_src == INPUT or readers[bn_src] != 1:
                    continue
                feed = bn_src
            if layer[feed].layer.kind == "conv2d":
                swap[n.name] = pool.name
        return swap

    def layer(self, n, ins):
        L, name = n.layer, n.name
        kind = L.kind
        f32 = np.float32
        if kind == "conv2d":
            x = ins[0]
            k, s, p = L.kernel_size, L.stride, L.padding
            w = self.init(name + ".W", L.params["W"].transpose(3, 2, 0, 1))
            b = self.init(name + ".b", L.params["b"])
            return (self.node("Conv", [x[0], w, b], name, kernel_shape=[k, k], strides=[s, s], pads=[p] * 4),
                    "image", None)
        if kind == "dense":
            x = ins[0]
            W = np.asarray(L.params["W"], dtype=f32)
            if x[2] is not None:
                Wo = np.empty_like(W)
                Wo[_perm_index(x[2])] = W
                W = Wo
            w = self.init(name + ".W", W)
            b = self.init(name + ".b", L.params["b"])
            return (self.node("Gemm", [x[0], w, b], name), "vec", None)
        if kind == "batchnorm":
            x = ins[0]
            vals = [L.params["gamma"], L.params["beta"], L.state["mean"], L.state["var"]]
            if x[2] is not None:
                pi = _perm_index(x[2])
                new = []
                for v in vals:
                    o = np.empty_like(v)
                    o[pi] = v
                    new.append(o)
                vals = new
            names = [self.init(f"{name}.{k}", v) for k, v in zip(("gamma", "beta", "mean", "var"), vals)]
            return (self.node("BatchNormalization", [x[0]] + names, name, epsilon=float(L.eps),
                              momentum=float(L.momentum)), x[1], x[2])
        if kind == "relu":
            x = ins[0]
            return (self.node("Relu", [x[0]], name), x[1], x[2])
        if kind in ("maxpool2d", "avgpool2d"):
            x = ins[0]
            k, s, p = L.size, L.stride, L.padding
            attrs = dict(kernel_shape=[k, k], strides=[s, s], pads=[p] * 4)
            if kind == "avgpool2d":
                attrs["count_include_pad"] = 1
            return (self.node("MaxPool" if kind == "maxpool2d" else "AveragePool", [x[0]], name, **attrs),
                    "image", None)
        if kind == "globalavgpool2d":
            g = self.node("GlobalAveragePool", [ins[0][0]], name + ".pool")
            return (self.node("Flatten", [g], name, axis=1), "vec", None)
        if kind == "flatten":
            x = ins[0]
            if x[1] == "vec":
                return x
            h, w, c = L.input_shape
            perm = (h, w, c) if h * w > 1 and c > 1 else None
            return (self.node("Flatten", [x[0]], name, axis=1), "vec", perm)
        if kind == "squeeze_excite":
            x = ins[0]
            co = L.output_shape[-1]
            g = self.node("GlobalAveragePool", [x[0]], name + ".squeeze")
            g = self.node("Flatten", [g], name + ".flat", axis=1)
            g = self.node("Gemm", [g, self.init(name + ".W1", L.params["W1"]), self.init(name + ".b1", L.params["b1"])],
                          name + ".fc1")
            g = self.node("Relu", [g], name + ".relu")
            g = self.node("Gemm", [g, self.init(name + ".W2", L.params["W2"]), self.init(name + ".b2", L.params["b2"])],
                          name + ".fc2")
            g = self.node("Sigmoid", [g], name + ".sigmoid")
            g = self.node("Reshape", [g, self.init(name + ".shape", [-1, co, 1, 1], np.int64)], name + ".gate")
            xs = x[0] if L.out_index is None else self.gather(x[0], L.out_index, name + ".select")
            return (self.node("Mul", [xs, g], name), "image", None)
        if kind in ("concat", "add"):
            kinds = {x[1] for x in ins}
            if len(kinds) != 1:  # pragma: no cover - the graph's shape checks prevent this
                raise OnnxError(f"to_onnx: node {name!r} joins inputs of different layouts.")
            perms = {x[2] for x in ins}
            if kind == "concat" or len(perms) > 1:
                ins = [self.plain(x, f"{name}.in{i}") for i, x in enumerate(ins)]
            parts = []
            for i, x in enumerate(ins):
                sel = None if L.select is None else L.select[i]
                parts.append(x[0] if sel is None else self.gather(x[0], sel, f"{name}.sel{i}"))
            if kind == "concat":
                if len(parts) == 1:
                    return (parts[0], ins[0][1], None) if L.select is None or L.select[0] is None else \
                        (parts[0], ins[0][1], None)
                return (self.node("Concat", parts, name, axis=1), ins[0][1], None)
            acc = parts[0]
            for i, p in enumerate(parts[1:]):
                acc = self.node("Add", [acc, p], name if i == len(parts) - 2 else f"{name}.sum{i}")
            return (acc, ins[0][1], ins[0][2])
        raise OnnxError(f"to_onnx: layer {name!r} of kind {kind!r} has no ONNX export.")  # pragma: no cover


class _QDQExporter(_Exporter):
    """Export of a :class:`~structsparse.nn.quantize.QuantizedNet`: int8 weights and int32 biases behind
    ``DequantizeLinear``, a ``QuantizeLinear``/``DequantizeLinear`` pair after the input and after every node
    whose output lies on a quantization grid (zero point 0, int8)."""

    def __init__(self, qnet, softmax, opset):
        super().__init__(qnet.net, softmax, opset)
        self.q = qnet

    def qdq(self, tensor, point, base):
        s = self.init(base + ".scale", np.float32(self.q.act_scale[point]))
        z = self.init(base + ".zero", np.int8(0), np.int8)
        t = self.node("QuantizeLinear", [tensor, s, z], base + ".q")
        return self.node("DequantizeLinear", [t, s, z], base + ".dq")

    def dq(self, arr, scale, base, axis, dtype):
        q = self.init(base, arr, dtype)
        per = self.q.per_channel or dtype == np.int32
        s = self.init(base + ".scale", scale if per else np.float32(scale[0]))
        z = self.init(base + ".zero", np.zeros(len(scale), dtype) if per else dtype(0), dtype)
        attrs = {"axis": axis} if per else {}
        return self.node("DequantizeLinear", [q, s, z], base + ".dq", **attrs)

    def layer(self, n, ins):
        L, name, kind = n.layer, n.name, n.layer.kind
        if kind == "conv2d":
            x = ins[0]
            k, st, p = L.kernel_size, L.stride, L.padding
            w = self.dq(self.q.weight_q[name].transpose(3, 2, 0, 1), self.q.weight_scale[name], name + ".W", 0,
                        np.int8)
            b = self.dq(self.q.bias_q[name], self.q.bias_scale[name], name + ".b", 0, np.int32)
            out = (self.node("Conv", [x[0], w, b], name, kernel_shape=[k, k], strides=[st, st], pads=[p] * 4),
                   "image", None)
        elif kind == "dense":
            x = ins[0]
            Wq = self.q.weight_q[name]
            if x[2] is not None:
                Wo = np.empty_like(Wq)
                Wo[_perm_index(x[2])] = Wq
                Wq = Wo
            w = self.dq(Wq, self.q.weight_scale[name], name + ".W", 1, np.int8)
            b = self.dq(self.q.bias_q[name], self.q.bias_scale[name], name + ".b", 0, np.int32)
            out = (self.node("Gemm", [x[0], w, b], name), "vec", None)
        else:
            out = super().layer(n, ins)
        point = self.q.chain.get(name)
        if point is not None and out[0] != ins[0][0]:
            out = (self.qdq(out[0], point, name), out[1], out[2])
        return out


def to_onnx(net, path=None, softmax=None, opset=OPSET):
    """Write ``net`` as an ONNX model (NCHW input, as usual for ONNX CNNs).

    Parameters
    ----------
    net : Graph or QuantizedNet
        A built network (not modified); parameters are written as float32.
        Batch norms are written as ``BatchNormalization`` (onnxruntime folds
        them itself). A :class:`~structsparse.nn.QuantizedNet` (from
        :func:`~structsparse.nn.quantize`) is written in the QDQ format:
        int8 weights and int32 biases behind ``DequantizeLinear`` (per output
        channel: ``axis`` 0 for Conv, 1 for Gemm), and a ``QuantizeLinear`` /
        ``DequantizeLinear`` pair (int8, zero point 0) on the input and on every
        activation that lies on a quantization grid.
    path : str or Path, optional
        Where to write the model (atomically); its folder must exist. None
        only returns the model.
    softmax : bool or None, default None
        Append a ``Softmax`` over the classes. None: only when the network
        was imported with one (``net.output_activation == "softmax"``).
    opset : int, default 17
        ONNX operator set version of the model (at least 13).

    Returns
    -------
    onnx.ModelProto
        The model; its input is ``"input"``, ``(N, C, H, W)`` for images or
        ``(N, F)`` for vectors, and its output ``"output"``, ``(N, classes)``.

    Raises
    ------
    OnnxError
        When the network cannot be written (no layers, a feature map as
        output, an input of another rank).
    """
    from .quantize import QuantizedNet

    qnet = None
    if isinstance(net, QuantizedNet):
        qnet, net = net, net.net
    if not isinstance(net, Graph):
        raise TypeError(f"The 'net' parameter of to_onnx must be a structsparse.nn Graph or QuantizedNet. "
                        f"Got {type(net).__name__}.")
    if not isinstance(opset, (int, np.integer)) or isinstance(opset, bool) or opset < 13:
        raise OnnxError(f"The 'opset' parameter of to_onnx must be an int >= 13. Got {opset!r}.")
    if softmax is None:
        softmax = getattr(net, "output_activation", None) == "softmax"
    if not net.nodes:
        raise OnnxError("to_onnx: the network has no layers.")
    for node, pname, p in net.parameters():
        if not np.all(np.isfinite(p)):
            raise OnnxError(f"to_onnx: parameter {node}.{pname} contains NaN or inf.")
    if qnet is not None:
        model = _QDQExporter(qnet, bool(softmax), int(opset)).run()
    else:
        model = _Exporter(net, bool(softmax), int(opset)).run()
    if path is not None:
        path = Path(path)
        if not path.parent.is_dir():
            raise OnnxError(f"to_onnx: folder {path.parent} does not exist.")
        data = model.SerializeToString()
        with atomic_target(path, suffix=".tmp") as tmp:
            with open(tmp, "wb") as fh:
                fh.write(data)
    return model


def ort_session(model, threads=1, config=None, optimized_path=None):
    """An onnxruntime session on ``model`` (a ModelProto or path), ``threads`` intra-op threads.

    Every session gets the same options: all graph optimizations
    (``ORT_ENABLE_ALL``: constant folding, Conv+BatchNormalization and
    Conv+Relu fusion, the blocked NCHWc layout where the hardware has it),
    sequential execution, one inter-op thread. ``config`` adds session
    configuration entries (``{"session.intra_op.allow_spinning": "0"}``, or
    the pseudo-entry ``"optimization"``: ``"all"``, ``"extended"``, ``"basic"``
    or ``"disable"``); ``optimized_path`` saves the graph onnxruntime runs
    (after its fusions and layout changes) to that file.
    """
    try:
        import onnxruntime as ort
    except ImportError:
        raise ImportError("onnxruntime is not installed: pip install 'structsparse[runtime]'") from None
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = int(threads)
    opts.inter_op_num_threads = 1
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    opts.log_severity_level = 3
    for key, value in (config or {}).items():
        if key == "optimization":
            opts.graph_optimization_level = getattr(ort.GraphOptimizationLevel, f"ORT_ENABLE_{str(value).upper()}",
                                                    ort.GraphOptimizationLevel.ORT_DISABLE_ALL)
        else:
            opts.add_session_config_entry(str(key), str(value))
    if optimized_path is not None:
        opts.optimized_model_filepath = str(optimized_path)
    src = model.SerializeToString() if hasattr(model, "SerializeToString") else str(model)
    return ort.InferenceSession(src, opts, providers=["CPUExecutionProvider"])


def ort_runner(model, threads=1, chunk=None, config=None):
    """A function ``run(X)`` that evaluates ``model`` in onnxruntime through IO binding.

    ``X`` is a float32 batch in the model's layout (NCHW images or 2-D
    vectors). The input is bound without a copy and the output goes into an
    array the runner keeps per batch size, so each call costs the session's
    own run and not the conversions of ``InferenceSession.run`` (about 2-4 us
    a call, a sizeable share of a 10 us forward at batch 1). Every network
    timed through it pays the same fixed cost.

    Parameters
    ----------
    model : onnx.ModelProto or str or Path
        The model (see :func:`ort_session`).
    threads : int, default 1
        Intra-op threads.
    chunk : int or None, default None
        Run batches larger than this in slices of ``chunk`` samples.
    config : dict, optional
        Session configuration entries (see :func:`ort_session`).

    Returns
    -------
    callable
        ``run(X) -> ndarray``: the first output, a view of the runner's
        buffer (valid until the next call with the same batch size).
    """
    import onnxruntime as ort

    sess = ort_session(model, threads=threads, config=config)
    in_name, out_name = sess.get_inputs()[0].name, sess.get_outputs()[0].name
    bound = {}

    def one(Xc):
        # the binding is reused for the very same array (kept alive in the binding, so its id cannot be
        # taken by another array): a repeated call costs the run alone
        held = bound.get(Xc.shape[0])
        if held is None or held[0] is not Xc:
            io = sess.io_binding()
            x_val = ort.OrtValue.ortvalue_from_numpy(Xc)
            io.bind_ortvalue_input(in_name, x_val)
            shape = sess.run([out_name], {in_name: Xc})[0].shape
            y = np.empty(shape, dtype=np.float32)
            io.bind_output(out_name, "cpu", 0, np.float32, list(shape), y.__array_interface__["data"][0])
            held = bound[Xc.shape[0]] = (Xc, io, x_val, y)
        sess.run_with_iobinding(held[1])
        return held[3]

    def run(X):
        if not (isinstance(X, np.ndarray) and X.dtype == np.float32 and X.flags.c_contiguous):
            X = np.ascontiguousarray(X, dtype=np.float32)
        if chunk is not None and X.shape[0] > chunk:
            return np.concatenate([one(X[i:i + chunk]).copy() for i in range(0, X.shape[0], chunk)])
        return one(X)

    return run


def nchw(X):
    """An NHWC batch as NCHW (contiguous), or a 2-D batch unchanged."""
    X = np.asarray(X, dtype=np.float32)
    return np.ascontiguousarray(X.transpose(0, 3, 1, 2)) if X.ndim == 4 else X
