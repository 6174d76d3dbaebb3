"""Sphinx configuration of the structsparse documentation.

Build: ``python -m pip install ".[docs]" && python -m sphinx -W -b html docs docs/_build/html``
Serve: ``python -m http.server -d docs/_build/html``
"""

import os
import sys
import warnings
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))
os.environ.setdefault("MPLBACKEND", "Agg")

import structsparse  # noqa: E402
import _apigen  # noqa: E402

_apigen.write()

project = "structsparse"
author = "the structsparse developers"
copyright = "2026, the structsparse developers"
release = structsparse.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]

source_suffix = {".rst": "restructuredtext"}
exclude_patterns = ["_build", "**.ipynb_checkpoints", "*.md", "auto_examples/*.md"]
templates_path = ["_templates"]
root_doc = "index"

autosummary_generate = True
autodoc_default_options = {"inherited-members": False}
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False
numpydoc_validation_checks = set()

html_theme = "pydata_sphinx_theme"
html_title = f"structsparse {release}"
html_static_path = []
html_theme_options = {
    "navigation_depth": 2,
    "show_toc_level": 2,
    "navbar_align": "left",
}

sphinx_gallery_conf = {
    "examples_dirs": str(HERE.parent / "examples"),
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "abort_on_example_error": True,
    "doc_module": ("structsparse",),
    "backreferences_dir": "generated/backreferences",
    "reference_url": {"structsparse": None},
    "download_all_examples": False,
    "remove_config_comments": True,
    "matplotlib_animations": False,
    "within_subsection_order": "FileNameSortKey",
}

# dask's LocalCluster and numba talk on stderr; the gallery shows stdout only.
warnings.filterwarnings("ignore", category=DeprecationWarning, module="distributed")

# The capability table (docs/solvers_table.md, generated and checked against the registries) as reStructuredText.
import _md  # noqa: E402

_table = _md.convert((HERE / "solvers_table.md").read_text(), top_level=3)
_target = HERE / "user_guide" / "solvers_table.inc"
if not _target.exists() or _target.read_text() != _table:
    _target.write_text(_table)


# Docstrings write shapes as in Python, "shape (n_samples, *input_shape)"; in reST a lone "*" opens emphasis.
# Escape it in parameter type lines (before numpydoc renders them) rather than ask every docstring to.
import re  # noqa: E402

_STAR = re.compile(r"(\(|, )\*(?=[A-Za-z_])")


def _escape_shape_stars(app, what, name, obj, options, lines):
    for i, line in enumerate(lines):
        if "shape (" in line and "*" in line:
            lines[i] = _STAR.sub(r"\1\\*", line)


def setup(app):
    app.connect("autodoc-process-docstring", _escape_shape_stars, priority=400)
