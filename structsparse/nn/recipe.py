"""Versioned pruning recipes: one JSON file that reproduces a pruned network.

A recipe records what a pruning run started from, what it did and what it
got:

- ``package``: the structsparse version that wrote it, and the recipe format version;
- ``source``: the hash of the dense source network (:func:`model_hash`:
  architecture and every parameter), its FLOPs and parameter count;
- ``data``: a fingerprint (shape and SHA-256) of every data part the run saw;
- ``hyperparameters``: every argument of the run;
- ``pruning``: per layer, the kept channel indices *in the source network's
  numbering* (a chain of prunings is composed), and the kept/total counts;
- ``weights``: the fine-tuned weights of the pruned network (base64 of the
  little-endian bytes, with their SHA-256), so that the recipe reproduces the
  result without retraining; ``None`` when the run chose to record masks only;
- ``result``: the pruned network's hash, FLOPs and parameter count;
- ``metrics``: whatever the run measured (accuracies, FLOPs ratio...).

:func:`apply_recipe` checks the source hash (a recipe made for another model
is refused with :class:`RecipeError`), cuts the source with the recorded
indices, loads the recorded weights and checks the result's hash.
"""

import base64
import hashlib
import json
import warnings
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from .._atomic import atomic_write_text, clean_stale_temporaries
from .._saving import as_path, missing_file
from ..exceptions import MissingFileError, ParameterError
from .analysis import count_params, flops
from .network import INPUT, Graph
from .surgery import apply_plan

__all__ = ["Recipe", "RecipeError", "model_hash", "data_fingerprint", "make_recipe", "save_recipe", "load_recipe",
           "apply_recipe", "RECIPE_FORMAT", "RECIPE_VERSION"]

RECIPE_FORMAT = "structsparse.nn.recipe"
RECIPE_VERSION = 1
_REQUIRED = ("format", "version", "package", "source", "data", "hyperparameters", "pruning", "weights", "result",
             "metrics")


class RecipeError(ParameterError):
    """A pruning recipe is malformed, of another format or version, or made for a different source model."""


class _MissingRecipeFile(RecipeError, MissingFileError):
    """A recipe file that does not exist: a RecipeError (as before) and the package's MissingFileError."""


class Recipe(dict):
    """A pruning recipe: the JSON document of a run (a ``dict``), with ``save`` / ``load`` and a short ``repr``.

    :func:`make_recipe`, :func:`~structsparse.nn.prune_to_budget` and the experiments return one;
    :meth:`save` writes it atomically as JSON with its kind and version (``"format":
    "structsparse.nn.recipe"``, ``"version"``), :meth:`load` reads it back and refuses any other kind of file
    (a saved network, a phase table, a sysid model) with a :class:`RecipeError` (a ``ParameterError``) naming
    what the file holds. It stays a ``dict`` (its keys are listed in the module's docstring), so code that reads
    ``recipe["pruning"]["keep"]`` keeps working.

    Parameters
    ----------
    document : dict, optional
        The recipe's entries (checked when saved or applied).

    Examples
    --------
    >>> from structsparse import nn
    >>> net = nn.mlp(hidden=(4,), n_classes=2, n_features=6, rng=0)
    >>> recipe = nn.make_recipe(net, nn.prune(net))
    >>> type(recipe).__name__, recipe["format"]
    ('Recipe', 'structsparse.nn.recipe')
    """

    def save(self, path):
        """Write the recipe to ``path`` as JSON, atomically (checked first).

        Parameters
        ----------
        path : str or Path
            Target file (``.json``); its folder must exist.

        Returns
        -------
        Path
        """
        return _save_recipe(self, path, owner="Recipe.save")

    @classmethod
    def load(cls, path):
        """Read and check a recipe written by :meth:`save`.

        Parameters
        ----------
        path : str or Path
            The JSON file.

        Returns
        -------
        Recipe

        Raises
        ------
        MissingFileError
            When the file does not exist (also a :class:`RecipeError`).
        RecipeError
            When the file is not JSON or not a recipe (another kind of file is refused by name).
        """
        return _load_recipe(path)

    def apply(self, net):
        """Reproduce the recorded pruning on ``net``: :func:`apply_recipe`.

        Parameters
        ----------
        net : Graph
            The dense source network (not modified).

        Returns
        -------
        Graph
        """
        return apply_recipe(net, self)

    def __repr__(self):
        src, res, pr = self.get("source") or {}, self.get("result") or {}, self.get("pruning") or {}
        parts = [f"source={str(src.get('hash', '?'))[:12]}"]
        if "flops" in src and "flops" in res:
            ratio = f" ({res['flops'] / src['flops']:.3f})" if src["flops"] else ""
            parts.append(f"flops={src['flops']}->{res['flops']}{ratio}")
        if isinstance(pr.get("keep"), dict):
            parts.append(f"nodes_kept={len(pr['keep'])}")
        parts.append(f"weights={'stored' if self.get('weights') else 'masks only'}")
        parts.append(f"version={self.get('version')!r}")
        return f"Recipe({', '.join(parts)})"

    __str__ = __repr__


def _package_version():
    try:
        from importlib.metadata import version

        return version("structsparse")
    except Exception:  # pragma: no cover - not installed as a distribution
        return "unknown"


def _jsonable(obj):
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (np.floating,)):
        return float(obj)
    if isinstance(obj, (np.bool_,)):
        return bool(obj)
    if isinstance(obj, Path):
        return str(obj)
    return obj


def _canonical_bytes(arr):
    arr = np.asarray(arr)
    if arr.dtype.kind == "f":
        arr = arr.astype("<f4")
    elif arr.dtype.kind in "iu":
        arr = arr.astype("<i8")
    return np.ascontiguousarray(arr).tobytes()


def model_hash(net):
    """SHA-256 of a network's architecture and parameters (hex string).

    Two networks have the same hash when they have the same input shape and
    selection, the same nodes (names, kinds, configurations, inputs, output
    shapes) and the same parameters and batch-norm statistics bit for bit
    (as little-endian float32). Training history, pruning records and
    metrics do not enter.

    Parameters
    ----------
    net : Graph
        A built network.

    Returns
    -------
    str
        64 hexadecimal digits.
    """
    if not isinstance(net, Graph):
        raise TypeError(f"The 'net' parameter of model_hash must be a structsparse.nn Graph. Got {type(net).__name__}.")
    arch = _jsonable({"input_shape": list(net.original_input_shape), "output": net.output,
                      "input_index": None if net.input_index is None else list(net.input_index),
                      "nodes": [{"name": n.name, "kind": n.layer.kind, "config": n.layer.config(),
                                 "inputs": list(n.inputs), "output_shape": list(net.shape_of(n.name))}
                                for n in net.nodes]})
    h = hashlib.sha256(json.dumps(arch, sort_keys=True).encode())
    for n in net.nodes:
        for store in (n.layer.params, n.layer.state):
            for k in sorted(store):
                h.update(f"{n.name}/{k}/{store[k].shape}".encode())
                h.update(_canonical_bytes(store[k]))
    return h.hexdigest()


def data_fingerprint(X, y=None):
    """Shape, dtype and SHA-256 of a data set (and of its labels).

    Parameters
    ----------
    X : array_like
        Inputs.
    y : array_like, optional
        Labels.

    Returns
    -------
    dict
        ``{"X_shape", "X_dtype", "X_sha256"}`` and the same for ``y`` when given.
    """
    out = {}
    for name, arr in (("X", X), ("y", y)):
        if arr is None:
            continue
        a = np.ascontiguousarray(np.asarray(arr))
        out[f"{name}_shape"] = list(a.shape)
        out[f"{name}_dtype"] = str(a.dtype)
        out[f"{name}_sha256"] = hashlib.sha256(a.tobytes()).hexdigest()
    return out


def _encode_weights(net):
    arrays, h = {}, hashlib.sha256()
    for n in net.nodes:
        for group, store in (("param", n.layer.params), ("state", n.layer.state)):
            for k in sorted(store):
                a = np.ascontiguousarray(store[k].astype(store[k].dtype.newbyteorder("<")))
                raw = a.tobytes()
                h.update(raw)
                arrays[f"{group}/{n.name}/{k}"] = {"shape": list(a.shape), "dtype": a.dtype.str,
                                                   "data": base64.b64encode(raw).decode("ascii")}
    return {"encoding": "base64 of little-endian bytes", "sha256": h.hexdigest(), "arrays": arrays}


def make_recipe(source, pruned, data=None, hyperparameters=None, metrics=None, weights=True):
    """The recipe of a pruning run, as a JSON-ready dict.

    Parameters
    ----------
    source : Graph
        The dense network the run started from (its hash identifies it).
    pruned : Graph
        The pruned (and fine-tuned) network; its ``pruning["keep"]`` (written
        by :func:`~structsparse.nn.prune`) gives the kept indices. When
        ``source`` was itself pruned from an earlier network, the indices are
        re-expressed in ``source``'s numbering.
    data : dict or tuple, optional
        ``(X, y)``, or ``{part: (X, y)}`` for several parts (train,
        validation, test): each part is fingerprinted, never stored.
    hyperparameters : dict, optional
        Every setting of the run (JSON-serialisable).
    metrics : dict, optional
        What the run measured.
    weights : bool, default True
        Store the pruned network's weights (needed to reproduce a fine-tuned
        result without retraining); False records the masks only.

    Returns
    -------
    Recipe
        A ``dict`` with :meth:`Recipe.save` and :meth:`Recipe.load`.
    """
    owner = "make_recipe"
    for name, net in (("source", source), ("pruned", pruned)):
        if not isinstance(net, Graph):
            raise TypeError(f"The '{name}' parameter of {owner} must be a structsparse.nn Graph. "
                            f"Got {type(net).__name__}.")
    keep = (getattr(pruned, "pruning", None) or {}).get("keep")
    if keep is None:
        raise RecipeError(f"The 'pruned' parameter of {owner} has no pruning record with kept indices "
                          f"(prune it with structsparse.nn.prune).")
    src_keep = (getattr(source, "pruning", None) or {}).get("keep")
    if src_keep is not None:
        # both records count channels of an earlier network: express the pruned one in the source's numbering
        rel = {}
        live = {INPUT} | {n.name for n in source.nodes}
        for name, idx in keep.items():
            if name not in live:
                continue
            before = np.asarray(src_keep.get(name, []), dtype=np.int64)
            pos = np.searchsorted(before, np.asarray(idx, dtype=np.int64))
            if np.any(pos >= before.size) or not np.array_equal(before[np.minimum(pos, before.size - 1)], idx):
                raise RecipeError(f"The 'pruned' parameter of {owner} was not pruned from 'source': node {name!r} "
                                  f"keeps channels the source does not have.")
            rel[name] = [int(i) for i in pos]
        keep = rel
    widths = {INPUT: source.input_shape[-1]}
    widths.update({n.name: source.shape_of(n.name)[-1] for n in source.nodes})
    for name, idx in keep.items():
        if name not in widths:
            raise RecipeError(f"The 'pruned' parameter of {owner} was not pruned from 'source': "
                              f"node {name!r} is not in the source network.")
        if idx and max(idx) >= widths[name]:
            raise RecipeError(f"The 'pruned' parameter of {owner} was not pruned from 'source': node {name!r} keeps "
                              f"channel {max(idx)} of {widths[name]}.")
    if data is None:
        fp = None
    elif isinstance(data, dict):
        fp = {str(k): data_fingerprint(*v) for k, v in data.items() if v is not None and v[0] is not None}
    else:
        fp = {"data": data_fingerprint(*data)}
    producers = [n.name for n in source.nodes if n.layer.role == "producer"]
    kept = {name: [len(keep.get(name, [])), int(widths[name])] for name in [INPUT] + producers}
    pr = pruned.pruning
    recipe = {
        "format": RECIPE_FORMAT, "version": RECIPE_VERSION,
        "package": {"name": "structsparse", "version": _package_version()},
        "created": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "source": {"hash": model_hash(source), "flops": int(flops(source)), "params": count_params(source),
                   "input_shape": list(source.original_input_shape)},
        "data": fp,
        "hyperparameters": dict(hyperparameters or {}),
        "pruning": {"tol": pr.get("tol", 0.0), "min_keep": pr.get("min_keep", 1),
                    "keep": {k: list(v) for k, v in keep.items()}, "kept": kept},
        "weights": _encode_weights(pruned) if weights else None,
        "result": {"hash": model_hash(pruned), "flops": int(flops(pruned)), "params": count_params(pruned)},
        "metrics": dict(metrics or {}),
    }
    return Recipe(_jsonable(recipe))


def _save_recipe(recipe, path, owner):
    _check(recipe, "recipe")
    path = as_path(path, owner)
    if path.suffix != ".json":
        raise ParameterError(f"The 'path' parameter of {owner} must end in .json. Got {str(path)!r}.")
    return atomic_write_text(path, json.dumps(recipe, indent=1))


def save_recipe(recipe, path):
    """Write a recipe to ``path`` as JSON, atomically.

    Parameters
    ----------
    recipe : dict
        From :func:`make_recipe` (checked before writing).
    path : str or Path
        Target file (``.json``).

    Returns
    -------
    Path

    Notes
    -----
    Deprecated (removed in 0.3): use :meth:`Recipe.save` (``recipe.save(path)``).
    """
    warnings.warn("nn.save_recipe(recipe, path) is deprecated and will be removed in the next release; use "
                  "recipe.save(path) (make_recipe and the pruning runs return a nn.Recipe).", DeprecationWarning,
                  stacklevel=2)
    return _save_recipe(recipe, path, owner="save_recipe")


def load_recipe(path):
    """Read and check a recipe written by :meth:`Recipe.save`. Deprecated: use :meth:`Recipe.load`.

    Parameters
    ----------
    path : str or Path
        The JSON file.

    Returns
    -------
    Recipe

    Raises
    ------
    MissingFileError
        When the file does not exist (also a :class:`RecipeError`, a ``ParameterError`` and a
        ``FileNotFoundError``).
    RecipeError
        When the file is not JSON, or not a valid recipe (the message names the file and the kind it holds).

    Notes
    -----
    Deprecated (removed in 0.3): use :meth:`Recipe.load`.
    """
    warnings.warn("nn.load_recipe(path) is deprecated and will be removed in the next release; use "
                  "nn.Recipe.load(path).", DeprecationWarning, stacklevel=2)
    return _load_recipe(path)


def _load_recipe(path):
    path = as_path(path, "Recipe.load")
    clean_stale_temporaries(path)  # left by a save killed mid-write
    label = f"recipe file {str(path)!r}"
    if not path.exists():
        raise missing_file(path, "Recipe", _MissingRecipeFile)
    if not path.is_file():
        raise RecipeError(f"Recipe.load: the {label} is a folder, not a file.")
    try:
        raw = path.read_bytes()
        if raw[:2] == b"PK":  # a zip archive: an .npz (a saved network holds its kind in it)
            raise RecipeError(f"Recipe.load: the {label} is an .npz archive (a saved network, "
                              f"structsparse.nn.Graph.load reads it), not a JSON pruning recipe.")
        recipe = json.loads(raw.decode("utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise RecipeError(f"Recipe.load: the {label} is not valid JSON ({exc}).") from None
    _check(recipe, label)
    return Recipe(recipe)


def _check(recipe, label):
    if not isinstance(recipe, dict):
        raise RecipeError(f"The {label} must be a JSON object (dict). Got {type(recipe).__name__}.")
    if recipe.get("format") != RECIPE_FORMAT:
        raise RecipeError(f"The {label} is not a structsparse.nn pruning recipe (format {recipe.get('format')!r}, "
                          f"expected {RECIPE_FORMAT!r}).")
    if recipe.get("version") != RECIPE_VERSION:
        raise RecipeError(f"The {label} has recipe version {recipe.get('version')!r}; this library reads version "
                          f"{RECIPE_VERSION}.")
    missing = [k for k in _REQUIRED if k not in recipe]
    if missing:
        raise RecipeError(f"The {label} lacks the keys {missing}.")
    src, pr = recipe["source"], recipe["pruning"]
    if not isinstance(src, dict) or not isinstance(src.get("hash"), str):
        raise RecipeError(f"The {label} has no source model hash ('source': {{'hash': ...}}).")
    if not isinstance(pr, dict) or not isinstance(pr.get("keep"), dict):
        raise RecipeError(f"The {label} has no kept indices ('pruning': {{'keep': ...}}).")
    for name, idx in pr["keep"].items():
        if not isinstance(idx, list) or not all(isinstance(i, int) and i >= 0 for i in idx) \
                or any(b <= a for a, b in zip(idx, idx[1:])):
            raise RecipeError(f"The {label}: the kept indices of node {name!r} must be increasing non-negative "
                              f"integers.")
    w = recipe["weights"]
    if w is not None and (not isinstance(w, dict) or not isinstance(w.get("arrays"), dict)):
        raise RecipeError(f"The {label}: 'weights' must be null or hold 'arrays'.")
    res = recipe["result"]
    if not isinstance(res, dict) or "hash" not in res:
        raise RecipeError(f"The {label} has no result hash ('result': {{'hash': ...}}).")


def _decode(entry, key, label):
    try:
        raw = base64.b64decode(entry["data"], validate=True)
        arr = np.frombuffer(raw, dtype=np.dtype(entry["dtype"])).reshape(entry["shape"])
    except (KeyError, TypeError, ValueError) as exc:
        raise RecipeError(f"The {label}: weight array {key!r} is malformed ({exc}).") from None
    return arr.astype(arr.dtype.newbyteorder("="))


def apply_recipe(net, recipe):
    """Reproduce a recorded pruning on ``net`` without retraining.

    Parameters
    ----------
    net : Graph
        The dense source network (not modified). Its :func:`model_hash`
        must equal the recipe's source hash.
    recipe : Recipe, dict, str or Path
        A recipe (from :func:`make_recipe`, :meth:`Recipe.load`) or the JSON file holding one.

    Returns
    -------
    Graph
        The pruned network: the source cut to the recorded channels, with the
        recorded (fine-tuned) weights when the recipe holds them. Its hash
        is checked against the recipe's result hash in that case.

    Raises
    ------
    RecipeError
        When the recipe is malformed, of another format or version, or was
        made for a different source model (the message names the recipe).
    """
    if isinstance(recipe, (str, Path)):
        label = f"recipe file {str(recipe)!r}"
        recipe = _load_recipe(recipe)
    else:
        label = "'recipe' argument"
        _check(recipe, label)
    if not isinstance(net, Graph):
        raise TypeError(f"The 'net' parameter of apply_recipe must be a structsparse.nn Graph. "
                        f"Got {type(net).__name__}.")
    got = model_hash(net)
    want = recipe["source"]["hash"]
    if got != want:
        raise RecipeError(f"apply_recipe: the {label} was made for a different source model (its source hash "
                          f"{want[:12]}..., the 'net' given hashes to {got[:12]}...).")
    keep_idx = recipe["pruning"]["keep"]
    masks = {}
    for name in [INPUT] + [n.name for n in net.nodes]:
        width = net.input_shape[-1] if name == INPUT else net.shape_of(name)[-1]
        m = np.zeros(width, dtype=bool)
        idx = keep_idx.get(name, [])
        if idx and idx[-1] >= width:
            raise RecipeError(f"apply_recipe: the {label} keeps channel {idx[-1]} of node {name!r}, which has "
                              f"{width}.")
        m[idx] = True
        masks[name] = m
    if not masks[net.output].any():
        raise RecipeError(f"apply_recipe: the {label} keeps nothing of the output node {net.output!r}.")
    pruned = apply_plan(net, {"keep": masks, "tol": recipe["pruning"].get("tol", 0.0),
                              "min_keep": recipe["pruning"].get("min_keep", 1)})
    weights = recipe["weights"]
    if weights is None:
        return pruned
    arrays = weights["arrays"]
    used = set()
    for n in pruned.nodes:
        for group, store in (("param", n.layer.params), ("state", n.layer.state)):
            for k in list(store):
                key = f"{group}/{n.name}/{k}"
                if key not in arrays:
                    raise RecipeError(f"apply_recipe: the {label} lacks the weight array {key!r}.")
                arr = _decode(arrays[key], key, label)
                if arr.shape != store[k].shape:
                    raise RecipeError(f"apply_recipe: the {label}: weight array {key!r} has shape {arr.shape}; the "
                                      f"cut network needs {store[k].shape}.")
                store[k] = arr.copy()
                used.add(key)
    extra = set(arrays) - used
    if extra:
        raise RecipeError(f"apply_recipe: the {label} holds weight arrays no layer uses: {sorted(extra)[:5]}.")
    if model_hash(pruned) != recipe["result"]["hash"]:
        raise RecipeError(f"apply_recipe: the network rebuilt from the {label} does not hash to its recorded "
                          f"result (a corrupted or edited recipe).")
    return pruned
