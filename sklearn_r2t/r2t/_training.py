"""Training on synthetic data.

The stream of sequences, the skorch callbacks and step budget, and the dual-loss
net.
"""

from __future__ import annotations

import math
import time
import warnings
from numbers import Real

import numpy as np
import torch
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.validation import check_array
from skorch import NeuralNet
from skorch.callbacks import Callback, EarlyStopping, GradientNormClipping, ProgressBar
from skorch.dataset import Dataset
from skorch.helper import predefined_split

from .._validation import FLOAT32_MAX
from ._inference import _Z_CLIP, _as_3d, encode_sequences, standardise_sequences

_LOSS_TERMS = {"weights": ("reconstruction", "parameters", "mask"),
               "parameters": ("reconstruction", "parameters")}


class _SyntheticStream:
    """Draws clean/corrupted training pairs from the model's prior."""

    def __init__(self, model, noise, n_timesteps, seed, standardise=False):
        from ..datasets import make_wearable_sequences

        self._make = make_wearable_sequences
        self.model, self.noise, self.n_timesteps = model, noise, n_timesteps
        self.standardise = standardise
        self.rng = np.random.RandomState(seed)

    def draw(self, n):
        b = self._make(n, model=self.model, noise=self.noise, n_timesteps=self.n_timesteps,
                       random_state=self.rng)
        return training_pairs(self.model, self.standardise, b.X, b.X_clean, b.params,
                              b.artefact_mask)


def training_pairs(model, standardise, X, X_clean, params, artefact_mask=None):
    """Network inputs and packed targets of sequences with known clean curves.

    With ``standardise`` the clean curve is standardised with the noisy
    sequence's location and scale: the network's curve is in those units.
    """
    X, X_clean = _as_3d(np.asarray(X, dtype=float)), _as_3d(np.asarray(X_clean, dtype=float))
    if standardise:
        z, observed, loc, scale = standardise_sequences(X)
        x, observed = z.astype(np.float32), observed.astype(np.float32)
        clean = np.clip((X_clean - loc[:, None]) / scale[:, None], -_Z_CLIP, _Z_CLIP)
    else:
        x, observed = encode_sequences(model, X)
        clean, _ = encode_sequences(model, X_clean)
    return {"x": x, "observed": observed}, pack_targets(clean, params, artefact_mask)


def pack_targets(clean, params, artefact_mask=None) -> np.ndarray:
    """Clean encoded curve, parameters and inlier mask side by side, one row each.

    The inlier mask (1 where no artefact touched the sample) is NaN where unknown.
    """
    clean = clean.reshape(len(clean), -1).astype(np.float32)
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
# Fewer optimiser steps leave the network barely trained. Heart rate, default
# architecture trained from scratch, median normalised MSE on 1,000 held-out
# "combined" sequences: 10 steps 1.8e-3 (ordinary least squares: 1.7e-3), 30 steps
# 3.7e-4, 100 steps 4.3e-5 (SymbolicLeastSquares soft_l1, f_scale="auto": 5.3e-5),
# the shipped weights 7.8e-6 (benchmarks/results/r2t_min_steps.md).
_MIN_STEPS = 100


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
        self.now_ = None
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
        self.now_ = now
        per_step = self.seconds_per_step()
        remaining = self.start + self.max_time - now
        more = int(0.9 * max(remaining, 0.0) / self._per_epoch(per_step)
                   * self.steps_per_epoch)
        return max(self.step_, min(self.max_steps, self.step_ + more))

    def seconds_per_step(self):
        """Seconds a step takes, timed from the end of the first one (which pays
        one-off set-up costs); with a single step, that step and the set-up
        together; None before any step."""
        if not self.step_ or self.now_ is None:
            return None
        if self.step_ > 1:
            return (self.now_ - self.probe_start_) / (self.step_ - 1)
        return self.now_ - self.start

    def _per_epoch(self, per_step):
        # Each epoch also draws fresh data and runs two validation passes (forward
        # only, about a third of a training step per batch).
        return (self.steps_per_epoch * per_step + self.overhead_seconds
                + self.overhead_batches * per_step / 3)

    def seconds_for(self, n_steps):
        """The ``max_time`` that would plan ``n_steps`` on this machine, from the
        timing so far (None before two steps were timed: one step does not tell
        the set-up from the steady rate)."""
        if self.step_ < 2 or self.now_ is None:
            return None
        per_step = self.seconds_per_step()
        # Set-up and the first step, then n steps at the steady rate with the
        # planning margin (which leaves a step or two to spare).
        setup = self.probe_start_ - self.start
        return setup + n_steps / self.steps_per_epoch * self._per_epoch(per_step) / 0.9

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
        if self.max_time is not None:
            self.now_ = _clock()
            if self.now_ - self.start >= self.max_time:
                self.out_of_time_ = True
                return True
        return False

    def on_epoch_begin(self, net, **kwargs):
        # Stop here rather than at the previous epoch's end, so that every end-of-epoch
        # callback (validation, early stopping, skorch's log) has seen that epoch. The
        # first epoch always runs (and is scored), even without a step: a budget spent
        # before the first step then ends training at once, not after `patience`
        # empty epochs.
        if len(net.history) > 1 and self.exhausted():
            net.history.pop()  # skorch opened this epoch's row; it never runs
            raise _StopTraining

    def on_epoch_end(self, net, **kwargs):
        net.history.record("lr", net.optimizer_.param_groups[0]["lr"])
        net.history.record("steps", self.step_)


def _untrained_message(budget, max_time, n_steps, cut_short=None):
    """Why a time budget left the network barely trained, and what budget would not."""
    need = budget.seconds_for(_MIN_STEPS)
    if need is not None:
        timing = (f"A step took about {budget.seconds_per_step():.2g} s here: "
                  f"max_time={math.ceil(need):d} would plan {_MIN_STEPS} steps")
    elif n_steps:
        timing = (f"The set-up and the first step took {budget.seconds_per_step():.2g} s "
                  "of the budget (the first steps of a new shape are slow); give it many "
                  "times that")
    else:
        timing = ("The budget ran out before the first step ended (drawing the synthetic "
                  "training data counts towards it)")
    head = cut_short or f"max_time={max_time:g} s allowed only {n_steps} optimiser step(s)"
    return (f"{head}. Below {_MIN_STEPS} steps (n_steps_={n_steps}) the network is barely "
            "trained: its estimates are worse than a classical robust fit "
            f"(SymbolicLeastSquares). {timing}; or set max_steps instead of max_time, or "
            "use shipped weights (pretrained='auto').")


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


def train_network(settings, module, model, n_timesteps, X, y, lr, seeds, device, max_time,
                  loss_weights):
    """Train ``module`` in place; return (history, number of steps planned).

    ``settings`` is the :class:`~sklearn_r2t.R2TRegressor` whose training
    hyper-parameters (noise, batch size, epochs, steps, patience...) apply.
    """
    clock_start = _clock()
    standardise = getattr(module, "standardise", False)
    stream = _SyntheticStream(model, settings.noise, n_timesteps, int(seeds[1]), standardise)
    X_train, y_train = stream.draw(settings.n_synthetic)
    draw_seconds = _clock() - clock_start
    if y is not None:
        X_user, y_user = training_pairs(model, standardise, X, model.evaluate(y, n_timesteps), y)
        X_train = {k: np.concatenate([X_train[k], X_user[k]]) for k in X_train}
        y_train = np.vstack([y_train, y_user])
    valid_stream = _SyntheticStream(model, settings.noise, n_timesteps, int(seeds[2]),
                                    standardise)
    X_valid, y_valid = valid_stream.draw(max(256, min(1024, settings.n_synthetic // 8)))
    n_curve = n_timesteps * model.n_channels
    steps_per_epoch = math.ceil(len(y_train) / settings.batch_size)
    max_steps = settings.max_epochs * steps_per_epoch
    if settings.max_steps is not None:
        max_steps = min(max_steps, settings.max_steps)
    budget = _StepBudget(
        lr, max_steps, steps_per_epoch, max_time=max_time, start=clock_start,
        overhead_seconds=draw_seconds,
        overhead_batches=2 * math.ceil(len(y_valid) / settings.batch_size),
    )
    callbacks = [
        # First: at an epoch's start it stops training before new data is drawn.
        ("budget", budget),
        ("fresh_synthetic", _FreshSynthetic(stream, settings.n_synthetic)),
        ("valid_median_mse", _ValidMedianMSE(X_valid, y_valid, n_curve)),
        ("clip", GradientNormClipping(gradient_clip_value=1.0)),
        ("early_stopping", _EarlyStopping(monitor="valid_median_mse",
                                          patience=settings.patience, load_best=True)),
    ]
    if settings.verbose:
        callbacks.append(("progress", ProgressBar()))
    net = _DualLossNet(
        module=module,
        criterion=settings.reconstruction_loss or torch.nn.MSELoss,
        optimizer=torch.optim.AdamW,
        optimizer__weight_decay=settings.weight_decay,
        lr=lr,
        max_epochs=settings.max_epochs,
        batch_size=settings.batch_size,
        train_split=predefined_split(Dataset(X_valid, y_valid)),
        iterator_train__shuffle=True,
        callbacks=callbacks,
        device=device,
        verbose=int(settings.verbose > 0),
        n_curve=n_curve,
        n_params=model.n_params,
        loss_weights=loss_weights,
    )
    try:
        net.fit(X_train, y_train)
    except _Interrupted as exc:
        raise exc.__cause__ from None
    planned = budget.total_steps_ if budget.total_steps_ is not None else budget.step_
    cut = budget.out_of_time_ and budget.step_ < planned
    n_steps = budget.step_ if cut else planned
    cut_short = (f"max_time={max_time:g} s ran out after {budget.step_} of the "
                 f"{planned} training steps planned from the first steps' timing (the "
                 "machine got slower)") if cut else None
    if max_time is not None and n_steps < min(_MIN_STEPS, max_steps):
        warnings.warn(_untrained_message(budget, max_time, n_steps, cut_short),
                      ConvergenceWarning, stacklevel=3)
    elif cut:
        warnings.warn(
            f"{cut_short}; the learning-rate schedule was cut short, so max_steps cannot "
            "repeat this fit exactly.", ConvergenceWarning, stacklevel=3)
    return [dict(h, batches=None) for h in net.history], n_steps


def check_loss_weights(loss_weights, head):
    """The loss terms' weights: every term of ``head`` at 1 when None, else checked."""
    terms = _LOSS_TERMS[head]
    if loss_weights is None:
        return dict.fromkeys(terms, 1.0)
    unknown = set(loss_weights) - set(terms)
    if unknown:
        raise ValueError(f"loss_weights has unknown terms {sorted(unknown)}; "
                         f"head={head!r} has {list(terms)}.")
    weights = {}
    for k, v in loss_weights.items():
        if isinstance(v, bool) or not isinstance(v, Real) or not 0 <= v < math.inf:
            raise ValueError(f"loss_weights[{k!r}] must be a finite number >= 0, got {v!r}.")
        weights[k] = float(v)
    if not any(weights.values()):
        raise ValueError("loss_weights gives every term weight 0: nothing would train.")
    return weights



def check_known_params(y, X, model):
    """``y`` of ``use_y=True``: the known parameters of the sequences ``X``, checked."""
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
