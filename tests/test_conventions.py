"""The conventions of docs/conventions.rst, checked over the whole public API (issue 14).

Three walks over every public name (``__all__`` of the public modules, and the
public methods of every public class):

- every function that takes ``**kwargs`` refuses a bogus keyword with an
  error naming it (python-control's ``kwargs_test`` is the model): each one
  needs a row in :data:`KWARGS_CALLS`, so a new ``**kwargs`` function cannot
  slip in without its check;
- every function that takes ``rng`` accepts ``None``, an ``int`` (the same
  result twice) and a ``Generator`` (used and advanced), each needs a row in
  :data:`RNG_CALLS`; no public signature has a ``seed`` argument;
- wrong types raise ``TypeError`` naming the argument (a sample of public
  constructors and solvers, :data:`WRONG_TYPES`).

Every row is strict: the solver layer and the three front ends follow the same rules.
"""

import dataclasses
import importlib
import inspect
import sys
import warnings

import numpy as np
import pytest

import structsparse as ss
from structsparse.exceptions import ParameterError

PUBLIC_MODULES = ["structsparse", "structsparse.prox", "structsparse.cs", "structsparse.sysid", "structsparse.nn"]
# public functions outside those __all__ lists that draw random numbers (commands and their helpers)
EXTRA_RNG_MODULES = ["structsparse.verify", "structsparse.demo", "structsparse.solvers.tour", "structsparse.nn.experiment",
                     "structsparse.nn.baselines"]
BOGUS = "bogus_option_xyz"


def _param(name, *values, ids=None):
    """One ``pytest.param`` row, named after the function it checks."""
    return pytest.param(name, *values, id=ids or name)


def _public_callables(modnames):
    """``{public name: function}`` for every public function, class constructor and public method.

    A function reached under several names (an inherited method) is listed once, under the first.
    """
    out, seen = {}, set()
    for modname in modnames:
        mod = importlib.import_module(modname)
        for name in getattr(mod, "__all__", ()):
            obj = getattr(mod, name)
            if inspect.ismodule(obj) or (inspect.isclass(obj) and issubclass(obj, BaseException)):
                continue
            qual = f"{modname}.{name}"
            if inspect.isclass(obj):
                for mname, member in inspect.getmembers(obj):
                    if mname.startswith("_") and mname not in ("__init__", "__call__"):
                        continue
                    if not (inspect.isfunction(member) or inspect.ismethod(member)):
                        continue
                    func = getattr(member, "__func__", member)
                    if func is object.__init__ or id(func) in seen:
                        continue
                    seen.add(id(func))
                    out[qual if mname == "__init__" else f"{qual}.{mname}"] = member
            elif callable(obj):
                func = getattr(obj, "__func__", obj)
                if id(func) not in seen:
                    seen.add(id(func))
                    out[qual] = obj
    return out


def _signature(fn):
    try:
        return inspect.signature(fn)
    except (TypeError, ValueError):
        return None


PUBLIC = _public_callables(PUBLIC_MODULES)
PUBLIC_AND_COMMANDS = {**PUBLIC, **_public_callables(EXTRA_RNG_MODULES)}


def _module_of(name):
    return next((m for m in sorted(PUBLIC_MODULES + EXTRA_RNG_MODULES, key=len, reverse=True)
                 if name.startswith(m + ".")), "structsparse")


def _takes_var_kw(fn):
    sig = _signature(fn)
    return sig is not None and any(p.kind is p.VAR_KEYWORD for p in sig.parameters.values())


def _takes(fn, arg):
    sig = _signature(fn)
    return sig is not None and arg in sig.parameters


# ------------------------------------------------------------------------------------------------ small problems
def _rng_data(n=20, p=8, seed=0):
    gen = np.random.default_rng(seed)
    A = gen.standard_normal((n, p))
    return A, A[:, :2].sum(axis=1) + 0.1 * gen.standard_normal(n)


def _ls():
    A, y = _rng_data()
    return ss.LeastSquares(A, y)


def _small_net():
    from structsparse import nn

    return nn.mlp(hidden=(4,), n_classes=2, n_features=6, rng=0)


def _small_xy(n=24, p=6, seed=0):
    gen = np.random.default_rng(seed)
    X = gen.standard_normal((n, p))
    return X, (X[:, 0] > 0).astype(int)


# ------------------------------------------------------------------------------------------------ **kwargs
def _serial_submit(**kw):
    from structsparse import cs

    return cs.SerialExecutor().submit(lambda: None, **kw).result()


def _nn_penalty(**kw):
    from structsparse import nn

    return nn.penalty(_small_net(), **kw)


def _small_cnn():
    from structsparse import nn

    return nn.small_cnn(channels=(2, 2), n_classes=2, input_shape=(8, 8, 1), rng=0)


def _small_images(n=24, seed=0):
    X = np.random.default_rng(seed).standard_normal((n, 8, 8, 1))
    return X, (X[:, :4].mean(axis=(1, 2, 3)) > 0).astype(int)


def _nn_prune_progressive(**kw):
    from structsparse import nn

    return nn.prune_progressive(_small_cnn(), *_small_images(), budgets=(0.6,), epochs_per_step=1, **kw)


def _train_early_stopping(rng, **kw):
    from structsparse.nn.experiment import train_early_stopping

    X, y = _small_xy()
    net = _small_net()
    train_early_stopping(net, X[:16], y[:16], X[16:], y[16:], epochs=2, lr=0.1, batch_size=8, rng=rng, **kw)
    return net


#: public name -> (call(**bogus) with minimal valid arguments, the exception that must name the key)
KWARGS_CALLS = {
    "structsparse.Tree": (lambda **kw: ss.Tree(**kw), TypeError),
    "structsparse.solve": (lambda **kw: ss.solve(_ls(), ss.L1(1.0), **kw), ParameterError),
    "structsparse.solve_cvxpy": (lambda **kw: ss.solve_cvxpy(_ls(), ss.L1(1.0), **kw), ParameterError),
    "structsparse.path": (lambda **kw: ss.path(_ls(), ss.L1(1.0), n_lams=3, **kw), ParameterError),
    "structsparse.cv_path": (lambda **kw: ss.cv_path(*_rng_data(), ss.L1(1.0), n_lams=3, n_folds=2, **kw),
                             ParameterError),
    "structsparse.solve_latent": (lambda **kw: ss.solve_latent(
        _ls(), ss.LatentGroupLasso([[0, 1, 2, 3], [3, 4, 5, 6, 7]], 1.0), **kw), ParameterError),
    "structsparse.solve_budget": (lambda **kw: ss.solve_budget(
        _ls(), [[0, 1], [2, 3], [4, 5], [6, 7]], None, 2.0, count=True, **kw), ParameterError),
    # scikit-learn's own set_params (inherited by every estimator): its ValueError names the key
    "structsparse.GroupLassoRegressor.set_params": (lambda **kw: ss.GroupLassoRegressor().set_params(**kw),
                                                    ValueError),
    # an Executor passes **kwargs on to the task (the executor protocol): the task's TypeError names the key
    "structsparse.cs.SerialExecutor.submit": (_serial_submit, TypeError),
    "structsparse.nn.penalty": (_nn_penalty, ParameterError),
    "structsparse.nn.prune_progressive": (_nn_prune_progressive, ParameterError),
    "structsparse.nn.experiment.train_early_stopping": (lambda **kw: _train_early_stopping(0, **kw), ParameterError),
}

KW_FUNCTIONS = sorted(name for name, fn in PUBLIC_AND_COMMANDS.items() if _takes_var_kw(fn))


@pytest.mark.parametrize("modname", [_param(m) for m in PUBLIC_MODULES + EXTRA_RNG_MODULES])
def test_every_kwargs_function_has_a_row(modname):
    """A new public function taking ``**kwargs`` needs a row in KWARGS_CALLS (and so a check of its keys)."""
    missing = [n for n in KW_FUNCTIONS if _module_of(n) == modname and n not in KWARGS_CALLS]
    assert not missing, f"add rows to KWARGS_CALLS in tests/test_conventions.py for {missing}"


def test_kwargs_rows_are_still_public():
    stale = [n for n in KWARGS_CALLS if n not in PUBLIC_AND_COMMANDS or not _takes_var_kw(PUBLIC_AND_COMMANDS[n])]
    assert not stale, f"rows for names that are gone or take no **kwargs any more: {stale}"


@pytest.mark.parametrize("name", [_param(n) for n in KW_FUNCTIONS if n in KWARGS_CALLS])
def test_unknown_keyword_raises_naming_it(name):
    call, expected = KWARGS_CALLS[name]
    with pytest.raises(expected) as info:
        call(**{BOGUS: 1})
    assert BOGUS in str(info.value), f"{name}: the error does not name the unknown key: {info.value}"
    if expected is ParameterError:  # ours: the function the user called is named too
        short = name.rsplit(".", 1)[-1]
        assert short in str(info.value), f"{name}: the error does not name the function: {info.value}"


# ------------------------------------------------------------------------------------------------ rng
def _timing(name):
    """Fields that measure time differ from run to run whatever the seed."""
    return "time" in name or name.endswith("seconds") or name.endswith("_s")


def _numbers(obj, depth=0):
    """Every number in a result, flattened (arrays, dataclasses, dicts, sequences, networks)."""
    if depth > 6 or obj is None or isinstance(obj, (str, bytes, bool)):
        return []
    if isinstance(obj, (int, float, np.integer, np.floating)):
        return [np.atleast_1d(np.asarray(obj, dtype=float))]
    if isinstance(obj, np.ndarray):
        return [np.asarray(obj, dtype=float).ravel()] if obj.dtype.kind in "biuf" else []
    if hasattr(obj, "toarray") and hasattr(obj, "shape"):
        return [np.asarray(obj.toarray(), dtype=float).ravel()]
    if callable(getattr(obj, "parameters", None)):  # an nn network
        return [np.asarray(p, dtype=float).ravel() for *_, p in obj.parameters()]
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return [a for f in dataclasses.fields(obj) if not _timing(f.name)
                for a in _numbers(getattr(obj, f.name), depth + 1)]
    if isinstance(obj, dict):
        return [a for k in sorted(obj, key=str) if not _timing(str(k)) for a in _numbers(obj[k], depth + 1)]
    if isinstance(obj, (list, tuple)):
        return [a for v in obj for a in _numbers(v, depth + 1)]
    for attr in ("A", "B", "C", "D", "mask", "x", "weights", "free"):  # state-space models, patterns, problems
        if hasattr(obj, attr) and not callable(getattr(obj, attr)):
            return [a for at in ("A", "B", "C", "D", "mask", "x", "weights", "free") if hasattr(obj, at)
                    for a in _numbers(getattr(obj, at), depth + 1)]
    return []


def _same(a, b):
    na, nb = _numbers(a), _numbers(b)
    return len(na) == len(nb) and all(x.shape == y.shape and np.array_equal(x, y, equal_nan=True)
                                      for x, y in zip(na, nb))


def _cs_model(kind):
    from structsparse import cs

    return {"Sparse": lambda: cs.Sparse(32, 3), "BlockSparse": lambda: cs.BlockSparse(32, 4, 2),
            "TreeSparse": lambda: cs.TreeSparse(64, 20), "TreeSparse2D": lambda: cs.TreeSparse2D((16, 16), 64),
            "BlockSparse2D": lambda: cs.BlockSparse2D((8, 8), (2, 2), 3)}[kind]()


def _sysid():
    from structsparse import sysid

    return sysid


def _nn():
    from structsparse import nn

    return nn


def _cs():
    from structsparse import cs

    return cs


def _graph(rng):
    graph = _nn().Graph((6,), rng=rng)
    graph.add(_nn().Dense(3))
    return graph


def _identify(rng):
    sysid = _sysid()
    true = sysid.random_system(2, 1, 1, rng=0)
    u = np.random.default_rng(1).standard_normal((80, 1))
    y = np.asarray(getattr(true.simulate(u), "y", None))
    return sysid.identify(u, y, 2, pattern=sysid.Pattern.from_system(true), n_starts=2, max_nfev=5, n_lams=3,
                          check_identifiability=False, rng=rng)


def _phase(rng):
    cs = _cs()
    return cs.phase_transition(cs.BlockSparse(32, 4, 1), ["l1"], [12], 1, rng=rng, progress=False)


def _train(rng):
    X, y = _small_xy()
    net = _small_net()
    _nn().train(net, X, y, epochs=1, batch_size=8, rng=rng, progress=False)
    return net


def _layer_build(cls_name, rng):
    nn = _nn()
    layer, shape = {"Dense": (lambda: nn.Dense(3), (6,)), "Conv2D": (lambda: nn.Conv2D(2, 3), (5, 5, 1))}[cls_name]
    layer = layer()
    layer.build(shape, rng)
    return [np.asarray(v) for v in layer.params.values()]


#: public name -> call(rng) on small data; None: the result depends on timings (only acceptance is checked)
def _holdout(rng):
    """A hold-out choice of k on a tiny block-sparse problem: the random split is what the rng draws."""
    cs = _cs()
    A = cs.gaussian(24, 32, rng=0)
    x = np.zeros(32)
    x[:4] = [1.0, -2.0, 0.5, 1.5]
    sel = cs.select_by_holdout(A, A @ x, cs.BlockSparse(32, 4, 2), "model_cosamp", candidates=[2, 4, 6],
                               holdout=0.25, rng=rng)
    return sel.scores


RNG_CALLS = {
    "structsparse.cv_path": (lambda rng: ss.cv_path(*_rng_data(), ss.L1(1.0), n_lams=3, n_folds=2, rng=rng), True),
    "structsparse.verify.verify": (lambda rng: [(r.size, r.lam_ratio, r.kind) for r in ss_verify().verify(
        rng=rng, penalties=["l1"], datafits=["least_squares"], solvers=["fista"], out=None)], True),
    "structsparse.verify.random_problem": (lambda rng: ss_verify().random_problem("group_lasso", rng).datafit.A,
                                           True),
    "structsparse.solvers.tour.tour_problems": (lambda rng: [p[1].A for p in tour().tour_problems(rng)], True),
    "structsparse.solvers.tour.demo_part": None,  # the demo prints and draws: covered by test_tour.py
    "structsparse.demo.run_demo": None,           # runs every front end's demo: covered by test_tour.py
    # compressive sensing
    "structsparse.cs.gaussian": (lambda rng: _cs().gaussian(10, 20, rng=rng) @ np.eye(20), True),
    "structsparse.cs.bernoulli": (lambda rng: _cs().bernoulli(10, 20, rng=rng) @ np.eye(20), True),
    "structsparse.cs.partial_dct": (lambda rng: _cs().partial_dct(8, 32, rng=rng) @ np.eye(32)[:, 0], True),
    "structsparse.cs.dottest": (lambda rng: _cs().dottest(_cs().gaussian(6, 9, rng=0), rng=rng), True),
    "structsparse.cs.mask_variable_density": (lambda rng: _cs().mask_variable_density((16, 16), 40, rng=rng), True),
    "structsparse.cs.mask_cartesian": (lambda rng: _cs().mask_cartesian((16, 16), 4, rng=rng), True),
    "structsparse.cs.make_problem": (lambda rng: _cs().make_problem("heavisine", n=128, rng=rng), True),
    "structsparse.cs.rip_estimate": (lambda rng: _cs().rip_estimate(_cs().gaussian(12, 32, rng=0),
                                                                    _cs().BlockSparse(32, 4, 1), n_samples=5,
                                                                    rng=rng), True),
    "structsparse.cs.phase_transition": (_phase, True),
    "structsparse.cs.select_by_holdout": (lambda rng: _holdout(rng), True),
    # system identification
    "structsparse.sysid.StateSpace.simulate": (lambda rng: _sysid().random_system(2, 1, 1, rng=0).simulate(
        np.ones((20, 1)), process_noise=0.1, measurement_noise=0.1, rng=rng), True),
    "structsparse.sysid.random_system": (lambda rng: _sysid().random_system(3, 1, 1, rng=rng), True),
    "structsparse.sysid.random_pattern": (lambda rng: _sysid().random_pattern(3, 1, 1, rng=rng).masks, True),
    "structsparse.sysid.identifiability": (lambda rng: _sysid().identifiability(
        _sysid().random_pattern(2, 1, 1, rng=0), rng=rng), True),
    "structsparse.sysid.identify": (_identify, True),
    "structsparse.sysid.fit_similarity": (lambda rng: _sysid().fit_similarity(
        _sysid().random_system(2, 1, 1, rng=0), _sysid().random_pattern(2, 1, 1, rng=1), n_starts=1, max_nfev=5,
        rng=rng), False),  # may find no similarity: acceptance and use of the Generator only
    "structsparse.sysid.example_network": (lambda rng: _sysid().example_network(4, 1, rng=rng), True),
    # networks
    "structsparse.nn.Graph": (lambda rng: _graph(rng), True),
    "structsparse.nn.Sequential": (lambda rng: _nn().Sequential([_nn().Dense(3)], (6,), rng=rng), True),
    "structsparse.nn.Layer.build": (lambda rng: _layer_build("Dense", rng), True),
    "structsparse.nn.Dense.build": (lambda rng: _layer_build("Dense", rng), True),
    "structsparse.nn.Conv2D.build": (lambda rng: _layer_build("Conv2D", rng), True),
    "structsparse.nn.train": (_train, True),
    "structsparse.nn.load_digits_split": (lambda rng: _nn().load_digits_split(rng=rng, n_samples=60), True),
    "structsparse.nn.load_digits_splits": (lambda rng: _nn().load_digits_splits(rng=rng, n_samples=60), True),
    "structsparse.nn.augment_images": (lambda rng: _nn().augment_images(
        np.random.default_rng(0).standard_normal((4, 8, 8, 1)), rng=rng), True),
    "structsparse.nn.small_cnn": (lambda rng: _nn().small_cnn(channels=(2, 2), rng=rng), True),
    "structsparse.nn.mlp": (lambda rng: _nn().mlp(hidden=(4,), rng=rng), True),
    "structsparse.nn.block_net": (lambda rng: _nn().block_net(2, rng=rng), True),
    "structsparse.nn.speedup": (lambda rng: _nn().speedup(_small_net(), _small_net(), batch=8, repeats=1, rng=rng),
                                False),
    "structsparse.nn.profile": (lambda rng: _nn().profile(_small_net(), batch_sizes=(1,), n_runs=5, warmup=1,
                                                          rng=rng), False),
    "structsparse.nn.prune_to_budget": (lambda rng: _nn().prune_to_budget(
        _small_cnn(), *_small_images(), flops=0.6, lam0=1.0, grow=10.0, max_trials=4, epochs=1, fine_tune_epochs=1, batch_size=8, rng=rng).net,
        True),
    "structsparse.nn.prune_progressive": (lambda rng: _nn_prune_progressive(rng=rng, trial_epochs=1), True),
    "structsparse.nn.prune_onnx": None,  # an ONNX file round trip with training: tests/test_nn_onnx_prune.py
    # the nn experiments (structsparse.nn.experiment)
    "structsparse.nn.experiment.train_early_stopping": (_train_early_stopping, True),
    "structsparse.nn.experiment.pixel_selection": (lambda rng: __import__(
        "structsparse.nn.experiment", fromlist=["x"]).pixel_selection(hidden=4, epochs=1, fine_tune=1, n_samples=60,
                                                                      rng=rng).net, True),
    "structsparse.nn.experiment.digits_pruning": None,  # trains, prunes and times: tests/test_nn_conventions.py
    # the baselines at equal FLOPs (structsparse.nn.baselines)
    "structsparse.nn.baselines.uniform_prune": (lambda rng: __import__(
        "structsparse.nn.baselines", fromlist=["x"]).uniform_prune(_small_cnn(), 0.6, criterion="random", rng=rng),
        True),
    "structsparse.nn.baselines.reinitialize": (lambda rng: __import__(
        "structsparse.nn.baselines", fromlist=["x"]).reinitialize(_small_cnn(), rng=rng), True),
    "structsparse.nn.baselines.compare_at_budget": None,  # trains every baseline: tests/test_nn_baselines.py
}


def ss_verify():
    return importlib.import_module("structsparse.verify")


def tour():
    return importlib.import_module("structsparse.solvers.tour")


RNG_FUNCTIONS = sorted(name for name, fn in PUBLIC_AND_COMMANDS.items() if _takes(fn, "rng"))
# layers whose build ignores rng (no weights) share Layer.build's contract: one row covers them
_NO_WEIGHT_LAYERS = ("ReLU", "MaxPool2D", "AvgPool2D", "GlobalAvgPool2D", "Flatten", "BatchNorm", "SqueezeExcite",
                     "Concat", "Add")


def _rng_row(name):
    if name in RNG_CALLS:
        return RNG_CALLS[name]
    modname, _, attr = name.rpartition(".")
    obj = getattr(importlib.import_module(modname), attr, None) if modname in sys.modules else None
    if inspect.isclass(obj) and dataclasses.is_dataclass(obj):  # a result recording the seed it drew (res.rng)
        return None
    if name.startswith("structsparse.nn.") and name.endswith(".build") and name.split(".")[-2] in _NO_WEIGHT_LAYERS:
        return "layer"
    if name.startswith("structsparse.cs.") and name.rsplit(".", 2)[-2] in (
            "SignalModel", "Sparse", "BlockSparse", "TreeSparse", "TreeSparse2D", "BlockSparse2D"):
        return "model"
    return "missing"


@pytest.mark.parametrize("modname", [_param(m) for m in PUBLIC_MODULES + EXTRA_RNG_MODULES])
def test_every_rng_function_has_a_row(modname):
    missing = [n for n in RNG_FUNCTIONS if _module_of(n) == modname and _rng_row(n) == "missing"]
    assert not missing, f"add rows to RNG_CALLS in tests/test_conventions.py for {missing}"


def _model_call(name):
    kind, method = name.split(".")[-2:]
    model = _cs_model("BlockSparse" if kind == "SignalModel" else kind)
    return lambda rng: getattr(model, method)(rng=rng)


RNG_CASES = [n for n in RNG_FUNCTIONS if _rng_row(n) not in ("missing", "layer", None)]


@pytest.mark.parametrize("name", [_param(n) for n in RNG_CASES])
def test_rng_accepts_none_int_and_generator(name):
    row = _rng_row(name)
    call, reproducible = (_model_call(name), True) if row == "model" else row
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence of the tiny problems is not the point here
        call(None)                                      # fresh entropy
        first, second = call(7), call(7)                # an int: a seed
        gen = np.random.default_rng(7)
        before = gen.bit_generator.state["state"]["state"]
        call(gen)                                       # a Generator: used as is, and advanced
    assert gen.bit_generator.state["state"]["state"] != before, f"{name} did not draw from the Generator it was given"
    if reproducible:
        assert _numbers(first), f"{name}: no numbers in the result to compare"
        assert _same(first, second), f"{name}: the same int seed gave different results"
    with pytest.raises(TypeError, match="rng"):
        call("not a seed")


SEED_PARAMS = sorted((name, p) for name, fn in PUBLIC_AND_COMMANDS.items() if _signature(fn) is not None
                     for p in _signature(fn).parameters if p == "seed" or p.endswith("_seed"))


@pytest.mark.parametrize("modname", [_param(m) for m in PUBLIC_MODULES + EXTRA_RNG_MODULES])
def test_no_public_signature_takes_seed(modname):
    """Randomness is ``rng``; an old ``seed=`` is accepted only through ``renamed_kwarg`` (a DeprecationWarning)."""
    found = [f"{n}({p}=)" for n, p in SEED_PARAMS if _module_of(n) == modname]
    assert not found, f"public signatures with a seed argument: {found}"


@pytest.mark.parametrize("call", [
    lambda: ss_verify().verify(seed=3, penalties=["l1"], datafits=["least_squares"], solvers=["fista"], out=None),
    lambda: tour().tour_problems(seed=3),
], ids=["verify", "tour_problems"])
def test_deprecated_seed_still_works_with_a_warning(call):
    with pytest.warns(DeprecationWarning, match="'seed=' is deprecated"):
        assert call()


# ------------------------------------------------------------------------------------------------ types
G = ss.Groups.contiguous(8, 2)


def _wrong_types():
    A, y = _rng_data()
    rows = {
        "structsparse.L1(lam='x')": lambda: ss.L1("x"),
        "structsparse.GroupLasso(groups='abc')": lambda: ss.GroupLasso("abc", 1.0),
        "structsparse.GroupLasso(groups=7)": lambda: ss.GroupLasso(7, 1.0),
        "structsparse.GroupLasso(lam=None)": lambda: ss.GroupLasso(G, None),
        "structsparse.SparseGroupLasso(l1_ratio='a')": lambda: ss.SparseGroupLasso(G, 1.0, "a"),
        "structsparse.SparseGroupLasso(groups=Tree)": lambda: ss.SparseGroupLasso(ss.Tree.complete(2), 1.0, 0.5),
        "structsparse.TreeLasso(tree=Groups)": lambda: ss.TreeLasso(G, 1.0),
        "structsparse.OverlapGroupLasso(groups='abc')": lambda: ss.OverlapGroupLasso("abc", 1.0),
        "structsparse.LatentGroupLasso(groups=3)": lambda: ss.LatentGroupLasso(3, 1.0),
        "structsparse.NuclearNorm(shape='ab')": lambda: ss.NuclearNorm(1.0, "ab"),
        "structsparse.GroupNuclear(groups='abc')": lambda: ss.GroupNuclear("abc", 1.0, 0.5, (2, 4)),
        "structsparse.Groups.from_lists(lists='abc')": lambda: ss.Groups.from_lists("abc"),
        "structsparse.Groups.from_sizes(sizes=[2.5])": lambda: ss.Groups.from_sizes([2.5, 2]),
        "structsparse.Groups.contiguous(n_features='a')": lambda: ss.Groups.contiguous("a", 2),
        "structsparse.Tree.from_parents(parents=None)": lambda: ss.Tree.from_parents(None),
        "structsparse.Tree.complete(depth=2.0)": lambda: ss.Tree.complete(2.0),
        "structsparse.LeastSquares(A='abc')": lambda: ss.LeastSquares("abc", y),
        "structsparse.LeastSquares(y=None)": lambda: ss.LeastSquares(A, None),
        "structsparse.Logistic(A=None)": lambda: ss.Logistic(None, np.sign(y)),
        "structsparse.Huber(delta='a')": lambda: ss.Huber(A, y, delta="a"),
        "structsparse.Poisson(A=dict)": lambda: ss.Poisson({"A": 1}, np.abs(np.round(y))),
        "structsparse.solve(penalty='l1')": lambda: ss.solve(_ls(), "l1"),
        "structsparse.solve(datafit=ndarray)": lambda: ss.solve(A, ss.L1(1.0)),
        "structsparse.solve(solver=3)": lambda: ss.solve(_ls(), ss.L1(1.0), solver=3),
        "structsparse.fista(tol='1e-6')": lambda: ss.fista(_ls(), ss.L1(1.0), tol="1e-6"),
        "structsparse.fista(callback=3)": lambda: ss.fista(_ls(), ss.L1(1.0), callback=3),
        "structsparse.admm(max_iter=2.5)": lambda: ss.admm(_ls(), ss.L1(1.0), max_iter=2.5),
        "structsparse.solve_block(max_outer='3')": lambda: ss.solve_block(_ls(), ss.L1(1.0), max_outer="3"),
        "structsparse.solve_block(ws_strategy=object)": lambda: ss.solve_block(_ls(), ss.L1(1.0), ws_strategy=object()),
        "structsparse.fista(restart='yes')": lambda: ss.fista(_ls(), ss.L1(1.0), restart="yes"),
        "structsparse.admm(adapt_rho=1)": lambda: ss.admm(_ls(), ss.L1(1.0), adapt_rho=1),
        "structsparse.check_triple(solver=3)": lambda: ss.check_triple(_ls(), ss.L1(1.0), 3),
        "structsparse.solve_cvxpy(solver=3)": lambda: ss.solve_cvxpy(_ls(), ss.L1(1.0), solver=3),
        "structsparse.GroupNuclear(shape='abc')": lambda: ss.GroupNuclear(ss.Groups.contiguous(8, 4), 1.0, 0.5, "abc"),
        "structsparse.LamSchedule(kind=3)": lambda: ss.LamSchedule(1.0, 3, kind=3),
        "structsparse.lambda_max(loss=ndarray)": lambda: ss.lambda_max(A, ss.L1(1.0)),
        "structsparse.duality_gap(penalty='l1')": lambda: ss.duality_gap(_ls(), "l1", np.zeros(8)),
        "structsparse.path(executor=3)": lambda: ss.path(_ls(), ss.L1(1.0), n_lams=2, executor=3),
        "structsparse.cv_path(rng='x')": lambda: ss.cv_path(A, y, ss.L1(1.0), n_lams=2, n_folds=2, rng="x"),
        "structsparse.solve_budget(count='yes')": lambda: ss.solve_budget(_ls(), G, None, 2.0, count="yes"),
        "structsparse.GroupLassoRegressor(groups='a').fit": lambda: ss.GroupLassoRegressor(groups="a").fit(A, y),
        "structsparse.StructuredRegressor(penalty='l1').fit": lambda: ss.StructuredRegressor(penalty="l1").fit(A, y),
        "structsparse.prox.group_soft_threshold(groups='ab')": lambda: ss.prox.group_soft_threshold(
            np.ones(4), "ab", 1.0),
        "structsparse.prox.soft_threshold(tau='a')": lambda: ss.prox.soft_threshold(np.ones(4), "a"),
        # front ends (a sample of their constructors)
        "structsparse.cs.BlockSparse(n='a')": lambda: _cs().BlockSparse("a", 4, 1),
        "structsparse.cs.gaussian(m=2.5)": lambda: _cs().gaussian(2.5, 8),
        "structsparse.sysid.StateSpace(A='abc')": lambda: _sysid().StateSpace("abc", np.ones((1, 1)), np.ones((1, 1))),
        "structsparse.sysid.random_system(n_states='3')": lambda: _sysid().random_system("3", 1, 1),
        "structsparse.nn.Dense(units='a')": lambda: _nn().Dense("a"),
        "structsparse.nn.Conv2D(filters=2.5)": lambda: _nn().Conv2D(2.5, 3),
        "structsparse.nn.mlp(hidden='a')": lambda: _nn().mlp(hidden="a"),
        "structsparse.cs.statdim_l1(s='a')": lambda: _cs().statdim_l1(10, "a"),
        "structsparse.cs.statdim_group(block_size=2.5)": lambda: _cs().statdim_group(8, 2.5, 2),
        "structsparse.sysid.moesp(u='abc')": lambda: _sysid().moesp("abc", np.ones((20, 1)), 2),
        "structsparse.sysid.Pattern(A='abc')": lambda: _sysid().Pattern("abc", np.ones((2, 1)), np.ones((1, 2))),
        "structsparse.nn.train(net=list)": lambda: _nn().train([1], *_small_xy(), epochs=1, progress=False),
        "structsparse.nn.flops(net=3)": lambda: _nn().flops(3),
        "structsparse.nn.groups(net='a')": lambda: _nn().groups("a"),
        "structsparse.nn.prune(net=3)": lambda: _nn().prune(3),
        "structsparse.nn.speedup(dense_net=None)": lambda: _nn().speedup(None, _small_net()),
        "structsparse.nn.Graph.save(path=3)": lambda: _small_net().save(3),
        "structsparse.nn.Graph.load(path=None)": lambda: _nn().Graph.load(None),
        "structsparse.nn.Recipe.load(path=3)": lambda: _nn().Recipe.load(3),
        "structsparse.sysid.StateSpace.save(path=3)": lambda: _sysid().random_system(2, 1, 1, rng=0).save(3),
        "structsparse.sysid.StateSpace.load(path=None)": lambda: _sysid().StateSpace.load(None),
        "structsparse.sysid.Pattern.load(path=3)": lambda: _sysid().Pattern.load(3),
        "structsparse.sysid.IdentifiedModel.load(path=3)": lambda: _sysid().IdentifiedModel.load(3),
        "structsparse.cs.PhaseTable.load(path=3)": lambda: _cs().PhaseTable.load(3),
    }
    return rows


WRONG_TYPES = _wrong_types()


@pytest.mark.parametrize("label", [_param(k) for k in WRONG_TYPES])
def test_wrong_type_raises_type_error_naming_the_argument(label):
    arg = label.split("(", 1)[1].split("=", 1)[0]
    with pytest.raises(TypeError) as info:
        WRONG_TYPES[label]()
    assert arg in str(info.value), f"{label}: the TypeError does not name {arg!r}: {info.value}"


def test_wrong_value_of_the_right_type_is_not_a_type_error():
    """The other half of the rule: values out of range raise the project's ValueError subclasses, not TypeError."""
    A, y = _rng_data()
    for call in (lambda: ss.L1(-1.0), lambda: ss.Groups.contiguous(0, 2), lambda: ss.Tree.from_parents([1, 0]),
                 lambda: ss.LeastSquares(A, y[:-1]), lambda: ss.fista(_ls(), ss.L1(1.0), max_iter=0),
                 lambda: ss.cv_path(A, y, ss.L1(1.0), rng=-1), lambda: ss.solve(_ls(), ss.L1(1.0), solver="newton")):
        with pytest.raises(ValueError) as info:
            call()
        assert not isinstance(info.value, TypeError), info.value


def test_the_type_errors_stay_catchable_as_before_for_one_release():
    """ParameterTypeError & co. are TypeErrors and, until 0.3, the ValueError subclasses that 0.1 raised."""
    from structsparse.exceptions import (ParameterTypeError, ShapeError, ShapeTypeError, StructureError,
                                         StructureTypeError)

    for call, old in ((lambda: ss.L1("x"), ParameterError), (lambda: ss.GroupLasso("abc", 1.0), StructureError),
                      (lambda: ss.LeastSquares(None, np.ones(3)), ShapeError)):
        with pytest.raises(old) as info:
            call()
        assert isinstance(info.value, TypeError)
        assert type(info.value) in (ParameterTypeError, StructureTypeError, ShapeTypeError)


# ------------------------------------------------------------------------------------------------ results
def test_solver_results_are_read_only_and_setting_a_field_is_deprecated():
    """SolverResult, PathResult and CVPathResult: a field set after construction warns (an error from 0.3)."""
    A, y = _rng_data()
    results = [ss.solve(_ls(), ss.L1(1.0)), ss.path(_ls(), ss.L1(1.0), n_lams=3),
               ss.cv_path(A, y, ss.L1(1.0), n_lams=3, n_folds=2, rng=0)]
    for res in results:
        name = dataclasses.fields(res)[0].name
        before = getattr(res, name)
        with pytest.warns(DeprecationWarning, match="read-only"):
            setattr(res, name, before)
        assert len(repr(res)) < 200 and "\n" not in repr(res)  # a one-line summary, not a wall of arrays
        copy = dataclasses.replace(res)
        assert type(copy) is type(res)
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)  # building and copying results never warns
        dataclasses.replace(results[0], objective=1.0)


def test_solve_names_the_solver_it_picked_when_an_option_does_not_fit():
    """ss.solve forwards options to the solver it picks: the error says which solver and what it takes."""
    from scipy.sparse.linalg import aslinearoperator

    A, y = _rng_data()
    operator_fit = ss.LeastSquares(aslinearoperator(A), y)  # a LinearOperator: auto picks FISTA
    with pytest.raises(ParameterError) as info:
        ss.solve(operator_fit, ss.L1(1.0), max_epochs=5)
    msg = str(info.value)
    assert msg.startswith("solve:") and "'fista'" in msg and "'max_epochs'" in msg and "max_iter" in msg
    with pytest.raises(ParameterError) as info:  # solve_block's bounds are max_outer and max_epochs
        ss.solve(_ls(), ss.L1(1.0), restart=True)
    msg = str(info.value)
    assert "'solve_block'" in msg and "'restart'" in msg and "max_outer" in msg and "max_epochs" in msg
    with pytest.raises(ParameterError, match="solve_latent.*'bogus'"):
        ss.solve_latent(_ls(), ss.LatentGroupLasso([[0, 1, 2, 3], [3, 4, 5, 6, 7]], 1.0), bogus=1)


def test_the_shared_helpers():
    """check_options names every unknown key and the accepted ones; renamed_kwarg maps and refuses both names."""
    from structsparse._validation import accepted_options, check_options, renamed_kwarg

    def target(loss, penalty, x0=None, tol=1e-6, alpha=1, *, beta=2):
        return alpha + beta

    assert accepted_options(target, exclude=("loss", "penalty")) == {"x0", "tol", "alpha", "beta"}
    assert accepted_options(lambda a, **kw: a) is None  # takes anything: nothing to check
    with pytest.raises(ParameterError) as info:
        check_options("caller", {"gamma": 1, "alpha": 2, "delta": 3}, {"alpha", "beta"}, target="the solver 't'")
    assert str(info.value) == "caller: the solver 't' takes no option 'delta', 'gamma'; it takes alpha, beta."
    assert check_options("caller", {"alpha": 2}, {"alpha"}) == {"alpha": 2}

    @renamed_kwarg("seed", "rng")
    def draw(n, rng=None):
        return np.random.default_rng(rng).integers(100, size=n)

    assert "seed" not in inspect.signature(draw).parameters
    with pytest.warns(DeprecationWarning, match="'seed=' is deprecated"):
        assert np.array_equal(draw(3, seed=4), draw(3, rng=4))
    with pytest.raises(ParameterError, match="'rng' only"):
        draw(3, 5, seed=4)
    with pytest.raises(ValueError, match="must take"):
        renamed_kwarg("seed", "rng")(lambda n: n)


# ------------------------------------------------------------------------------------------------ save / load
def _saved_files(folder):
    """One saved file of every kind that saves itself: {kind: path}."""
    from structsparse import cs, nn, sysid

    system = sysid.random_system(2, 1, 1, rng=0)
    u = np.random.default_rng(1).standard_normal((60, 1))
    net = nn.mlp(hidden=(4,), n_classes=2, n_features=6, rng=0)
    files = {
        "StateSpace": system.save(folder / "model.json"),
        "Pattern": sysid.Pattern.from_system(system).save(folder / "pattern.json"),
        "IdentifiedModel": sysid.identify(u, system.simulate(u).y, 2, rng=0).save(folder / "identified.json"),
        "PhaseTable": cs.phase_transition(cs.BlockSparse(32, 4, 1), ["l1"], [12], 1, rng=0,
                                          progress=False).save(folder / "table.json"),
        "Graph": net.save(folder / "net.npz"),
        "Recipe": nn.make_recipe(net, nn.prune(net)).save(folder / "recipe.json"),
    }
    return {k: folder / getattr(v, "name", v) for k, v in files.items()}, net


def _loaders(net):
    from structsparse import cs, nn, sysid

    return {"StateSpace": sysid.StateSpace.load, "Pattern": sysid.Pattern.load,
            "IdentifiedModel": sysid.IdentifiedModel.load, "PhaseTable": cs.PhaseTable.load,
            "Graph": nn.Graph.load, "Recipe": nn.Recipe.load, "apply_recipe": lambda p: nn.apply_recipe(net, p)}


def test_every_load_reads_its_own_kind_and_refuses_every_other(tmp_path):
    """One save/load pattern: ``load`` refuses another kind's file with a ParameterError saying what it holds."""
    files, net = _saved_files(tmp_path)
    # an IdentifiedModel file holds its state-space model: StateSpace.load reads the model out of it (documented)
    reads = {("StateSpace", "IdentifiedModel"), ("apply_recipe", "Recipe")}
    for loader_kind, load in _loaders(net).items():
        for file_kind, path in files.items():
            if loader_kind == file_kind or (loader_kind, file_kind) in reads:
                load(path)  # reads
                continue
            with pytest.raises(ParameterError) as info:
                load(path)
            msg = str(info.value)
            assert path.name in msg, f"{loader_kind}.load({path.name}): the error does not name the file: {msg}"
            held = {"Recipe": "recipe", "Graph": "network"}.get(file_kind, file_kind)
            assert file_kind in msg or held in msg or "JSON" in msg, \
                f"{loader_kind}.load({path.name}): the error does not say what the file holds: {msg}"


def test_every_load_of_a_missing_file_raises_the_same_error(tmp_path):
    """A missing file: MissingFileError everywhere (a ParameterError and a FileNotFoundError), naming the path."""
    from structsparse.exceptions import MissingFileError, StructureError
    from structsparse.nn import RecipeError

    net = _small_net()
    for kind, load in _loaders(net).items():
        for name in ("absent.json", "absent.npz"):
            with pytest.raises(MissingFileError) as info:
                load(tmp_path / name)
            assert isinstance(info.value, FileNotFoundError) and isinstance(info.value, ParameterError)
            assert name in str(info.value) and "does not exist" in str(info.value), (kind, info.value)
            if kind == "Graph":  # 0.1's nn.load raised StructureError: kept one release
                assert isinstance(info.value, StructureError)
            if kind in ("Recipe", "apply_recipe"):  # the recipe's own error class, as before
                assert isinstance(info.value, RecipeError)


def test_a_recipe_saves_and_loads_like_every_other_object(tmp_path):
    """nn.Recipe: a dict with save/load and a one-line repr; the old save_recipe/load_recipe warn one release."""
    from structsparse import nn

    net = _small_net()
    recipe = nn.make_recipe(net, nn.prune(net))
    assert isinstance(recipe, nn.Recipe) and isinstance(recipe, dict)
    assert "\n" not in repr(recipe) and len(repr(recipe)) < 200 and recipe["source"]["hash"][:12] in repr(recipe)
    path = recipe.save(tmp_path / "r.json")
    back = nn.Recipe.load(path)
    assert isinstance(back, nn.Recipe) and back == recipe
    assert nn.model_hash(back.apply(net)) == recipe["result"]["hash"]
    with pytest.warns(DeprecationWarning, match="recipe.save"):
        old = nn.save_recipe(recipe, tmp_path / "old.json")
    with pytest.warns(DeprecationWarning, match="Recipe.load"):
        assert nn.load_recipe(old) == recipe


def _semi_public_kwargs_calls():
    """Public functions of modules outside the walked ``__all__`` lists that forward ``**kwargs``."""
    from structsparse.cs.convex import group_basis_pursuit, tree_basis_pursuit
    from structsparse.solvers.continuation import continuation
    from structsparse.solvers.cvxpy_reference import CvxpyProblem
    from structsparse.solvers.latent import solve_latent_cvxpy

    A = np.random.default_rng(0).standard_normal((10, 16))
    y = A[:, 0]
    return {
        "group_basis_pursuit": lambda **kw: group_basis_pursuit(A, y, ss.Groups.contiguous(16, 4), **kw),
        "tree_basis_pursuit": lambda **kw: tree_basis_pursuit(
            A, y, ss.TreeLasso(ss.Tree.from_parents([-1] + [0] * 15), 1.0), **kw),
        "continuation": lambda **kw: continuation(A, y, ss.L1(1.0), **kw),
        "solve_latent_cvxpy": lambda **kw: solve_latent_cvxpy(
            ss.LeastSquares(A, y), ss.LatentGroupLasso([[0, 1, 2, 3], [3, 4, 5] + list(range(6, 16))], 1.0), **kw),
        "CvxpyProblem.solve": lambda **kw: CvxpyProblem(ss.LeastSquares(A, y), ss.L1(1.0)).solve(**kw),
    }


@pytest.mark.parametrize("name", ["group_basis_pursuit", "tree_basis_pursuit", "continuation", "solve_latent_cvxpy",
                                  "CvxpyProblem.solve"])
def test_unknown_keyword_raises_in_the_semi_public_modules_too(name):
    """cs.convex, solvers.continuation, solvers.latent, solvers.cvxpy_reference: the same check, before any work."""
    with pytest.raises(ParameterError) as info:
        _semi_public_kwargs_calls()[name](**{BOGUS: 1})
    assert BOGUS in str(info.value), info.value


# ------------------------------------------------------------------------------------------------ deprecated names
_DEPRECATED_USES = [  # (pattern of a use, what replaces it)
    (r"\bsave_recipe\(", "recipe.save(path)"), (r"\bload_recipe\(", "nn.Recipe.load(path)"),
    (r"\bload_table\(", "cs.PhaseTable.load(path)"), (r"\bnn\.save\(", "net.save(path)"),
    (r"\bnn\.load\(", "nn.Graph.load(path)"), (r"structsparse\.plots\.(cs|nn|sysid)\b", "the front end's plots module"),
    (r"lambda_max\([^)]*,\s*[\"'](l1|group|sparse_group|tree)[\"']", "lambda_max(datafit, penalty)"),
    (r"\bseed\s*=", "rng="), (r"\bbase_seed\s*=", "rng="),
    (r"penalty\s*=\s*[\"'](group|sparse_group)[\"']", "the penalty's name"),
    (r"kind\s*=\s*[\"']sparse_group[\"']", "'sparse_group_lasso'"),
]


def _user_facing_files():
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    files = sorted((root / "examples").glob("*.py")) + [root / "README.md"]
    files += [p for p in sorted((root / "docs").rglob("*.rst"))
              if not ({"_build", "generated", "auto_examples"} & set(p.parts))
              and p.name not in ("changelog.rst", "conventions.rst", "api.rst")]
    return [p for p in files if p.exists()]


@pytest.mark.parametrize("path", [pytest.param(p, id=p.name) for p in _user_facing_files()])
def test_examples_and_docs_use_no_deprecated_name(path):
    """The examples, the README and the user-facing pages never show a name deprecated in this release."""
    import re

    found = []
    for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if "deprecated" in line.lower() or "still work" in line.lower():  # a sentence about the old name
            continue
        for pattern, instead in _DEPRECATED_USES:
            if re.search(pattern, line):
                found.append(f"{path.name}:{i}: {line.strip()[:100]} (use {instead})")
    assert not found, "\n".join(found)
