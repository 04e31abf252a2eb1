"""FunctionModel: a symbolic model from a user's torch function."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import torch

from ._base import SymbolicModel
from ._checks import (
    _check_bounds,
    _check_names,
    _check_output_range,
    _check_periods,
    _check_positive,
)


class FunctionModel(SymbolicModel):
    """A user-defined symbolic model from a torch function and bounds.

    Works everywhere a built-in model does (noise, datasets, least squares, R2T).

    Parameters
    ----------
    function : callable
        ``function(params, t_hours) -> Tensor``, with ``params`` of shape
        ``(n, n_params)`` and ``t_hours`` of shape ``(n_timesteps,)``, returning
        ``(n, n_timesteps)`` (one channel) or ``(n, n_timesteps, n_channels)``.
        Use torch operations only, so it stays batched and differentiable; define
        it at module level if the estimator must be pickled.
    bounds : array-like of shape (n_params, 2)
        Prior and fitting range of each parameter.
    param_names : sequence of str, default=None
        Defaults to ``p0, p1, ...``.
    param_units : sequence of str, default=None
    param_periods : sequence of (float or None), default=None
        Period of each angular parameter, ``None`` for ordinary ones.
    output_range : (float, float) or array-like of shape (n_channels, 2), default=(0, 1)
    window_hours : float, default=24.0
    channel_names : sequence of str, default=("signal",)
    name : str, default="custom"
    linear_basis : callable, default=None
        Opt in to the batched closed-form solver when the function is linear in
        a transformed parameterisation: ``linear_basis(t_hours) -> B`` (numpy,
        shape ``(n_timesteps, K)``) with ``function(params, t) == B @ theta``.
        Requires ``params_from_linear``. Single-channel models only.
    params_from_linear : callable, default=None
        ``params_from_linear(theta) -> params``: ``(n, K)`` coefficients on the
        basis to ``(n, n_params)`` parameters (numpy).

    Examples
    --------
    >>> import torch
    >>> from sklearn_r2t.symbolic import FunctionModel
    >>> def decay(p, t):
    ...     return p[:, :1] * torch.exp(-t / p[:, 1:2]) + p[:, 2:3]
    >>> model = FunctionModel(decay, bounds=[(0.5, 1), (1, 10), (0, 0.2)],
    ...                       param_names=("amplitude", "tau", "offset"))
    >>> model.evaluate(model.sample_params(2, random_state=0), 48).shape
    (2, 48)
    """

    def __init__(
        self,
        function: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
        bounds,
        param_names: Sequence[str] | None = None,
        param_units: Sequence[str] | None = None,
        param_periods: Sequence[float | None] | None = None,
        output_range=(0.0, 1.0),
        window_hours: float = 24.0,
        channel_names: Sequence[str] = ("signal",),
        name: str = "custom",
        linear_basis: Callable[[np.ndarray], np.ndarray] | None = None,
        params_from_linear: Callable[[np.ndarray], np.ndarray] | None = None,
    ):
        if not callable(function):
            raise TypeError("function must be callable: function(params, t_hours) -> Tensor.")
        try:
            bounds = np.asarray(bounds, dtype=float)
        except (TypeError, ValueError):
            raise TypeError("bounds must be numeric, shape (n_params, 2).") from None
        n_params = bounds.shape[0] if bounds.ndim == 2 else -1
        _check_bounds(bounds, n_params)
        if not isinstance(name, str) or not name:
            raise TypeError(f"name must be a non-empty str, got {name!r}.")
        self._init_args = dict(function=function, bounds=bounds.tolist(), name=name)
        self.function = function
        self.name = name
        if (linear_basis is None) != (params_from_linear is None):
            raise ValueError("linear_basis and params_from_linear must be given together.")
        for arg, value in (("linear_basis", linear_basis),
                           ("params_from_linear", params_from_linear)):
            if value is not None and not callable(value):
                raise TypeError(f"{arg} must be callable, got {type(value).__name__}.")
        self._linear_basis = linear_basis
        self._params_from_linear = params_from_linear
        self._bounds = bounds
        self.param_names = _check_names(
            "param_names", param_names or [f"p{i}" for i in range(n_params)], n_params)
        self.param_units = _check_names(
            "param_units", param_units or ("",) * n_params, n_params, unique=False)
        self.param_periods = _check_periods(param_periods or (None,) * n_params, n_params)
        self.channel_names = _check_names("channel_names", channel_names, None)
        self.window_hours = _check_positive("window_hours", window_hours)
        self._output_range = _check_output_range(output_range, self.n_channels)
        self._probe()

    def _probe(self):
        """Evaluate the function once, so a wrong output shape fails here, not later."""
        n_timesteps = 7  # odd and unlike n_params or n_channels: a transposed output shows
        lo, hi = self.bounds.T
        params = torch.as_tensor(lo + np.array([[0.25], [0.75]]) * (hi - lo))
        t_hours = torch.arange(n_timesteps, dtype=torch.float64) * (self.window_hours / n_timesteps)
        with torch.no_grad():
            try:
                y = self.equation(params, t_hours)
            except (TypeError, ValueError):
                raise
            except Exception as exc:
                raise ValueError(
                    "function(params, t_hours) failed on a probe evaluation with params of "
                    f"shape (2, {self.n_params}) inside the bounds and t_hours of shape "
                    f"({n_timesteps},): {type(exc).__name__}: {exc}"
                ) from exc
        if not torch.isfinite(y).all():
            raise ValueError("function(params, t_hours) returned non-finite values for "
                             "parameters inside the bounds.")

    def equation(self, params, t_hours):
        y = self.function(params, t_hours)
        expected = (params.shape[0], t_hours.shape[0], self.n_channels)
        if not isinstance(y, torch.Tensor):
            raise TypeError(f"function(params, t_hours) must return a torch Tensor, got "
                            f"{type(y).__name__}.")
        raw_shape = tuple(y.shape)
        if y.ndim == 2 and self.n_channels == 1:
            y = y[..., None]
        if tuple(y.shape) != expected or not y.is_floating_point():
            shapes = f"(n, n_timesteps, {self.n_channels})"
            if self.n_channels == 1:
                shapes = "(n, n_timesteps) or " + shapes
            raise ValueError(
                f"function(params, t_hours) must return a float Tensor of shape {shapes}, "
                f"here {expected[:2] if self.n_channels == 1 else expected}; got "
                f"{y.dtype} of shape {raw_shape}."
            )
        return y

    def linear_basis(self, t_hours):
        if self._linear_basis is None:
            return None
        B = np.asarray(self._linear_basis(np.asarray(t_hours, dtype=float)), dtype=float)
        if B.ndim != 2 or B.shape[0] != len(t_hours):
            raise ValueError(
                f"linear_basis(t_hours) must return shape (n_timesteps, K) = "
                f"({len(t_hours)}, K), got {B.shape}."
            )
        return B

    def params_from_linear(self, theta):
        if self._params_from_linear is None:
            return super().params_from_linear(theta)
        return np.asarray(self._params_from_linear(np.asarray(theta, dtype=float)), dtype=float)
