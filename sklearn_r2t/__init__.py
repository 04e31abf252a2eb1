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
    "ASRLObjective": ".asrl._objective",
    "ASRLThresholds": ".asrl._thresholds",
    "asrl_loss": ".asrl._loss",
    "ASRLRegressor": ".asrl._regressor",
    "ASRLLoss": ".asrl._torch",
    "SoftL1Regressor": ".least_squares._soft_l1",
    "SymbolicLeastSquares": ".least_squares._symbolic_least_squares",
    "R2TRegressor": ".r2t._estimator",
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
    from .asrl._loss import asrl_loss
    from .asrl._objective import ASRLObjective
    from .asrl._regressor import ASRLRegressor
    from .asrl._thresholds import ASRLThresholds
    from .asrl._torch import ASRLLoss
    from .least_squares._soft_l1 import SoftL1Regressor
    from .least_squares._symbolic_least_squares import SymbolicLeastSquares
    from .r2t._estimator import R2TRegressor


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
