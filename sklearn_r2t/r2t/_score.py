"""The per-sequence check of the training distribution behind ``score_samples``.

The weighted head summarises what it saw and did on each sequence as a feature
vector (:func:`score_features`); a reference built on synthetic data from the
training distribution holds the features' mean and precision and, from a second,
independent synthetic sample (the null distribution), the sorted Mahalanobis
distances and the sorted lag-1 autocorrelations of the weighted residuals. A
sequence gets two p-values, the share of null values at least as large as its
own: one for the distance (is the whole view unusual?) and one for the
autocorrelation (did the fit leave structure, such as a missing harmonic or a
drift?), combined by Simes' rule, ``min(2 * p_min, p_max)``, so that the score
stays a p-value (uniform or conservative on data drawn like the training data)
and is small when either test is (:func:`score_pvalues`).
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
    ref = {"mean": fit.mean(0).tolist(), "precision": np.linalg.inv(cov).tolist(),
           "n_channels": model.n_channels}
    ref["null"] = np.sort(_distances(ref, null)).tolist()
    ref["null_autocorrelation"] = np.sort(_autocorrelation(ref, null)).tolist()
    return {**ref, "noise": noise if isinstance(noise, str) else repr(noise),
            "n_sequences": int(n_sequences), "seed": int(seed)}


def _autocorrelation(ref, feats):
    """The largest lag-1 autocorrelation of the weighted residuals over channels
    (the last ``n_channels`` features)."""
    return feats[:, -int(ref["n_channels"]):].max(axis=1)


def _upper_tail(null, values):
    """``(1 + #{null >= value}) / (n_null + 1)``: a p-value from a sorted null."""
    null = np.asarray(null)
    above = len(null) - np.searchsorted(null, values, side="left")
    return (1 + above) / (len(null) + 1)


def _distances(ref, feats):
    d = feats - np.asarray(ref["mean"])
    return np.sqrt(np.maximum(np.einsum("ni,ij,nj->n", d, np.asarray(ref["precision"]), d),
                              0.0))


def score_pvalues(ref, feats) -> np.ndarray:
    """Per sequence: Simes' combination of the distance's and the residual
    autocorrelation's p-values (the distance's alone for a reference built
    before the autocorrelation test)."""
    d = _distances(ref, feats)
    p = _upper_tail(ref["null"], d)
    if "null_autocorrelation" in ref:
        q = _upper_tail(ref["null_autocorrelation"], _autocorrelation(ref, feats))
        p = np.minimum(2 * np.minimum(p, q), np.maximum(p, q))
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
