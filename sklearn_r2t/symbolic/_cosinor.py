"""Cosinor equations: the linear basis, its parameters, and the generic cosinor model."""

from __future__ import annotations

import numpy as np
import torch

from ._base import _TWO_PI, SymbolicModel
from ._checks import _check_bounds, _check_output_range, _check_pair, _check_positive


def _cosine(t, acrophase, period):
    return torch.cos(_TWO_PI * (t - acrophase) / period)


def cosinor_basis(t_hours: np.ndarray, n_harmonics: int, period: float) -> np.ndarray:
    """Columns ``1, cos(w k t), sin(w k t)`` for ``k = 1..n_harmonics``, ``w = 2 pi / period``."""
    t = np.asarray(t_hours, dtype=float)
    cols = [np.ones_like(t)]
    for k in range(1, n_harmonics + 1):
        w = _TWO_PI * k / period
        cols += [np.cos(w * t), np.sin(w * t)]
    return np.stack(cols, axis=1)


def cosinor_params(theta: np.ndarray, n_harmonics: int, period: float) -> np.ndarray:
    """Mesor, then amplitude and acrophase (hours in ``[0, period / k)``) of each
    harmonic, from the coefficients on :func:`cosinor_basis`:
    ``A cos(w k (t - phi)) = A cos(w k phi) cos(w k t) + A sin(w k phi) sin(w k t)``."""
    theta = np.asarray(theta, dtype=float)
    P = np.empty_like(theta)
    P[:, 0] = theta[:, 0]
    for k in range(1, n_harmonics + 1):
        a, b = theta[:, 2 * k - 1], theta[:, 2 * k]
        P[:, 2 * k - 1] = np.hypot(a, b)
        P[:, 2 * k] = np.mod(np.arctan2(b, a) * period / (_TWO_PI * k), period / k)
    return P


class _Cosinor3(SymbolicModel):
    """Shared body of the three-parameter single-channel cosinors."""

    def equation(self, params, t_hours):
        mesor, amplitude, acrophase = (params[:, i : i + 1] for i in range(3))
        y = mesor + amplitude * _cosine(t_hours[None, :], acrophase, 24.0)
        return y[..., None]

    def linear_basis(self, t_hours):
        return cosinor_basis(t_hours, 1, 24.0)

    def params_from_linear(self, theta):
        return cosinor_params(theta, 1, 24.0)


class Cosinor(SymbolicModel):
    r"""Generic multi-harmonic cosinor.

    .. math:: y(t) = M + \sum_{k=1}^{K} A_k \cos\left(2\pi k \frac{t - \phi_k}{P}\right)

    with ``P = period_hours``. Acrophase ``φ_k`` is in hours within ``[0, P / k)``.
    Default ranges suit a signal already scaled to about [0, 1].

    Parameters
    ----------
    n_harmonics : int, default=1
        Number of harmonics ``K``.
    period_hours : float, default=24.0
        Fundamental period ``P``.
    mesor_bounds : (float, float), default=(0.3, 0.7)
    amplitude_bounds : (float, float), default=(0.02, 0.2)
        Range of every harmonic's amplitude.
    window_hours : float, default=24.0
    output_range : (float, float), default=(0.0, 1.0)
    """

    name = "cosinor"

    def __init__(
        self,
        n_harmonics: int = 1,
        period_hours: float = 24.0,
        mesor_bounds=(0.3, 0.7),
        amplitude_bounds=(0.02, 0.2),
        window_hours: float = 24.0,
        output_range=(0.0, 1.0),
    ):
        if isinstance(n_harmonics, bool) or not isinstance(n_harmonics, int | np.integer):
            raise TypeError("n_harmonics must be an int.")
        if n_harmonics < 1:
            raise ValueError(f"n_harmonics must be >= 1, got {n_harmonics}.")
        _check_positive("period_hours", period_hours)
        _check_positive("window_hours", window_hours)
        mesor_bounds = _check_pair("mesor_bounds", mesor_bounds)
        amplitude_bounds = _check_pair("amplitude_bounds", amplitude_bounds)
        if amplitude_bounds[0] < 0:
            raise ValueError(
                f"amplitude_bounds must be >= 0, got {amplitude_bounds}: a negative amplitude "
                "is a positive one with the acrophase half a period away, so the fit would "
                "not be identifiable."
            )
        output_range = _check_output_range(output_range, 1)
        self._init_args = dict(
            n_harmonics=n_harmonics,
            period_hours=period_hours,
            mesor_bounds=tuple(mesor_bounds),
            amplitude_bounds=tuple(amplitude_bounds),
            window_hours=window_hours,
            output_range=tuple(output_range.tolist()),
        )
        self.n_harmonics = int(n_harmonics)
        self.period_hours = float(period_hours)
        self.window_hours = float(window_hours)
        k = range(1, self.n_harmonics + 1)
        self.param_names = ("mesor",) + tuple(
            name for i in k for name in (f"amplitude_{i}", f"acrophase_{i}")
        )
        self.param_units = ("signal",) + ("signal", "h") * self.n_harmonics
        self.param_periods = (None,) + tuple(
            p for i in k for p in (None, self.period_hours / i)
        )
        self._bounds = [tuple(mesor_bounds)] + [
            b for i in k for b in (tuple(amplitude_bounds), (0.0, self.period_hours / i))
        ]
        self._output_range = tuple(output_range.tolist())
        _check_bounds(self.bounds, self.n_params)

    def equation(self, params, t_hours):
        y = params[:, 0:1].expand(-1, t_hours.shape[0])
        for i in range(1, self.n_harmonics + 1):
            amplitude, acrophase = params[:, 2 * i - 1 : 2 * i], params[:, 2 * i : 2 * i + 1]
            y = y + amplitude * _cosine(i * t_hours[None, :], i * acrophase, self.period_hours)
        return y[..., None]

    def linear_basis(self, t_hours):
        return cosinor_basis(t_hours, self.n_harmonics, self.period_hours)

    def params_from_linear(self, theta):
        return cosinor_params(theta, self.n_harmonics, self.period_hours)
