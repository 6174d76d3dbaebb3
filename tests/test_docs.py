"""The documentation: its code blocks run, the API reference lists every public name, and the site builds.

- every ``.. code-block:: python`` of the user guide, the getting-started page and the tutorials, and every
  ```` ```python ```` block of the README, runs top to bottom (one namespace per page);
- ``docs/_apigen.py`` (which writes the API reference at every build) lists every public module and name;
- ``pytest -m docs``: ``sphinx-build -W`` builds the whole site, gallery included (it runs every example), in a
  temporary directory. It takes minutes, so it is not in the default run; ``.ci/run`` runs it in a second step.
"""

import contextlib
import importlib
import os
import pathlib
import pkgutil
import re
import shutil
import subprocess
import sys
import time
import warnings

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
PAGES = sorted([DOCS / "getting_started.rst", *(DOCS / "user_guide").glob("*.rst"), *(DOCS / "tutorials").glob("*.rst"),
                *(DOCS / "theory").glob("*.rst")])


def rst_python_blocks(text):
    """The bodies of the ``.. code-block:: python`` directives of a reStructuredText page, dedented."""
    blocks, lines, i = [], text.splitlines(), 0
    while i < len(lines):
        if re.match(r"\s*\.\. code-block:: python\s*$", lines[i]):
            indent = len(lines[i]) - len(lines[i].lstrip())
            i += 1
            while i < len(lines) and lines[i].strip().startswith(":"):  # directive options
                i += 1
            body = []
            while i < len(lines) and (not lines[i].strip() or len(lines[i]) - len(lines[i].lstrip()) > indent):
                body.append(lines[i])
                i += 1
            code = "\n".join(body)
            pad = min((len(line) - len(line.lstrip()) for line in body if line.strip()), default=0)
            blocks.append("\n".join(line[pad:] for line in code.splitlines()).strip() + "\n")
            continue
        i += 1
    return blocks


def md_python_blocks(text):
    """The bodies of the fenced ```` ```python ```` blocks of a Markdown page."""
    return re.findall(r"^```python\n(.*?)^```", text, re.S | re.M)


@contextlib.contextmanager
def _registries_restored():
    """Pages (the tutorials) register toy penalties and datafits: take them out again afterwards."""
    from structsparse.datafits import registry as datafits
    from structsparse.penalties import registry as penalties

    saved = (dict(penalties.PENALTY_REGISTRY), penalties.PENALTY_NAMES, dict(datafits.DATAFIT_REGISTRY),
             set(getattr(datafits, "_MULTI_TARGET", ())))
    try:
        yield
    finally:
        penalties.PENALTY_REGISTRY.clear()
        penalties.PENALTY_REGISTRY.update(saved[0])
        penalties.PENALTY_NAMES = saved[1]
        datafits.DATAFIT_REGISTRY.clear()
        datafits.DATAFIT_REGISTRY.update(saved[2])
        if hasattr(datafits, "_MULTI_TARGET"):
            datafits._MULTI_TARGET.clear()
            datafits._MULTI_TARGET.update(saved[3])


def _run_blocks(blocks, where, tmp_path, monkeypatch):
    """Run the blocks of one page, in order, in one namespace, from a scratch directory."""
    assert blocks, f"{where} has no python code block"
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    namespace = {"__name__": "__docs__"}
    with _registries_restored(), warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        # user-level code: a ConvergenceWarning is shown, as to a user (the suite's filter would make it an error)
        from structsparse.exceptions import ConvergenceWarning

        warnings.simplefilter("default", ConvergenceWarning)
        for k, code in enumerate(blocks):
            try:
                exec(compile(code, f"{where} [block {k + 1}]", "exec"), namespace)
            except Exception as err:  # the message is the point
                raise AssertionError(f"{where}, code block {k + 1} failed: {type(err).__name__}: {err}\n{code}") from err
    return namespace


def test_block_extractors():
    rst = "x\n\n.. code-block:: python\n   :caption: c\n\n   a = 1\n   if a:\n       b = 2\n\nafter\n" \
          ".. code-block:: bash\n\n   ls\n"
    assert rst_python_blocks(rst) == ["a = 1\nif a:\n    b = 2\n"]
    assert md_python_blocks("t\n```python\nx = 1\n```\n```bash\nls\n```\n") == ["x = 1\n"]


@pytest.mark.parametrize("page", PAGES, ids=[str(p.relative_to(DOCS)) for p in PAGES])
def test_docs_code_blocks_run(page, tmp_path, monkeypatch):
    blocks = rst_python_blocks(page.read_text())
    if page.parent.name == "user_guide" and page.name != "index.rst" or page.name == "getting_started.rst":
        assert blocks, f"{page.name}: a user-guide page shows runnable code"
    if blocks:
        _run_blocks(blocks, str(page.relative_to(ROOT)), tmp_path, monkeypatch)


def test_readme_code_blocks_run(tmp_path, monkeypatch):
    namespace = _run_blocks(md_python_blocks((ROOT / "README.md").read_text()), "README.md", tmp_path, monkeypatch)
    res = namespace["res"]  # the quick-start solve: certified, by the solver ss.solve says it picked
    assert res.converged and res.solver == "solve_block"


# ---------------------------------------------------------------- the API reference
sys.path.insert(0, str(DOCS))
import _apigen  # noqa: E402


def _public_modules():
    """``structsparse`` and every subpackage or module that declares ``__all__`` and is re-exported publicly."""
    import structsparse

    found = {"structsparse"}
    for info in pkgutil.iter_modules(structsparse.__path__):
        if info.name.startswith("_"):
            continue
        if info.name in structsparse.__all__ or info.name in ("cs", "sysid", "nn"):
            found.add(f"structsparse.{info.name}")
    return found


def test_solver_guide_says_what_the_capabilities_say():
    """The solvers page's claims about datafits and solvers, checked against the registries and ``ss.solve``."""
    import numpy as np

    import structsparse as ss
    from structsparse.datafits import registry
    from structsparse.solvers.capabilities import auto_solver

    text = " ".join((DOCS / "user_guide" / "solvers.rst").read_text().split())
    labels = {"least_squares": "least squares", "logistic": "logistic", "huber": "Huber", "poisson": "Poisson"}
    several = re.search(r"; ([^;.]*) also takes? several right-hand sides[^,.]*, ([^.]*) takes? one\.", text)
    assert several, "the page no longer says which datafits take several right-hand sides"
    for name, label in labels.items():
        assert label in several.group(1 if registry.accepts_several_targets(name) else 2), (name, several.group(0))
    # the overlapping group lasso's row names every solver ss.solve picks for it
    row = re.search(r"``ss.OverlapGroupLasso\(groups, lam\)`` - [^*]* - ([^*]*)\*", text).group(1)
    A = np.random.default_rng(0).standard_normal((20, 8))
    overlap = ss.OverlapGroupLasso([[0, 1, 2, 3], [2, 3, 4, 5], [4, 5, 6, 7]], 1.0)
    for name in labels:
        chosen = auto_solver(registry.random_datafit(name, A, 0), overlap)
        assert f"ss.{chosen}" in row, (name, chosen, row)
    # FISTA is described for iterative proxes too, since it is valid (and chosen) for them
    fista = re.search(r"- :func:`~structsparse.fista`: (.*?) - :func:", text).group(1)
    assert "iterative" in fista and "overlapping" in fista, fista
    assert "fista" in ss.valid_solvers(ss.Logistic(A, np.sign(A[:, 0])), overlap)


def test_api_reference_lists_every_public_module():
    missing = _public_modules() - set(_apigen.MODULES)
    assert not missing, f"add these modules to docs/_apigen.py MODULES: {sorted(missing)}"


def test_api_reference_lists_every_public_name():
    text = _apigen.render()
    for modname in _apigen.MODULES:
        mod = importlib.import_module(modname)
        section = text.split(f".. currentmodule:: {modname}\n", 1)[1].split(".. currentmodule::", 1)[0]
        entries = set(re.findall(r"^   (\w+)$", section, re.M)) | set(re.findall(rf"``{re.escape(modname)}\.(\w+)``",
                                                                                    section))
        missing = [n for n in mod.__all__ if n not in entries]
        assert not missing, f"{modname}: not in the API reference: {missing}"
        assert len(entries) == len(set(mod.__all__)), f"{modname}: the reference lists names not in __all__"


def test_api_reference_is_part_of_the_site():
    index = (DOCS / "index.rst").read_text()
    assert re.search(r"^   api$", index, re.M), "docs/index.rst must link the API reference"
    conf = (DOCS / "conf.py").read_text()
    assert "_apigen.write()" in conf and '"sphinx.ext.autosummary"' in conf


# ---------------------------------------------------------------- the whole site
@pytest.mark.docs
def test_sphinx_build_with_warnings_as_errors(tmp_path):
    for module in ("sphinx", "sphinx_gallery", "numpydoc", "pydata_sphinx_theme"):
        pytest.importorskip(module, reason=f"{module} is not installed: python -m pip install '.[docs]'")
    # a scratch copy of docs/ so the build leaves the checkout alone (generated pages, executed gallery)
    src = tmp_path / "docs"
    shutil.copytree(DOCS, src, ignore=shutil.ignore_patterns("_build", "generated", "auto_examples", "api.rst",
                                                             "sg_execution_times.rst", "*.inc"))
    (src / "conf.py").write_text((src / "conf.py").read_text().replace(
        'str(HERE.parent / "examples")', repr(str(ROOT / "examples"))).replace(
        "sys.path.insert(0, str(HERE.parent))", f"sys.path.insert(0, {str(ROOT)!r})"))
    env = dict(os.environ, MPLBACKEND="Agg", PYTHONPATH=str(ROOT))
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html", str(src),
                           str(tmp_path / "html")], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=1200)
    elapsed = time.perf_counter() - start
    assert proc.returncode == 0, f"sphinx-build -W failed after {elapsed:.0f} s:\n{proc.stderr[-6000:]}"
    html = tmp_path / "html"
    examples = sorted(p.stem for p in (ROOT / "examples").glob("plot_*.py"))
    built = {p.stem for p in (html / "auto_examples").glob("plot_*.html")}
    assert set(examples) <= built, f"gallery pages missing: {sorted(set(examples) - built)}"
    for page in ("index", "getting_started", "conventions", "changelog", "benchmarks", "api"):
        assert (html / f"{page}.html").exists(), page
    for name, _ in _apigen.public_names("structsparse"):
        if not name == "prox":
            assert (html / "generated" / f"structsparse.{name}.html").exists(), name
    print(f"sphinx-build -W: {elapsed:.0f} s")
