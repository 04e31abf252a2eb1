"""Inference in batches.

The network's weights or parameters for many sequences, the weighted solve and
its standard errors.
"""

from __future__ import annotations

import warnings

import numpy as np
import torch

from ..least_squares._engine import delta_method_std, weighted_lstsq_cov
from ..symbolic import SymbolicModel, circular_difference
from ._network import WeightedSolveNet, constant_coefficients
from ._score import score_features


def encode_sequences(model: SymbolicModel, X: np.ndarray):
    """Physical ``(n, T, C)`` sequences -> normalised float32 values and observed mask.

    Values are clipped to one plausible span beyond the model's range on either
    side ([-1, 2] after normalising). Training noise stays inside that (its
    artefacts reach about 0.7 of a span), so this changes nothing the network has
    learned; it keeps one absurd reading from overflowing float32 in the shared
    embedding (which turned every channel's parameters NaN) and bounds how far it
    can pull the other channels' estimates.
    """
    lo, hi = np.asarray(model.output_range, dtype=float).reshape(-1, 2).T
    observed = ~np.isnan(X)
    x = np.clip(np.where(observed, (X - lo) / (hi - lo), 0.0), -1.0, 2.0)
    return x.astype(np.float32), observed.astype(np.float32)


# Standardised values beyond this many robust scales are clipped (network input and
# solve alike): training artefacts reach about 40, and one absurd reading must not
# overflow float32 nor pull the solve through its floor weight.
_Z_CLIP = 50.0
# Normal-consistency factors of the MAD, the 10-90 % range and the mean absolute deviation.
_MAD_TO_SD, _Q1090_TO_SD, _MEANAD_TO_SD = 1.482602218505602, 1 / 2.563103131089201, 1.2533141373155


def robust_location_scale(X: np.ndarray):
    """Per sequence and channel: median, and a signed robust scale.

    The scale is the MAD (times 1.4826); where the MAD is 0 (more than half the
    samples equal, e.g. activity counts at night), the 10-90 % range, then the mean
    absolute deviation, each normal-consistent; 1 for a constant channel. Its
    sign makes the standardised values' mean non-negative, so that ``-X`` and
    ``X`` standardise to the same values. Every choice compares scales with each
    other, so ``a * X + b`` gives ``a * loc + b`` and ``a * scale`` exactly (up to
    rounding) for any ``a != 0``.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN channels
        loc = np.nanmedian(X, axis=1)
        dev = X - loc[:, None]
        absdev = np.abs(dev)
        big = np.nanmax(absdev, axis=1)
        tiny = 1e-9 * big
        scale = np.nanmedian(absdev, axis=1) * _MAD_TO_SD
        q = np.nanquantile(X, [0.1, 0.9], axis=1)
        for alt in ((q[1] - q[0]) * _Q1090_TO_SD, np.nanmean(absdev, axis=1) * _MEANAD_TO_SD):
            scale = np.where(scale > tiny, scale, alt)
        scale = np.where((scale > tiny) & (big > 0), scale, 1.0)
        sign = np.where(np.nanmean(dev, axis=1) < 0, -1.0, 1.0)
    loc = np.where(np.isfinite(loc), loc, 0.0)
    scale = np.where(np.isfinite(scale), scale, 1.0)
    return loc, sign * scale


def standardise_sequences(X: np.ndarray):
    """``(n, T, C)`` sequences -> float64 standardised values (0 where missing),
    observed mask, location and signed scale (see :func:`robust_location_scale`)."""
    loc, scale = robust_location_scale(X)
    observed = ~np.isnan(X)
    z = np.clip(np.where(observed, (X - loc[:, None]) / scale[:, None], 0.0), -_Z_CLIP, _Z_CLIP)
    return z, observed, loc, scale


def network_inputs(module, model, X):
    """The network's inputs for ``(n, T, C)`` sequences: float32 values and mask, and
    (standardised input only) the float64 values, location and signed scale."""
    if getattr(module, "standardise", False):
        z, observed, loc, scale = standardise_sequences(X)
        return z.astype(np.float32), observed.astype(np.float32), (z, loc, scale)
    x, observed = encode_sequences(model, X)
    return x, observed, None


def blend(model: SymbolicModel, a: np.ndarray, b: np.ndarray, weight: float) -> np.ndarray:
    """``(1 - weight) * a + weight * b`` per parameter, along the short arc for angles."""
    out = a + weight * (b - a)
    for j, period in enumerate(model.param_periods):
        if period is not None:
            out[:, j] = (a[:, j] + weight * circular_difference(b[:, j], a[:, j], period)) % period
    return out


def _as_3d(a: np.ndarray) -> np.ndarray:
    return a[:, :, None] if a.ndim == 2 else a


# Sequences per inference batch: on a CPU, the attention's working set then stays in
# cache (weighted head, one thread: 4,450 seq/s at 128, 2,980 at 256, 2,380 at 1,024).
_INFERENCE_BATCH = 128


def _network_params(module, model, X, batch_size=_INFERENCE_BATCH, return_std=False,
                    return_features=False, verbose=0):
    """The network's estimates for ``(n, T, C)`` sequences, encoded batch by batch.

    Returns ``(params, std, singular, features)``: the parameters; with
    ``return_std`` their uncalibrated standard errors (weighted head only; else
    None); the rows whose weighted system is singular (NaN in both); with
    ``return_features`` the features of the training-distribution check
    (:func:`~sklearn_r2t.r2t._score.score_features`; else None). ``verbose`` shows
    a progress bar over the sequences.

    Encoding a batch at a time keeps memory flat: the float32 copies of the input
    never exist for the whole array at once. Batches are small because attention
    stores ``batch * n_heads * T * T`` floats (600 MB at 4096 sequences of 96 steps),
    and small batches are also faster on a CPU (:data:`_INFERENCE_BATCH`).
    """
    weighted = isinstance(module, WeightedSolveNet)
    out = np.empty((len(X), model.n_params))
    std = np.empty((len(X), model.n_params)) if return_std else None
    singular = np.zeros(len(X), dtype=bool)
    feats = []
    for sl, x, pred, extra in _forward_batches(module, model, X, batch_size, verbose):
        if weighted:
            out[sl], s, singular[sl] = _weighted_solve_params(module, x.double(), pred,
                                                              return_std, extra)
            if return_std:
                std[sl] = s
            if return_features:
                feats.append(score_features(x, pred["observed"], pred))
        else:
            out[sl] = pred["params"].double().cpu().numpy()
    out[singular] = np.nan
    if return_std:
        std[singular] = np.nan
    features = (np.concatenate(feats) if feats else None) if return_features else None
    return out, std, singular, features


def _forward_batches(module, model, X, batch_size=_INFERENCE_BATCH, verbose=0):
    """``(rows, x, prediction, standardisation)`` per batch of ``(n, T, C)``
    sequences, in inference mode on the module's device; ``x`` is the encoded
    input, ``standardisation`` None or the float64 values, location and scale.
    ``verbose`` shows a progress bar over the sequences (stderr), as the classical
    fits do."""
    from tqdm.auto import tqdm

    device = next(module.parameters()).device
    with (torch.inference_mode(),
          tqdm(total=len(X), unit="seq", disable=not verbose, desc="R2T") as bar):
        for start in range(0, len(X), batch_size):
            x, observed, extra = network_inputs(module, model, X[start : start + batch_size])
            x, observed = torch.from_numpy(x).to(device), torch.from_numpy(observed).to(device)
            yield slice(start, start + batch_size), x, module(x, observed), extra
            bar.update(len(x))


def _weighted_solve_params(module, x, pred, return_std, extra=None):
    """Parameters from the network's weights by a float64 weighted solve, their
    standard errors from its sandwich covariance by the delta method, and the rows
    whose weighted system is singular (linear basis only; the Gauss-Newton path of
    other models damps its steps).

    The covariance of each channel's coefficients is
    ``s^2 G^-1 (B' W^2 B) G^-1`` with ``G = B' W B`` and ``s^2`` the weighted
    residual variance (``sum w r^2 / (sum w - K)``): exact for a fixed weighting of
    independent noise; :class:`R2TRegressor` calibrates a factor per parameter
    on synthetic data for the rest (correlated noise, artefacts given weight).

    With standardised input the solve runs on the float64 standardised values and
    the coefficients go back to the input's units exactly (``loc`` on the constant,
    ``scale`` on every coefficient); mesor and amplitude are not clipped to the
    prior box, angles are wrapped to their period.
    """
    weights = pred["weights"].double()
    if not module.linear:  # the projected Gauss-Newton steps gave the parameters
        params = pred["params"].double()
        boxed = module.symbolic.project(params.cpu().numpy())  # the float64 bounds, exactly
        none = np.zeros(len(boxed), dtype=bool)
        if not return_std:
            return boxed, None, none
        curve, J = module.jacobian(params)
        cov = weighted_lstsq_cov(J, x.flatten(1) - curve, weights.flatten(1))
        return boxed, cov.diagonal(dim1=1, dim2=2).clamp_min(0).sqrt().cpu().numpy(), none
    if extra is not None:
        z, loc, scale = extra
        x = torch.from_numpy(z).to(weights.device)
    thetas, curve, singular = module.solve(x, weights)
    params, stds = [], []
    for c, (m, theta) in enumerate(zip(module.components, thetas, strict=True)):
        B = module.bases()[c].double()
        if extra is None:
            span = module.span[c]
            theta_phys = theta.cpu().numpy() * span
            # Into the box, as every estimator here returns them (a solve can leave it).
            params.append(m.project(m.params_from_linear(theta_phys)))
            cov_scale = span**2
        else:
            ones = constant_coefficients(B.cpu().numpy())
            theta_phys = (theta.cpu().numpy() * scale[:, c, None]
                          + loc[:, c, None] * ones[None, :])
            params.append(m.wrap_angles(m.params_from_linear(theta_phys)))
            cov_scale = scale[:, c, None, None] ** 2
        if return_std:
            cov = weighted_lstsq_cov(B, x[..., c] - curve[..., c], weights[..., c])
            stds.append(delta_method_std(m, theta_phys, cov.cpu().numpy() * cov_scale))
    return (np.concatenate(params, axis=1),
            np.concatenate(stds, axis=1) if return_std else None, singular.cpu().numpy())


def _refined(model, X, params, refine):
    from ..least_squares._sequence_fit import fit_sequences

    loss = "cauchy" if refine is True else refine
    return fit_sequences(model, X, loss=loss, f_scale="auto", x0=params, n_restarts=1)
