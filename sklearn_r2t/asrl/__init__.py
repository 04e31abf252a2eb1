"""The Adaptive Segmented Robust Loss (ASRL): its maths, its thresholds, and its uses.

- :func:`asrl_loss` and :func:`asrl_thresholds`: the loss and the statistics of the
  current residuals that set its thresholds (:class:`ASRLThresholds`);
- :class:`ASRLObjective`: the gradient and hessian as a custom objective for XGBoost,
  LightGBM and CatBoost (also distributed, with xgboost.dask);
- :class:`ASRLRegressor`: a scikit-learn regressor boosting trees on it;
- :class:`ASRLLoss`: a torch loss (imported on first use: importing this package does
  not import torch).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._loss import asrl_loss
from ._objective import ASRLObjective
from ._regressor import ASRLRegressor
from ._thresholds import ASRLThresholds, asrl_thresholds

if TYPE_CHECKING:
    from ._torch import ASRLLoss

__all__ = ["ASRLLoss", "ASRLObjective", "ASRLRegressor", "ASRLThresholds", "asrl_loss",
           "asrl_thresholds"]


def __getattr__(name: str) -> Any:
    if name == "ASRLLoss":
        return importlib.import_module("._torch", __name__).ASRLLoss
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
