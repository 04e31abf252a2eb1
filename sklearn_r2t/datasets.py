"""Synthetic wearable sequences with known parameters.

The training and benchmark data of the package: parameters drawn from a symbolic
model's prior, their clean curves, and a structured-noise corruption of them
(:mod:`sklearn_r2t.noise`). Because the true parameters and clean curves are
known, every estimator can be scored on both.
"""

from __future__ import annotations

import numbers

import numpy as np
from sklearn.utils import Bunch

from ._validation import check_model
from .noise import check_generator, make_noise
from .symbolic import HeartRate

__all__ = ["make_wearable_sequences"]


def make_wearable_sequences(
    n_sequences,
    model=None,
    noise="combined",
    n_timesteps=96,
    random_state=None,
    severity=1.0,
):
    """Generate noisy wearable sequences from a symbolic model.

    Parameters are drawn with ``model.sample_params`` (uniform within the
    model's bounds), evaluated on ``n_timesteps`` equally spaced times over the
    model's window, then corrupted by ``noise``. Fully vectorized: 100,000
    sequences of 96 steps take well under two seconds.

    Parameters
    ----------
    n_sequences : int
        Number of sequences, >= 1.
    model : SymbolicModel, default=None
        The generating model; ``None`` means :class:`~sklearn_r2t.symbolic.HeartRate`.
    noise : str, Corruption or None, default="combined"
        A preset name from :data:`sklearn_r2t.noise.PRESETS` (built for ``model``
        with :func:`~sklearn_r2t.noise.make_noise`), a
        :class:`~sklearn_r2t.noise.Corruption`, or ``None`` for clean data.
    n_timesteps : int, default=96
        Samples per sequence (96 over 24 hours is one every 15 minutes).
    random_state : None, int, RandomState or Generator, default=None
        Seed for reproducible parameters and noise.
    severity : float >= 0, default=1.0
        Contamination knob of a preset ``noise``: multiplies every artefact rate
        (:func:`~sklearn_r2t.noise.make_noise`). A sweep from 0 to about 5 goes
        from no artefact to about 60 % of the samples touched.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        With keys

        X : ndarray of shape (n_sequences, n_timesteps) or (n_sequences, n_timesteps, n_channels)
            Noisy sequences (NaN where missing). 2-D for a single-channel model.
        X_clean : ndarray, same shape as ``X``
            The clean curves, ``model.evaluate(params, n_timesteps)``.
        artefact_mask : bool ndarray, same shape as ``X``
            True where an artefact (spike, burst, drop, clipping) touched the
            sample. The observed samples outside it are those of the oracle fit
            (:func:`~sklearn_r2t.metrics.oracle_fit`);
            ``artefact_mask[~np.isnan(X)].mean()`` is the fraction touched.
        params : ndarray of shape (n_sequences, n_params)
            True parameters, in physical units.
        t_hours : ndarray of shape (n_timesteps,)
            Sample times in hours.
        param_names : tuple of str
            The model's parameter names, in the order of ``params``' columns.
        channel_names : tuple of str
            The model's channel names, in the order of the last axis of ``X``.
        model : SymbolicModel
            The generating model.
        noise : Corruption
            The corruption that was applied.

    Examples
    --------
    >>> from sklearn_r2t.datasets import make_wearable_sequences
    >>> data = make_wearable_sequences(8, random_state=0)
    >>> data.X.shape, data.params.shape
    ((8, 96), (8, 3))
    """
    if isinstance(n_sequences, bool) or not isinstance(n_sequences, numbers.Integral):
        raise TypeError(f"n_sequences must be an int, got {type(n_sequences).__name__}.")
    if n_sequences < 1:
        raise ValueError(f"n_sequences must be >= 1, got {n_sequences}.")
    model = HeartRate() if model is None else check_model(model)
    n_timesteps = model.check_n_timesteps(n_timesteps)
    corruption = make_noise(noise, model, severity)

    rng = check_generator(random_state)
    # sample_params takes a RandomState (the model contract); seed one from the
    # generator so one random_state reproduces both parameters and noise.
    param_state = np.random.RandomState(rng.integers(0, 2**31 - 1))
    params = np.asarray(model.sample_params(int(n_sequences), random_state=param_state), float)
    X_clean = model.evaluate(params, n_timesteps)
    X, mask = corruption(X_clean, random_state=rng, model=model, return_mask=True)
    return Bunch(
        X=X,
        X_clean=X_clean,
        artefact_mask=mask,
        params=params,
        t_hours=model.t_hours(n_timesteps),
        param_names=tuple(model.param_names),
        channel_names=tuple(model.channel_names),
        model=model,
        noise=corruption,
    )
