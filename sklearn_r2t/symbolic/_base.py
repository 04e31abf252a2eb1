"""The base class every symbolic model derives from, and circular differences."""

from __future__ import annotations

import math

import numpy as np
import torch
from sklearn.utils import check_random_state

from ._checks import _as_float_params

_TWO_PI = 2.0 * math.pi


def circular_difference(a, b, period):
    """Signed difference ``a - b`` wrapped into ``[-period / 2, period / 2)``.

    Parameters
    ----------
    a, b : array-like
        Angles in the same unit as ``period`` (e.g. clock hours).
    period : float
        The period (24.0 for a daily acrophase in hours).

    Returns
    -------
    diff : ndarray
        The shortest signed distance from ``b`` to ``a`` on the circle.
    """
    d = np.asarray(a, dtype=float) - np.asarray(b, dtype=float)
    return (d + period / 2.0) % period - period / 2.0


class SymbolicModel:
    """Base class of a symbolic model: a fixed equation with bounded parameters.

    Subclasses set the class attributes below and implement :meth:`equation`.

    Attributes
    ----------
    name : str
        Short identifier, also used to pick per-signal noise defaults.
    param_names : tuple of str
        Names of the parameters, in order.
    param_units : tuple of str
        Physical unit of each parameter.
    bounds : ndarray of shape (n_params, 2)
        Plausible (physiological) range of each parameter; the prior of
        :meth:`sample_params` and the box of every fit.
    param_periods : tuple of (float or None)
        Period of each angular parameter (errors on it are circular), ``None``
        for ordinary ones.
    window_hours : float
        Length of the observation window in hours.
    output_range : ndarray of shape (2,) or (n_channels, 2)
        Plausible range of the signal per channel, used to normalise errors to
        about [0, 1] (:meth:`normalize`).
    n_channels : int
        Number of signals the model produces.
    channel_names : tuple of str
        Name of each channel.
    """

    name: str = "symbolic"
    param_names: tuple[str, ...] = ()
    param_units: tuple[str, ...] = ()
    param_periods: tuple[float | None, ...] = ()
    channel_names: tuple[str, ...] = ("signal",)
    window_hours: float = 24.0
    min_timesteps: int | None = None

    # ------------------------------------------------------------------ contract
    @property
    def bounds(self) -> np.ndarray:
        return np.asarray(self._bounds, dtype=float)

    @property
    def output_range(self) -> np.ndarray:
        return np.asarray(self._output_range, dtype=float)

    @property
    def n_params(self) -> int:
        return len(self.param_names)

    @property
    def n_channels(self) -> int:
        return len(self.channel_names)

    @property
    def angular_mask(self) -> np.ndarray:
        """Boolean mask of the angular (circular) parameters."""
        return np.array([p is not None for p in self.param_periods], dtype=bool)

    def equation(self, params: torch.Tensor, t_hours: torch.Tensor) -> torch.Tensor:
        """The model's equation in torch.

        Parameters
        ----------
        params : Tensor of shape (n, n_params)
        t_hours : Tensor of shape (n_timesteps,)

        Returns
        -------
        Tensor of shape (n, n_timesteps, n_channels)
        """
        raise NotImplementedError

    # ---------------------------------------------------------------- utilities
    def t_hours(self, n_timesteps: int) -> np.ndarray:
        """Equally spaced sample times in hours over ``[0, window_hours)``."""
        n_timesteps = self.check_n_timesteps(n_timesteps)
        return np.arange(n_timesteps, dtype=float) * (self.window_hours / n_timesteps)

    def check_n_timesteps(self, n_timesteps: int) -> int:
        """Validate a sequence length and return it as int."""
        # One more sample per channel than unknowns per channel: fewer cannot pin down
        # the parameters even without noise.
        minimum = self.min_timesteps or -(-self.n_params // self.n_channels) + 1
        if isinstance(n_timesteps, bool) or not isinstance(n_timesteps, int | np.integer):
            raise TypeError(f"n_timesteps must be an int, got {type(n_timesteps).__name__}.")
        if n_timesteps < minimum:
            raise ValueError(
                f"{type(self).__name__} needs sequences of at least {minimum} time steps "
                f"to identify its {self.n_params} parameters, got n_timesteps={n_timesteps} "
                f"(X.shape[1], n_features={n_timesteps})."
            )
        return int(n_timesteps)

    def sample_params(self, n: int, random_state=None) -> np.ndarray:
        """Draw ``n`` parameter vectors from the prior (uniform within ``bounds``).

        Parameters
        ----------
        n : int
            Number of parameter vectors.
        random_state : int, RandomState instance or None
            Seed for reproducible draws.

        Returns
        -------
        params : ndarray of shape (n, n_params)
        """
        rng = check_random_state(random_state)
        b = self.bounds
        return b[:, 0] + rng.random_sample((int(n), self.n_params)) * (b[:, 1] - b[:, 0])

    def project(self, params) -> np.ndarray:
        """Parameters moved into the model's box: angles wrapped into
        ``[low, low + period)``, every other parameter clipped to its bounds."""
        P = self.wrap_angles(params)
        b, ang = self.bounds, self.angular_mask
        P[..., ~ang] = np.clip(P[..., ~ang], b[~ang, 0], b[~ang, 1])
        return P

    def at_bound(self, params) -> np.ndarray:
        """Boolean mask, like ``params``, of the non-angular parameters at (or
        beyond) a bound: estimates the box pinned rather than the data found.
        NaN is not at a bound."""
        P = np.asarray(params, dtype=float)
        lo, hi = self.bounds.T
        with np.errstate(invalid="ignore"):
            return ~self.angular_mask & ((P <= lo) | (P >= hi))

    def wrap_angles(self, params) -> np.ndarray:
        """A float copy of ``params`` with angles wrapped into ``[low, low + period)``;
        every other parameter as it is (unclipped)."""
        P = np.array(params, dtype=float)
        b, ang = self.bounds, self.angular_mask
        periods = np.array([p if p is not None else np.nan for p in self.param_periods])
        P[..., ang] = b[ang, 0] + np.mod(P[..., ang] - b[ang, 0], periods[ang])
        return P

    def evaluate(self, params, n_timesteps: int) -> np.ndarray:
        """Evaluate the equation in numpy (float64).

        Parameters
        ----------
        params : array-like of shape (n, n_params) or (n_params,)
        n_timesteps : int

        Returns
        -------
        curves : ndarray of shape (n, n_timesteps) or (n, n_timesteps, n_channels)
        """
        params = _as_float_params(params)
        if params.ndim == 1:
            params = params[None, :]
        self._check_params_shape(params)
        if np.isinf(params).any():
            raise ValueError("params must be finite (NaN marks an unknown parameter and "
                             "gives a NaN curve), got infinity.")
        t = torch.from_numpy(self.t_hours(n_timesteps))
        with torch.no_grad():
            out = self.equation(torch.from_numpy(params), t).numpy()
        return out[..., 0] if self.n_channels == 1 else out

    def evaluate_torch(self, params: torch.Tensor, n_timesteps: int) -> torch.Tensor:
        """Evaluate the equation in torch: batched, differentiable, on params' device.

        Returns a tensor shaped like :meth:`evaluate`'s output.
        """
        self._check_params_shape(params)
        t = torch.as_tensor(self.t_hours(n_timesteps), dtype=params.dtype, device=params.device)
        out = self.equation(params, t)
        return out[..., 0] if self.n_channels == 1 else out

    def linear_basis(self, t_hours: np.ndarray) -> np.ndarray | None:
        """Basis ``B`` of shape ``(n_timesteps, K)`` when the model is linear in a
        transformed parameterisation, ``curve = B @ theta``; ``None`` otherwise.

        Single-channel models only. Models that declare a basis are fitted by the
        batched solver with closed-form weighted least squares (iteratively
        reweighted for robust losses) instead of Gauss-Newton iterations;
        :meth:`params_from_linear` maps ``theta`` back to the parameters.
        """
        return None

    def params_from_linear(self, theta: np.ndarray) -> np.ndarray:
        """Parameters ``(n, n_params)`` of basis coefficients ``theta`` ``(n, K)``."""
        raise NotImplementedError(f"{type(self).__name__} declares no linear basis.")

    def normalize(self, y):
        """Map signal values to about [0, 1] with ``output_range`` (per channel)."""
        lo, span = self._range_lo_span()
        y = np.asarray(y, dtype=float)
        return (y - lo) / span if self.n_channels == 1 else (y - lo[:, 0]) / span[:, 0]

    def _range_lo_span(self):
        r = self.output_range.reshape(-1, 2)
        lo, span = r[:, 0:1], r[:, 1:2] - r[:, 0:1]
        return (lo[0, 0], span[0, 0]) if self.n_channels == 1 else (lo, span)

    def _check_params_shape(self, params):
        if params.ndim != 2 or params.shape[1] != self.n_params:
            raise ValueError(
                f"{type(self).__name__} takes params of shape (n, {self.n_params}) "
                f"({', '.join(self.param_names)}), got shape {tuple(params.shape)}."
            )

    def __repr__(self) -> str:
        args = getattr(self, "_init_args", {})
        inner = ", ".join(f"{k}={v!r}" for k, v in args.items())
        return f"{type(self).__name__}({inner})"
