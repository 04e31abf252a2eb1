"""Calibration on synthetic data.

The factors that make the intervals cover, and the refine blend.
"""

from __future__ import annotations

import numpy as np

from ..least_squares._sequence_fit import too_few_observed
from ..metrics import normalized_mse, parameter_errors
from ._inference import _as_3d, _network_params, _refined, blend

# Two-sided normal quantile of a 90 % interval: the target of the std calibration.
_Z90 = 1.6448536269514722


_REFINE_WEIGHTS = (0.0, 0.25, 0.5, 0.75, 1.0)


def _calibrate_refine(module, model, noise, n_timesteps, refine, seed, n_sequences=256):
    """Blend weight of the refined estimates that does best on synthetic data."""
    from ..datasets import make_wearable_sequences

    data = make_wearable_sequences(n_sequences, model=model, noise=noise,
                                   n_timesteps=n_timesteps, random_state=seed)
    X = _as_3d(data.X)
    network = _network_params(module, model, X)[0]
    ok = ~too_few_observed(model, X) & ~np.isnan(network).any(axis=1)
    network = network[ok]
    refined = _refined(model, X[ok], network, refine)
    scores = {w: np.median(normalized_mse(
        model, data.X_clean[ok], model.evaluate(blend(model, network, refined, w), n_timesteps)))
        for w in _REFINE_WEIGHTS}
    return min(scores, key=scores.get)


def _calibrate_std(module, model, noise, n_timesteps, seed, n_sequences=2048):
    """Factor per parameter on the sandwich standard errors that makes 90 %
    intervals cover the true parameters 90 % of the time on synthetic data."""
    from ..datasets import make_wearable_sequences

    data = make_wearable_sequences(n_sequences, model=model, noise=noise,
                                   n_timesteps=n_timesteps, random_state=seed)
    X = _as_3d(data.X)
    ok = ~too_few_observed(model, X)  # silently: these are our synthetic sequences
    params, std = _network_params(module, model, X[ok], return_std=True)[:2]
    z = np.abs(parameter_errors(model, data.params[ok], params)) / np.maximum(std, 1e-12)
    scale = np.nanquantile(z, 0.9, axis=0) / _Z90
    return np.where(np.isfinite(scale) & (scale > 0), scale, 1.0)
