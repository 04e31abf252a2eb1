"""Argument checks shared by the symbolic models."""

from __future__ import annotations

import math
import numbers

import numpy as np
import torch

# The networks compute parameters in float32.
_FLOAT32_MAX = float(np.finfo(np.float32).max)


def _as_float_params(params) -> np.ndarray:
    if isinstance(params, torch.Tensor):
        params = params.detach().cpu().numpy()
    arr = np.asarray(params)
    if arr.dtype == bool or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == object):
        raise TypeError(f"params must be real numbers, got dtype {arr.dtype}.")
    if np.iscomplexobj(arr):
        raise TypeError("params must be real numbers, got complex values.")
    try:
        return np.asarray(arr, dtype=float)
    except (TypeError, ValueError):
        raise TypeError("params must be real numbers.") from None


def _check_positive(name: str, value) -> float:
    """A finite number > 0 (a duration in hours), as float."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number of hours, got {type(value).__name__}.")
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be finite and > 0, got {value}.")
    return float(value)


def _check_pair(name: str, pair) -> tuple[float, float]:
    try:
        arr = np.asarray(pair, dtype=float)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a (low, high) pair of numbers.") from None
    if arr.shape != (2,):
        raise ValueError(f"{name} must be a (low, high) pair, got shape {arr.shape}.")
    if not np.all(np.isfinite(arr)) or arr[0] >= arr[1]:
        raise ValueError(f"{name} must be finite with low < high, got {tuple(arr.tolist())}.")
    return float(arr[0]), float(arr[1])


def _check_output_range(output_range, n_channels: int) -> np.ndarray:
    """(lo, hi) for one channel or one pair per channel; finite, lo < hi."""
    try:
        r = np.asarray(output_range, dtype=float)
    except (TypeError, ValueError):
        raise TypeError("output_range must hold numbers: (lo, hi) per channel.") from None
    if r.size != 2 * n_channels or r.shape not in ((2,), (n_channels, 2)):
        raise ValueError(f"output_range needs one (lo, hi) pair per channel ({n_channels}), "
                         f"got shape {r.shape}.")
    pairs = r.reshape(-1, 2)
    if not np.all(np.isfinite(pairs)) or np.any(pairs[:, 0] >= pairs[:, 1]):
        raise ValueError("output_range must be finite with lo < hi for every channel (it "
                         f"scales the signal), got {pairs.tolist()}.")
    _check_float32_pairs("output_range and its widths", pairs, "the networks scale the signal in")
    return r


def _check_names(name: str, values, n: int | None, unique: bool = True) -> tuple[str, ...]:
    if isinstance(values, str):
        raise TypeError(f"{name} must be a sequence of str, got the single str {values!r}.")
    values = tuple(values)
    if not all(isinstance(v, str) for v in values):
        raise TypeError(f"{name} must hold str, got {values!r}.")
    if n is not None and len(values) != n:
        raise ValueError(f"{name} must have {n} entries, one per bound.")
    if not values:
        raise ValueError(f"{name} must not be empty.")
    if unique and len(set(values)) != len(values):
        raise ValueError(f"{name} must be unique, got {values!r}.")
    return values


def _check_periods(periods, n_params: int) -> tuple[float | None, ...]:
    if isinstance(periods, str):
        raise TypeError("param_periods must be a sequence of periods (float) or None.")
    periods = tuple(periods)
    if len(periods) != n_params:
        raise ValueError(f"param_periods must have {n_params} entries, one per bound.")
    return tuple(None if p is None else _check_positive(f"param_periods[{i}]", p)
                 for i, p in enumerate(periods))


def _check_bounds(bounds: np.ndarray, n_params: int) -> None:
    if bounds.ndim != 2 or bounds.shape != (n_params, 2):
        raise ValueError(f"bounds must have shape (n_params, 2), got {bounds.shape}.")
    if n_params == 0:
        raise ValueError("bounds must describe at least one parameter, got none.")
    if not np.all(np.isfinite(bounds)):
        raise ValueError("bounds must be finite.")
    if np.any(bounds[:, 0] >= bounds[:, 1]):
        raise ValueError("every lower bound must be strictly below its upper bound.")
    # The networks compute parameters in float32 (lower bound + share * width).
    _check_float32_pairs("bounds and their widths", bounds, "the fits compute in")


def _check_float32_pairs(subject: str, pairs: np.ndarray, where: str) -> None:
    """(low, high) rows whose values and widths fit in float32."""
    with np.errstate(over="ignore"):
        width = pairs[:, 1] - pairs[:, 0]
    if np.abs(pairs).max() > _FLOAT32_MAX or not np.all(width <= _FLOAT32_MAX):
        raise ValueError(
            f"{subject} must lie within the float32 range (|x| <= "
            f"{_FLOAT32_MAX:.3g}) that {where}, got {pairs.tolist()}."
        )
