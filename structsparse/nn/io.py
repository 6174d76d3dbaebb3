"""Save and load networks: weights in ``.npz``, everything else in JSON.

The ``.npz`` file holds every parameter and batch-norm statistic (keys
``param/<node>/<name>`` and ``state/<node>/<name>``), the input selection,
and the description as a JSON string (``__structsparse__``): format version,
input shape, nodes (kind, configuration, inputs, output shape), blocks,
pruning configuration with the kept units of every layer, and user metrics.
A readable copy of the JSON is written beside it (``<name>.json``). Both
files are written to a temporary file in the same folder and moved into
place, so a crash never leaves half a file. The description carries the
kind of object (``"kind": "structsparse.nn.Graph"``) and a format version.

:meth:`Graph.save <structsparse.nn.Graph.save>` and :meth:`Graph.load
<structsparse.nn.Graph.load>` are the public entry points; the functions
:func:`save` and :func:`load` are their deprecated aliases (one release).
Loading refuses another kind's file (a sysid model, a recipe, the JSON
description itself) with :class:`~structsparse.exceptions.ParameterError`
saying what the file holds, and raises
:class:`~structsparse.exceptions.StructureError` naming what is wrong in a
damaged network file.
"""

import hashlib
import json
import warnings
import zipfile
from pathlib import Path

import numpy as np

from .._atomic import atomic_target, clean_stale_temporaries
from .._saving import (FORMAT_KEY, VERSION_KEY, as_path, check_header, held_kind, missing_file, npz_header,
                       read_json)
from ..exceptions import MissingFileError, ParameterError, StructureError, StructureTypeError
from .layers import LAYER_TYPES
from .network import INPUT, Graph, Node

__all__ = ["save", "load", "save_network", "load_network", "FORMAT_VERSION", "KIND"]

FORMAT_VERSION = 1
KIND = "structsparse.nn.Graph"
_FORMAT = "structsparse.nn"  # the description's "format" before the shared header (files still read)
_RECIPE = "structsparse.nn.recipe"
_META_KEY = "__structsparse__"


class _MissingNetworkFile(MissingFileError, StructureError):
    """A network file that does not exist: the package's MissingFileError and, until 0.3, the StructureError
    that 0.1's ``nn.load`` raised for it."""


def _jsonable(obj):
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.floating):
        return float(obj)
    return obj


def _checksum(arrays):
    """SHA-256 of every array (name, dtype, shape and bytes, in name order)."""
    h = hashlib.sha256()
    for key in sorted(arrays):
        arr = np.ascontiguousarray(arrays[key])
        h.update(f"{key}|{arr.dtype.str}|{arr.shape}|".encode())
        h.update(arr.tobytes())
    return h.hexdigest()


def _atomic_write(path, write):
    with atomic_target(path, suffix=".tmp") as tmp:
        with open(tmp, "wb") as fh:
            write(fh)


def describe(net, metrics=None):
    """The JSON description of a network."""
    return _jsonable({
        "format": KIND, "kind": KIND, "version": FORMAT_VERSION,
        "input_shape": list(net.original_input_shape),
        "input_width": net.input_shape[-1],
        "nodes": [{"name": n.name, "kind": n.layer.kind, "config": n.layer.config(), "inputs": n.inputs,
                   "output_shape": list(net.shape_of(n.name)),
                   "params": {k: list(v.shape) for k, v in n.layer.params.items()},
                   "state": {k: list(v.shape) for k, v in n.layer.state.items()}} for n in net.nodes],
        "output": net.output,
        "blocks": net.blocks,
        "pruning": getattr(net, "pruning", None),
        "metrics": metrics or {},
    })


def save(net, path, metrics=None):
    """Deprecated alias of :meth:`Graph.save <structsparse.nn.Graph.save>` (one release).

    Parameters
    ----------
    net : Graph
        The network to write.
    path : str or Path
        Target file; ``.npz`` is appended when missing.
    metrics : dict, optional
        Anything JSON-serialisable to keep with the model.

    Returns
    -------
    Path
        The ``.npz`` path written.
    """
    warnings.warn("nn.save(net, path) is deprecated and will be removed in the next release; use net.save(path).",
                  DeprecationWarning, stacklevel=2)
    return save_network(net, path, metrics)


def load(path):
    """Deprecated alias of :meth:`Graph.load <structsparse.nn.Graph.load>` (one release).

    Parameters
    ----------
    path : str or Path
        The ``.npz`` file written by :meth:`Graph.save <structsparse.nn.Graph.save>`.

    Returns
    -------
    Graph
    """
    warnings.warn("nn.load(path) is deprecated and will be removed in the next release; use "
                  "nn.Graph.load(path).", DeprecationWarning, stacklevel=2)
    return load_network(path)


def save_network(net, path, metrics=None):
    """Write ``net`` to ``path`` (``.npz``) and its description to ``path`` with ``.json``.

    Parameters
    ----------
    net : Graph
    path : str or Path
        Target file; ``.npz`` is appended when missing.
    metrics : dict, optional
        Anything JSON-serialisable to keep with the model (accuracy, FLOPs...).

    Returns
    -------
    Path
        The ``.npz`` path written.
    """
    if not isinstance(net, Graph):
        raise StructureTypeError(f"save: 'net' must be a structsparse.nn Graph. Got {type(net).__name__}.")
    path = as_path(path, "Graph.save")
    if path.suffix != ".npz":
        path = path.with_name(path.name + ".npz")
    if not path.parent.exists():
        raise StructureError(f"save: folder {path.parent} does not exist.")
    for node, name, p in net.parameters():
        if not np.all(np.isfinite(p)):
            raise StructureError(f"save: parameter {node}.{name} contains NaN or inf; refusing to save.")
    meta = describe(net, metrics)
    arrays = {}
    for n in net.nodes:
        for k, v in n.layer.params.items():
            arrays[f"param/{n.name}/{k}"] = v
        for k, v in n.layer.state.items():
            arrays[f"state/{n.name}/{k}"] = v
    if net.input_index is not None:
        arrays["input_index"] = net.input_index
    meta["weights_sha256"] = _checksum(arrays)  # the description (inside the .npz and beside it) pins the weights
    text = json.dumps(meta, indent=1)
    arrays[_META_KEY] = np.array(text)
    arrays.update(npz_header(KIND, FORMAT_VERSION))  # the shared header (structsparse._saving), outside the checksum
    _atomic_write(path, lambda fh: np.savez(fh, **arrays))
    _atomic_write(path.with_suffix(".json"), lambda fh: fh.write(text.encode()))
    return path


def load_network(path):
    """Read a network written by :func:`save_network`.

    Parameters
    ----------
    path : str or Path
        The ``.npz`` file written by :func:`save_network` (used as given: no suffix
        is appended). The ``.json`` description beside it is not read; the
        ``.npz`` holds its own copy.

    Returns
    -------
    Graph
        The rebuilt network, with its parameters, batch-norm statistics and
        any input selection.

    Raises
    ------
    ParameterError
        When the file holds another kind of object (a sysid model, a recipe,
        the JSON description of a network, another library's arrays); the
        message says what it holds.
    MissingFileError
        When the file does not exist (a ``ParameterError`` and a
        ``FileNotFoundError``; until 0.3 also the ``StructureError`` 0.1 raised).
    StructureError
        When the file is corrupt, or its weights do not match its
        architecture.
    """
    path = as_path(path, "Graph.load")
    clean_stale_temporaries(path)
    if not path.exists():
        raise missing_file(path, "Network", _MissingNetworkFile)
    if path.is_dir():
        raise StructureError(f"load: {path} is a folder, not a saved network (.npz).")
    try:
        with open(path, "rb") as fh:
            magic = fh.read(4)
        if magic != b"PK\x03\x04":
            if magic[:1] in (b"{", b"[") or magic.lstrip()[:1] in (b"{", b"["):
                _refuse_json(path)
            what = "an empty file" if not magic else ("a single .npy array" if magic.startswith(b"\x93NUM") else
                                                      "not a zip archive")
            raise StructureError(f"load: {path} is not a readable .npz file ({what}; Graph.save writes .npz).")
        with np.load(path, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
    except (zipfile.BadZipFile, ValueError, OSError, EOFError) as exc:
        if isinstance(exc, (StructureError, ParameterError)):
            raise
        raise StructureError(f"load: {path} is not a readable .npz file ({exc}).") from None
    if FORMAT_KEY in arrays:  # the shared header: refuses another kind's file, naming what it holds
        check_header(arrays, KIND, f"load: {path}", versions=(FORMAT_VERSION,))
        arrays.pop(FORMAT_KEY)
        arrays.pop(VERSION_KEY, None)
    if _META_KEY not in arrays:
        raise ParameterError(f"load: {path} holds {_npz_kind(arrays)}, not a saved structsparse.nn network "
                             f"(no description, key {_META_KEY!r}).")
    try:
        meta = json.loads(str(arrays.pop(_META_KEY)))
    except json.JSONDecodeError as exc:
        raise StructureError(f"load: the description in {path} is not valid JSON ({exc}).") from None
    if not isinstance(meta, dict):
        raise StructureError(f"load: the description in {path} is not a JSON object.")
    kind = meta.get("kind", KIND if meta.get("format") == _FORMAT else None)  # version-1 files before 'kind'
    if meta.get("format") not in (_FORMAT, KIND) or kind != KIND:
        raise ParameterError(f"load: {path} holds a {kind or meta.get('format')!r} object, not a structsparse.nn "
                             "network.")
    if meta.get("version") != FORMAT_VERSION:
        raise StructureError(f"load: {path} has format version {meta.get('version')}; this library reads {FORMAT_VERSION}.")
    try:
        net = _rebuild(meta, dict(arrays), path)
    except (KeyError, TypeError) as exc:
        raise StructureError(f"load: the description in {path} is incomplete or malformed ({exc!r}).") from None
    expected = meta.get("weights_sha256")  # after the structural checks, which say more when they fail
    if expected is not None and expected != _checksum(arrays):
        raise StructureError(f"load: the weights in {path} do not match the checksum of its description "
                             "(the file was changed or damaged after saving).")
    return net


def _refuse_json(path):
    """A JSON file is never a saved network: raise ParameterError saying what it holds."""
    source = f"load: {path}"
    try:
        doc = read_json(path, "Network")
    except ParameterError:
        raise ParameterError(f"{source} holds text that looks like JSON but does not parse; Graph.save writes an "
                             ".npz file.") from None
    held = held_kind(doc) if isinstance(doc, dict) else None
    if held in (_FORMAT, KIND):
        raise ParameterError(f"{source} holds the JSON description written beside a network, not the network; "
                             "load the .npz file next to it.")
    if held == _RECIPE:
        raise ParameterError(f"{source} holds a structsparse.nn pruning recipe (JSON), not a network; read it with "
                             "nn.Recipe.load and apply it with nn.apply_recipe.")
    if held is None:
        raise ParameterError(f"{source} holds a JSON document without a header, not a saved structsparse.nn "
                             "network (Graph.save writes an .npz file).")
    check_header(doc, KIND, source)  # another kind: the shared message names it
    raise ParameterError(f"{source} holds JSON; Graph.save writes an .npz file.")  # pragma: no cover


def _npz_kind(arrays):
    """What an .npz archive without a network description holds, in words."""
    for key, arr in arrays.items():  # a header written by another structsparse saver
        if arr.dtype.kind in "US" and arr.ndim == 0:
            try:
                doc = json.loads(str(arr))
            except json.JSONDecodeError:
                continue
            if isinstance(doc, dict) and (doc.get("kind") or doc.get("format")):
                return f"a {doc.get('kind') or doc.get('format')!r} object"
    names = sorted(arrays)
    if {"A", "B", "C", "D"} <= set(names):
        return f"a state-space model (arrays {', '.join(names)}: a structsparse.sysid StateSpace)"
    return f"the arrays {names[:8]}"


def _rebuild(meta, arrays, path):
    net = Graph(tuple(meta["input_shape"]))
    if "input_index" in arrays:
        idx = arrays.pop("input_index").astype(np.int64)
        if idx.ndim != 1 or len(idx) != meta["input_width"] or (idx.size and (idx.min() < 0 or idx.max() >= meta["input_shape"][-1])):
            raise StructureError(f"load: the input selection in {path} does not fit the input shape.")
        net.input_index = idx
        net._shapes[INPUT] = tuple(meta["input_shape"][:-1]) + (len(idx),)
    used = set()
    for spec in meta["nodes"]:
        kind = spec["kind"]
        if kind not in LAYER_TYPES:
            raise StructureError(f"load: unknown layer kind {kind!r} in {path}.")
        layer = LAYER_TYPES[kind](**spec["config"])
        for i in spec["inputs"]:
            if i not in net._shapes:
                raise StructureError(f"load: node {spec['name']!r} reads unknown node {i!r} in {path}.")
        shapes = [net._shapes[i] for i in spec["inputs"]]
        try:
            out = layer.build(shapes if layer.n_inputs is None else shapes[0], np.random.default_rng(0))
        except ValueError as exc:
            raise StructureError(f"load: node {spec['name']!r} does not fit its inputs in {path}: {exc}") from None
        if list(out) != list(spec["output_shape"]):
            raise StructureError(f"load: node {spec['name']!r} gives shape {out}, the file says {spec['output_shape']}.")
        for group, store in (("param", layer.params), ("state", layer.state)):
            for k in list(store):
                key = f"{group}/{spec['name']}/{k}"
                if key not in arrays:
                    raise StructureError(f"load: {path} lacks the array {key}.")
                arr = arrays[key]
                if arr.shape != store[k].shape:
                    raise StructureError(f"load: array {key} in {path} has shape {arr.shape}; the architecture "
                                         f"needs {store[k].shape}.")
                if arr.dtype.kind != store[k].dtype.kind:
                    raise StructureError(f"load: array {key} in {path} has dtype {arr.dtype}; the layer needs "
                                         f"{store[k].dtype} (real floating-point weights).")
                if not np.all(np.isfinite(arr)):
                    raise StructureError(f"load: array {key} in {path} contains NaN or inf.")
                if k == "var" and np.any(arr < 0):
                    raise StructureError(f"load: array {key} in {path} holds negative batch-norm variances.")
                store[k] = arr.astype(np.float32) if arr.dtype.kind == "f" and arr.dtype != np.float64 else arr
                used.add(key)
        net.nodes.append(Node(spec["name"], layer, spec["inputs"]))
        net._shapes[spec["name"]] = tuple(out)
    extra = set(arrays) - used
    if extra:
        raise StructureError(f"load: {path} holds arrays that no layer uses: {sorted(extra)[:5]}.")
    if meta["output"] not in net._shapes:
        raise StructureError(f"load: output node {meta['output']!r} is not in {path}.")
    net.output = meta["output"]
    net.blocks = meta.get("blocks") or []
    if meta.get("pruning") is not None:
        net.pruning = meta["pruning"]
    net.metrics = meta.get("metrics") or {}
    return net
