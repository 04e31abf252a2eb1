"""Per-signal default settings and the named noise presets (make_noise)."""

from __future__ import annotations

import math
import numbers

from ..symbolic import SymbolicModel
from ._artefacts import (
    ActivityBursts,
    Clipping,
    Drops,
    GaussianNoise,
    MissingStretches,
    MotionArtefacts,
    Spikes,
)
from ._base import Corruption
from ._compose import Compose, Mixture

#: Names accepted by :func:`make_noise`.
PRESETS = ("none", "gaussian", "spikes", "drops", "missing", "combined", "motion", "all",
           "curriculum")
#: Severities the ``"curriculum"`` preset mixes, equally often, of its ``"all"``
#: noise: from no artefact to 55-72 % of the samples touched (heart rate 27 % at
#: severity 1 and 72 % at 3.5; skin temperature 19 % and 56 %).
CURRICULUM_SEVERITIES = (0.0, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 3.5)


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
