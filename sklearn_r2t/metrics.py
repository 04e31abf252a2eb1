"""Metrics for sequence fits: normalised curve error and parameter recovery."""

from __future__ import annotations

import numpy as np

from ._validation import FLOAT32_MAX, check_model
from .symbolic import SymbolicModel, circular_difference

__all__ = ["normalized_mse", "oracle_fit", "parameter_errors", "parameter_recovery_score"]


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
    model = check_model(model)
    y_true, y_pred = _check_arrays(y_true, y_pred, "y_true", "y_pred")
    shape = "(n, T)" if model.n_channels == 1 else f"(n, T, {model.n_channels})"
    if y_true.ndim != (2 if model.n_channels == 1 else 3) or (
            model.n_channels > 1 and y_true.shape[2] != model.n_channels):
        raise ValueError(f"y_true and y_pred must be curves of shape {shape} for "
                         f"{type(model).__name__}, got shape {y_true.shape}.")
    if y_true.shape[1] == 0:
        raise ValueError("y_true and y_pred have no time steps.")
    diff = model.normalize(y_pred) - model.normalize(y_true)
    axes = tuple(range(1, diff.ndim))
    return np.nanmean(diff**2, axis=axes)


def parameter_errors(model: SymbolicModel, params_true, params_pred) -> np.ndarray:
    """Absolute parameter errors in physical units, circular for angular parameters.

    Returns
    -------
    errors : ndarray of shape (n, n_params)
    """
    model = check_model(model)
    params_true, params_pred = _check_arrays(params_true, params_pred, "params_true",
                                           "params_pred")
    if params_true.ndim != 2 or params_true.shape[1] != model.n_params:
        raise ValueError(f"params_true and params_pred must have shape (n, {model.n_params}) "
                         f"for {type(model).__name__}, got shape {params_true.shape}.")
    err = params_pred - params_true
    for j, period in enumerate(model.param_periods):
        if period is not None:
            err[:, j] = circular_difference(params_pred[:, j], params_true[:, j], period)
    return np.abs(err)


def _check_arrays(a, b, name_a, name_b):
    """Two real float64 arrays broadcast to one shape, at least one row; NaN allowed, not inf."""
    arrays = []
    for value, name in ((a, name_a), (b, name_b)):
        arr = np.asarray(value)
        if arr.dtype == bool or arr.dtype.kind not in "iuf":
            raise TypeError(f"{name} must hold real numbers, got dtype {arr.dtype}.")
        arr = arr.astype(float)
        if np.isinf(arr).any() or np.fmax.reduce(np.abs(arr), axis=None, initial=0.0) > FLOAT32_MAX:
            raise ValueError(f"{name} must be finite and within the float32 range "
                             "(NaN marks a missing value).")
        arrays.append(arr)
    try:  # one curve or parameter row may stand for all (e.g. a baseline)
        shape = np.broadcast_shapes(arrays[0].shape, arrays[1].shape)
    except ValueError:
        raise ValueError(f"{name_a} and {name_b} must have the same shape, got "
                         f"{arrays[0].shape} and {arrays[1].shape}.") from None
    arrays = [np.broadcast_to(arr, shape) for arr in arrays]
    if arrays[0].ndim == 0 or arrays[0].shape[0] == 0:
        raise ValueError(f"{name_a} and {name_b} need at least one row, got shape "
                         f"{arrays[0].shape}.")
    return arrays


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


def oracle_fit(model: SymbolicModel, X, artefact_mask) -> np.ndarray:
    """The accuracy floor: least squares on exactly the samples no artefact touched.

    No estimator can know which samples are clean; this one is told (by the
    generator's ``artefact_mask``), so its error is the floor every method's error
    is reported against (as a ratio).

    Parameters
    ----------
    model : SymbolicModel
    X : array-like of shape (n, T) or (n, T, C)
        Noisy sequences, NaN for missing samples. Not modified.
    artefact_mask : bool array-like, same shape as ``X``
        True where an artefact touched the sample
        (:func:`~sklearn_r2t.datasets.make_wearable_sequences` returns it).

    Returns
    -------
    params : ndarray of shape (n, n_params)
        NaN (with a warning) for a sequence left with too few clean samples.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_r2t.datasets import make_wearable_sequences
    >>> from sklearn_r2t.metrics import normalized_mse, oracle_fit
    >>> data = make_wearable_sequences(100, random_state=0)
    >>> params = oracle_fit(data.model, data.X, data.artefact_mask)
    >>> curves = data.model.evaluate(params, 96)
    >>> float(np.median(normalized_mse(data.model, data.X_clean, curves))) < 1e-4
    True
    """
    from .least_squares._sequence_fit import fit_sequences

    X = np.asarray(X, dtype=float)
    mask = np.asarray(artefact_mask, dtype=bool)
    if mask.shape != X.shape:
        raise ValueError(
            f"artefact_mask must have the shape of X {X.shape}, got {mask.shape}."
        )
    return fit_sequences(model, np.where(mask, np.nan, X), loss="linear")
