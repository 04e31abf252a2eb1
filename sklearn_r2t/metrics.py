"""Metrics for sequence fits: normalised curve error and parameter recovery."""

from __future__ import annotations

import numpy as np

from .symbolic import SymbolicModel, circular_difference

__all__ = ["normalized_mse", "parameter_errors", "parameter_recovery_score"]


def normalized_mse(model: SymbolicModel, y_true, y_pred) -> np.ndarray:
    """Per-sequence mean squared error after scaling by the model's ``output_range``.

    Parameters
    ----------
    model : SymbolicModel
    y_true, y_pred : array-like of shape (n, T) or (n, T, C)
        Clean and estimated curves. NaN entries are ignored.

    Returns
    -------
    mse : ndarray of shape (n,)
    """
    diff = model.normalize(y_pred) - model.normalize(y_true)
    axes = tuple(range(1, diff.ndim))
    return np.nanmean(diff**2, axis=axes)


def parameter_errors(model: SymbolicModel, params_true, params_pred) -> np.ndarray:
    """Absolute parameter errors in physical units, circular for angular parameters.

    Returns
    -------
    errors : ndarray of shape (n, n_params)
    """
    params_true = np.asarray(params_true, dtype=float)
    params_pred = np.asarray(params_pred, dtype=float)
    err = params_pred - params_true
    for j, period in enumerate(model.param_periods):
        if period is not None:
            err[:, j] = circular_difference(params_pred[:, j], params_true[:, j], period)
    return np.abs(err)


def _final_step(estimator):
    return estimator[-1] if hasattr(estimator, "steps") else estimator


def parameter_recovery_score(estimator, X, y) -> float:
    """Scorer for ``GridSearchCV``: minus the mean bound-normalised parameter error.

    ``y`` holds the known parameters, shape ``(n, n_params)``. The estimator (or a
    Pipeline ending in one) must expose ``transform`` returning parameters and a
    fitted ``model_``. Higher is better; 0 is perfect recovery. Each error is divided
    by the width of its parameter's bounds (for angles: by half the period, the
    largest circular error), so every parameter weighs the same.
    """
    model = _final_step(estimator).model_
    err = parameter_errors(model, y, estimator.transform(X))
    scale = np.diff(model.bounds, axis=1)[:, 0]
    for j, period in enumerate(model.param_periods):
        if period is not None:
            scale[j] = period / 2.0
    return -float(np.nanmean(err / scale))
