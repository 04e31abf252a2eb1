"""R2TRegressor: the Robust Regression Transformer as a scikit-learn estimator."""

from __future__ import annotations

import copy
import hashlib
import json
import math
import time
import warnings
from importlib import resources
from numbers import Integral, Real
from pathlib import Path

import numpy as np
import torch
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_array, check_is_fitted
from skorch import NeuralNet
from skorch.callbacks import (
    Callback,
    EarlyStopping,
    GradientNormClipping,
    ProgressBar,
)
from skorch.dataset import Dataset
from skorch.helper import predefined_split

from ._batched_fit import weighted_lstsq_cov
from ._r2t_net import R2TNet, WeightedSolveNet
from ._validation import FLOAT32_MAX, all_missing_rows, check_model, validate_sequences
from .metrics import normalized_mse, parameter_errors
from .noise import make_noise
from .symbolic import (
    HeartRate,
    SkinTemperature,
    SpO2,
    SymbolicModel,
    Wearable,
    circular_difference,
)

# Built-in models with shipped weights, keyed by ``model.name``.
_PRETRAINED_MODELS = {
    cls.name: cls for cls in (HeartRate, SkinTemperature, SpO2, Wearable)
}
# Hyper-parameters that shape each head's network (and must match a weight file's).
_ARCHITECTURE = {
    "weights": ("d_model", "n_heads", "n_layers", "dim_feedforward", "n_passes",
                "step_features", "hidden_size"),
    "parameters": ("d_model", "n_heads", "n_layers", "dim_feedforward", "step_features",
                   "hidden_size"),
}
_LOSS_TERMS = {"weights": ("reconstruction", "parameters", "mask"),
               "parameters": ("reconstruction", "parameters")}
# Two-sided normal quantile of a 90 % interval: the target of the std calibration.
_Z90 = 1.6448536269514722


# The weight files the package ships: (model name, n_timesteps).
_SHIPPED = {(name, 96) for name in _PRETRAINED_MODELS}
# With pretrained="auto", a shipped file that is missing or unusable is a broken
# install, not a choice: train from scratch, but within this many seconds.
_FALLBACK_MAX_TIME = 300.0

WEIGHTS_FORMAT = "sklearn_r2t.R2TNet"
WEIGHTS_VERSION = 1


class WeightsError(ValueError):
    """A weight file that cannot be used: damaged, altered, or for another model."""


def weights_filename(model: SymbolicModel, n_timesteps: int, head: str = "weights") -> str:
    """Name of a shipped weight file: ``heart_rate_t96.pt`` (weighted head) or
    ``heart_rate_t96_parameters.pt`` (the paper's parameter head)."""
    suffix = "" if head == "weights" else f"_{head}"
    return f"{model.name}_t{n_timesteps}{suffix}.pt"


def pretrained_path(model: SymbolicModel, n_timesteps: int, head: str = "weights"):
    """Path of the shipped weights for ``model`` at ``n_timesteps``, or None."""
    if _PRETRAINED_MODELS.get(model.name) is not type(model):
        return None
    path = resources.files("sklearn_r2t") / "weights" / weights_filename(model, n_timesteps, head)
    return path if path.is_file() else None


def _model_identity(model: SymbolicModel) -> dict:
    """What a weight file must match: the model and its parameter box and scaling."""
    return {
        "model": model.name,
        "model_class": type(model).__name__,
        "param_names": list(model.param_names),
        "bounds": model.bounds.tolist(),
        "output_range": model.output_range.tolist(),
        "window_hours": float(model.window_hours),
    }


def _weights_digest(meta: dict, state: dict) -> str:
    """SHA-256 of the metadata (canonical JSON) and every tensor's name, dtype, shape, bytes."""
    digest = hashlib.sha256(json.dumps(meta, sort_keys=True).encode())
    for key in sorted(state):
        tensor = state[key].detach().cpu().contiguous()
        digest.update(f"{key}|{tensor.dtype}|{tuple(tensor.shape)}|".encode())
        digest.update(tensor.numpy().tobytes())
    return digest.hexdigest()


def weights_payload(model: SymbolicModel, n_timesteps: int, architecture: dict,
                    state_dict: dict, head: str = "weights", **extra) -> dict:
    """The content of a weight file: tensors, model identity, architecture, checksum.

    ``extra`` (e.g. held-out metrics) must be JSON-serialisable; it is covered by
    the checksum too. Save the result with ``torch.save``.
    """
    state = {k: v.detach().cpu().clone() for k, v in state_dict.items()}
    meta = {"format": WEIGHTS_FORMAT, "format_version": WEIGHTS_VERSION,
            **_model_identity(model), "n_timesteps": int(n_timesteps),
            "head": head, "architecture": {k: int(v) for k, v in architecture.items()},
            **extra}
    return {**meta, "state_dict": state, "sha256": _weights_digest(meta, state)}


def load_weights(path, model: SymbolicModel, n_timesteps: int) -> dict:
    """Read a weight file and check it against ``model`` and ``n_timesteps``.

    Raises :class:`WeightsError` (a ``ValueError``) naming the problem when the file
    is damaged or not a weight file, its checksum does not match its content, it
    was made for another model, bounds, scaling or sequence length, or it holds
    non-finite values. Only tensors and plain types are unpickled
    (``weights_only=True``).
    """
    name = Path(str(path)).name
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # zip, pickle and EOF errors alike; torch's own message
        # would suggest weights_only=False, which is unsafe on an untrusted file.
        raise WeightsError(
            f"cannot read the weight file {name}: it is damaged or not a sklearn_r2t "
            f"weight file ({type(exc).__name__})"
        ) from None
    if not isinstance(payload, dict) or payload.get("format") != WEIGHTS_FORMAT:
        raise WeightsError(f"{name} is not a sklearn_r2t weight file (format tag "
                           f"{WEIGHTS_FORMAT!r} missing)")
    if payload.get("format_version") != WEIGHTS_VERSION:
        raise WeightsError(f"{name} has format version {payload.get('format_version')!r}; "
                           f"this sklearn_r2t reads version {WEIGHTS_VERSION}")
    state = payload.get("state_dict")
    if not isinstance(state, dict) or not all(
            isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in state.items()):
        raise WeightsError(f"{name} has no valid state_dict of named tensors")
    meta = {k: v for k, v in payload.items() if k not in ("state_dict", "sha256")}
    try:
        digest = _weights_digest(meta, state)
    except (TypeError, ValueError, RuntimeError) as exc:
        raise WeightsError(f"{name} has metadata or tensors that cannot be checked "
                           f"({type(exc).__name__})") from None
    if payload.get("sha256") != digest:
        raise WeightsError(f"{name} fails its checksum: the file was altered or damaged")
    expected = {**_model_identity(model), "n_timesteps": int(n_timesteps)}
    wrong = [f"{k}: file {payload.get(k)!r}, expected {v!r}" for k, v in expected.items()
             if payload.get(k) != v]
    if wrong:
        raise WeightsError(f"{name} was made for another model or sequence length ("
                           + "; ".join(wrong) + ")")
    bad = [k for k, v in state.items() if v.is_floating_point() and not torch.isfinite(v).all()]
    if bad:
        raise WeightsError(f"{name} holds non-finite weights in {', '.join(bad[:5])}")
    return payload


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


_REFINE_WEIGHTS = (0.0, 0.25, 0.5, 0.75, 1.0)


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


def _network_params(module, model, X, batch_size=_INFERENCE_BATCH, return_std=False):
    """The network's parameters for ``(n, T, C)`` sequences, encoded batch by batch,
    and with ``return_std`` their uncalibrated standard errors (weighted head only).

    Encoding a batch at a time keeps memory flat: the float32 copies of the input
    never exist for the whole array at once. Batches are small because attention
    stores ``batch * n_heads * T * T`` floats (600 MB at 4096 sequences of 96 steps),
    and small batches are also faster on a CPU (:data:`_INFERENCE_BATCH`).
    """
    weighted = isinstance(module, WeightedSolveNet)
    out = np.empty((len(X), model.n_params))
    std = np.empty((len(X), model.n_params)) if return_std else None
    for sl, x, pred in _forward_batches(module, model, X, batch_size):
        if weighted:
            out[sl], s = _weighted_solve_params(module, x.double(), pred, return_std)
            if return_std:
                std[sl] = s
        else:
            out[sl] = pred["params"].double().cpu().numpy()
    return (out, std) if return_std else out


def _forward_batches(module, model, X, batch_size=_INFERENCE_BATCH):
    """``(rows, x, prediction)`` per batch of ``(n, T, C)`` sequences, in inference
    mode on the module's device; ``x`` is the encoded input."""
    device = next(module.parameters()).device
    with torch.inference_mode():
        for start in range(0, len(X), batch_size):
            x, observed = (torch.from_numpy(a).to(device)
                           for a in encode_sequences(model, X[start : start + batch_size]))
            yield slice(start, start + batch_size), x, module(x, observed)


def _weighted_solve_params(module, x, pred, return_std):
    """Parameters from the network's weights by a float64 weighted solve, and their
    standard errors from its sandwich covariance by the delta method.

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
        if not return_std:
            return boxed, None
        curve, J = module.jacobian(params)
        cov = weighted_lstsq_cov(J, x.flatten(1) - curve, weights.flatten(1))
        return boxed, cov.diagonal(dim1=1, dim2=2).clamp_min(0).sqrt().cpu().numpy()
    thetas, curve = module.solve(x, weights)
    params, stds = [], []
    for c, (m, theta) in enumerate(zip(module.components, thetas, strict=True)):
        span = module.span[c]
        theta_phys = theta.cpu().numpy() * span
        # Into the box, as every estimator here returns them (a solve can leave it).
        params.append(m.project(m.params_from_linear(theta_phys)))
        if return_std:
            cov = weighted_lstsq_cov(module.bases()[c].double(), x[..., c] - curve[..., c],
                                     weights[..., c])
            stds.append(_delta_method_std(m, theta_phys, cov.cpu().numpy() * span**2))
    return np.concatenate(params, axis=1), (np.concatenate(stds, axis=1) if return_std else None)


def _delta_method_std(model, theta, cov, rel_step=1e-6):
    """Standard errors of ``model.params_from_linear(theta)`` given ``cov`` of theta,
    with the Jacobian by central differences (circular for angles)."""
    n, K = theta.shape
    h = rel_step * np.maximum(np.abs(theta).max(axis=1, keepdims=True), 1e-6)
    J = np.empty((n, model.n_params, K))
    for k in range(K):
        step = np.zeros_like(theta)
        step[:, k] = h[:, 0]
        up, down = model.params_from_linear(theta + step), model.params_from_linear(theta - step)
        diff = up - down
        for j, period in enumerate(model.param_periods):
            if period is not None:
                diff[:, j] = circular_difference(up[:, j], down[:, j], period)
        J[:, :, k] = diff / (2 * h)
    return np.sqrt(np.einsum("npk,nkl,npl->np", J, cov, J).clip(0))


def _refined(model, X, params, refine):
    from ._least_squares import fit_sequences

    loss = "cauchy" if refine is True else refine
    return fit_sequences(model, X, loss=loss, f_scale="auto", x0=params, n_restarts=1)


def _calibrate_refine(module, model, noise, n_timesteps, refine, seed, n_sequences=256):
    """Blend weight of the refined estimates that does best on synthetic data."""
    from .datasets import make_wearable_sequences

    data = make_wearable_sequences(n_sequences, model=model, noise=noise,
                                   n_timesteps=n_timesteps, random_state=seed)
    X = _as_3d(data.X)
    ok = ~np.isnan(X).all(axis=1).any(axis=1)
    network = _network_params(module, model, X[ok])
    refined = _refined(model, X[ok], network, refine)
    scores = {w: np.median(normalized_mse(
        model, data.X_clean[ok], model.evaluate(blend(model, network, refined, w), n_timesteps)))
        for w in _REFINE_WEIGHTS}
    return min(scores, key=scores.get)


def _calibrate_std(module, model, noise, n_timesteps, seed, n_sequences=2048):
    """Factor per parameter on the sandwich standard errors that makes 90 %
    intervals cover the true parameters 90 % of the time on synthetic data."""
    from .datasets import make_wearable_sequences

    data = make_wearable_sequences(n_sequences, model=model, noise=noise,
                                   n_timesteps=n_timesteps, random_state=seed)
    X = _as_3d(data.X)
    ok = ~all_missing_rows(X)
    params, std = _network_params(module, model, X[ok], return_std=True)
    z = np.abs(parameter_errors(model, data.params[ok], params)) / np.maximum(std, 1e-12)
    scale = np.nanquantile(z, 0.9, axis=0) / _Z90
    return np.where(np.isfinite(scale) & (scale > 0), scale, 1.0)


class _SyntheticStream:
    """Draws clean/corrupted training pairs from the model's prior."""

    def __init__(self, model, noise, n_timesteps, seed):
        from .datasets import make_wearable_sequences

        self._make = make_wearable_sequences
        self.model, self.noise, self.n_timesteps = model, noise, n_timesteps
        self.rng = np.random.RandomState(seed)

    def draw(self, n):
        b = self._make(n, model=self.model, noise=self.noise, n_timesteps=self.n_timesteps,
                       random_state=self.rng)
        x, observed = encode_sequences(self.model, _as_3d(b.X))
        return {"x": x, "observed": observed}, pack_targets(self.model, b.X_clean, b.params,
                                                            b.artefact_mask)


def pack_targets(model, X_clean, params, artefact_mask=None) -> np.ndarray:
    """Clean normalised curve, parameters and inlier mask side by side, one row each.

    The inlier mask (1 where no artefact touched the sample) is NaN where unknown.
    """
    clean, _ = encode_sequences(model, _as_3d(np.asarray(X_clean, dtype=float)))
    clean = clean.reshape(len(clean), -1)
    inlier = (np.full_like(clean, np.nan) if artefact_mask is None
              else 1.0 - _as_3d(artefact_mask).reshape(len(clean), -1).astype(np.float32))
    return np.hstack([clean, params.astype(np.float32), inlier])


def unpack_targets(y, n_curve, n_params, shape):
    """Inverse of :func:`pack_targets` on a batch: clean curve and inlier mask shaped
    like the network's curve ``(B, T, C)``, and the parameters."""
    clean = y[:, :n_curve].reshape(shape)
    return clean, y[:, n_curve : n_curve + n_params], y[:, n_curve + n_params :].reshape(shape)


class _FreshSynthetic(Callback):
    """Replace the training set with new synthetic pairs before every epoch.

    The prior is unlimited, so each epoch sees new data and the net cannot
    overfit a fixed sample. Rows past ``n_synthetic`` (user data given with
    ``use_y=True``) are kept.
    """

    def __init__(self, stream, n_synthetic):
        self.stream, self.n_synthetic = stream, n_synthetic

    def on_epoch_begin(self, net, dataset_train=None, **kwargs):
        if len(net.history) <= 1:  # the first epoch uses the data fit() was given
            return
        X, y = self.stream.draw(self.n_synthetic)
        for key, value in X.items():
            dataset_train.X[key][: self.n_synthetic] = value
        dataset_train.y[: self.n_synthetic] = y


class _ValidMedianMSE(Callback):
    """Record the median per-sequence normalised MSE on the validation set.

    This is the metric the benchmarks report, so early stopping watches it too.
    """

    def __init__(self, X_valid, y_valid, n_curve):
        self.X_valid, self.y_valid, self.n_curve = X_valid, y_valid, n_curve

    def on_epoch_end(self, net, **kwargs):
        net.module_.eval()
        with torch.inference_mode():
            curves = []
            for start in range(0, len(self.y_valid), 2048):
                batch = {k: torch.as_tensor(v[start : start + 2048], device=net.device)
                         for k, v in self.X_valid.items()}
                curves.append(net.module_(**batch)["curve"].flatten(1).cpu().numpy())
        err = (np.concatenate(curves) - self.y_valid[:, : self.n_curve]) ** 2
        net.history.record("valid_median_mse", float(np.median(err.mean(axis=1))))


# Clock of the time budget (a module attribute so that tests can replace it).
_clock = time.perf_counter
# The first steps run at the warm-up floor; with max_time they time the machine.
_PROBE_STEPS = 10


class _StopTraining(Exception):
    """Ends training early (budget spent, early stopping).

    Deliberately not KeyboardInterrupt, which skorch swallows: a user's Ctrl-C must
    reach the user.
    """


class _Interrupted(Exception):
    """Carries a user's KeyboardInterrupt past skorch, which would swallow it."""


class _EarlyStopping(EarlyStopping):
    """skorch's early stopping, ending with _StopTraining instead of KeyboardInterrupt."""

    def on_epoch_end(self, net, **kwargs):
        try:
            super().on_epoch_end(net, **kwargs)
        except KeyboardInterrupt:
            if self.misses_ < self.patience:
                raise  # not ours: the user pressed Ctrl-C
            raise _StopTraining from None


class _StepBudget(Callback):
    """A fixed number of optimiser steps with a one-cycle learning rate over them.

    The learning rate depends only on ``step / total_steps``: a linear warm-up over
    the first 10 %, then a cosine decay to 1 % of the peak. The first
    ``_PROBE_STEPS`` steps run at the 1 % floor; with a time budget they are timed,
    and the total is fixed from that timing (steps and the per-epoch data and
    validation overhead that fit in what is left of ``max_time``, with a 10 %
    margin). After that the clock only matters as a backstop, checked before every
    batch: if the budget runs out anyway, the epoch ends there, is scored, and
    training stops. So a fit under ``max_time`` is reproducible given its step
    count (``n_steps_``); the count itself depends on the machine.

    Training stops, with the last (possibly partial) epoch scored and logged, when
    the steps are spent: the net's training iterator asks :meth:`exhausted` before
    each batch, and the next epoch does not begin.
    """

    def __init__(self, lr, max_steps, steps_per_epoch, max_time=None, start=None,
                 overhead_seconds=0.0, overhead_batches=0):
        self.lr, self.max_steps, self.steps_per_epoch = lr, max_steps, steps_per_epoch
        self.max_time, self.start = max_time, start
        self.overhead_seconds, self.overhead_batches = overhead_seconds, overhead_batches

    def on_train_begin(self, net, **kwargs):
        if self.start is None:
            self.start = _clock()
        self.step_ = 0
        self.total_steps_ = self.max_steps if self.max_time is None else None
        self.out_of_time_ = False
        self._set_lr(net)

    def on_batch_end(self, net, training=False, **kwargs):
        if not training:
            return
        self.step_ += 1
        if self.step_ == 1:
            self.probe_start_ = _clock()
        if self.total_steps_ is None and self.step_ >= min(_PROBE_STEPS, self.max_steps):
            self.total_steps_ = self._steps_in_budget()
        self._set_lr(net)

    def _steps_in_budget(self):
        now = _clock()
        # Time from the end of the first step: the first one pays one-off set-up costs.
        per_step = ((now - self.probe_start_) / (self.step_ - 1) if self.step_ > 1
                    else now - self.start)
        # Each epoch also draws fresh data and runs two validation passes (forward
        # only, about a third of a training step per batch).
        per_epoch = (self.steps_per_epoch * per_step + self.overhead_seconds
                     + self.overhead_batches * per_step / 3)
        remaining = self.start + self.max_time - now
        more = int(0.9 * max(remaining, 0.0) / per_epoch * self.steps_per_epoch)
        return max(self.step_, min(self.max_steps, self.step_ + more))

    def _set_lr(self, net):
        if self.step_ < _PROBE_STEPS or self.total_steps_ is None:
            lr = 0.01 * self.lr
        else:
            progress, warm = min(self.step_ / self.total_steps_, 1.0), 0.1
            if progress < warm:
                lr = self.lr * max(progress / warm, 0.01)
            else:
                cosine = 0.5 * (1 + math.cos(math.pi * (progress - warm) / (1 - warm)))
                lr = self.lr * (0.01 + 0.99 * cosine)
        for group in net.optimizer_.param_groups:
            group["lr"] = lr

    def exhausted(self):
        if self.total_steps_ is not None and self.step_ >= self.total_steps_:
            return True
        if self.max_time is not None and _clock() - self.start >= self.max_time:
            self.out_of_time_ = True
            return True
        return False

    def on_epoch_begin(self, net, **kwargs):
        # Stop here rather than at the previous epoch's end, so that every end-of-epoch
        # callback (validation, early stopping, skorch's log) has seen that epoch.
        if self.step_ and self.exhausted():
            net.history.pop()  # skorch opened this epoch's row; it never runs
            raise _StopTraining

    def on_epoch_end(self, net, **kwargs):
        net.history.record("lr", net.optimizer_.param_groups[0]["lr"])
        net.history.record("steps", self.step_)


class _Until:
    """Re-iterable batches that end when ``stop()`` says the step budget is spent.

    skorch builds the training iterator once and loops over it every epoch.
    """

    def __init__(self, batches, stop):
        self.batches, self.stop = batches, stop

    def __iter__(self):
        for batch in self.batches:
            if self.stop():
                return
            yield batch


class _DualLossNet(NeuralNet):
    """skorch net with the R2T loss: terms over dynamic denominators.

    The module scores itself (``loss_terms``): a reconstruction term (the
    criterion, MSE by default, between decoded and clean curves), a parameter
    term and, for the weighted head, a term on the generator's artefact mask;
    one set per pass (earlier passes count half). Each training term is divided
    by a running average of itself (the paper's "dynamic denominators"), which
    keeps every term near 1 so none dominates as their scales drift apart, and
    weighted by ``loss_weights``. Validation loss is the plain sum of the last
    pass's curve and parameter MSEs: a fixed yardstick across epochs.
    """

    def __init__(self, *args, n_curve, n_params, loss_weights, ema_decay=0.98, **kwargs):
        super().__init__(*args, **kwargs)
        self.n_curve, self.n_params = n_curve, n_params
        self.loss_weights = loss_weights
        self.ema_decay = ema_decay

    def initialize(self):
        self.loss_ema_ = {}
        return super().initialize()

    def get_iterator(self, dataset, training=False):
        iterator = super().get_iterator(dataset, training=training)
        if not training:
            return iterator
        return _Until(iterator, dict(self.callbacks_)["budget"].exhausted)

    def fit_loop(self, X, y=None, **fit_params):
        try:
            return super().fit_loop(X, y, **fit_params)
        except _StopTraining:
            return self
        except KeyboardInterrupt as exc:
            # skorch's partial_fit would swallow it and call the model trained.
            raise _Interrupted from exc

    def get_loss(self, y_pred, y_true, X=None, training=False):
        clean, params, inlier = unpack_targets(y_true.to(y_pred["curve"].dtype),
                                               self.n_curve, self.n_params,
                                               y_pred["curve"].shape)
        per_pass = self.module_.loss_terms(y_pred, clean, params, inlier)
        total = {}
        for k, terms in enumerate(per_pass):
            factor = 1.0 if k == len(per_pass) - 1 else 0.5
            for name, value in terms.items():
                if name == "reconstruction":
                    # The criterion (MSE unless the user gave one) drives training;
                    # the plain MSE is what we record and validate on.
                    value = (self.criterion_(value.flatten(), clean.flatten()) if training
                             else (value - clean).pow(2).mean())
                total[name] = total.get(name, 0.0) + factor * value
        last = per_pass[-1]
        rec_mse = (last["reconstruction"] - clean).pow(2).mean()
        self.history.record_batch("rec_mse", rec_mse.item())
        self.history.record_batch("par_mse", last["parameters"].item())
        if "mask" in last:
            self.history.record_batch("mask_bce", last["mask"].item())
        if not training:
            return rec_mse + last["parameters"]
        loss = 0.0
        for name, value in total.items():
            weight = self.loss_weights.get(name, 0.0)
            ema = self.loss_ema_.get(name)
            current = value.detach()
            self.loss_ema_[name] = current if ema is None else (
                self.ema_decay * ema + (1 - self.ema_decay) * current)
            if weight:
                loss = loss + weight * value / self.loss_ema_[name].clamp_min(1e-12)
        return loss


class R2TRegressor(TransformerMixin, BaseEstimator):
    """Robust Regression Transformer: symbolic parameters from noisy sequences.

    A small transformer encoder reads a noisy, possibly incomplete sequence and a
    fixed symbolic equation (:mod:`sklearn_r2t.symbolic`) reconstructs the clean
    curve from the parameters it yields. Two heads turn the encoding into
    parameters:

    - ``head="weights"`` (default): the encoder predicts how much to trust each
      sample, an exact weighted least-squares solve on the model's linear basis
      gives the parameters, and a second pass that sees the first fit's
      residuals re-weights and solves again (learned IRLS). It also gives
      standard errors (``transform(X, return_std=True)``).
    - ``head="parameters"``: the paper's design, dense layers regress the
      parameters directly.

    The network trains only on synthetic data: parameters drawn from the model's
    physiological prior, curves from the equation, then structured noise
    (:mod:`sklearn_r2t.noise`), by default a curriculum from clean to about two
    thirds of the samples touched. Its loss is reconstruction MSE plus parameter
    MSE (plus, for the weighted head, cross-entropy on the generator's artefact
    mask) with dynamic denominators. Shipped weights of both heads for the
    built-in models at 96 time steps make ``fit`` instant; other models and
    lengths train from scratch.

    Parameters
    ----------
    model : SymbolicModel, default=None
        The symbolic equation; ``None`` means :class:`~sklearn_r2t.symbolic.HeartRate`.
    noise : str or callable, default="curriculum"
        Training noise: a preset name of :func:`sklearn_r2t.noise.make_noise` or a
        corruption object. Checked by ``fit`` even when the shipped weights are
        used. The shipped weighted-head weights were trained on ``"curriculum"``,
        the parameter-head ones on ``"combined"``.
    head : {"weights", "parameters"}, default="weights"
        How parameters come out of the encoder: learned sample weights and an
        exact weighted solve, or the paper's direct regression (see above). The
        weighted head solves in closed form on the model's linear basis
        (``SymbolicModel.linear_basis``; every built-in model has one), and takes
        weighted Gauss-Newton steps from a first estimate of the paper's head for
        a model without one.
    n_passes : int, default=2
        Weighted head: weight-and-solve passes, each with its own encoder; every
        pass after the first also reads the previous fit's residuals.
    d_model : int, default=32
        Width of the encoder. The paper uses 192 with 16 heads; the shipped
        weights use 32 with 4 heads, which trains about 10x faster on a CPU (see
        the docs for the trade-off).
    n_heads : int, default=4
        Attention heads (must divide ``d_model``).
    n_layers : int, default=1
        Encoder layers.
    dim_feedforward : int, default=64
        Hidden width of the encoder's feed-forward block.
    step_features : int, default=8
        Paper's head (also the weighted head's first estimate for a model without a
        linear basis): features kept per time step before flattening.
    hidden_size : int, default=128
        Paper's head, as ``step_features``: width of the dense compression layers.
    n_synthetic : int, default=16384
        Synthetic sequences drawn per epoch (fresh every epoch).
    max_epochs : int, default=40
        Epochs when training (from scratch, or when fine-tuning). Must be at least
        1 whenever the network trains (0 would return an untrained network).
    max_steps : int, default=None
        Cap on the optimiser steps (batches). The learning-rate schedule spans
        ``min(max_epochs * steps per epoch, max_steps)`` steps, or fewer under
        ``max_time``; the last epoch may be partial, and is scored. A fit with
        ``max_steps=est.n_steps_`` and ``max_time=None`` repeats a fit made under
        ``max_time`` on any machine that computes the same floating-point results.
    batch_size : int, default=256
    lr : float, default=2e-3
        Peak learning rate of the one-cycle schedule (AdamW).
    weight_decay : float, default=1e-4
    mask_ratio : float, default=0.1
        Fraction of input steps hidden at random during training.
    reconstruction_loss : torch.nn.Module, default=None
        Training loss between the decoded and the clean normalised curves, called
        on flattened tensors; None is the mean squared error. E.g.
        :class:`~sklearn_r2t.ASRLLoss` for a robust reconstruction term (useful
        with ``use_y=True`` when the user's "clean" curves are themselves noisy).
    loss_weights : dict, default=None
        Weight of each training loss term (each already divided by its running
        average): ``"reconstruction"``, ``"parameters"`` and, for the weighted
        head, ``"mask"``; ``None`` weighs every term 1. Terms left out weigh 0.
    patience : int, default=8
        Early stopping: epochs without improvement of the validation median MSE.
    max_time : float, default=None
        Training time budget in seconds, counted from the first synthetic draw.
        The first 10 steps are timed, and the number of steps that fit in the
        rest of the budget (with a 10 % margin) becomes the schedule's length
        (``n_steps_``); the learning rate then depends on steps only, never on the
        clock. The clock is checked again before every batch as a backstop: if
        the machine slows down and the budget runs out, training ends there with
        a warning, after scoring that last (partial) epoch. ``max_epochs`` and
        ``max_steps`` still cap it. What stays machine-dependent is the step
        count, and floating-point results across CPUs and thread counts. Refine
        calibration (``refine``) runs after the budget.
    pretrained : {"auto", True, False}, default="auto"
        Use the shipped weights. ``"auto"`` uses them when they exist for the
        model, the sequence length and the architecture, and trains from scratch
        otherwise; ``True`` raises if they do not exist. Each file records the
        model, its bounds and scaling, the architecture and the sequence length,
        with a SHA-256 checksum; loading checks all of them and refuses non-finite
        weights. A shipped file that is missing or fails a check raises with
        ``True``; with ``"auto"`` it gives a warning and a training from scratch
        bounded by ``max_time`` or 300 seconds, whichever is shorter.
    fine_tune : bool, default=False
        With pretrained weights, continue training for ``max_epochs`` (at a tenth
        of ``lr``) instead of using them as they are.
    use_y : bool, default=False
        If True, ``fit(X, y)`` adds the user's sequences with their known
        parameters ``y`` to every training epoch (supervised fine-tuning). By
        default ``y`` is ignored, so a GridSearchCV can pass known parameters
        to a scorer without leaking them into training.
    refine : bool or str, default=False
        Polish each estimate with a robust least-squares fit started from it
        (True: Cauchy loss with a MAD-based scale; a string names another
        ``scipy.optimize.least_squares`` loss), then blend the two:
        ``(1 - w) * r2t + w * refined`` (circularly for angles). ``fit`` picks
        ``w`` in {0, 0.25, 0.5, 0.75, 1} on 256 fresh synthetic sequences from
        the training noise (``refine_weight_``). A plain local fit is not always
        better: under one-sided noise the M-estimator is biased, and where the
        network already beats it (SpO2) full refinement made things worse.
    device : {"cpu", "cuda", "auto"}, default="cpu"
    random_state : int, RandomState instance or None, default=None
        Seeds the synthetic data, weight initialisation and masking.
    verbose : int, default=0
        0 silent; 1 progress bar and epoch table while training.

    Attributes
    ----------
    model_ : SymbolicModel
        The validated symbolic model.
    module_ : WeightedSolveNet or R2TNet
        The trained torch network (in eval mode).
    history_ : list of dict
        skorch's per-epoch history (losses, ``valid_median_mse``, durations);
        empty when pretrained weights were used as they are.
    pretrained_ : bool
        Whether shipped weights were loaded.
    refine_weight_ : float or None
        Blend weight of the refined estimate (only when ``refine`` is set).
    std_scale_ : ndarray of shape (n_params,) or None
        Weighted head: factor on each parameter's sandwich standard error that
        makes 90 % intervals cover the truth 90 % of the time on 2,048 fresh
        synthetic sequences from the training noise (shipped weights used as they
        are, with their training noise: the factor stored in the file, from 16,384
        sequences). None for the parameter head.
    n_timesteps_ : int
        Sequence length seen in fit.
    n_features_in_ : int
        Number of time steps (scikit-learn's convention for X's second axis).
    n_steps_ : int
        Optimiser steps the learning-rate schedule spanned (0 without training).
    fit_time_ : float
        Seconds spent in fit.

    See Also
    --------
    SymbolicLeastSquares : Classical robust least-squares fit of the same model.
    sklearn_r2t.symbolic.HeartRate : The default symbolic model.

    Examples
    --------
    >>> from sklearn_r2t import R2TRegressor
    >>> from sklearn_r2t.datasets import make_wearable_sequences
    >>> data = make_wearable_sequences(100, noise="combined", random_state=0)
    >>> r2t = R2TRegressor().fit(data.X)
    >>> r2t.transform(data.X).shape
    (100, 3)
    >>> params, std = r2t.transform(data.X, return_std=True)
    >>> lower, upper = params - 1.645 * std, params + 1.645 * std  # 90 % intervals
    """

    _parameter_constraints = {
        "d_model": [Interval(Integral, 4, None, closed="left")],
        "n_heads": [Interval(Integral, 1, None, closed="left")],
        "n_layers": [Interval(Integral, 1, None, closed="left")],
        "dim_feedforward": [Interval(Integral, 1, None, closed="left")],
        "head": [StrOptions({"weights", "parameters"})],
        "n_passes": [Interval(Integral, 1, None, closed="left")],
        "step_features": [Interval(Integral, 1, None, closed="left")],
        "hidden_size": [Interval(Integral, 1, None, closed="left")],
        "n_synthetic": [Interval(Integral, 2, None, closed="left")],
        "max_epochs": [Interval(Integral, 0, None, closed="left")],
        "max_steps": [Interval(Integral, 1, None, closed="left"), None],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "lr": [Interval(Real, 0, None, closed="neither")],
        "weight_decay": [Interval(Real, 0, None, closed="left")],
        "mask_ratio": [Interval(Real, 0, 1, closed="left")],
        "reconstruction_loss": [torch.nn.Module, None],
        "loss_weights": [dict, None],
        "patience": [Interval(Integral, 1, None, closed="left")],
        "max_time": [Interval(Real, 0, None, closed="neither"), None],
        "pretrained": ["boolean", StrOptions({"auto"})],
        "fine_tune": ["boolean"],
        "use_y": ["boolean"],
        "refine": ["boolean", StrOptions({"linear", "huber", "soft_l1", "cauchy", "arctan"})],
        "device": [StrOptions({"cpu", "cuda", "auto"})],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        model: SymbolicModel | None = None,
        *,
        noise="curriculum",
        head: str = "weights",
        n_passes: int = 2,
        d_model: int = 32,
        n_heads: int = 4,
        n_layers: int = 1,
        dim_feedforward: int = 64,
        step_features: int = 8,
        hidden_size: int = 128,
        n_synthetic: int = 16384,
        max_epochs: int = 40,
        max_steps: int | None = None,
        batch_size: int = 256,
        lr: float = 2e-3,
        weight_decay: float = 1e-4,
        mask_ratio: float = 0.1,
        reconstruction_loss: torch.nn.Module | None = None,
        loss_weights: dict | None = None,
        patience: int = 8,
        max_time: float | None = None,
        pretrained="auto",
        fine_tune: bool = False,
        use_y: bool = False,
        refine=False,
        device: str = "cpu",
        random_state=None,
        verbose: int = 0,
    ):
        self.model = model
        self.noise = noise
        self.head = head
        self.n_passes = n_passes
        self.d_model = d_model
        self.n_heads = n_heads
        self.n_layers = n_layers
        self.dim_feedforward = dim_feedforward
        self.step_features = step_features
        self.hidden_size = hidden_size
        self.n_synthetic = n_synthetic
        self.max_epochs = max_epochs
        self.max_steps = max_steps
        self.batch_size = batch_size
        self.lr = lr
        self.weight_decay = weight_decay
        self.mask_ratio = mask_ratio
        self.reconstruction_loss = reconstruction_loss
        self.loss_weights = loss_weights
        self.patience = patience
        self.max_time = max_time
        self.pretrained = pretrained
        self.fine_tune = fine_tune
        self.use_y = use_y
        self.refine = refine
        self.device = device
        self.random_state = random_state
        self.verbose = verbose

    # ------------------------------------------------------------------ fitting
    def fit(self, X, y=None):
        """Train on synthetic data (or load the shipped weights).

        Nothing on the estimator changes until the fit has succeeded: a fit that
        raises, or that the user interrupts (Ctrl-C propagates), leaves the
        previous fitted state, or none, as it was.

        Parameters
        ----------
        X : array-like of shape (n_sequences, n_timesteps) or (n, n_timesteps, n_channels)
            Sequences; fixes and checks the sequence length and channels. NaN
            marks missing samples. Not used for training unless ``use_y=True``.
        y : array-like of shape (n_sequences, n_params), default=None
            Known parameters. Ignored unless ``use_y=True``.

        Returns
        -------
        self : R2TRegressor
        """
        self._validate_params()
        start = time.perf_counter()
        model = check_model(HeartRate() if self.model is None else self.model)
        if self.d_model % self.n_heads:
            raise ValueError(
                f"d_model={self.d_model} must be divisible by n_heads={self.n_heads}."
            )
        # The noise is used only when training, but a bad one is a bad setting anyway.
        make_noise(self.noise, model)
        loss_weights = self._check_loss_weights()
        # validate_data records n_features_in_ on the estimator it is given: give it
        # a copy, so that self changes only once the whole fit has succeeded.
        staged = copy.copy(self)
        X = validate_sequences(staged, X, model, reset=True)
        y = self._check_y(y, X, model)
        n_timesteps = X.shape[1]
        device = self._torch_device()
        rng = check_random_state(self.random_state)
        seeds = rng.randint(np.iinfo(np.int32).max, size=4)
        history, n_steps = [], 0
        # A private torch RNG: seeded runs repeat exactly, and the caller's global
        # torch random state is left as it was (also when the fit fails).
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(int(seeds[0]))
            module = self._build_module(model, n_timesteps)
            payload, max_time = self._pretrained_weights(model, n_timesteps, module)
            pretrained = payload is not None
            if pretrained:
                module.load_state_dict(payload["state_dict"])
            trained = not pretrained or self.fine_tune or y is not None
            if trained:
                if self.max_epochs == 0:
                    raise ValueError(
                        "max_epochs=0 would return an untrained network: "
                        + ("fine-tuning or use_y needs max_epochs >= 1."
                           if pretrained else
                           "no pretrained weights are used here "
                           f"(pretrained={self.pretrained!r}), so training needs "
                           "max_epochs >= 1.")
                    )
                lr = self.lr / 10 if pretrained else self.lr
                history, n_steps = self._train(module, model, n_timesteps, X, y, lr, seeds,
                                               device, max_time, loss_weights)
        module = module.to(device).eval()
        refine_weight = (_calibrate_refine(module, model, self.noise, n_timesteps,
                                           self.refine, int(seeds[3]))
                         if self.refine else None)
        std_scale = None
        if self.head == "weights":
            # The shipped files carry their calibration on their training noise: the
            # default fit stays instant.
            shipped = (payload or {}).get("calibration", {})
            std_scale = (np.asarray(shipped["std_scale"])
                         if not trained and shipped.get("noise") == self.noise
                         else _calibrate_std(module, model, self.noise, n_timesteps,
                                             int(seeds[3])))
        # Everything succeeded: only now does the estimator change.
        self.model_ = model
        self.module_ = module
        self.n_timesteps_ = n_timesteps
        self.pretrained_ = pretrained
        self.history_ = history
        self.n_steps_ = n_steps
        self.refine_weight_ = refine_weight
        self.std_scale_ = std_scale
        self.n_features_in_ = staged.n_features_in_
        if hasattr(staged, "feature_names_in_"):
            self.feature_names_in_ = staged.feature_names_in_
        elif hasattr(self, "feature_names_in_"):
            del self.feature_names_in_
        self.fit_time_ = time.perf_counter() - start
        return self

    def _build_module(self, model, n_timesteps):
        arch = {k: getattr(self, k) for k in _ARCHITECTURE[self.head]}
        if self.head == "weights":
            return WeightedSolveNet(model, n_timesteps, mask_ratio=self.mask_ratio, **arch)
        return R2TNet(model, n_timesteps, mask_ratio=self.mask_ratio, **arch)

    def _check_loss_weights(self):
        terms = _LOSS_TERMS[self.head]
        if self.loss_weights is None:
            return dict.fromkeys(terms, 1.0)
        unknown = set(self.loss_weights) - set(terms)
        if unknown:
            raise ValueError(f"loss_weights has unknown terms {sorted(unknown)}; "
                             f"head={self.head!r} has {list(terms)}.")
        weights = {}
        for k, v in self.loss_weights.items():
            if isinstance(v, bool) or not isinstance(v, Real) or not 0 <= v < math.inf:
                raise ValueError(f"loss_weights[{k!r}] must be a finite number >= 0, got {v!r}.")
            weights[k] = float(v)
        if not any(weights.values()):
            raise ValueError("loss_weights gives every term weight 0: nothing would train.")
        return weights

    def _check_y(self, y, X, model):
        if y is None or not self.use_y:
            return None
        y = check_array(y, dtype=np.float64, input_name="y")
        if y.shape != (X.shape[0], model.n_params):
            raise ValueError(
                f"y must hold the known parameters, shape (n_sequences, {model.n_params}) "
                f"= {(X.shape[0], model.n_params)}, got {y.shape}."
            )
        # The network predicts inside the bounds only (angles: any value, mod the
        # period). A little outside is clipped to them in training; far outside is a
        # unit or column mix-up, or bounds that do not fit the data.
        lo, hi = model.bounds.T
        slack = 0.1 * (hi - lo)
        far = ~model.angular_mask & ((y < lo - slack) | (y > hi + slack)).any(axis=0)
        if far.any():
            cols = ", ".join(
                f"{model.param_names[j]} in [{y[:, j].min():.4g}, {y[:, j].max():.4g}] vs "
                f"bounds [{lo[j]:.4g}, {hi[j]:.4g}]" for j in np.flatnonzero(far))
            raise ValueError(
                f"use_y=True: y has parameters far outside the model's bounds ({cols}). "
                "R2T predicts within the bounds; values up to 10 % of a bound's width "
                "outside are clipped to it. Check y's column order and units, or widen "
                "the model's bounds."
            )
        if np.abs(y).max() > FLOAT32_MAX:
            raise ValueError("use_y=True: y has values beyond the float32 range the "
                             "network computes in.")
        return y

    def _torch_device(self):
        if self.device == "auto":
            return "cuda" if torch.cuda.is_available() else "cpu"
        if self.device == "cuda" and not torch.cuda.is_available():
            raise ValueError("device='cuda' was requested but torch finds no CUDA device.")
        return self.device

    def _pretrained_weights(self, model, n_timesteps, module):
        """The shipped weight file's content to start from (or None), and the training
        time budget.

        A missing or unusable file that the package ships is an error with
        ``pretrained=True``; with ``"auto"`` it is a warning and a training from
        scratch bounded by ``_FALLBACK_MAX_TIME`` seconds.
        """
        if self.pretrained is False:
            return None, self.max_time
        path = pretrained_path(model, n_timesteps, self.head)
        broken = None  # why a file that should be usable is not
        if path is None:
            reason = (f"none are shipped for {type(model).__name__} at "
                      f"n_timesteps={n_timesteps}")
            if ((model.name, n_timesteps) in _SHIPPED
                    and _PRETRAINED_MODELS.get(model.name) is type(model)):
                broken = (f"the shipped file {weights_filename(model, n_timesteps, self.head)}"
                          " is missing")
        else:
            try:
                payload = load_weights(path, model, n_timesteps)
            except WeightsError as exc:
                broken = str(exc)
            else:
                mismatch = {k: (getattr(self, k), v) for k, v in payload["architecture"].items()
                            if getattr(self, k) != v}
                expected = {k: tuple(v.shape) for k, v in module.state_dict().items()}
                found = {k: tuple(v.shape) for k, v in payload["state_dict"].items()}
                if payload.get("head") != self.head:
                    broken = f"{path.name} holds the {payload.get('head')!r} head"
                elif mismatch:
                    reason = ("the architecture differs from the shipped one "
                              f"{{name: (yours, shipped)}}: {mismatch}")
                elif found != expected:
                    broken = f"{path.name} does not fit the network's tensors"
                else:
                    return payload, self.max_time
        if broken:
            reason = broken
        if self.pretrained is True:
            raise ValueError(f"pretrained=True but {reason}; use pretrained='auto' or False.")
        if broken:
            budget = min(self.max_time or math.inf, _FALLBACK_MAX_TIME)
            warnings.warn(
                f"Shipped weights not used: {broken}. Training from scratch instead, "
                f"within max_time={budget:g} s; reinstall sklearn_r2t to get the weights "
                "back.", UserWarning, stacklevel=3)
            return None, budget
        if self.verbose:
            print(f"No pretrained weights: {reason}; training from scratch.")
        return None, self.max_time

    def _train(self, module, model, n_timesteps, X, y, lr, seeds, device, max_time,
               loss_weights):
        """Train ``module`` in place; return (history, number of steps planned)."""
        clock_start = _clock()
        stream = _SyntheticStream(model, self.noise, n_timesteps, int(seeds[1]))
        X_train, y_train = stream.draw(self.n_synthetic)
        draw_seconds = _clock() - clock_start
        if y is not None:
            x_user, observed_user = encode_sequences(model, X)
            X_train = {"x": np.concatenate([X_train["x"], x_user]),
                       "observed": np.concatenate([X_train["observed"], observed_user])}
            y_train = np.vstack([y_train, pack_targets(model, model.evaluate(y, n_timesteps), y)])
        valid_stream = _SyntheticStream(model, self.noise, n_timesteps, int(seeds[2]))
        X_valid, y_valid = valid_stream.draw(max(256, min(1024, self.n_synthetic // 8)))
        n_curve = n_timesteps * model.n_channels
        steps_per_epoch = math.ceil(len(y_train) / self.batch_size)
        max_steps = self.max_epochs * steps_per_epoch
        if self.max_steps is not None:
            max_steps = min(max_steps, self.max_steps)
        budget = _StepBudget(
            lr, max_steps, steps_per_epoch, max_time=max_time, start=clock_start,
            overhead_seconds=draw_seconds,
            overhead_batches=2 * math.ceil(len(y_valid) / self.batch_size),
        )
        callbacks = [
            # First: at an epoch's start it stops training before new data is drawn.
            ("budget", budget),
            ("fresh_synthetic", _FreshSynthetic(stream, self.n_synthetic)),
            ("valid_median_mse", _ValidMedianMSE(X_valid, y_valid, n_curve)),
            ("clip", GradientNormClipping(gradient_clip_value=1.0)),
            ("early_stopping", _EarlyStopping(monitor="valid_median_mse",
                                              patience=self.patience, load_best=True)),
        ]
        if self.verbose:
            callbacks.append(("progress", ProgressBar()))
        net = _DualLossNet(
            module=module,
            criterion=self.reconstruction_loss or torch.nn.MSELoss,
            optimizer=torch.optim.AdamW,
            optimizer__weight_decay=self.weight_decay,
            lr=lr,
            max_epochs=self.max_epochs,
            batch_size=self.batch_size,
            train_split=predefined_split(Dataset(X_valid, y_valid)),
            iterator_train__shuffle=True,
            callbacks=callbacks,
            device=device,
            verbose=int(self.verbose > 0),
            n_curve=n_curve,
            n_params=model.n_params,
            loss_weights=loss_weights,
        )
        try:
            net.fit(X_train, y_train)
        except _Interrupted as exc:
            raise exc.__cause__ from None
        planned = budget.total_steps_ if budget.total_steps_ is not None else budget.step_
        if budget.out_of_time_ and budget.step_ < planned:
            warnings.warn(
                f"max_time={max_time:g} s ran out after {budget.step_} of the {planned} "
                "training steps planned from the first steps' timing (the machine got "
                "slower); the learning-rate schedule was cut short, so max_steps cannot "
                "repeat this fit exactly.", UserWarning, stacklevel=3)
            planned = budget.step_
        return [dict(h, batches=None) for h in net.history], planned

    # --------------------------------------------------------------- inference
    def transform(self, X, return_std: bool = False):
        """Estimate the symbolic parameters of each sequence.

        Parameters
        ----------
        X : array-like of shape (n_sequences, n_timesteps) or (n, n_timesteps, n_channels)
            NaN marks missing samples.
        return_std : bool, default=False
            Also return each parameter's standard error (weighted head only): the
            weighted solve's sandwich covariance through the delta method, times
            the calibration factor ``std_scale_``. ``params +- 1.645 * std`` is a
            90 % interval (for an angle, modulo its period). With ``refine`` the
            standard errors remain those of the network's weighted solve.

        Returns
        -------
        params : ndarray of shape (n_sequences, n_params)
            In physical units (``model_.param_units``); NaN for a sequence with a
            channel that is entirely missing.
        std : ndarray of shape (n_sequences, n_params)
            Only with ``return_std=True``.
        """
        check_is_fitted(self)
        if return_std and getattr(self, "std_scale_", None) is None:
            raise ValueError("return_std=True needs head='weights': the parameter head "
                             "has no covariance to give standard errors from.")
        X = validate_sequences(self, X, self.model_, reset=False)
        if self.refine and getattr(self, "refine_weight_", None) is None:
            raise ValueError("refine was switched on after fit: call fit again, which "
                             "calibrates the refine step (refine_weight_).")
        # A sequence with a whole channel missing gets NaN for every parameter, also
        # in multi-channel models: the network has never seen a missing channel, and
        # its estimates of the other channels' parameters are then far off (Wearable
        # without skin temperature: median heart-rate mesor error 27 bpm, not 0.16).
        empty = all_missing_rows(X)
        out = _network_params(self.module_, self.model_, X, return_std=return_std)
        params, std = out if return_std else (out, None)
        if self.refine:
            keep = ~empty
            params[keep] = blend(self.model_, params[keep],
                                 _refined(self.model_, X[keep], params[keep], self.refine),
                                 self.refine_weight_)
        params[empty] = np.nan
        if return_std:
            std = std * self.std_scale_
            std[empty] = np.nan
            return params, std
        return params

    def sample_weights(self, X):
        """How much the weighted head trusts each sample: its final-pass weights.

        Near 0 where the network sees an artefact, near 1 where it sees clean
        signal: the weights of the least-squares solve that gave the parameters.

        Parameters
        ----------
        X : array-like of shape (n_sequences, n_timesteps) or (n, n_timesteps, n_channels)
            NaN marks missing samples.

        Returns
        -------
        weights : ndarray shaped like X
            In [0, 1]; NaN where a sample is missing.
        """
        check_is_fitted(self)
        if not isinstance(self.module_, WeightedSolveNet):
            raise ValueError("sample_weights needs head='weights'; the parameter head "
                             "weighs no samples.")
        X = validate_sequences(self, X, self.model_, reset=False)
        out = np.empty(X.shape)
        for sl, _, pred in _forward_batches(self.module_, self.model_, X):
            out[sl] = pred["weights"].double().cpu().numpy()
        out[np.isnan(X)] = np.nan
        return out[..., 0] if self.model_.n_channels == 1 else out

    def predict(self, X):
        """Reconstruct the clean curve of each sequence.

        Returns
        -------
        curves : ndarray shaped like X
            The symbolic model evaluated at the estimated parameters.
        """
        params = self.transform(X)
        return self.model_.evaluate(params, self.n_timesteps_)

    def get_feature_names_out(self, input_features=None):
        """Parameter names, the columns of :meth:`transform`."""
        check_is_fitted(self)
        return np.asarray(self.model_.param_names, dtype=object)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.non_deterministic = self.random_state is None
        tags.target_tags.required = False
        return tags

    def __setstate__(self, state):
        super().__setstate__(state)
        if "module_" in state:
            self.module_.eval()

