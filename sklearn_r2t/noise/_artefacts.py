"""The artefact families.

Gaussian noise, spikes, activity bursts, shared motion events, drops, missing
stretches, clipping and drift.
"""

from __future__ import annotations

import numpy as np

from ._base import (
    Corruption,
    _burst_shape,
    _check_effect,
    _check_number,
    _check_range,
    _check_rate,
    _events,
    _uniform,
)


# ---------------------------------------------------------------- corruptions
class GaussianNoise(Corruption):
    """Additive white Gaussian measurement noise.

    Parameters
    ----------
    sigma : float, default=0.01
        Standard deviation as a fraction of the channel's span (0.01 on heart
        rate, span 80 bpm, is 0.8 bpm).
    channels : None, str, int or sequence, default=None
        Channels to corrupt (all by default).
    """

    def __init__(self, sigma=0.01, channels=None):
        super().__init__(channels)
        self.sigma = _check_number("sigma", sigma, low=0.0)

    def _apply(self, X, rng, ctx):
        if self.sigma == 0:
            return
        for c in ctx.select(self.channels):
            X[:, :, c] += rng.standard_normal(X.shape[:2]) * (self.sigma * ctx.span[c])


class Spikes(Corruption):
    """Isolated one-sample spikes, asymmetric by default.

    Each sample is hit independently with probability ``rate``; a spike adds
    ``+a`` with probability ``p_positive``, else ``-a``, with ``a`` drawn uniformly
    in ``magnitude`` (a fraction of the span). Optical heart-rate sensors, for
    example, lock onto the step cadence and read too *high*.

    Parameters
    ----------
    rate : float, default=0.03
        Fraction of samples hit, in [0, 1].
    magnitude : float or (float, float), default=(0.1, 0.4)
        Spike height as a fraction of the channel's span.
    p_positive : float, default=1.0
        Probability that a spike points up (1: all up, 0: all down, 0.5: symmetric).
    channels : None, str, int or sequence, default=None
    """

    def __init__(self, rate=0.03, magnitude=(0.1, 0.4), p_positive=1.0, channels=None):
        super().__init__(channels)
        self.rate = _check_rate("rate", rate)
        self.magnitude = _check_range("magnitude", magnitude)
        self.p_positive = _check_rate("p_positive", p_positive)

    def _apply(self, X, rng, ctx):
        if self.rate == 0:
            return
        for c in ctx.select(self.channels):
            hit = rng.random(X.shape[:2]) < self.rate
            k = int(hit.sum())
            a = _uniform(rng, self.magnitude, k) * ctx.span[c]
            sign = np.where(rng.random(k) < self.p_positive, 1.0, -1.0)
            X[:, :, c][hit] += sign * a
            ctx.touch(c, hit)


class ActivityBursts(Corruption):
    """Sustained one-sided excursions with a smooth onset and offset.

    Models exercise, stress or climbing stairs: heart rate rises over a few
    minutes, stays up, then recovers. Each burst has a duration drawn uniformly
    in ``duration`` (hours), a height drawn in ``magnitude`` and a tapered shape
    (raised-cosine ramps over the first and last ``ramp`` fraction of the burst,
    flat in between). Where bursts overlap, the larger excursion wins.

    Parameters
    ----------
    rate : float, default=0.12
        Expected fraction of the window covered by bursts, in [0, 1].
    duration : float or (float, float), default=(0.25, 2.0)
        Burst duration in hours (15 minutes to 2 hours).
    magnitude : float or (float, float), default=(0.15, 0.5)
        Plateau height as a fraction of the channel's span.
    p_positive : float, default=1.0
        Probability that a burst goes up (1: always up, as heart rate in exercise).
    ramp : float, default=0.3
        Fraction of the burst spent ramping up (and again ramping down), in [0, 0.5].
    channels : None, str, int or sequence, default=None
    """

    def __init__(
        self,
        rate=0.12,
        duration=(0.25, 2.0),
        magnitude=(0.15, 0.5),
        p_positive=1.0,
        ramp=0.3,
        channels=None,
    ):
        super().__init__(channels)
        self.rate = _check_rate("rate", rate)
        self.duration = _check_range("duration", duration, positive=True)
        self.magnitude = _check_range("magnitude", magnitude)
        self.p_positive = _check_rate("p_positive", p_positive)
        self.ramp = _check_number("ramp", ramp, low=0.0, high=0.5)

    def _apply(self, X, rng, ctx):
        n = X.shape[0]
        for c in ctx.select(self.channels):
            event, cell, off, length, n_ev = _events(rng, n, ctx, self.rate, self.duration)
            if n_ev == 0:
                continue
            height = _uniform(rng, self.magnitude, n_ev) * ctx.span[c]
            up = rng.random(n_ev) < self.p_positive
            value = height[event] * _burst_shape(off, length, self.ramp)
            for direction, sel in ((1.0, up[event]), (-1.0, ~up[event])):
                if sel.any():
                    excursion = np.zeros(X.shape[:2])
                    np.maximum.at(excursion.reshape(-1), cell[sel], value[sel])
                    X[:, :, c] += direction * excursion
            ctx.touch(c, cell)


#: Signed height ranges (fractions of each channel's span) of a motion event on
#: each signal (:class:`MotionArtefacts`): heart rate rises by 12-36 bpm, skin
#: temperature falls by 1-3 degC as the band shifts, SpO2 reads 1.5-6 % low.
MOTION_EFFECTS = {
    "heart_rate": (0.15, 0.45),
    "skin_temperature": (-0.1, -0.3),
    "spo2": (-0.1, -0.4),
}


class MotionArtefacts(Corruption):
    """Motion events that hit several channels in the same minutes.

    Real wearables see one cause behind artefacts on several sensors: when the
    wearer moves, heart rate rises, the optical SpO2 reading dips and the band
    shifts off the skin. Each event is drawn once per sequence (onset, duration,
    an intensity ``u`` uniform in [0, 1]) and every affected channel gets the
    same tapered profile (as :class:`ActivityBursts`), with a height of
    ``low + u * (high - low)`` of its span in its own direction. A fit of one
    channel at a time cannot use the other channels' evidence; a joint model can.

    Parameters
    ----------
    rate : float, default=0.08
        Expected fraction of the window covered by motion events, in [0, 1].
    duration : float or (float, float), default=(0.25, 1.5)
        Event duration in hours.
    effects : dict, default=None
        ``{channel: (low, high)}``: signed height range of each affected channel,
        as a fraction of its span, both of one sign and ``|low| <= |high|``
        (negative: the reading falls, e.g. ``{"spo2": (-0.1, -0.4)}``). ``None`` uses
        :data:`MOTION_EFFECTS` for the model's channels that have an entry there,
        and an upward ``(0.15, 0.45)`` for a model-less single channel.
    ramp : float, default=0.3
        Fraction of the event spent ramping up (and again down), in [0, 0.5].
    """

    def __init__(self, rate=0.08, duration=(0.25, 1.5), effects=None, ramp=0.3):
        super().__init__(None)
        self.rate = _check_rate("rate", rate)
        self.duration = _check_range("duration", duration, positive=True)
        if effects is not None:
            if not isinstance(effects, dict) or not effects:
                raise ValueError(f"effects must be a non-empty dict {{channel: (low, high)}}, "
                                 f"got {effects!r}.")
            effects = {c: _check_effect(f"effects[{c!r}]", v) for c, v in effects.items()}
        self.effects = effects
        self.ramp = _check_number("ramp", ramp, low=0.0, high=0.5)

    def _channel_effects(self, ctx):
        if self.effects is not None:
            return [(ctx.select([c])[0], v) for c, v in self.effects.items()]
        if ctx.channel_names is None:
            return [(c, (0.15, 0.45)) for c in range(ctx.n_channels)]
        return [(c, MOTION_EFFECTS[name]) for c, name in enumerate(ctx.channel_names)
                if name in MOTION_EFFECTS]

    def _apply(self, X, rng, ctx):
        event, cell, off, length, n_ev = _events(rng, X.shape[0], ctx, self.rate, self.duration)
        if n_ev == 0:
            return
        intensity = rng.random(n_ev)
        shape = _burst_shape(off, length, self.ramp)
        for c, (low, high) in self._channel_effects(ctx):
            value = (low + intensity * (high - low))[event] * shape * ctx.span[c]
            # Where events overlap, the largest excursion wins (as for bursts).
            for sign in (1.0, -1.0):
                sel = np.sign(value) == sign
                if sel.any():
                    excursion = np.zeros(X.shape[:2])
                    np.maximum.at(excursion.reshape(-1), cell[sel], sign * value[sel])
                    X[:, :, c] += sign * excursion
            ctx.touch(c, cell)


class Drops(Corruption):
    """Sudden downward segments: the sensor loses skin contact.

    At onset the reading falls towards a lower level (ambient air for skin
    temperature, a poor optical reading for SpO2) by a depth drawn in
    ``magnitude``, approaching it exponentially with time constant ``tau``
    (``tau=0`` is an instantaneous step), and jumps back when contact returns.
    Where drops overlap, the deeper one wins.

    .. math:: x(t) - a \\left(1 - e^{-(t - t_0 + \\Delta t) / \\tau}\\right),
              \\quad t_0 \\le t < t_0 + d

    Parameters
    ----------
    rate : float, default=0.1
        Expected fraction of the window covered by drops, in [0, 1].
    duration : float or (float, float), default=(0.25, 2.0)
        Drop duration in hours.
    magnitude : float or (float, float), default=(0.3, 0.7)
        Depth ``a`` as a fraction of the channel's span (0.3 to 0.7 of skin
        temperature's 9 degC span: falls of about 3 to 6 degC).
    tau : float, default=0.25
        Time constant of the fall in hours (0: sudden step).
    channels : None, str, int or sequence, default=None
    """

    def __init__(self, rate=0.1, duration=(0.25, 2.0), magnitude=(0.3, 0.7), tau=0.25,
                 channels=None):
        super().__init__(channels)
        self.rate = _check_rate("rate", rate)
        self.duration = _check_range("duration", duration, positive=True)
        self.magnitude = _check_range("magnitude", magnitude)
        self.tau = _check_number("tau", tau, low=0.0)

    def _apply(self, X, rng, ctx):
        n = X.shape[0]
        for c in ctx.select(self.channels):
            event, cell, off, _, n_ev = _events(rng, n, ctx, self.rate, self.duration)
            if n_ev == 0:
                continue
            depth = _uniform(rng, self.magnitude, n_ev) * ctx.span[c]
            value = depth[event]
            if self.tau > 0:
                value = value * -np.expm1(-(off + 1) * ctx.dt / self.tau)
            total = np.zeros(X.shape[:2])
            np.maximum.at(total.reshape(-1), cell, value)
            X[:, :, c] -= total
            ctx.touch(c, cell)


class MissingStretches(Corruption):
    """Contiguous runs of missing samples (NaN): the device is off or charging.

    By default the same stretches are missing in every channel, since one device
    records them all.

    Parameters
    ----------
    rate : float, default=0.1
        Expected fraction of samples missing, in [0, 1].
    duration : float or (float, float), default=(0.25, 2.0)
        Length of each gap in hours (a value below the sampling interval gives
        isolated missing samples).
    shared : bool, default=True
        Same gaps in all selected channels; if False each channel gets its own.
    channels : None, str, int or sequence, default=None
    """

    def __init__(self, rate=0.1, duration=(0.25, 2.0), shared=True, channels=None):
        super().__init__(channels)
        self.rate = _check_rate("rate", rate)
        self.duration = _check_range("duration", duration, positive=True)
        if not isinstance(shared, bool | np.bool_):
            raise TypeError(f"shared must be a bool, got {type(shared).__name__}.")
        self.shared = bool(shared)

    def _mask(self, rng, n, ctx):
        mask = np.zeros((n, ctx.n_timesteps), dtype=bool)
        if self.rate >= 1.0:
            mask[:] = True
            return mask
        _, cell, _, _, _ = _events(rng, n, ctx, self.rate, self.duration)
        mask.reshape(-1)[cell] = True
        return mask

    def _apply(self, X, rng, ctx):
        if self.rate == 0:
            return
        sel = ctx.select(self.channels)
        if self.shared:
            mask = self._mask(rng, X.shape[0], ctx)
            for c in sel:
                X[:, :, c][mask] = np.nan
        else:
            for c in sel:
                X[:, :, c][self._mask(rng, X.shape[0], ctx)] = np.nan


class Clipping(Corruption):
    """Clip readings to a physical range (e.g. SpO2 can never read above 100 %).

    Parameters
    ----------
    low, high : float or None, default=None
        Bounds in the signal's own units (not fractions). ``None`` for both means
        the channel's ``output_range``; ``None`` for one of them means no bound on
        that side when the other is given.
    channels : None, str, int or sequence, default=None
    """

    def __init__(self, low=None, high=None, channels=None):
        super().__init__(channels)
        self.low = None if low is None else _check_number("low", low)
        self.high = None if high is None else _check_number("high", high)
        if self.low is not None and self.high is not None and self.low > self.high:
            raise ValueError(f"low must be <= high, got low={low}, high={high}.")

    def _apply(self, X, rng, ctx):
        for c in ctx.select(self.channels):
            low, high = self.low, self.high
            if low is None and high is None:
                low, high = ctx.lo[c], ctx.lo[c] + ctx.span[c]
            # np.clip keeps NaN, so missing samples stay missing.
            before = X[:, :, c].copy()
            np.clip(X[:, :, c], low, high, out=X[:, :, c])
            ctx.touch(c, (before != X[:, :, c]) & ~np.isnan(before))


class Drift(Corruption):
    """Slow random baseline wander (sensor warm-up, band tightness, sweat).

    Random knot values every ``timescale`` hours, joined by cosine interpolation
    (smooth, no overshoot), added to the signal.

    Parameters
    ----------
    magnitude : float, default=0.03
        Standard deviation of the knot values as a fraction of the channel's span.
    timescale : float, default=6.0
        Hours between knots: the wander has no features faster than this.
    channels : None, str, int or sequence, default=None
    """

    def __init__(self, magnitude=0.03, timescale=6.0, channels=None):
        super().__init__(channels)
        self.magnitude = _check_number("magnitude", magnitude, low=0.0)
        self.timescale = _check_number("timescale", timescale)
        if self.timescale <= 0:
            raise ValueError(f"timescale must be > 0 hours, got {timescale}.")

    def _apply(self, X, rng, ctx):
        if self.magnitude == 0:
            return
        t = np.arange(ctx.n_timesteps) * ctx.dt / self.timescale
        n_knots = int(np.floor(t[-1])) + 2
        k = np.floor(t).astype(np.intp)
        w = 0.5 - 0.5 * np.cos(np.pi * (t - k))
        # (T, K) interpolation matrix: one matmul gives all sequences' drift.
        W = np.zeros((ctx.n_timesteps, n_knots))
        W[np.arange(ctx.n_timesteps), k] = 1 - w
        W[np.arange(ctx.n_timesteps), k + 1] = w
        for c in ctx.select(self.channels):
            knots = rng.standard_normal((X.shape[0], n_knots)) * (self.magnitude * ctx.span[c])
            X[:, :, c] += knots @ W.T
