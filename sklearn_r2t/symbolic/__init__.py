"""Symbolic models: fixed equations whose parameters the estimators recover.

Every model writes its equation once, in torch (:meth:`SymbolicModel.equation`).
:meth:`SymbolicModel.evaluate` runs that same code on float64 tensors and returns
numpy, so the numpy and torch paths cannot disagree, and the torch path is batched
and differentiable for training :class:`~sklearn_r2t.R2TRegressor`.

Conventions
-----------
- Time is in hours over ``[0, window_hours)``, sampled on an equally spaced grid of
  ``n_timesteps`` points (:meth:`SymbolicModel.t_hours`).
- Angular parameters (acrophases) are in clock hours within ``[0, period)``; their
  period is in ``param_periods`` and errors on them are circular
  (:func:`circular_difference`).
- A single-channel model evaluates to ``(n, n_timesteps)``; a multi-channel one to
  ``(n, n_timesteps, n_channels)``.
"""

from ._base import SymbolicModel, circular_difference
from ._cosinor import Cosinor, cosinor_basis, cosinor_params  # noqa: F401 (helpers)
from ._function import FunctionModel
from ._physiology import (  # noqa: F401 (channel_components: a helper)
    HeartRate,
    SkinTemperature,
    SpO2,
    Wearable,
    channel_components,
)

__all__ = [
    "SymbolicModel",
    "HeartRate",
    "SkinTemperature",
    "SpO2",
    "Wearable",
    "Cosinor",
    "FunctionModel",
    "circular_difference",
]
