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

from ._artefacts import (
    MOTION_EFFECTS,
    ActivityBursts,
    Clipping,
    Drift,
    Drops,
    GaussianNoise,
    MissingStretches,
    MotionArtefacts,
    Spikes,
)
from ._base import Corruption, check_generator
from ._compose import Compose, Mixture
from ._presets import (
    CURRICULUM_SEVERITIES,
    PRESETS,
    make_noise,
    signal_defaults,
    typical_outlier_side,
)

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
