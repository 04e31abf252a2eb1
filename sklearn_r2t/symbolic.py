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

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Sequence

import numpy as np
import torch
from sklearn.utils import check_random_state

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
        P = np.array(params, dtype=float)
        b, ang = self.bounds, self.angular_mask
        periods = np.array([p if p is not None else np.nan for p in self.param_periods])
        P[..., ang] = b[ang, 0] + np.mod(P[..., ang] - b[ang, 0], periods[ang])
        P[..., ~ang] = np.clip(P[..., ~ang], b[~ang, 0], b[~ang, 1])
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


class HeartRate(_Cosinor3):
    r"""Daily heart-rate rhythm: a 24-hour cosinor.

    .. math:: HR(t) = M + A \cos\left(2\pi \frac{t - \phi}{24}\right)

    ===========  =====  ==========  ===================================================
    parameter    unit   range       why
    ===========  =====  ==========  ===================================================
    mesor M      bpm    50 to 90    rhythm-adjusted daily mean of adults at rest
    amplitude A  bpm    2 to 20     day/night swing reported for wrist-worn monitors
    acrophase φ  h      0 to 24     clock time of the peak (usually afternoon, but
                                    shift workers and jet lag put it anywhere)
    ===========  =====  ==========  ===================================================

    The plausible signal range used to normalise errors is 30 to 120 bpm (the
    prior's extremes, 50 - 20 and 90 + 20, lie inside it).

    Examples
    --------
    >>> from sklearn_r2t.symbolic import HeartRate
    >>> HeartRate().evaluate([[70, 10, 15]], n_timesteps=96).shape
    (1, 96)
    """

    name = "heart_rate"
    param_names = ("mesor", "amplitude", "acrophase")
    param_units = ("bpm", "bpm", "h")
    param_periods = (None, None, 24.0)
    channel_names = ("heart_rate",)
    _bounds = ((50.0, 90.0), (2.0, 20.0), (0.0, 24.0))
    _output_range = (30.0, 120.0)


class SkinTemperature(_Cosinor3):
    r"""Daily distal skin-temperature rhythm: a 24-hour cosinor.

    .. math:: T(t) = M + A \cos\left(2\pi \frac{t - \phi}{24}\right)

    ===========  =====  ==========  ===================================================
    parameter    unit   range       why
    ===========  =====  ==========  ===================================================
    mesor M      °C     31 to 35    wrist skin temperature, well below core 37 °C
    amplitude A  °C     0.3 to 2    nocturnal distal vasodilation warms the wrist
    acrophase φ  h      0 to 24     peak, usually during sleep (about 3 am)
    ===========  =====  ==========  ===================================================

    The plausible signal range used to normalise errors is 28 to 37 °C.
    """

    name = "skin_temperature"
    param_names = ("mesor", "amplitude", "acrophase")
    param_units = ("degC", "degC", "h")
    param_periods = (None, None, 24.0)
    channel_names = ("skin_temperature",)
    _bounds = ((31.0, 35.0), (0.3, 2.0), (0.0, 24.0))
    _output_range = (28.0, 37.0)


class SpO2(SymbolicModel):
    r"""Blood oxygen saturation with a nocturnal dip.

    .. math:: S(t) = B - \frac{D}{2}\left(1 + \cos\left(2\pi\frac{t - \phi}{24}\right)\right)

    Saturation has a hard ceiling at 100 %, so a symmetric cosinor around a mean
    is the wrong shape: the curve sits at a baseline ``B`` and dips by up to ``D``
    at the nadir time ``φ`` (sleep-related desaturation). Every curve stays in
    ``[B - D, B]``, below 100 %.

    ===========  =====  ==========  ===================================================
    parameter    unit   range       why
    ===========  =====  ==========  ===================================================
    baseline B   %      95 to 99.5  daytime saturation of healthy adults
    depth D      %      0.5 to 4    mean nocturnal drop; larger suggests apnoea
    nadir φ      h      0 to 24     clock time of the lowest saturation
    ===========  =====  ==========  ===================================================

    The plausible signal range used to normalise errors is 85 to 100 %.
    """

    name = "spo2"
    param_names = ("baseline", "depth", "nadir")
    param_units = ("%", "%", "h")
    param_periods = (None, None, 24.0)
    channel_names = ("spo2",)
    _bounds = ((95.0, 99.5), (0.5, 4.0), (0.0, 24.0))
    _output_range = (85.0, 100.0)

    def equation(self, params, t_hours):
        baseline, depth, nadir = (params[:, i : i + 1] for i in range(3))
        y = baseline - 0.5 * depth * (1.0 + _cosine(t_hours[None, :], nadir, 24.0))
        return y[..., None]

    def linear_basis(self, t_hours):
        return cosinor_basis(t_hours, 1, 24.0)

    def params_from_linear(self, theta):
        # B - D/2 (1 + cos(w (t - nadir))) = (B - D/2) + (D/2) cos(w (t - nadir - 12)).
        mesor, amp, peak = cosinor_params(theta, 1, 24.0).T
        return np.stack([mesor + amp, 2.0 * amp, np.mod(peak + 12.0, 24.0)], axis=1)


class _ChannelStack(SymbolicModel):
    """Several single-channel models side by side: channels and parameters concatenated."""

    def __init__(self, components: Sequence[SymbolicModel]):
        windows = {m.window_hours for m in components}
        if len(windows) != 1:
            raise ValueError(f"All components must share window_hours, got {sorted(windows)}.")
        self.components = tuple(components)
        self.window_hours = windows.pop()
        self.param_names = tuple(
            f"{m.name}_{p}" for m in components for p in m.param_names
        )
        self.param_units = tuple(u for m in components for u in m.param_units)
        self.param_periods = tuple(p for m in components for p in m.param_periods)
        self.channel_names = tuple(c for m in components for c in m.channel_names)
        self._bounds = np.concatenate([m.bounds for m in components])
        self._output_range = np.concatenate([m.output_range.reshape(-1, 2) for m in components])
        self._splits = np.cumsum([m.n_params for m in components])[:-1].tolist()

    def equation(self, params, t_hours):
        chunks = torch.tensor_split(params, self._splits, dim=1)
        curves = [m.equation(p, t_hours) for m, p in zip(self.components, chunks, strict=True)]
        return torch.cat(curves, dim=2)


def channel_components(model: SymbolicModel) -> list[SymbolicModel]:
    """The single-channel models of each channel: a stack's components, else ``[model]``."""
    if isinstance(model, _ChannelStack) and model.n_channels == len(model.components):
        return list(model.components)
    return [model]


class Wearable(_ChannelStack):
    """Heart rate, skin temperature and SpO2 together: 3 channels, 9 parameters.

    The three equations of :class:`HeartRate`, :class:`SkinTemperature` and
    :class:`SpO2`, as in the R2T paper's wearable setting. Parameters are named
    ``<channel>_<parameter>`` (``heart_rate_mesor``, ..., ``spo2_nadir``), and
    :meth:`evaluate` returns ``(n, n_timesteps, 3)``.
    """

    name = "wearable"

    def __init__(self):
        super().__init__([HeartRate(), SkinTemperature(), SpO2()])


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


def _check_bounds(bounds: np.ndarray, n_params: int) -> None:
    if bounds.ndim != 2 or bounds.shape != (n_params, 2):
        raise ValueError(f"bounds must have shape (n_params, 2), got {bounds.shape}.")
    if n_params == 0:
        raise ValueError("bounds must describe at least one parameter, got none.")
    if not np.all(np.isfinite(bounds)):
        raise ValueError("bounds must be finite.")
    if np.any(bounds[:, 0] >= bounds[:, 1]):
        raise ValueError("every lower bound must be strictly below its upper bound.")
