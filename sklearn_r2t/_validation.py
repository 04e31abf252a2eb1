"""Input validation shared by the sequence estimators."""

from __future__ import annotations

import copy
import warnings

import numpy as np
from sklearn.utils.validation import validate_data

from .symbolic import SymbolicModel


def check_model(model) -> SymbolicModel:
    """Return ``model`` if it is a :class:`SymbolicModel` instance, else raise."""
    if isinstance(model, type) and issubclass(model, SymbolicModel):
        raise TypeError(
            f"model must be a SymbolicModel instance, got the class {model.__name__}; "
            f"use model={model.__name__}()."
        )
    if not isinstance(model, SymbolicModel):
        raise TypeError(
            "model must be a sklearn_r2t.symbolic.SymbolicModel instance (e.g. HeartRate()), "
            f"got {type(model).__name__}."
        )
    return model


# The largest magnitude the estimators accept: the float32 range the networks
# compute in (the least-squares fits run in float64 but square residuals, so the
# same limit keeps them clear of overflow too).
FLOAT32_MAX = float(np.finfo(np.float32).max)


def validate_sequences(estimator, X, model: SymbolicModel, *, reset: bool) -> np.ndarray:
    """Validate sequences for ``model`` and return them as float64 ``(n, T, C)``.

    NaN marks a missing sample and is kept; inf, values beyond the float32 range,
    non-numeric values, empty input, the wrong number of dimensions or channels,
    and lengths the model cannot use raise a ``ValueError`` naming the problem.
    The caller's array is never written to (callers treat the result as read-only).
    With ``reset=True``, ``n_features_in_`` (and ``feature_names_in_``) are recorded
    on ``estimator`` only once every check has passed, so a rejected ``X`` leaves
    the estimator's previous fitted state as it was.
    """
    target = estimator
    if reset:
        estimator = copy.copy(estimator)  # validate_data records the attributes on it
    # np.asarray, not np.ndim: array-likes that only implement __array__ must work too.
    ndim = X.ndim if hasattr(X, "ndim") else np.asarray(X).ndim
    expected = 2 if model.n_channels == 1 else 3
    if ndim != expected and not (ndim == 3 and model.n_channels == 1):
        shape = "(n_sequences, n_timesteps)" if expected == 2 else (
            f"(n_sequences, n_timesteps, {model.n_channels})"
        )
        raise ValueError(
            f"Expected {expected}D array of shape {shape} for {type(model).__name__}, "
            f"got {ndim}D array instead."
            + (" Reshape your data with X.reshape(1, -1) if it is a single sequence."
               if ndim == 1 and expected == 2 else "")
        )
    X = validate_data(
        estimator,
        X,
        reset=reset,
        dtype=np.float64,
        ensure_all_finite="allow-nan",
        allow_nd=True,
        ensure_min_features=1,
    )
    if X.ndim == 2:
        X = X[:, :, None]
    if X.shape[2] != model.n_channels:
        raise ValueError(
            f"{type(model).__name__} has {model.n_channels} channel(s) "
            f"{model.channel_names}, got X with {X.shape[2]} channel(s) on the last axis."
        )
    model.check_n_timesteps(X.shape[1])
    check_float32_range(X)
    if reset:
        target.n_features_in_ = estimator.n_features_in_
        if hasattr(estimator, "feature_names_in_"):
            target.feature_names_in_ = estimator.feature_names_in_
        elif hasattr(target, "feature_names_in_"):
            del target.feature_names_in_
    return X


def check_float32_range(a: np.ndarray, name: str = "X") -> None:
    """Refuse finite values beyond the float32 range, with a message naming ``a``."""
    # fmax/fmin reductions skip NaN without copying (1,000,000 sequences stay cheap).
    if a.size == 0:
        return
    high, low = np.fmax.reduce(a, axis=None), np.fmin.reduce(a, axis=None)
    if max(abs(high), abs(low)) > FLOAT32_MAX:
        worst = high if abs(high) >= abs(low) else low
        raise ValueError(
            f"{name} has values beyond the float32 range (|x| <= {FLOAT32_MAX:.3g}) that the "
            f"estimators compute in, e.g. {worst:.3g}; check the units, or mark "
            "impossible readings as NaN (missing)."
        )


def all_missing_rows(X: np.ndarray) -> np.ndarray:
    """Boolean mask of sequences with no observed value in some channel.

    Such a sequence carries no information about that channel's parameters, so
    the estimators return NaN for it (with a warning) instead of failing the batch.
    """
    empty = np.isnan(X).all(axis=1).any(axis=1)
    if empty.any():
        idx = np.flatnonzero(empty)
        shown = ", ".join(map(str, idx[:10])) + (" ..." if idx.size > 10 else "")
        warnings.warn(
            f"{idx.size} sequence(s) have a channel that is entirely NaN (rows {shown}); "
            "their parameters and curves are returned as NaN.",
            UserWarning,
            stacklevel=3,
        )
    return empty
