"""Robust fits of a symbolic model to many sequences: :func:`fit_sequences`.

The engine of :class:`~sklearn_r2t.SymbolicLeastSquares` and of R2T's ``refine``.
One estimator, two solvers:

1. a **start**: least squares for ``loss='linear'``, otherwise a high-breakdown fit
   (least absolute deviations, or a low / high quantile fit when the artefacts
   point one way: ``outlier_side``), or the caller's ``x0``;
2. a **scale**: ``f_scale``, or for ``'auto'`` a robust scale of the start's
   residuals (from the clean side only for a one-sided fit, re-estimated twice
   as the fit moves into the clean samples);
3. the **M-step**: the chosen loss at that fixed scale, from the start.

``solver='batched'`` runs all three on whole chunks of sequences at once
(:mod:`._batched_fit`); ``solver='scipy'`` runs all three one sequence at a time
with :func:`scipy.optimize.least_squares`: an independent reference.
"""

from __future__ import annotations

import math
import numbers
import warnings

import numpy as np
import torch
from joblib import Parallel, delayed, effective_n_jobs
from scipy.optimize import least_squares
from sklearn.utils import Bunch

from .._validation import check_model
from ..symbolic import SymbolicModel, channel_components
from . import _engine as bf
from ._losses import LOSSES, scipy_loss

__all__ = ["fit_sequences", "OUTLIER_SIDES", "SOLVERS", "min_observed", "too_few_observed",
           "warn_unfittable"]

OUTLIER_SIDES = ("both", "above", "below")
SOLVERS = ("batched", "scipy")
# Rounds of "M-step, then re-estimate the scale from the clean side" of an
# automatic one-sided scale: the quantile start sits low in the clean samples, so
# the first scale is too small; two rounds bring the fit to their middle.
_ONE_SIDED_ROUNDS = 3
_ROUND_ITER = 10
# Soft-L1 margin of the scipy solver's start (normalised units): far below any
# sensor noise, so the smooth surrogate is least absolute deviations.
_L1_MARGIN = 1e-4
# Sequences per chunk: bounds memory (a chunk's arrays are a few times n * T
# floats) while keeping each tensor operation large enough to amortise its cost.
_CHUNK_LINEAR = 8192
_CHUNK_NONLINEAR = 4096


class _ChannelProblem:
    """One single-channel model at one sequence length, in normalised units."""

    def __init__(self, model: SymbolicModel, n_timesteps: int):
        self.model = model
        self.n_timesteps = n_timesteps
        t = model.t_hours(n_timesteps)
        self.t = torch.from_numpy(t)
        lo, hi = model.output_range.reshape(-1, 2)[0]
        self.lo, self.span = float(lo), float(hi - lo)
        b = model.bounds
        self.angular = model.angular_mask
        self.periods = np.array([p if p is not None else np.nan for p in model.param_periods])
        B = model.linear_basis(t)
        # Linear models are fitted in physical coefficients with Y and B divided by
        # the span, so residuals (and scales) are in normalised units.
        self.B = None if B is None else torch.from_numpy(B / self.span)
        x_scale = np.where(self.angular, self.periods, b[:, 1] - b[:, 0])
        self.step = torch.from_numpy(1e-5 * x_scale)  # central-difference step
        self.lb = torch.from_numpy(np.where(self.angular, -np.inf, b[:, 0]))
        self.ub = torch.from_numpy(np.where(self.angular, np.inf, b[:, 1]))

    # -- the model as a function of its parameters, normalised
    def curves(self, P: torch.Tensor) -> torch.Tensor:
        return (self.model.equation(P, self.t)[..., 0] - self.lo) / self.span

    def project(self, P: torch.Tensor) -> torch.Tensor:
        return torch.maximum(torch.minimum(P, self.ub), self.lb)

    # -- internal coordinates: basis coefficients (linear) or parameters (other)
    def to_params(self, theta: torch.Tensor) -> np.ndarray:
        th = theta.numpy()
        return th if self.B is None else self.model.params_from_linear(th)

    def from_params(self, P: np.ndarray) -> torch.Tensor:
        P = torch.from_numpy(np.ascontiguousarray(P, dtype=float))
        if self.B is None:
            return P
        # Exact for a linear model: the coefficients of the parameters' own curve.
        with torch.no_grad():
            return torch.linalg.lstsq(self.B, self.curves(P).T + self.lo / self.span).solution.T

    def residuals(self, Y: torch.Tensor, theta: torch.Tensor) -> torch.Tensor:
        return Y - (theta @ self.B.T if self.B is not None else self.curves(theta))

    def starts(self, n_restarts: int) -> np.ndarray:
        """``(n_restarts, n_params)`` starting points of a nonlinear fit.

        Restart ``j`` shifts every angle by ``j / n_restarts`` of its period (one
        start is always within a quarter period of the true phase); models without
        angles restart from fixed, reproducible points spread over the bounds.
        """
        b = self.model.bounds
        ang = self.angular
        S = np.repeat(b.mean(axis=1)[None], n_restarts, axis=0)
        if ang.any():
            S[:, ang] += np.arange(n_restarts)[:, None] / n_restarts * self.periods[ang]
        elif n_restarts > 1:
            width = b[:, 1] - b[:, 0]
            spread = np.random.RandomState(0).uniform(0.1, 0.9, size=(n_restarts - 1, b.shape[0]))
            S[1:] = b[:, 0] + width * spread
        return S


def _fit_chunk(problem, Y, x0, loss, f_scale, side, n_restarts, solver, max_nfev):
    """Fit one chunk of one channel: ``Y`` physical ``(n, T)`` with NaN.

    Returns ``(params, theta, scale, n_iter, converged)``: parameters
    ``(n, n_params)``, the same in the solver's coordinates (a tensor; None from
    the scipy solver), the scale of the M-step per row (normalised units; None
    for ``loss='linear'``, which has none), and the M-step's iterations and
    convergence per row.
    """
    if solver == "scipy":
        return _fit_chunk_scipy(problem, Y, x0, loss, f_scale, side, n_restarts, max_nfev)
    n = Y.shape[0]
    obs_np = ~np.isnan(Y)
    obs = torch.from_numpy(obs_np)
    W = obs.to(torch.float64)
    Yn = torch.from_numpy(np.where(obs_np, (Y - problem.lo) / problem.span, 0.0))
    if problem.B is not None:
        Yn = Yn + problem.lo / problem.span  # Y / span: see _ChannelProblem
    n_iter = torch.zeros(n, dtype=torch.int64)
    with torch.no_grad():
        # 1. start
        if x0 is not None:
            theta = problem.from_params(x0)
        elif problem.B is not None:
            theta = (bf.weighted_lstsq(problem.B, Yn, W) if loss == "linear"
                     else bf.linear_start(problem.B, Yn, W, side))
        else:
            S = torch.from_numpy(problem.starts(n_restarts))
            S = S[None].expand(n, -1, -1).contiguous()
            theta = bf.nonlinear_start(problem.curves, problem.step, Yn, W, S, problem.project,
                                       side, loss)
        if loss == "linear" and problem.B is not None:
            # The start is the closed-form fit.
            return (problem.to_params(theta), theta, None, n_iter.numpy(),
                    np.ones(n, dtype=bool))
        # 2. scale and 3. M-step
        auto = f_scale == "auto"
        if loss == "linear" or not auto:
            scale = torch.full((n,), 1.0 if auto else float(f_scale), dtype=Yn.dtype)
        else:
            scale = bf.robust_scale(problem.residuals(Yn, theta), obs, side)
        rounds = _ONE_SIDED_ROUNDS if (auto and side != "both" and loss != "linear") else 1
        for k in range(rounds):
            # Rounds before the last only move the fit towards the clean samples for
            # the next scale estimate: a few iterations do.
            max_iter = bf.MAX_ITER if k == rounds - 1 else _ROUND_ITER
            if problem.B is not None:
                theta, it, converged = bf.linear_m_step(problem.B, Yn, W, theta, loss, scale,
                                                        max_iter)
            else:
                theta, it, converged = bf.lm(problem.curves, problem.step, Yn, W, theta,
                                             problem.project, loss, side, scale,
                                             max_iter=max_iter, return_info=True)
            n_iter += it
            if k < rounds - 1:
                scale = bf.robust_scale(problem.residuals(Yn, theta), obs, side)
    return (problem.to_params(theta), theta, None if loss == "linear" else scale.numpy(),
            n_iter.numpy(), converged.numpy())


# |residual| beyond this many scales marks a sample as an outlier (Rousseeuw and
# Leroy's rule for standardised residuals of a robust fit).
OUTLIER_CUTOFF = 2.5


def _chunk_details(problem, Y, params, theta, loss, scale, return_std):
    """Weights, outliers, scale and standard errors of fitted rows of one channel.

    Computed at the fit ``params`` (``theta``: the same in the solver's
    coordinates, or None), with the M-step's ``scale`` (normalised, ``(n,)``;
    None for ``loss='linear'``: the residual standard error
    ``sqrt(RSS / (n - K))``). Physical units out.
    """
    obs_np = ~np.isnan(Y)
    obs = torch.from_numpy(obs_np)
    Yn = torch.from_numpy(np.where(obs_np, (Y - problem.lo) / problem.span, 0.0))
    if problem.B is not None:
        Yn = Yn + problem.lo / problem.span
    with torch.no_grad():
        if theta is None:
            theta = problem.from_params(params)
        R = problem.residuals(Yn, theta) * obs
        n_obs = obs.sum(1).to(R.dtype)
        if scale is None:
            k = problem.model.n_params
            s = ((R * R).sum(1) / (n_obs - k).clamp_min(1.0)).sqrt()
        else:
            s = torch.from_numpy(np.asarray(scale, dtype=float))
        weights = bf.m_weights(R, obs, loss, s.clamp_min(1e-300)) if scale is not None \
            else obs.to(R.dtype)
        out = {
            "scale": s.numpy() * problem.span,
            "weights": np.where(obs_np, weights.numpy(), np.nan),
            "outliers": obs_np & (R.abs() > OUTLIER_CUTOFF * s[:, None]).numpy(),
        }
        if return_std:
            if problem.B is not None:
                cov = bf.m_estimator_cov(problem.B, R, obs, loss, s.clamp_min(1e-300))
                std = bf.delta_method_std(problem.model, theta.numpy(), cov.numpy())
            else:
                J = bf.value_and_jacobian(problem.curves, theta, problem.step)[1]
                cov = bf.m_estimator_cov(J, R, obs, loss, s.clamp_min(1e-300))
                std = cov.diagonal(dim1=1, dim2=2).clamp_min(0.0).sqrt().numpy()
            out["std"] = std
    return out


def _fit_chunk_scipy(problem, Y, x0, loss, f_scale, side, n_restarts, max_nfev):
    """The same estimator, one sequence at a time, every step with
    :func:`scipy.optimize.least_squares` (method ``'trf'``, the model's bounds): the
    independent reference of the batched solver.

    The start minimises scipy's ``soft_l1`` with a margin far below the noise
    (:data:`_L1_MARGIN`), least absolute deviations for every residual that
    matters, from every restart; for one side, of the residuals multiplied by
    the quantile weights, which is the check loss of the quantile fit.
    """
    lb, ub = problem.lb.numpy(), problem.ub.numpy()
    x_scale = problem.step.numpy() / 1e-5
    starts = np.clip(problem.starts(n_restarts), lb, ub)
    q = bf.SIDE_QUANTILE
    auto = f_scale == "auto"
    rounds = _ONE_SIDED_ROUNDS if (auto and side != "both" and loss != "linear") else 1
    out = np.full((Y.shape[0], problem.model.n_params), np.nan)
    scales = np.full(Y.shape[0], np.nan)
    n_iter = np.zeros(Y.shape[0], dtype=np.int64)
    converged = np.zeros(Y.shape[0], dtype=bool)
    with torch.no_grad():
        for i in range(Y.shape[0]):
            obs = ~np.isnan(Y[i])
            y = torch.from_numpy((Y[i, obs] - problem.lo) / problem.span)
            idx = torch.from_numpy(np.flatnonzero(obs))

            def fun(p, y=y, idx=idx):  # f - y: minus the residual
                return (problem.curves(torch.from_numpy(p)[None])[0, idx] - y).numpy()

            def jac(p, idx=idx):
                P = torch.from_numpy(p)[None]
                return bf.value_and_jacobian(problem.curves, P, problem.step)[1][0, idx].numpy()

            def side_weights(p, fun=fun):
                above = fun(p) < 0  # the sample lies above the curve
                if side == "both":
                    return np.ones_like(above, dtype=float)
                return np.where(above == (side == "above"), q, 1.0 - q)

            def fit(fn, jc, p0, rho, scale):
                return least_squares(fn, p0, jac=jc, bounds=(lb, ub), loss=rho, f_scale=scale,
                                     x_scale=x_scale, method="trf", max_nfev=max_nfev)

            # 1. start
            if x0 is not None:
                p = np.clip(x0[i], lb, ub)
            else:
                if loss == "linear":
                    fits = [fit(fun, jac, s0, "linear", 1.0) for s0 in starts]
                else:
                    fits = [fit(lambda p, fun=fun: fun(p) * side_weights(p),
                                lambda p, jac=jac: jac(p) * side_weights(p)[:, None],
                                s0, "soft_l1", _L1_MARGIN) for s0 in starts]
                best = min(fits, key=lambda r: r.cost)
                p = best.x
            if loss == "linear":
                out[i] = p
                n_iter[i], converged[i] = (0, True) if x0 is not None else (
                    best.nfev, best.status > 0)
                continue

            # 2. scale and 3. M-step, as the batched solver does
            def scale_at(p, fun=fun, obs=obs):
                R = torch.zeros(1, Y.shape[1], dtype=torch.float64)
                R[0, torch.from_numpy(np.flatnonzero(obs))] = torch.from_numpy(-fun(p))
                return float(bf.robust_scale(R, torch.from_numpy(obs)[None], side)[0])

            scale = scale_at(p) if auto else float(f_scale)
            for k in range(rounds):
                res = fit(fun, jac, p, scipy_loss(loss), scale)
                p = res.x
                n_iter[i] += res.nfev
                if k < rounds - 1:
                    scale = scale_at(p)
            out[i], scales[i], converged[i] = p, scale, res.status > 0
    return out, None, (None if loss == "linear" else scales), n_iter, converged


def _check_side(outlier_side, model: SymbolicModel) -> tuple[str, ...]:
    """``outlier_side`` as one value per channel."""
    sides = (outlier_side,) if isinstance(outlier_side, str) else outlier_side
    try:
        sides = tuple(sides)
    except TypeError:
        sides = (outlier_side,)
    if len(sides) == 1:
        sides = sides * model.n_channels
    if len(sides) != model.n_channels or any(s not in OUTLIER_SIDES for s in sides):
        raise ValueError(
            f"outlier_side must be one of {OUTLIER_SIDES} or a sequence of them, one per "
            f"channel of {type(model).__name__} {model.channel_names}; got {outlier_side!r}."
        )
    return sides


def _check_options(loss, f_scale, n_restarts, solver, max_nfev):
    if loss not in LOSSES:
        raise ValueError(f"loss must be one of {LOSSES}, got {loss!r}.")
    if isinstance(f_scale, str):
        if f_scale != "auto":
            raise ValueError(f"f_scale must be a float > 0 or 'auto', got {f_scale!r}.")
    elif (
        isinstance(f_scale, bool)
        or not isinstance(f_scale, numbers.Real)
        or not (math.isfinite(f_scale) and f_scale > 0)
    ):
        raise ValueError(f"f_scale must be a float > 0 or 'auto', got {f_scale!r}.")
    if n_restarts is not None and (
        isinstance(n_restarts, bool) or not isinstance(n_restarts, numbers.Integral)
        or n_restarts < 1
    ):
        raise ValueError(f"n_restarts must be an int >= 1, got {n_restarts!r}.")
    if solver not in SOLVERS:
        raise ValueError(f"solver must be one of {SOLVERS}, got {solver!r}.")
    if max_nfev is not None and (
        isinstance(max_nfev, bool) or not isinstance(max_nfev, numbers.Integral) or max_nfev < 1
    ):
        raise ValueError(f"max_nfev must be None or an int >= 1, got {max_nfev!r}.")


def min_observed(model: SymbolicModel) -> int:
    """Fewest observed samples per channel that can pin a channel's parameters:
    one more than its unknowns, or the model's own ``min_timesteps``."""
    return model.min_timesteps or -(-model.n_params // model.n_channels) + 1


def too_few_observed(model: SymbolicModel, X: np.ndarray) -> np.ndarray:
    """Rows of ``(n, T, C)`` sequences with fewer than :func:`min_observed` observed
    samples in some channel (entirely missing channels included): no fit can pin
    their parameters."""
    return ((~np.isnan(X)).sum(axis=1) < min_observed(model)).any(axis=1)


# A few estimates at a bound are what a bounded fit gives when true values lie near
# it; more than this share of a batch says the box does not fit the data.
_AT_BOUND_SHARE = 0.1


def warn_at_bound(model: SymbolicModel, params: np.ndarray, stacklevel: int = 3) -> None:
    """One warning when more than a tenth of the sequences (or the only one) have
    estimates at a bound of the model's box: clipped there, they are where the prior
    stopped them, not where the data put them. ``model.at_bound`` gives the mask."""
    hit = model.at_bound(params)
    rows = hit.any(axis=1)
    if not rows.any() or rows.mean() <= _AT_BOUND_SHARE:
        return
    names = ", ".join(np.asarray(model.param_names)[hit.any(axis=0)])
    warnings.warn(
        f"{int(rows.sum())} of {len(params)} sequences have {names} pinned at a bound "
        f"of the {type(model).__name__} model's box: the estimate stops there, it was "
        "not found there. Check the units, or widen the bounds if the data allow it.",
        UserWarning, stacklevel=stacklevel)


def warn_unfittable(model: SymbolicModel, too_few: np.ndarray,
                    singular: np.ndarray | None = None, stacklevel: int = 3) -> None:
    """One warning naming the rows returned as NaN because they cannot be fitted:
    too few observed samples (``too_few``, a row mask without the entirely missing
    channels, which :func:`~sklearn_r2t._validation.all_missing_rows` reports), or
    a singular weighted system (``singular``, the rows' samples do not pin every
    coefficient). Silent when both masks are empty."""
    singular = np.zeros_like(too_few) if singular is None else singular & ~too_few
    parts = []
    for mask, what in ((too_few, f"fewer than {min_observed(model)} observed samples "
                                 "in a channel"),
                       (singular, "a singular weighted system")):
        idx = np.flatnonzero(mask)
        if idx.size:
            shown = ", ".join(map(str, idx[:10])) + (" ..." if idx.size > 10 else "")
            parts.append((idx.size, f"{what} (rows {shown})"))
    if not parts:
        return
    if len(parts) == 1:
        head = f"{parts[0][0]} sequence(s) have {parts[0][1]}"
    else:
        head = (f"{parts[0][0] + parts[1][0]} sequence(s) cannot be fitted: "
                f"{parts[0][0]} have {parts[0][1]}, {parts[1][0]} {parts[1][1]}")
    warnings.warn(f"{head}; their parameters are returned as NaN.", UserWarning,
                  stacklevel=stacklevel)


def _singular_rows(components, X: np.ndarray) -> np.ndarray:
    """Rows whose observed samples leave some channel's linear basis singular
    (:func:`~._engine.singular_systems` on its unweighted normal matrix), in chunks."""
    singular = np.zeros(X.shape[0], dtype=bool)
    for c, m in enumerate(components):
        B = m.linear_basis(m.t_hours(X.shape[1]))
        if B is None:
            continue
        B = torch.from_numpy(np.asarray(B, dtype=float))
        for s in range(0, X.shape[0], _CHUNK_LINEAR):
            W = torch.from_numpy((~np.isnan(X[s : s + _CHUNK_LINEAR, :, c])).astype(float))
            singular[s : s + _CHUNK_LINEAR] = bf.singular_systems(bf.normal_matrix(B, W)).numpy()
    return singular


def fit_sequences(
    model: SymbolicModel,
    X: np.ndarray,
    *,
    loss: str = "soft_l1",
    f_scale: float | str = 1.0,
    outlier_side: str | tuple[str, ...] = "both",
    x0: np.ndarray | None = None,
    n_restarts: int | None = None,
    solver: str = "batched",
    max_nfev: int | None = None,
    n_jobs: int | None = None,
    verbose: int | bool = 0,
    return_details: bool = False,
    return_std: bool = False,
) -> np.ndarray | Bunch:
    """Fit ``model`` robustly to every sequence of ``X``.

    Residuals are in the model's normalised units (:meth:`SymbolicModel.normalize`,
    a fraction of ``output_range``); NaN samples are ignored; non-angular
    parameters stay within ``model.bounds`` and angles are wrapped into theirs.
    See :class:`~sklearn_r2t.SymbolicLeastSquares` for the estimator and every
    option.

    Parameters
    ----------
    model : SymbolicModel
    X : ndarray of shape (n_sequences, n_timesteps[, n_channels])
        Physical units, NaN for missing samples; read, never written.
    loss : str, default='soft_l1'
        One of ``'linear'``, ``'huber'``, ``'soft_l1'``, ``'cauchy'``, ``'arctan'``,
        ``'bisquare'``, ``'welsch'``.
    f_scale : float > 0 or 'auto', default=1.0
    outlier_side : {'both', 'above', 'below'} or sequence of them, default='both'
    x0 : ndarray of shape (n_sequences, n_params), default=None
        Start in physical units (a row with NaN gives NaN) instead of the
        high-breakdown fit; with ``f_scale='auto'`` the scale comes from its
        residuals.
    n_restarts : int >= 1, default=None
        Starts per sequence of a nonlinear model's start phase (None: 4).
    solver : {'batched', 'scipy'}, default='batched'
    max_nfev : int, default=None
        Function evaluations per sequence of the scipy M-step (scipy's default).
    n_jobs : int, default=None
        joblib workers over chunks for ``solver='scipy'`` (None: 1).
    verbose : int or bool, default=0
        Show a progress bar over chunks.
    return_details : bool, default=False
        Return a :class:`~sklearn.utils.Bunch` of everything below instead of
        the parameters alone.
    return_std : bool, default=False
        With ``return_details``, also the standard errors (``std``).

    Returns
    -------
    params : ndarray of shape (n_sequences, n_params)
        NaN for a sequence with fewer than :func:`min_observed` samples in a
        channel or whose observed samples leave a linear basis singular (with one
        warning naming the rows), or a NaN row of ``x0``.
    details : Bunch
        With ``return_details=True``: ``params``; ``std`` (only with
        ``return_std``) ``(n_sequences, n_params)``; ``at_bound`` ``(n_sequences, n_params)``,
        True where a parameter was returned at its bound; ``scale``, ``n_iter``,
        ``converged`` ``(n_sequences, n_channels)``; ``weights``, ``outliers``
        ``(n_sequences, n_timesteps, n_channels)``. See
        :meth:`SymbolicLeastSquares.fit_details
        <sklearn_r2t.SymbolicLeastSquares.fit_details>`. Rows not fitted have NaN
        (``std``, ``scale``, ``weights``), 0 iterations, and are not converged.
    """
    check_model(model)
    _check_options(loss, f_scale, n_restarts, solver, max_nfev)
    if return_std and not return_details:
        raise ValueError("return_std=True needs return_details=True.")
    sides = _check_side(outlier_side, model)
    n_restarts = 4 if n_restarts is None else int(n_restarts)
    X = np.asarray(X, dtype=float)
    if X.ndim == 2:
        X = X[:, :, None]
    if x0 is not None:
        x0 = np.asarray(x0, dtype=float)
        if x0.shape != (X.shape[0], model.n_params):
            raise ValueError(
                f"x0 must have shape ({X.shape[0]}, {model.n_params}), got {x0.shape}."
            )
    components = channel_components(model)
    if len(components) == 1 and model.n_channels > 1:
        raise ValueError(
            f"{type(model).__name__} couples {model.n_channels} channels in one equation; "
            "fit_sequences fits single-channel models and stacks of them."
        )
    splits = np.cumsum([m.n_params for m in components])[:-1]
    x0_parts = [None] * len(components) if x0 is None else np.split(x0, splits, axis=1)
    # Rows that cannot be fitted: too few observed samples in some channel, or
    # samples that cannot pin a linear basis' coefficients (a singular system).
    too_few = too_few_observed(model, X)
    singular = _singular_rows(components, X) & ~too_few
    warn_unfittable(model, too_few & ~np.isnan(X).all(axis=1).any(axis=1), singular)
    too_few |= singular
    if x0 is not None:
        too_few |= ~np.isfinite(x0).all(axis=1)
    rows = np.flatnonzero(~too_few)

    chunk = _CHUNK_LINEAR if all(m.linear_basis(m.t_hours(X.shape[1])) is not None
                                 for m in components) else _CHUNK_NONLINEAR
    n_workers = min(effective_n_jobs(n_jobs), max(rows.size, 1)) if solver == "scipy" else 1
    if n_workers > 1:  # at least one chunk per worker
        chunk = min(chunk, -(-rows.size // n_workers))
    bounds = [(s, min(s + chunk, rows.size)) for s in range(0, rows.size, chunk)]
    n, T, C = X.shape
    out = np.full((n, model.n_params), np.nan)
    if return_details:
        details = Bunch(params=out, scale=np.full((n, C), np.nan),
                        n_iter=np.zeros((n, C), dtype=np.int64),
                        converged=np.zeros((n, C), dtype=bool),
                        weights=np.full((n, T, C), np.nan),
                        outliers=np.zeros((n, T, C), dtype=bool),
                        at_bound=np.zeros((n, model.n_params), dtype=bool))
        if return_std:
            details.std = np.full((n, model.n_params), np.nan)

    def run(lo, hi):
        idx = rows[lo:hi]
        parts, extra = [], []
        for c, m in enumerate(components):
            problem = _ChannelProblem(m, T)
            start = None if x0_parts[c] is None else x0_parts[c][idx]
            P, theta, scale, n_iter, converged = _fit_chunk(
                problem, X[idx, :, c], start, loss, f_scale, sides[c], n_restarts, solver,
                max_nfev)
            if return_details:
                # At the M-estimate itself (before clipping into the box), as a
                # statistics package reports it; clipped parameters are flagged.
                d = _chunk_details(problem, X[idx, :, c], P, theta, loss, scale, return_std)
                extra.append(dict(d, n_iter=n_iter, converged=converged))
            P = m.project(P)
            if return_details:
                extra[-1]["at_bound"] = m.at_bound(P)
            parts.append(P)
        return idx, np.concatenate(parts, axis=1), extra

    from tqdm.auto import tqdm

    if n_workers > 1:
        results = Parallel(n_jobs=n_workers)(delayed(run)(lo, hi) for lo, hi in bounds)
    else:
        results = (run(lo, hi) for lo, hi in bounds)
    with tqdm(total=rows.size, unit="seq", disable=not verbose, desc=f"fit {loss}") as bar:
        for idx, P, extra in results:
            out[idx] = P
            for c, d in enumerate(extra):
                for key in ("scale", "n_iter", "converged"):
                    details[key][idx, c] = d[key]
                details.weights[idx, :, c] = d["weights"]
                details.outliers[idx, :, c] = d["outliers"]
            if extra:
                details.at_bound[idx] = np.concatenate([d["at_bound"] for d in extra], axis=1)
            if return_std:
                details.std[idx] = np.concatenate([d["std"] for d in extra], axis=1)
            bar.update(idx.size)
    return details if return_details else out
