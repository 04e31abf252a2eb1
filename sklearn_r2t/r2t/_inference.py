"""Inference in batches.

The network's weights or parameters for many sequences, the weighted solve and
its standard errors.
"""

from __future__ import annotations

import numpy as np
import torch

from ..least_squares._engine import delta_method_std, weighted_lstsq_cov
from ..symbolic import SymbolicModel, circular_difference
from ._network import WeightedSolveNet


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
                    verbose=0):
    """The network's parameters for ``(n, T, C)`` sequences, encoded batch by batch,
    their uncalibrated standard errors (``return_std``, weighted head only; else
    None), and the rows whose weighted system is singular (NaN in both).

    Encoding a batch at a time keeps memory flat: the float32 copies of the input
    never exist for the whole array at once. Batches are small because attention
    stores ``batch * n_heads * T * T`` floats (600 MB at 4096 sequences of 96 steps),
    and small batches are also faster on a CPU (:data:`_INFERENCE_BATCH`).
    """
    weighted = isinstance(module, WeightedSolveNet)
    out = np.empty((len(X), model.n_params))
    std = np.empty((len(X), model.n_params)) if return_std else None
    singular = np.zeros(len(X), dtype=bool)
    for sl, x, pred in _forward_batches(module, model, X, batch_size, verbose):
        if weighted:
            out[sl], s, singular[sl] = _weighted_solve_params(module, x.double(), pred,
                                                              return_std)
            if return_std:
                std[sl] = s
        else:
            out[sl] = pred["params"].double().cpu().numpy()
    out[singular] = np.nan
    if return_std:
        std[singular] = np.nan
    return out, std, singular


def _forward_batches(module, model, X, batch_size=_INFERENCE_BATCH, verbose=0):
    """``(rows, x, prediction)`` per batch of ``(n, T, C)`` sequences, in inference
    mode on the module's device; ``x`` is the encoded input. ``verbose`` shows a
    progress bar over the sequences (stderr), as the classical fits do."""
    from tqdm.auto import tqdm

    device = next(module.parameters()).device
    with (torch.inference_mode(),
          tqdm(total=len(X), unit="seq", disable=not verbose, desc="R2T") as bar):
        for start in range(0, len(X), batch_size):
            x, observed = (torch.from_numpy(a).to(device)
                           for a in encode_sequences(model, X[start : start + batch_size]))
            yield slice(start, start + batch_size), x, module(x, observed)
            bar.update(len(x))


def _weighted_solve_params(module, x, pred, return_std):
    """Parameters from the network's weights by a float64 weighted solve, their
    standard errors from its sandwich covariance by the delta method, and the rows
    whose weighted system is singular (linear basis only; the Gauss-Newton path of
    other models damps its steps).

    The covariance of each channel's coefficients is
    ``s^2 G^-1 (B' W^2 B) G^-1`` with ``G = B' W B`` and ``s^2`` the weighted
    residual variance (``sum w r^2 / (sum w - K)``): exact for a fixed weighting of
    independent noise; :class:`R2TRegressor` calibrates a factor per parameter
    on synthetic data for the rest (correlated noise, artefacts given weight).
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
    thetas, curve, singular = module.solve(x, weights)
    params, stds = [], []
    for c, (m, theta) in enumerate(zip(module.components, thetas, strict=True)):
        span = module.span[c]
        theta_phys = theta.cpu().numpy() * span
        # Into the box, as every estimator here returns them (a solve can leave it).
        params.append(m.project(m.params_from_linear(theta_phys)))
        if return_std:
            cov = weighted_lstsq_cov(module.bases()[c].double(), x[..., c] - curve[..., c],
                                     weights[..., c])
            stds.append(delta_method_std(m, theta_phys, cov.cpu().numpy() * span**2))
    return (np.concatenate(params, axis=1),
            np.concatenate(stds, axis=1) if return_std else None, singular.cpu().numpy())


def _refined(model, X, params, refine):
    from ..least_squares._sequence_fit import fit_sequences

    loss = "cauchy" if refine is True else refine
    return fit_sequences(model, X, loss=loss, f_scale="auto", x0=params, n_restarts=1)
