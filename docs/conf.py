"""Sphinx configuration of the sklearn-r2t documentation (``make docs``)."""

import os
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # document the source tree, installed or not
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MPLBACKEND", "Agg")

from sklearn_r2t import __version__  # noqa: E402

project = "sklearn-r2t"
author = "The sklearn-r2t developers"
copyright = "2026, the sklearn-r2t developers"
version = release = __version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    "myst_parser",
]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
exclude_patterns = ["_build", "auto_examples/*.ipynb", "auto_examples/*.py",
                    "auto_examples/*.zip", "auto_examples/*.md5", "sg_execution_times.rst"]
myst_heading_anchors = 3
suppress_warnings = ["myst.header"]  # the included .md pages start below level 1 in places

autosummary_generate = True
autodoc_default_options = {"members": True, "inherited-members": False}
autodoc_typehints = "none"  # numpydoc's Parameters sections say it
numpydoc_show_class_members = False  # autosummary pages list members
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False

html_theme = "pydata_sphinx_theme"
html_title = f"sklearn-r2t {version}"
html_static_path = ["_static"]
templates_path = ["_templates"]
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "footer_start": ["copyright"],
    "footer_end": [],
}
html_sidebars = {"index": []}

sphinx_gallery_conf = {
    "examples_dirs": str(ROOT / "examples"),
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "download_all_examples": False,
    "remove_config_comments": True,
    "within_subsection_order": "FileNameSortKey",
    "show_memory": False,
    "abort_on_example_error": True,
    "matplotlib_animations": False,
}

# scikit-learn's dynamic metadata-routing methods and inherited mixin methods carry
# cross-references into scikit-learn's own site; they are documented there.
autodoc_default_options["exclude-members"] = ",".join(
    f"set_{m}_request" for m in ("fit", "predict", "score", "transform", "partial_fit")
) + ",score,set_output,get_metadata_routing"

# Fix-ups of docstrings in modules whose owners are changing them in parallel branches:
# reStructuredText, not numpydoc, trips on these. Each entry is (object name, old, new);
# a named fix whose docstring was read in this build but no longer needs it is
# reported, so stale entries are noticed and dropped.
_DOCSTRING_FIXES = [
    # a trailing underscore is a reference in reST: quote it as scikit-learn does
    ("*", "(n_features_in_,)", "(``n_features_in_``,)"),
    # entries of a Bunch without a description end the definition list early
    ("sklearn_r2t.datasets.make_wearable_sequences",
     re.compile(r"^( +)(param_names : tuple of str)\n\1(channel_names : tuple of str)\n"
                r"\1(model : SymbolicModel)\n", re.M),
     "\\1\\2\n\\1    The model's parameter names.\n\\1\\3\n\\1    The model's channel "
     "names.\n\\1\\4\n\\1    The generating model.\n"),
    # a parameter type continued on the next line with a backslash (a raw docstring
    # keeps it): one line for reST
    ("sklearn_r2t.SymbolicLeastSquares",
     re.compile(r" \\\n\s+(?='welsch')"), " "),
]
_FIXES_APPLIED = set()
_SEEN = set()


def _fix_docstring(app, what, name, obj, options, lines):
    _SEEN.add(name)
    text = "\n".join(lines) + "\n"
    for i, (target, old, new) in enumerate(_DOCSTRING_FIXES):
        if target not in ("*", name):
            continue
        if isinstance(old, re.Pattern):
            text, n = old.subn(new, text)
        else:
            n = text.count(old)
            text = text.replace(old, new)
        if n:
            _FIXES_APPLIED.add(i)
    lines[:] = text.rstrip("\n").split("\n")


def _report_stale_fixes(app, exception):
    if exception is None:
        stale = [f[0] for i, f in enumerate(_DOCSTRING_FIXES)
                 if f[0] in _SEEN and i not in _FIXES_APPLIED]
        for name in stale:
            from sphinx.util import logging

            logging.getLogger(__name__).warning(
                f"docs/conf.py: the docstring fix-up for {name} no longer applies; drop it"
            )


def setup(app):
    app.connect("autodoc-process-docstring", _fix_docstring, priority=100)  # before numpydoc
    app.connect("build-finished", _report_stale_fixes)
