"""The per-sequence check of the training distribution behind ``score_samples``.

The weighted head summarises what it saw and did on each sequence as a feature
vector (:func:`score_features`); a reference built on synthetic data from the
training distribution holds the features' mean and precision and the sorted
Mahalanobis distances of a second, independent synthetic sample (the null
distribution). A sequence's score is the share of null distances at least as
large as its own: a p-value, uniform on data drawn like the training data, small
on a sequence unlike it (:func:`score_pvalues`).
"""

from __future__ import annotations

import warnings

import numpy as np

#: A batch in which more than this share of at least ``_FLAG_MIN_BATCH`` sequences
#: score below ``_FLAG_LEVEL`` makes ``transform`` warn (about 5 % expected).
_FLAG_LEVEL, _FLAG_SHARE, _FLAG_MIN_BATCH = 0.05, 0.2, 20


def score_features(x, observed, pred) -> np.ndarray:
    """Per sequence: what the weighted head saw and did, ``(n, (d_model + 3) * C)``.

    Per channel: the last pass's encoding averaged over time, the mean weight
    of the observed samples, the log of the weighted residual RMS and the lag-1
    autocorrelation of the weighted residuals (near 0 when only white noise is
    left; near 1 for a missing harmonic or a drift). Computed on the network's
    input, so scale-free for standardised input.
    """
    w = pred["weights"].double().cpu().numpy()
    obs = observed.double().cpu().numpy()
    r = (x.double().cpu().numpy() - pred["curve"].double().cpu().numpy()) * obs
    u = np.sqrt(w) * r
    uu = (u * u).sum(1)
    wsum = np.maximum((w * obs).sum(1), 1e-12)
    rms = np.sqrt(np.maximum(uu / wsum, 1e-12))
    ac = (u[:, 1:] * u[:, :-1]).sum(1) / np.maximum(uu, 1e-24)
    share = wsum / np.maximum(obs.sum(1), 1)
    emb = pred["embedding"].double().cpu().numpy()
    return np.concatenate([emb, share, np.log(rms), ac], axis=1)


def build_reference(module, model, noise, n_timesteps, seed, n_sequences=1024) -> dict:
    """Reference of the check from ``2 * n_sequences`` synthetic sequences of
    ``noise``: feature mean and precision from the first half, sorted distances
    of the second (the null distribution). JSON-serialisable (weight files)."""
    from .._validation import all_missing_rows
    from ..datasets import make_wearable_sequences
    from ._inference import _as_3d, _network_params

    data = make_wearable_sequences(2 * n_sequences, model=model, noise=noise,
                                   n_timesteps=n_timesteps, random_state=seed)
    X = _as_3d(data.X)
    X = X[~all_missing_rows(X)]
    feats = _network_params(module, model, X, return_features=True)[3]
    half = len(feats) // 2
    fit, null = feats[:half], feats[half:]
    cov = np.atleast_2d(np.cov(fit, rowvar=False))
    # A small ridge: some features barely vary on clean data.
    cov += 1e-6 * max(np.trace(cov) / len(cov), 1e-12) * np.eye(len(cov))
    ref = {"mean": fit.mean(0).tolist(), "precision": np.linalg.inv(cov).tolist()}
    ref["null"] = np.sort(_distances(ref, null)).tolist()
    return {**ref, "noise": noise if isinstance(noise, str) else repr(noise),
            "n_sequences": int(n_sequences), "seed": int(seed)}


def _distances(ref, feats):
    d = feats - np.asarray(ref["mean"])
    return np.sqrt(np.maximum(np.einsum("ni,ij,nj->n", d, np.asarray(ref["precision"]), d),
                              0.0))


def score_pvalues(ref, feats) -> np.ndarray:
    """``(1 + #{null distances >= d}) / (n_null + 1)`` per sequence."""
    null = np.asarray(ref["null"])
    d = _distances(ref, feats)
    above = len(null) - np.searchsorted(null, d, side="left")
    p = (1 + above) / (len(null) + 1)
    return np.where(np.isfinite(d), p, np.nan)


def warn_flagged(scores):
    """Warn when a large share of a batch scores below ``_FLAG_LEVEL``."""
    flagged = np.mean(scores < _FLAG_LEVEL) if len(scores) else 0.0
    if len(scores) >= _FLAG_MIN_BATCH and flagged > _FLAG_SHARE:
        warnings.warn(
            f"{flagged:.0%} of the {len(scores)} sequences look unlike R2T's training "
            f"data (score_samples < {_FLAG_LEVEL:g}; about {_FLAG_LEVEL:.0%} expected): "
            "check that the model describes them, or compare with a classical fit.",
            UserWarning, stacklevel=3)

def warn_implausible(model, params, input_scaling):
    """Soft plausibility check of the physiological models' robust estimates."""
    from ._weights import _PRETRAINED_MODELS

    if input_scaling != "robust" or _PRETRAINED_MODELS.get(
            model.name) is not type(model) or not len(params):
        return
    lo, hi = model.bounds.T
    slack = 0.5 * (hi - lo)
    linear = ~model.angular_mask
    far = ((params < lo - slack) | (params > hi + slack))[:, linear]
    if far.any():
        names = np.asarray(model.param_names)[linear][far.any(axis=0)]
        warnings.warn(
            f"{far.any(axis=1).sum()} of {len(params)} sequences have "
            f"{', '.join(names)} far outside the {type(model).__name__} prior "
            "(by more than half its range): check the units, or fit a generic "
            "Cosinor().", UserWarning, stacklevel=3)
