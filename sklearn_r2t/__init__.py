"""sklearn-r2t: robust regression under structured, non-Gaussian noise.

Two methods, both scikit-learn compatible:

- the Robust Regression Transformer (:class:`R2TRegressor`), which reads a noisy
  sequence and predicts the parameters of a fixed symbolic equation;
- the Adaptive Segmented Robust Loss (:class:`ASRLObjective`, :class:`ASRLRegressor`,
  :class:`ASRLLoss`), a piecewise robust loss for gradient boosting and torch.

Classical baselines (:class:`SymbolicLeastSquares`, :class:`SoftL1Regressor`) share the
same API so that every method swaps into a Pipeline or a GridSearchCV.

The names below are imported on first use (PEP 562): ``from sklearn_r2t import
ASRLRegressor`` loads scikit-learn and XGBoost but not torch, and ``import
sklearn_r2t`` alone loads neither.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._version import __version__  # also read by pyproject.toml

# public name -> private module that defines it
_LAZY = {
    "ASRLObjective": "._asrl",
    "ASRLThresholds": "._asrl",
    "asrl_loss": "._asrl",
    "ASRLRegressor": "._asrl_regressor",
    "ASRLLoss": "._asrl_torch",
    "SoftL1Regressor": "._least_squares",
    "SymbolicLeastSquares": "._least_squares",
    "R2TRegressor": "._r2t",
}
_SUBMODULES = ("datasets", "metrics", "noise", "symbolic")

__all__ = [  # a literal list, so that linters see what the lazy names export
    "__version__",
    "ASRLLoss",
    "ASRLObjective",
    "ASRLRegressor",
    "ASRLThresholds",
    "asrl_loss",
    "R2TRegressor",
    "SoftL1Regressor",
    "SymbolicLeastSquares",
]

if TYPE_CHECKING:  # static analysers and IDEs see the real objects
    from ._asrl import ASRLObjective, ASRLThresholds, asrl_loss
    from ._asrl_regressor import ASRLRegressor
    from ._asrl_torch import ASRLLoss
    from ._least_squares import SoftL1Regressor, SymbolicLeastSquares
    from ._r2t import R2TRegressor


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name], __name__), name)
        globals()[name] = value  # later look-ups skip this function
        return value
    if name in _SUBMODULES:
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__, *_SUBMODULES})
