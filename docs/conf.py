"""Sphinx configuration of the sklearn-r2t documentation (``make docs``)."""

import os
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
html_css_files = ["custom.css"]  # wrap long lines in code blocks
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
