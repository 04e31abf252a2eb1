"""Structured, non-Gaussian noise for wearable sequences.

Real wearable signals are not a clean curve plus white noise: heart rate jumps up
for an hour during exercise, skin temperature falls towards ambient when the band
loosens, SpO2 reads low when the finger moves and never exceeds 100 %, and the
device is off for whole stretches. This module builds such corruptions as small,
composable, vectorized objects, and names a few ready-made mixes (:data:`PRESETS`).

Units
-----
Every corruption is defined so that its defaults mean the same for any model,
channel and sampling rate:

- **rate** is the expected *fraction of samples* a corruption touches, in [0, 1]
  (for events lasting several samples: the expected fraction of the window they
  cover);
- **magnitude** is a fraction of the channel's plausible span
  ``output_range[1] - output_range[0]`` of the model (e.g. 0.25 on heart rate,
  span 80 bpm, is 20 bpm); a ``(low, high)`` pair draws each event's magnitude
  uniformly in that range;
- **duration** is in hours, converted to samples with the model's
  ``window_hours / n_timesteps``.

Without a model, the span is taken as 1 (data already scaled to about [0, 1]) and
the window as 24 hours.

Examples
--------
>>> import numpy as np
>>> from sklearn_r2t.symbolic import HeartRate
>>> from sklearn_r2t.noise import make_noise
>>> model = HeartRate()
>>> X_clean = model.evaluate(model.sample_params(4, random_state=0), 96)
>>> noise = make_noise("combined", model)
>>> X = noise(X_clean, random_state=0)
>>> X.shape
(4, 96)
"""

from __future__ import annotations

import copy
import math
import numbers
from collections.abc import Sequence

import numpy as np

from .symbolic import SymbolicModel

__all__ = [
    "PRESETS",
    "typical_outlier_side",
    "make_noise",
    "check_generator",
    "Corruption",
    "Compose",
    "Mixture",
    "GaussianNoise",
    "Spikes",
    "ActivityBursts",
    "Drops",
    "MissingStretches",
    "Clipping",
    "Drift",
    "MotionArtefacts",
    "signal_defaults",
    "CURRICULUM_SEVERITIES",
    "MOTION_EFFECTS",
]

#: Names accepted by :func:`make_noise`.
PRESETS = ("none", "gaussian", "spikes", "drops", "missing", "combined", "motion", "all",
           "curriculum")
#: Severities the ``"curriculum"`` preset mixes, equally often, of its ``"all"``
#: noise: from no artefact to 55-72 % of the samples touched (heart rate 27 % at
#: severity 1 and 72 % at 3.5; skin temperature 19 % and 56 %).
CURRICULUM_SEVERITIES = (0.0, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 3.5)


# --------------------------------------------------------------------- helpers
def check_generator(random_state=None) -> np.random.Generator:
    """Turn ``random_state`` into a :class:`numpy.random.Generator`.

    Parameters
    ----------
    random_state : None, int, numpy.random.RandomState or numpy.random.Generator
        ``None`` gives fresh entropy; an int seeds a new generator; a
        ``RandomState`` seeds a new generator from its stream (so it is advanced,
        as scikit-learn's conventions expect); a ``Generator`` is used as is.

    Returns
    -------
    rng : numpy.random.Generator
    """
    if random_state is None or isinstance(random_state, numbers.Integral):
        if isinstance(random_state, bool):
            raise TypeError("random_state must be None, an int, a RandomState or a Generator.")
        if random_state is not None and random_state < 0:
            raise ValueError(f"random_state must be a non-negative int, got {random_state}.")
        return np.random.default_rng(random_state)
    if isinstance(random_state, np.random.Generator):
        return random_state
    if isinstance(random_state, np.random.RandomState):
        return np.random.default_rng(random_state.randint(0, 2**31 - 1, size=4))
    raise TypeError(
        "random_state must be None, an int, a numpy RandomState or a numpy Generator, "
        f"got {type(random_state).__name__}."
    )


def _check_number(name, value, low=None, high=None) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}.")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}.")
    if low is not None and value < low:
        raise ValueError(f"{name} must be >= {low}, got {value}.")
    if high is not None and value > high:
        raise ValueError(f"{name} must be <= {high}, got {value}.")
    return value


def _check_rate(name, value) -> float:
    value = _check_number(name, value)
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{name} must be a fraction in [0, 1], got {value}.")
    return value


def _check_range(name, value, positive=False) -> tuple[float, float]:
    """A non-negative number or ``(low, high)`` pair with ``0 <= low <= high``."""
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        pair = (value, value)
    elif isinstance(value, str | bytes):
        raise TypeError(f"{name} must be a number or a (low, high) pair, got {value!r}.")
    else:
        try:
            pair = tuple(value)
        except TypeError:
            raise TypeError(
                f"{name} must be a number or a (low, high) pair, got {type(value).__name__}."
            ) from None
        if len(pair) != 2:
            raise ValueError(f"{name} must be a number or a (low, high) pair, got {value!r}.")
    low, high = (_check_number(name, v) for v in pair)
    if low < 0 or high < 0:
        raise ValueError(f"{name} must be non-negative, got {value!r}.")
    if positive and low <= 0:
        raise ValueError(f"{name} must be > 0, got {value!r}.")
    if low > high:
        raise ValueError(f"{name} must be a (low, high) pair with low <= high, got {value!r}.")
    return low, high


def _check_effect(name, value) -> tuple[float, float]:
    """A signed ``(low, high)`` height range: both of one sign, ``|low| <= |high|``."""
    try:
        low, high = (_check_number(name, v) for v in value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a (low, high) pair of numbers of one sign, "
                         f"got {value!r}.") from None
    if low * high < 0 or abs(low) > abs(high) or high == 0:
        raise ValueError(f"{name} must be a (low, high) pair of one sign with "
                         f"|low| <= |high| (negative: the reading falls), got {value!r}.")
    return low, high


def _check_channels(channels):
    if channels is None:
        return None
    if isinstance(channels, str | numbers.Integral) and not isinstance(channels, bool):
        return (channels,)
    channels = tuple(channels)
    for c in channels:
        if isinstance(c, bool) or not isinstance(c, str | numbers.Integral):
            raise TypeError(f"channels must hold channel names or indices, got {c!r}.")
    return channels


class _Context:
    """What a corruption needs to know about the data: spans, time step, channel names."""

    def __init__(self, model: SymbolicModel | None, n_timesteps: int, n_channels: int):
        if model is None:
            self.lo = np.zeros(n_channels)
            self.span = np.ones(n_channels)
            self.window_hours = 24.0
            self.channel_names = None
        else:
            if not isinstance(model, SymbolicModel):
                raise TypeError(
                    f"model must be a SymbolicModel instance, got {type(model).__name__}."
                )
            if model.n_channels != n_channels:
                raise ValueError(
                    f"{type(model).__name__} has {model.n_channels} channel(s) "
                    f"{model.channel_names}, got X with {n_channels} channel(s)."
                )
            r = model.output_range.reshape(-1, 2)
            self.lo, self.span = r[:, 0], r[:, 1] - r[:, 0]
            self.window_hours = float(model.window_hours)
            self.channel_names = tuple(model.channel_names)
        self.n_timesteps = n_timesteps
        self.n_channels = n_channels
        self.dt = self.window_hours / n_timesteps
        # (n, T, C) bool: samples an artefact touched (set by __call__).
        self.mask: np.ndarray | None = None

    def rows(self, rows: np.ndarray) -> _Context:
        """The same context for a subset of rows, with its own slice of the mask."""
        sub = copy.copy(self)
        sub.mask = self.mask[rows]
        return sub

    def touch(self, c: int, where) -> None:
        """Record that an artefact touched channel ``c`` at ``where`` (a boolean
        ``(n, T)`` array or flat ``sequence * T + time`` indices)."""
        if not (isinstance(where, np.ndarray) and where.dtype == bool):
            flat = np.zeros(self.mask.shape[0] * self.mask.shape[1], dtype=bool)
            flat[where] = True
            where = flat.reshape(self.mask.shape[:2])
        self.mask[:, :, c] |= where

    def select(self, channels) -> list[int]:
        """Indices of the selected channels (all of them for ``None``)."""
        if channels is None:
            return list(range(self.n_channels))
        idx = []
        for c in channels:
            if isinstance(c, str):
                if self.channel_names is None or c not in self.channel_names:
                    known = self.channel_names or "none: no model given"
                    raise ValueError(f"Unknown channel {c!r}; the model's channels are {known}.")
                idx.append(self.channel_names.index(c))
            else:
                if not -self.n_channels <= c < self.n_channels:
                    raise ValueError(
                        f"Channel index {c} out of range for {self.n_channels} channel(s)."
                    )
                idx.append(int(c) % self.n_channels)
        return idx


def _as_3d_copy(X) -> tuple[np.ndarray, bool]:
    try:
        X = np.array(X, dtype=np.float64, copy=True)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"X must be a numeric array: {exc}") from None
    if X.ndim in (2, 3) and X.shape[1] == 0:
        raise ValueError(f"X must have at least one time step, got shape {X.shape}.")
    if X.ndim == 2:
        return X[:, :, None], True
    if X.ndim == 3:
        return X, False
    raise ValueError(
        "X must have shape (n_sequences, n_timesteps) or (n_sequences, n_timesteps, "
        f"n_channels), got a {X.ndim}D array of shape {X.shape}."
    )


def _uniform(rng, bounds, size):
    low, high = bounds
    return np.full(size, low) if low == high else rng.uniform(low, high, size)


def _events(rng, n, ctx, rate, duration):
    """Random events covering an expected fraction ``rate`` of every sequence.

    Event starts are uniform (including starts before the window, so that the
    edges are covered as often as the middle) and counts are Poisson, so each
    sample is covered by a Poisson(lambda) number of events; lambda = -log(1 - rate)
    makes the covered fraction ``rate`` exactly, overlaps included.

    Returns
    -------
    event : ndarray of shape (m,)
        Event id (0 .. n_events - 1) of each covered (sequence, time) cell.
    cell : ndarray of shape (m,)
        Flat index ``sequence * n_timesteps + time`` of each cell (flat indices
        make ``np.maximum.at`` several times faster than index tuples).
    offset : ndarray of shape (m,)
        Samples since the event's onset (0 at onset).
    length : ndarray of shape (m,)
        The event's duration in samples.
    n_events : int
    """
    T = ctx.n_timesteps
    empty = np.zeros(0, dtype=np.intp)
    if rate <= 0 or n == 0:
        return empty, empty, empty, empty, 0
    lo, hi = duration[0] / ctx.dt, duration[1] / ctx.dt
    d_max = max(1, int(np.rint(hi)))
    # Expected duration in whole samples, as the durations below are rounded.
    grid = np.linspace(lo, hi, 257)
    mean_d = float(np.mean(np.maximum(1, np.rint(grid))))
    lam = -math.log1p(-min(rate, 1.0 - 1e-6))
    counts = rng.poisson(lam * (T + d_max - 1) / mean_d, size=n)
    n_events = int(counts.sum())
    seq = np.repeat(np.arange(n), counts)
    length = np.maximum(1, np.rint(_uniform(rng, (lo, hi), n_events))).astype(np.intp)
    start = rng.integers(-(d_max - 1), T, size=n_events)
    offs = np.arange(d_max)
    t = start[:, None] + offs[None, :]
    keep = (offs[None, :] < length[:, None]) & (t >= 0) & (t < T)
    event, off = np.nonzero(keep)
    return event, seq[event] * T + t[keep], off, length[event], n_events


def _burst_shape(off, length, ramp):
    """Tapered burst profile in [0, 1]: raised-cosine ramps over the first and last
    ``ramp`` fraction of each event, flat in between."""
    if ramp <= 0:
        return np.ones(off.shape)
    u = (off + 0.5) / length
    return np.sin(0.5 * np.pi * np.minimum(1.0, np.minimum(u, 1 - u) / ramp)) ** 2


# ----------------------------------------------------------------- base class
class Corruption:
    """Base class of a corruption: a random transformation of sequences.

    Subclasses implement ``_apply(X, rng, ctx)``, which modifies the float64
    array ``X`` of shape ``(n, T, C)`` in place (on a copy made by
    :meth:`__call__`) and records the samples an artefact touched with
    ``ctx.touch``. Measurement noise (:class:`GaussianNoise`, :class:`Drift`) and
    missing samples are not artefacts: the oracle fit keeps the samples they
    alter, and a missing sample is simply not there.

    Parameters
    ----------
    channels : None, str, int or sequence of them, default=None
        Channels the corruption applies to, by name (``model.channel_names``) or
        index; ``None`` means all channels.
    """

    def __init__(self, channels=None):
        self.channels = _check_channels(channels)

    def __call__(
        self, X, random_state=None, model: SymbolicModel | None = None, return_mask: bool = False
    ):
        """Return a corrupted copy of ``X`` (and which samples artefacts touched).

        Parameters
        ----------
        X : array-like of shape (n, T) or (n, T, C)
            Clean sequences. Never modified.
        random_state : None, int, RandomState or Generator, default=None
            Seed or generator for reproducible noise.
        model : SymbolicModel, default=None
            Gives each channel's span (``output_range``), the window length and the
            channel names. Defaults to the model the corruption was built for
            (:func:`make_noise`), else span 1 and a 24 hour window.
        return_mask : bool, default=False
            Also return the artefact mask.

        Returns
        -------
        X_noisy : ndarray of the same shape as ``X``, float64
            NaN marks missing samples.
        artefact_mask : bool ndarray of the same shape as ``X``
            Only with ``return_mask=True``: True where a spike, burst, drop or
            clipping changed the sample (also where a gap later hid it). The
            samples that are observed and not in the mask are exactly those of the
            oracle fit (:func:`sklearn_r2t.metrics.oracle_fit`).
        """
        X3, squeeze = _as_3d_copy(X)
        model = model if model is not None else getattr(self, "model", None)
        ctx = _Context(model, X3.shape[1], X3.shape[2])
        ctx.mask = np.zeros(X3.shape, dtype=bool)
        self._apply(X3, check_generator(random_state), ctx)
        if squeeze:
            X3, ctx.mask = X3[:, :, 0], ctx.mask[:, :, 0]
        return (X3, ctx.mask) if return_mask else X3

    def _apply(self, X, rng, ctx):  # pragma: no cover - abstract
        raise NotImplementedError

    def _params(self) -> dict:
        return {k: v for k, v in vars(self).items() if not k.startswith("_")}

    def __repr__(self) -> str:
        inner = ", ".join(f"{k}={v!r}" for k, v in self._params().items())
        return f"{type(self).__name__}({inner})"


class Compose(Corruption):
    """Apply several corruptions in order.

    Parameters
    ----------
    steps : sequence of Corruption
        Applied first to last (e.g. measurement noise, then artefacts, then
        clipping, then missing stretches, so that NaN gaps stay NaN).
    model : SymbolicModel, default=None
        Model whose spans, window and channel names the steps use when called
        without an explicit ``model``.
    """

    def __init__(self, steps: Sequence[Corruption] = (), model: SymbolicModel | None = None):
        steps = list(steps)
        for s in steps:
            if not isinstance(s, Corruption):
                raise TypeError(f"Compose steps must be Corruption instances, got {s!r}.")
        if model is not None and not isinstance(model, SymbolicModel):
            raise TypeError(f"model must be a SymbolicModel instance, got {type(model).__name__}.")
        self.steps = steps
        self.model = model
        self.channels = None

    def _apply(self, X, rng, ctx):
        for step in self.steps:
            step._apply(X, rng, ctx)

    def __len__(self) -> int:
        return len(self.steps)

    def __iter__(self):
        return iter(self.steps)

    def __repr__(self) -> str:
        inner = ",\n    ".join(repr(s) for s in self.steps)
        return f"Compose([\n    {inner},\n], model={self.model!r})" if self.steps else (
            f"Compose([], model={self.model!r})"
        )


class Mixture(Corruption):
    """Corrupt each sequence with one component drawn at random.

    A training set drawn from a mixture covers several noise regimes at once
    (e.g. heart rate with upward bursts in some sequences and sensor drops in
    others), which a model trained on one preset never sees.

    Parameters
    ----------
    components : sequence of Corruption
        The alternatives; each sequence gets exactly one of them.
    weights : sequence of float, default=None
        Probability of each component (normalised); equal by default.
    model : SymbolicModel, default=None
        As for :class:`Compose`.
    """

    def __init__(self, components: Sequence[Corruption], weights=None,
                 model: SymbolicModel | None = None):
        components = list(components)
        if not components:
            raise ValueError("Mixture needs at least one component.")
        for c in components:
            if not isinstance(c, Corruption):
                raise TypeError(f"Mixture components must be Corruption instances, got {c!r}.")
        w = np.ones(len(components)) if weights is None else np.asarray(weights, dtype=float)
        if w.shape != (len(components),) or not np.all(np.isfinite(w)) or np.any(w < 0) \
                or w.sum() <= 0:
            raise ValueError(
                f"weights must be {len(components)} non-negative numbers with a positive "
                f"sum, got {weights!r}."
            )
        self.components = components
        self.weights = (w / w.sum()).tolist()
        self.model = model
        self.channels = None

    def _apply(self, X, rng, ctx):
        choice = rng.choice(len(self.components), size=X.shape[0], p=self.weights)
        for k, component in enumerate(self.components):
            rows = np.flatnonzero(choice == k)
            if rows.size:
                part, sub = X[rows], ctx.rows(rows)
                component._apply(part, rng, sub)
                X[rows], ctx.mask[rows] = part, sub.mask


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


# -------------------------------------------------------- per-signal defaults
# Keyed by channel name (model.channel_names). Magnitudes are fractions of the
# channel's span, durations are hours. "default" serves unknown (user) channels.
_SIGNAL_DEFAULTS = {
    # Span 40-120 bpm. Exercise and stress raise heart rate by 10-40 bpm for
    # minutes to hours; optical sensors that lock onto step cadence spike high.
    "heart_rate": dict(
        sigma=0.015,
        bursts=dict(rate=0.12, duration=(0.25, 2.0), magnitude=(0.15, 0.5), p_positive=1.0),
        spikes=dict(rate=0.04, magnitude=(0.1, 0.4), p_positive=0.9),
        drops=dict(rate=0.06, duration=(0.1, 1.0), magnitude=(0.15, 0.4), tau=0.0),
    ),
    # Span 28-37 degC. A loose band reads towards ambient air: falls of 3-6 degC
    # with a thermal time constant of 15 minutes, lasting up to 2 hours.
    "skin_temperature": dict(
        sigma=0.01,
        drops=dict(rate=0.1, duration=(0.25, 2.0), magnitude=(0.3, 0.7), tau=0.25),
        spikes=dict(rate=0.02, magnitude=(0.05, 0.2), p_positive=0.2),
    ),
    # Span 85-100 %. Motion and poor perfusion give short low readings (dips of
    # 2-7 %), and oximeters report at most 100 %.
    "spo2": dict(
        sigma=0.02,
        drops=dict(rate=0.1, duration=(0.05, 0.75), magnitude=(0.15, 0.5), tau=0.0),
        spikes=dict(rate=0.04, magnitude=(0.1, 0.4), p_positive=0.1),
        clip_high=100.0,
    ),
    # A signal we know nothing about: upward bursts and mostly upward spikes, the
    # generic one-sided contamination.
    "default": dict(
        sigma=0.01,
        bursts=dict(rate=0.12, duration=(0.25, 2.0), magnitude=(0.15, 0.5), p_positive=1.0),
        spikes=dict(rate=0.04, magnitude=(0.1, 0.4), p_positive=0.9),
        drops=dict(rate=0.08, duration=(0.25, 2.0), magnitude=(0.2, 0.5), tau=0.0),
    ),
}
_MISSING_DEFAULTS = dict(rate=0.1, duration=(0.25, 2.0))
_MOTION_DEFAULTS = dict(rate=0.08, duration=(0.25, 1.5))
#: Signed height ranges (fractions of each channel's span) of a motion event on
#: each signal (:class:`MotionArtefacts`): heart rate rises by 12-36 bpm, skin
#: temperature falls by 1-3 degC as the band shifts, SpO2 reads 1.5-6 % low.
MOTION_EFFECTS = {
    "heart_rate": (0.15, 0.45),
    "skin_temperature": (-0.1, -0.3),
    "spo2": (-0.1, -0.4),
}


def signal_defaults(channel_name: str) -> dict:
    """The default corruption settings of a channel, by name.

    Parameters
    ----------
    channel_name : str
        ``"heart_rate"``, ``"skin_temperature"``, ``"spo2"``; any other name gets
        the generic defaults.

    Returns
    -------
    defaults : dict
        ``sigma`` (Gaussian noise), and where the signal has them ``bursts``,
        ``spikes``, ``drops`` (keyword arguments of :class:`ActivityBursts`,
        :class:`Spikes`, :class:`Drops`) and ``clip_high``.
    """
    d = _SIGNAL_DEFAULTS.get(channel_name, _SIGNAL_DEFAULTS["default"])
    return {k: dict(v) if isinstance(v, dict) else v for k, v in d.items()}


def typical_outlier_side(model: SymbolicModel) -> tuple[str, ...]:
    """The side most of each channel's default artefacts push readings to.

    ``'above'`` or ``'below'`` per channel, from :func:`signal_defaults`: heart
    rate rises in activity bursts and cadence-locked spikes, skin temperature
    and SpO2 fall when the sensor loses contact, and an unknown signal gets the
    generic upward bursts. This is what ``outlier_side`` of
    :class:`~sklearn_r2t.SymbolicLeastSquares` assumes in the package's
    benchmarks; on your own data, decide from what your artefacts do.
    """
    sides = []
    for name in model.channel_names:
        d = signal_defaults(name)
        up = 0.0  # rate-weighted share of upward artefacts
        total = 0.0
        for key, p_up in (("bursts", None), ("spikes", None), ("drops", 0.0)):
            if key in d:
                p = d[key].get("p_positive", 1.0) if p_up is None else p_up
                up += d[key]["rate"] * p
                total += d[key]["rate"]
        sides.append("above" if up >= total / 2 else "below")
    return tuple(sides)


def _scaled(settings: dict, severity: float) -> dict:
    """Artefact settings with their rate multiplied by ``severity`` (capped below 1)."""
    return {**settings, "rate": min(settings["rate"] * severity, 0.95)}


_ARTEFACT_TYPES = (("bursts", ActivityBursts), ("spikes", Spikes), ("drops", Drops))


def _preset_steps(preset: str, channel_names, severity: float = 1.0) -> list[Corruption]:
    steps: list[Corruption] = []
    per_channel = [(name, signal_defaults(name)) for name in channel_names]
    for _, d in per_channel:
        for key in ("bursts", "spikes", "drops"):
            if key in d:
                d[key] = _scaled(d[key], severity)
    if preset == "none":
        return steps
    for name, d in per_channel:
        steps.append(GaussianNoise(d["sigma"], channels=name))
    for name, d in per_channel:
        if preset == "spikes":
            steps.append(Spikes(**d["spikes"], channels=name))
        elif preset == "drops":
            steps.append(Drops(**d["drops"], channels=name))
        elif preset in ("combined", "motion"):
            # Each signal's own sustained artefact: bursts where it has them, else drops.
            if "bursts" in d:
                steps.append(ActivityBursts(**d["bursts"], channels=name))
            else:
                steps.append(Drops(**d["drops"], channels=name))
            steps.append(Spikes(**d["spikes"], channels=name))
        elif preset == "all":
            steps += [cls(**d[key], channels=name) for key, cls in _ARTEFACT_TYPES if key in d]
        if "clip_high" in d:
            steps.append(Clipping(high=d["clip_high"], channels=name))
    if preset in ("motion", "all"):
        # After the clipping: only SpO2 is clipped, and motion pulls it down.
        steps.append(MotionArtefacts(**_scaled(_MOTION_DEFAULTS, severity)))
    if preset in ("missing", "combined", "motion", "all"):
        steps.append(MissingStretches(**_MISSING_DEFAULTS))
    return steps


def make_noise(
    noise="combined", model: SymbolicModel | None = None, severity: float = 1.0
) -> Corruption:
    """Build a named noise preset for a model, or pass a corruption through.

    Presets (each channel gets its signal's defaults, see :func:`signal_defaults`;
    every preset but ``"none"`` includes the channel's Gaussian measurement noise):

    ``"none"``
        No corruption.
    ``"gaussian"``
        Gaussian measurement noise only (about 1-2 % of the span).
    ``"spikes"``
        Isolated, mostly one-sided spikes (heart rate up, SpO2 down).
    ``"drops"``
        Sudden downward segments (skin temperature towards ambient, SpO2 dips).
    ``"missing"``
        Contiguous NaN stretches covering about 10 % of the window, shared by
        all channels.
    ``"combined"``
        The asymmetric structured mix: per channel its sustained artefact (heart
        rate: upward activity bursts; skin temperature and SpO2: downward drops;
        unknown channels: upward bursts), its spikes, SpO2 clipped at 100 %, and
        shared missing stretches. About 15-20 % of the observed samples are
        outliers, nearly all on one side, so least squares is biased while a
        robust loss with a well-chosen scale recovers the curve.
    ``"motion"``
        ``"combined"`` plus motion events shared by the channels
        (:class:`MotionArtefacts`: heart rate up, skin temperature and SpO2 down
        in the same minutes), covering about 8 % of the window.
    ``"all"``
        Every artefact type of each signal (its bursts, spikes and drops), the
        shared motion events, clipping and missing stretches.
    ``"curriculum"``
        R2T's training noise: ``"all"`` at each severity of
        :data:`CURRICULUM_SEVERITIES` equally often (a :class:`Mixture`), from
        clean sequences to about two thirds of the samples touched, so that the
        network sees every contamination level it will meet.

    Parameters
    ----------
    noise : str, list, dict, Corruption or None, default="combined"
        A name from :data:`PRESETS`, a :class:`Corruption` (returned as is),
        ``None`` (same as ``"none"``), or several presets as a :class:`Mixture`:
        a list (equal weights) or a dict ``{preset: weight}``.
    model : SymbolicModel, default=None
        The model whose channels the noise is for; its ``channel_names`` pick the
        per-signal defaults and its ``output_range`` and ``window_hours`` convert
        magnitudes and durations. ``None`` gives the generic defaults for a
        signal scaled to [0, 1] over 24 hours.
    severity : float >= 0, default=1.0
        Multiplies the rate of every artefact (bursts, spikes, drops; each rate
        capped at 0.95), not the measurement noise nor the missing stretches: the
        contamination knob. On heart rate with ``"combined"``, severity 0, 1, 2, 3
        and 4 touch about 0 %, 16 %, 30 %, 44 % and 57 % of the samples (measure
        it with the ``artefact_mask`` of
        :func:`~sklearn_r2t.datasets.make_wearable_sequences`). Only for preset
        names.

    Returns
    -------
    noise : Corruption
        Call it as ``noise(X_clean, random_state=rng)``.

    Notes
    -----
    Durations are physical (bursts and gaps of 15 minutes to 2 hours), which
    suits windows of many hours such as the default 24. On a model with a window
    of an hour or two, a single gap can blank a whole sequence: compose your own
    corruptions with shorter ``duration`` there.
    """
    if (
        isinstance(severity, bool) or not isinstance(severity, numbers.Real)
        or not math.isfinite(severity) or severity < 0
    ):
        raise ValueError(f"severity must be a finite number >= 0, got {severity!r}.")
    if isinstance(noise, Corruption):
        if severity != 1.0:
            raise ValueError(
                "severity scales the rates of the named presets; build a Corruption with "
                f"the rates you want instead (got a {type(noise).__name__} and "
                f"severity={severity})."
            )
        return noise
    if noise is None:
        noise = "none"
    if isinstance(noise, dict):
        return Mixture([make_noise(name, model, severity) for name in noise],
                       weights=list(noise.values()), model=model)
    if isinstance(noise, list | tuple):
        return Mixture([make_noise(name, model, severity) for name in noise], model=model)
    if not isinstance(noise, str):
        raise TypeError(
            f"noise must be one of {PRESETS}, a list or dict of them, a Corruption "
            "instance or None, "
            f"got {type(noise).__name__}."
        )
    if noise not in PRESETS:
        raise ValueError(f"Unknown noise preset {noise!r}; valid presets are {PRESETS}.")
    if model is not None and not isinstance(model, SymbolicModel):
        raise TypeError(f"model must be a SymbolicModel instance, got {type(model).__name__}.")
    if noise == "curriculum":
        return Mixture([make_noise("all", model, severity * s) for s in CURRICULUM_SEVERITIES],
                       model=model)
    # Without a model there are no names to select by: one generic set of steps
    # (channels=None) applies to every channel.
    channel_names = model.channel_names if model is not None else (None,)
    return Compose(_preset_steps(noise, channel_names, float(severity)), model=model)
