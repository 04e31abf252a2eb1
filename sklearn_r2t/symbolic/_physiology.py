"""The built-in physiological models: heart rate, skin temperature, SpO2 and the three together."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from ._base import SymbolicModel
from ._cosinor import _cosine, _Cosinor3, cosinor_basis, cosinor_params


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
