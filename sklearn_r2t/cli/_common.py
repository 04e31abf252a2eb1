"""What every command shares.

Model names, output checks, the method registry and the one-line error.
"""

from __future__ import annotations

import importlib.util
import os
import re
from collections.abc import Sequence
from pathlib import Path

# built-in models by CLI name (imported lazily: ``--help`` and ``--version`` stay fast)
MODEL_NAMES = ("heart_rate", "skin_temperature", "spo2", "wearable", "cosinor")
TABLE_SUFFIXES = (".csv", ".tsv", ".parquet")
FIGURE_SUFFIXES = (".png", ".pdf", ".svg")


class CLIError(Exception):
    """An error reported as one line; ``status`` is the exit code."""

    def __init__(self, message: str, status: int = 1):
        super().__init__(message)
        self.status = status


# --------------------------------------------------------------------------- helpers
def _models():
    from ..r2t._weights import _PRETRAINED_MODELS
    from ..symbolic import Cosinor

    return {**_PRETRAINED_MODELS, Cosinor.name: Cosinor}


def slugify(label: str) -> str:
    """CLI name of a method label: ``'Cauchy (auto)'`` -> ``'cauchy-auto'``."""
    return re.sub(r"[^a-z0-9]+", "-", label.lower()).strip("-")


def method_registry(model, n_jobs=None, n_timesteps: int = 96) -> dict:
    """Methods of :func:`~sklearn_r2t._compare.standard_methods` by CLI name.

    Returns
    -------
    registry : dict of str -> (label, estimator)
    """
    from .._compare import standard_methods

    return {slugify(label): (label, est)
            for label, est in standard_methods(model, n_jobs=n_jobs, n_timesteps=n_timesteps)}


def _require(module: str, what: str) -> None:
    if importlib.util.find_spec(module) is None:
        raise CLIError(f"{what} needs {module}, which is not installed: pip install "
                       f"{module} (or the extra [cli]: pandas, matplotlib, pyarrow)")


def _check_output(path: str, suffixes: Sequence[str], what: str) -> Path:
    p = Path(path)
    if p.suffix.lower() not in suffixes:
        raise CLIError(f"{what} {path!r} must end in {', '.join(suffixes)}", status=2)
    parent = p.parent if str(p.parent) else Path(".")
    if not parent.is_dir():
        raise CLIError(f"{what} {path!r}: folder {str(parent)!r} does not exist", status=2)
    if not os.access(parent, os.W_OK) or (p.exists() and not os.access(p, os.W_OK)):
        raise CLIError(f"{what} {path!r}: not writable", status=2)
    if p.is_dir():
        raise CLIError(f"{what} {path!r} is a folder, not a file", status=2)
    return p
