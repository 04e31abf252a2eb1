"""Classical robust baselines fitted with :func:`scipy.optimize.least_squares`.

- :class:`SymbolicLeastSquares` (and :func:`fit_sequences`): fits a symbolic model to
  each sequence with any of scipy's losses, the classical counterpart of
  :class:`~sklearn_r2t.R2TRegressor` with the same fit/transform/predict API.
- :class:`SoftL1Regressor`: a linear regressor for tabular data with a robust loss,
  beside scikit-learn's :class:`~sklearn.linear_model.HuberRegressor`.
"""

from __future__ import annotations

import math
import numbers

import numpy as np
import torch
from joblib import Parallel, delayed, effective_n_jobs
from scipy.optimize import least_squares
from sklearn.base import BaseEstimator, RegressorMixin, TransformerMixin
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data

from ._validation import all_missing_rows, check_model, validate_sequences
from .symbolic import Cosinor, HeartRate, SpO2, SymbolicModel, _ChannelStack, _Cosinor3

__all__ = ["SymbolicLeastSquares", "SoftL1Regressor", "fit_sequences"]

LOSSES = ("linear", "huber", "soft_l1", "cauchy", "arctan")

# 1 / Phi^-1(3/4): turns a median absolute deviation into a Gaussian sigma.
_MAD_TO_SIGMA = 1.482602218505602
# Rounds of alternating robust fit and scale estimate for f_scale='auto'.
_AUTO_SCALE_ROUNDS = 10
# sqrt(pi / 2): turns a mean absolute deviation into a Gaussian sigma.
_MEANAD_TO_SIGMA = 1.2533141373155001


def _weighted_median(values: np.ndarray, weights: np.ndarray) -> float:
    """Median of ``values`` where each value counts ``weights`` times (lower median)."""
    order = np.argsort(values, kind="stable")
    cum = np.cumsum(weights[order])
    return float(values[order][np.searchsorted(cum, 0.5 * cum[-1])])


def _robust_scale(residuals: np.ndarray, weights: np.ndarray | None = None) -> float:
    """Gaussian-consistent robust scale of residuals: 1.4826 * MAD (weighted).

    Falls back on the mean absolute deviation when more than half the residuals are
    identical (MAD = 0), and returns 0.0 for an exact fit; callers floor the result.
    """
    r = np.asarray(residuals, dtype=float).ravel()
    w = np.ones_like(r) if weights is None else np.asarray(weights, dtype=float).ravel()
    keep = np.isfinite(r) & (w > 0)
    r, w = r[keep], w[keep]
    if r.size == 0:
        return 0.0
    dev = np.abs(r - _weighted_median(r, w))
    scale = _MAD_TO_SIGMA * _weighted_median(dev, w)
    if scale <= 0.0:
        scale = _MEANAD_TO_SIGMA * float(np.average(dev, weights=w))
    return scale


def _soft_l1_weighted(weights: np.ndarray, n_robust: int):
    """Callable loss for ``least_squares``: ``w_i * soft_l1`` on the first ``n_robust``
    residuals, plain squares (linear loss) on the rest (the ridge penalty rows).

    Weights multiply the loss itself, ``sum_i w_i rho(r_i)``, so an integer weight is
    exactly a repeated sample; scaling the residuals by ``sqrt(w)`` would not be,
    because ``rho`` is not quadratic.
    """

    def loss(z):
        rho = np.empty((3, z.size))
        zr = z[:n_robust]
        t = 1.0 + zr
        sq = np.sqrt(t)
        rho[0, :n_robust] = 2.0 * (sq - 1.0) * weights
        rho[1, :n_robust] = weights / sq
        rho[2, :n_robust] = -0.5 * weights / (t * sq)
        rho[0, n_robust:] = z[n_robust:]
        rho[1, n_robust:] = 1.0
        rho[2, n_robust:] = 0.0
        return rho

    return loss


class SoftL1Regressor(RegressorMixin, BaseEstimator):
    r"""Linear regression with the soft-L1 (smooth absolute) loss.

    Minimises

    .. math::

        \sum_i w_i\, 2 s^2 \left(\sqrt{1 + (r_i / s)^2} - 1\right)
        + \alpha \lVert \beta \rVert_2^2,
        \qquad r_i = y_i - x_i^\top \beta - b,

    with :func:`scipy.optimize.least_squares` (``loss='soft_l1'``,
    ``f_scale=s``). Residuals well below ``s`` are penalised quadratically (as
    in least squares), residuals well above it linearly (as in least absolute
    deviations), so large outliers pull far less than in ordinary least squares.
    The scale ``s`` is in the units of ``y``: scipy's default ``f_scale=1.0``
    is only robust when the typical residual is well below 1; on targets with
    small noise it behaves like ordinary least squares. ``f_scale='auto'``
    estimates ``s`` from the data.

    It sits beside scikit-learn's :class:`~sklearn.linear_model.HuberRegressor`,
    whose loss switches abruptly from quadratic to linear; soft-L1 does so smoothly.

    Parameters
    ----------
    f_scale : float > 0 or 'auto', default=1.0
        Soft margin ``s`` between inlier and outlier residuals, in the units of
        ``y``. ``'auto'`` sets ``s = 1.4826 * MAD`` of the residuals (a robust
        estimate of the inlier noise sigma, weighted by ``sample_weight``; the mean
        absolute deviation when the MAD is 0), starting from the ordinary (ridge)
        least-squares residuals and alternating soft-L1 fit and scale estimate until
        the scale changes by less than 0.1 % (at most 10 rounds), because the
        least-squares residuals overstate the noise when outliers bias the fit.
        The scale is floored at 1e-12 times the range of ``y``.
    fit_intercept : bool, default=True
        Whether to fit an intercept ``b`` (not penalised).
    alpha : float >= 0, default=0.0
        Strength of the L2 penalty on ``coef_`` (the intercept is not penalised).

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,)
        Fitted coefficients.
    intercept_ : float
        Fitted intercept (0.0 when ``fit_intercept=False``).
    f_scale_ : float
        The soft margin actually used (``f_scale``, or the estimate when ``'auto'``).
    n_iter_ : int
        Number of function evaluations of the solver.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of features seen during fit, when ``X`` has string column names.

    See Also
    --------
    sklearn.linear_model.HuberRegressor : Linear regression with the Huber loss.
    sklearn.linear_model.LinearRegression : Ordinary least squares.
    SymbolicLeastSquares : Robust least-squares fits of a symbolic model to sequences.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_r2t import SoftL1Regressor
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(200, 2))
    >>> y = X @ [1.5, -2.0] + 3.0 + 0.1 * rng.normal(size=200)
    >>> y[:20] += 50.0  # gross one-sided outliers
    >>> reg = SoftL1Regressor(f_scale="auto").fit(X, y)
    >>> np.round(reg.coef_, 1), round(reg.intercept_, 1)
    (array([ 1.5, -2. ]), 3.0)
    """

    _parameter_constraints: dict = {
        "f_scale": [Interval(numbers.Real, 0, None, closed="neither"), StrOptions({"auto"})],
        "fit_intercept": ["boolean"],
        "alpha": [Interval(numbers.Real, 0, None, closed="left")],
    }

    def __init__(self, f_scale=1.0, fit_intercept=True, alpha=0.0):
        self.f_scale = f_scale
        self.fit_intercept = fit_intercept
        self.alpha = alpha

    def fit(self, X, y, sample_weight=None):
        """Fit the linear model.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,)
            Target values.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights; a weight of 2 counts a sample twice.

        Returns
        -------
        self : SoftL1Regressor
            The fitted estimator.
        """
        self._validate_params()
        X, y = validate_data(self, X, y, y_numeric=True, dtype=np.float64)
        w = _check_sample_weight(sample_weight, X, dtype=np.float64, ensure_non_negative=True)
        n_samples, n_features = X.shape
        alpha = float(self.alpha)

        # Design matrix with a trailing column of ones for the intercept.
        A = np.hstack([X, np.ones((n_samples, 1))]) if self.fit_intercept else X
        n_coef = A.shape[1]
        penalty = np.sqrt(alpha) * np.eye(n_features, n_coef) if alpha > 0 else None

        # Start from (weighted, ridge) least squares: already the answer without outliers.
        sw = np.sqrt(w)[:, None]
        A_ls, y_ls = A * sw, y * sw[:, 0]
        if penalty is not None:
            A_ls, y_ls = np.vstack([A_ls, penalty]), np.concatenate([y_ls, np.zeros(n_features)])
        beta0 = np.linalg.lstsq(A_ls, y_ls, rcond=None)[0]

        J = A if penalty is None else np.vstack([A, penalty])
        loss = _soft_l1_weighted(w, n_samples)

        def residuals(beta):
            r = A @ beta - y
            return r if penalty is None else np.concatenate([r, penalty @ beta])

        def solve(beta_start, scale):
            return least_squares(
                residuals,
                beta_start,
                jac=lambda beta: J,
                loss=loss,
                f_scale=scale,
                method="trf",
                x_scale="jac",
                ftol=1e-12,
                xtol=1e-12,
                gtol=1e-12,
                max_nfev=max(200, 50 * n_coef),
            )

        if self.f_scale == "auto":
            # The least-squares residuals overstate the noise (outliers bias the fit),
            # so alternate: robust fit at the current scale, scale from its residuals,
            # until the scale settles (a few rounds).
            floor = 1e-12 * float(np.ptp(y)) or 1e-12
            s = max(_robust_scale(y - A @ beta0, w), floor)
            nfev, beta = 0, beta0
            for _ in range(_AUTO_SCALE_ROUNDS):
                res = solve(beta, s)
                nfev, beta = nfev + res.nfev, res.x
                s_new = max(_robust_scale(y - A @ beta, w), floor)
                converged = abs(s_new - s) <= 1e-3 * s
                s = s_new
                if converged:
                    break
            res = solve(beta, s)
            res.nfev += nfev
        else:
            s = float(self.f_scale)
            res = solve(beta0, s)
        beta = res.x
        self.coef_ = beta[:n_features].copy()
        self.intercept_ = float(beta[n_features]) if self.fit_intercept else 0.0
        self.f_scale_ = s
        self.n_iter_ = int(res.nfev)
        return self

    def predict(self, X):
        """Predict with the fitted linear model.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
        """
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=np.float64)
        return X @ self.coef_ + self.intercept_


# ====================================================================== sequences
# Floor of f_scale='auto', in normalised units (fraction of output_range): 0.1 % of
# the plausible signal range, far below any real sensor noise, so that a clean
# sequence (MAD = 0) still gets a well-defined, very robust loss.
_AUTO_SCALE_FLOOR = 1e-3
# Rounds of "robust fit, re-estimate the scale from its residuals" after the first
# robust fit, for f_scale='auto'. Each round starts at the previous solution.
_SEQ_AUTO_ROUNDS = 2


class _SequenceProblem:
    """One model and one sequence length: residuals and Jacobian in normalised units."""

    def __init__(self, model: SymbolicModel, n_timesteps: int):
        self.model = model
        self.n_timesteps = n_timesteps
        self.t = torch.from_numpy(model.t_hours(n_timesteps))
        rng = model.output_range.reshape(-1, 2)
        self.lo, self.span = rng[:, 0], rng[:, 1] - rng[:, 0]
        b = model.bounds
        self.angular = model.angular_mask
        self.periods = np.array([p if p is not None else np.nan for p in model.param_periods])
        # Angles are fitted on the whole real line and wrapped afterwards, so that a
        # phase near 0 h can cross to 23.9 h instead of sticking at a bound.
        self.lb = np.where(self.angular, -np.inf, b[:, 0])
        self.ub = np.where(self.angular, np.inf, b[:, 1])
        self.x_scale = np.where(self.angular, self.periods, b[:, 1] - b[:, 0])
        self.step = 1e-6 * self.x_scale  # central-difference step per parameter

    def curves(self, P: np.ndarray) -> np.ndarray:
        """Normalised curves of parameter rows ``P``: ``(k, n_timesteps, n_channels)``."""
        with torch.no_grad():
            out = self.model.equation(torch.from_numpy(np.ascontiguousarray(P)), self.t)
        return (out.numpy() - self.lo) / self.span

    def wrap(self, P: np.ndarray) -> np.ndarray:
        """Angles back into ``[lo, lo + period)``, other parameters clipped to bounds."""
        P = np.array(P, dtype=float)
        b = self.model.bounds
        ang = self.angular
        P[..., ang] = b[ang, 0] + np.mod(P[..., ang] - b[ang, 0], self.periods[ang])
        P[..., ~ang] = np.clip(P[..., ~ang], b[~ang, 0], b[~ang, 1])
        return P

    def fit_one(self, y, obs, starts, loss, f_scale, max_nfev):
        """Best of the fits from each start; returns (params, robust cost)."""
        y_obs = y.ravel()[obs]
        k = self.lb.size
        eye = np.diag(self.step)

        def fun(p):
            return self.curves(p[None])[0].ravel()[obs] - y_obs

        def jac(p):
            F = self.curves(np.vstack([p + eye, p - eye])).reshape(2 * k, -1)[:, obs]
            return ((F[:k] - F[k:]) / (2.0 * self.step[:, None])).T

        best, best_cost = None, np.inf
        for x0 in starts:
            res = least_squares(
                fun, x0, jac=jac, bounds=(self.lb, self.ub), loss=loss, f_scale=f_scale,
                x_scale=self.x_scale, method="trf", max_nfev=max_nfev,
            )
            if res.cost < best_cost:
                best, best_cost = res.x, res.cost
        return best, best_cost


def _cosinor_basis(t: np.ndarray, n_harmonics: int, period: float) -> np.ndarray:
    cols = [np.ones_like(t)]
    for k in range(1, n_harmonics + 1):
        w = 2.0 * math.pi * k / period
        cols += [np.cos(w * t), np.sin(w * t)]
    return np.stack(cols, axis=1)


def _linear_cosinor_start(model: SymbolicModel, Y: np.ndarray) -> np.ndarray | None:
    """Least-squares cosinor on the cos/sin basis (linear, batched): a start near the
    optimum for the cosinor-type built-ins, or ``None`` for any other model.

    ``Y`` is ``(n, T)`` in physical units with NaN for missing samples.
    """
    if isinstance(model, _Cosinor3):
        n_harmonics, period = 1, 24.0
    elif isinstance(model, SpO2):
        n_harmonics, period = 1, 24.0
    elif isinstance(model, Cosinor):
        n_harmonics, period = model.n_harmonics, model.period_hours
    else:
        return None
    B = _cosinor_basis(model.t_hours(Y.shape[1]), n_harmonics, period)
    m = ~np.isnan(Y)
    Yz = np.where(m, Y, 0.0)
    # Per-sequence normal equations over the observed samples; a tiny ridge keeps
    # sequences with very few observations solvable.
    G = np.einsum("tj,nt,tk->njk", B, m.astype(float), B)
    G += 1e-9 * np.eye(B.shape[1])
    c = np.linalg.solve(G, np.einsum("tj,nt->nj", B, Yz)[..., None])[..., 0]
    P = np.empty((Y.shape[0], 1 + 2 * n_harmonics))
    P[:, 0] = c[:, 0]
    for k in range(1, n_harmonics + 1):
        a, b = c[:, 2 * k - 1], c[:, 2 * k]
        P[:, 2 * k - 1] = np.hypot(a, b)
        P[:, 2 * k] = np.mod(np.arctan2(b, a) * period / (2.0 * math.pi * k), period / k)
    if isinstance(model, SpO2):
        # B - D/2 (1 + cos(w (t - nadir))) = (B - D/2) + (D/2) cos(w (t - nadir - 12)).
        mesor, amp, peak = P.T
        P = np.stack([mesor + amp, 2.0 * amp, np.mod(peak + 12.0, 24.0)], axis=1)
    return P


def _starts(problem: _SequenceProblem, x0: np.ndarray | None, n_restarts: int) -> np.ndarray:
    """Starting points ``(n_restarts, n_params)`` around ``x0`` (or the bounds' centre).

    Restart ``j`` shifts every angle by ``j / n_restarts`` of its period, so one
    start is always within a quarter period of the true phase. Models without
    angles restart from fixed, reproducible points spread over the bounds.
    """
    b = problem.model.bounds
    base = b.mean(axis=1) if x0 is None else np.asarray(x0, dtype=float)
    ang = problem.angular
    starts = np.repeat(base[None], n_restarts, axis=0)
    if ang.any():
        shifts = np.arange(n_restarts)[:, None] / n_restarts * problem.periods[ang]
        starts[:, ang] = base[ang] + shifts
    elif n_restarts > 1:
        rng = np.random.RandomState(0)
        width = b[:, 1] - b[:, 0]
        starts[1:] = b[:, 0] + width * rng.uniform(0.1, 0.9, size=(n_restarts - 1, b.shape[0]))
    starts[:, ~ang] = np.clip(starts[:, ~ang], b[~ang, 0], b[~ang, 1])
    return starts


def _fit_chunk(model, Yn, x0, loss, f_scale, n_restarts, max_nfev):
    """Fit the sequences of one chunk (normalised ``Yn``, shape (n, T, C))."""
    problem = _SequenceProblem(model, Yn.shape[1])
    out = np.full((Yn.shape[0], model.n_params), np.nan)
    robust = loss != "linear"
    for i in range(Yn.shape[0]):
        y = Yn[i]
        obs = ~np.isnan(y.ravel())
        if not obs.any():
            continue  # nothing observed: NaN parameters
        if x0 is not None and not np.all(np.isfinite(x0[i])):
            continue
        start = None if x0 is None else x0[i]
        if f_scale == "auto" and robust:
            # First pass: residuals of a non-robust estimate (the given start, or an
            # ordinary least-squares fit), whose MAD is a robust scale of the noise.
            if start is None:
                start, _ = problem.fit_one(
                    y, obs, _starts(problem, None, n_restarts), "linear", 1.0, max_nfev
                )
            s = _seq_scale(problem, y, obs, start)
            p, _ = problem.fit_one(
                y, obs, _starts(problem, start, n_restarts), loss, s, max_nfev
            )
            for _ in range(_SEQ_AUTO_ROUNDS):
                s_new = _seq_scale(problem, y, obs, p)
                if abs(s_new - s) <= 1e-2 * s:
                    break
                s = s_new
                p, _ = problem.fit_one(y, obs, [p], loss, s, max_nfev)
        else:
            s = 1.0 if f_scale == "auto" else float(f_scale)
            p, _ = problem.fit_one(
                y, obs, _starts(problem, start, n_restarts), loss, s, max_nfev
            )
        out[i] = p
    return problem.wrap(out)


def _seq_scale(problem, y, obs, p):
    r = problem.curves(np.asarray(p, dtype=float)[None])[0].ravel()[obs] - y.ravel()[obs]
    return max(_robust_scale(r), _AUTO_SCALE_FLOOR)


def _check_loss_scale_restarts(loss, f_scale, n_restarts, *, allow_none_restarts=False):
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
    if n_restarts is None and allow_none_restarts:
        return
    if (
        isinstance(n_restarts, bool)
        or not isinstance(n_restarts, numbers.Integral)
        or n_restarts < 1
    ):
        raise ValueError(f"n_restarts must be an int >= 1, got {n_restarts!r}.")


def fit_sequences(
    model: SymbolicModel,
    X: np.ndarray,
    *,
    loss: str = "soft_l1",
    f_scale: float | str = 1.0,
    x0: np.ndarray | None = None,
    n_restarts: int | None = None,
    max_nfev: int | None = None,
    n_jobs: int | None = None,
) -> np.ndarray:
    """Fit ``model`` to every sequence with :func:`scipy.optimize.least_squares`.

    The engine of :class:`SymbolicLeastSquares`, also used to refine the
    predictions of :class:`~sklearn_r2t.R2TRegressor`. Residuals are in the model's
    normalised units (:meth:`SymbolicModel.normalize`, a fraction of
    ``output_range``), NaN samples are ignored, non-angular parameters stay within
    ``model.bounds`` and angles are wrapped into theirs.

    Parameters
    ----------
    model : SymbolicModel
        The equation to fit.
    X : ndarray of shape (n_sequences, n_timesteps, n_channels)
        Sequences in physical units, NaN for missing samples (already validated;
        read, never written).
    loss : {'linear', 'huber', 'soft_l1', 'cauchy', 'arctan'}, default='soft_l1'
        scipy's loss; ``'linear'`` is ordinary least squares.
    f_scale : float > 0 or 'auto', default=1.0
        Soft margin between inlier and outlier residuals, in normalised units. See
        :class:`SymbolicLeastSquares`.
    x0 : ndarray of shape (n_sequences, n_params), default=None
        Starting values in physical units (a row with NaN gives NaN). When given,
        each sequence starts from its row alone unless ``n_restarts`` asks for
        phase-shifted restarts too; with ``f_scale='auto'`` the scale comes from
        the residuals at ``x0``.
    n_restarts : int >= 1, default=None
        Number of starting points per sequence; ``None`` means 4 without ``x0``
        and 1 with it.
    max_nfev : int, default=None
        Maximum function evaluations per start (scipy's default when None).
    n_jobs : int, default=None
        Number of joblib workers over chunks of sequences (None: 1).

    Returns
    -------
    params : ndarray of shape (n_sequences, n_params)
        Fitted parameters in physical units.
    """
    check_model(model)
    _check_loss_scale_restarts(loss, f_scale, n_restarts, allow_none_restarts=True)
    if n_restarts is None:
        n_restarts = 4 if x0 is None else 1
    X = np.asarray(X, dtype=float)
    if X.ndim == 2:
        X = X[:, :, None]
    if x0 is not None:
        x0 = np.asarray(x0, dtype=float)
        if x0.shape != (X.shape[0], model.n_params):
            raise ValueError(
                f"x0 must have shape ({X.shape[0]}, {model.n_params}), got {x0.shape}."
            )

    if isinstance(model, _ChannelStack) and model.n_channels == len(model.components):
        # Channels of a stack share no parameter: fit each on its own (smaller
        # problems, and each channel gets its own phase restarts and scale).
        splits = np.cumsum([m.n_params for m in model.components])[:-1]
        x0_parts = [None] * len(model.components) if x0 is None else np.split(x0, splits, axis=1)
        parts = [
            fit_sequences(
                m, X[:, :, [c]], loss=loss, f_scale=f_scale, x0=x0_parts[c],
                n_restarts=n_restarts, max_nfev=max_nfev, n_jobs=n_jobs,
            )
            for c, m in enumerate(model.components)
        ]
        return np.concatenate(parts, axis=1)

    rng = model.output_range.reshape(-1, 2)
    Yn = (X - rng[:, 0]) / (rng[:, 1] - rng[:, 0])
    if x0 is None and X.shape[2] == 1:
        x0 = _linear_cosinor_start(model, X[:, :, 0])  # None for other models
        if x0 is not None:
            x0 = _SequenceProblem(model, X.shape[1]).wrap(x0)
            n_restarts = max(n_restarts, 1)

    n_workers = min(effective_n_jobs(n_jobs), max(X.shape[0], 1))
    if n_workers <= 1:
        return _fit_chunk(model, Yn, x0, loss, f_scale, n_restarts, max_nfev)
    chunks = np.array_split(np.arange(X.shape[0]), n_workers)
    results = Parallel(n_jobs=n_workers)(
        delayed(_fit_chunk)(
            model, Yn[idx], None if x0 is None else x0[idx], loss, f_scale, n_restarts,
            max_nfev,
        )
        for idx in chunks
    )
    return np.concatenate(results, axis=0)


class SymbolicLeastSquares(TransformerMixin, BaseEstimator):
    r"""Robust least-squares fit of a symbolic model to each sequence.

    The classical baseline of :class:`~sklearn_r2t.R2TRegressor`, with the same
    API so that the two swap in a Pipeline: ``transform`` returns the model's
    parameters (physical units), ``predict`` the fitted clean curves. Each sequence
    is fitted independently with :func:`scipy.optimize.least_squares` (method
    ``'trf'``) within the model's bounds; the estimator is transductive, like
    :class:`~sklearn.preprocessing.Normalizer`: ``fit`` only validates the input
    and fixes the model and the sequence length, and ``transform(X)`` fits the
    sequences of ``X``.

    Residuals are measured in the model's **normalised units**
    (:meth:`~sklearn_r2t.symbolic.SymbolicModel.normalize`: a fraction of the
    plausible signal range ``output_range``), so ``f_scale`` means the same for
    every model and channel: ``f_scale=0.02`` puts the switch from quadratic to
    robust at 2 % of the signal range (``0.02 * (hi - lo)`` of ``output_range``,
    under 2 bpm for :class:`HeartRate`). scipy's default ``f_scale=1.0`` is the
    whole range: every residual is below it, so ``'huber'`` and ``'soft_l1'`` then
    behave like ordinary least squares. That is the honest "default" baseline;
    ``f_scale='auto'`` is the tuned one.

    Missing samples (NaN) are ignored. A sequence with a channel that is entirely
    NaN gets NaN parameters and curves, with a warning. Angular parameters
    (acrophases) are fitted on the whole circle and returned within their bounds.

    Parameters
    ----------
    model : SymbolicModel, default=None
        The equation to fit; ``None`` means :class:`~sklearn_r2t.symbolic.HeartRate`.
    loss : {'linear', 'huber', 'soft_l1', 'cauchy', 'arctan'}, default='soft_l1'
        scipy's loss: ``'linear'`` is ordinary least squares, ``'huber'`` and
        ``'soft_l1'`` grow linearly for large residuals, ``'cauchy'`` and
        ``'arctan'`` redescend (large outliers are all but ignored).
    f_scale : float > 0 or 'auto', default=1.0
        Soft margin between inlier and outlier residuals, in normalised units (see
        above). ``'auto'`` estimates it per sequence: ``1.4826 * MAD`` of the
        residuals of a first, non-robust estimate (the linear cosinor start for the
        cosinor-type built-ins, otherwise an ordinary least-squares fit), then
        re-estimated from the robust fit's residuals (up to 2 more rounds), floored
        at 1e-3 (0.1 % of the signal range). Ignored by ``loss='linear'``.
    n_restarts : int >= 1, default=4
        Starting points per sequence; the best robust cost wins. Restart ``j``
        shifts every angular parameter by ``j / n_restarts`` of its period, so that
        the phase does not settle in a wrong local minimum. The first start is a
        linear least-squares cosinor fit on the cos/sin basis for the cosinor-type
        built-ins (:class:`HeartRate`, :class:`SkinTemperature`, :class:`SpO2`,
        :class:`Cosinor`, each channel of :class:`Wearable`), the centre of the
        bounds otherwise.
    max_nfev : int, default=None
        Maximum function evaluations per start (scipy's default, 100 per
        parameter, when None).
    n_jobs : int, default=None
        Number of joblib workers over chunks of sequences. ``None`` means 1
        unless in a :func:`joblib.parallel_backend` context; ``-1`` all cores.
        Starting process workers (each imports torch) takes seconds: worth it for
        thousands of sequences, not for a few hundred.

    Attributes
    ----------
    model_ : SymbolicModel
        The validated model.
    n_timesteps_ : int
        Sequence length seen during fit.
    n_features_in_ : int
        Equal to ``n_timesteps_`` (the second axis of ``X``).
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of the time steps, when ``X`` is a DataFrame with string column names.

    See Also
    --------
    fit_sequences : The function behind this estimator.
    sklearn_r2t.R2TRegressor : The transformer that predicts the same parameters.
    SoftL1Regressor : Robust linear regression for tabular data.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_r2t import SymbolicLeastSquares
    >>> from sklearn_r2t.symbolic import HeartRate
    >>> model = HeartRate()
    >>> X = model.evaluate([[70.0, 10.0, 15.0]], n_timesteps=96)
    >>> X[0, 40:48] += 30.0  # a two-hour burst of exercise
    >>> est = SymbolicLeastSquares(model, loss="cauchy", f_scale="auto").fit(X)
    >>> np.round(est.transform(X), 2)
    array([[70., 10., 15.]])
    >>> est.get_feature_names_out()
    array(['mesor', 'amplitude', 'acrophase'], dtype=object)
    """

    _parameter_constraints: dict = {
        "model": [None, SymbolicModel],
        "loss": [StrOptions(set(LOSSES))],
        "f_scale": [Interval(numbers.Real, 0, None, closed="neither"), StrOptions({"auto"})],
        "n_restarts": [Interval(numbers.Integral, 1, None, closed="left")],
        "max_nfev": [None, Interval(numbers.Integral, 1, None, closed="left")],
        "n_jobs": [None, numbers.Integral],
    }

    def __init__(
        self,
        model=None,
        loss="soft_l1",
        f_scale=1.0,
        n_restarts=4,
        max_nfev=None,
        n_jobs=None,
    ):
        self.model = model
        self.loss = loss
        self.f_scale = f_scale
        self.n_restarts = n_restarts
        self.max_nfev = max_nfev
        self.n_jobs = n_jobs

    def _get_model(self) -> SymbolicModel:
        return HeartRate() if self.model is None else check_model(self.model)

    def fit(self, X, y=None):
        """Validate the sequences and fix the model and the sequence length.

        Parameters
        ----------
        X : array-like of shape (n_sequences, n_timesteps) or \
                (n_sequences, n_timesteps, n_channels)
            Sequences in physical units; NaN marks a missing sample.
        y : None
            Ignored.

        Returns
        -------
        self : SymbolicLeastSquares
            The fitted estimator.
        """
        model = self._get_model()
        self._validate_params()
        Xv = validate_sequences(self, X, model, reset=True)
        self.model_ = model
        self.n_timesteps_ = Xv.shape[1]
        return self

    def _fit_params(self, X):
        check_is_fitted(self)
        Xv = validate_sequences(self, X, self.model_, reset=False)
        empty = all_missing_rows(Xv)
        params = fit_sequences(
            self.model_, Xv, loss=self.loss, f_scale=self.f_scale,
            n_restarts=self.n_restarts, max_nfev=self.max_nfev, n_jobs=self.n_jobs,
        )
        params[empty] = np.nan
        return params

    def transform(self, X):
        """Fit the model to each sequence and return its parameters.

        Parameters
        ----------
        X : array-like of shape (n_sequences, n_timesteps[, n_channels])
            Sequences of the length seen in ``fit``; NaN marks a missing sample.

        Returns
        -------
        params : ndarray of shape (n_sequences, n_params)
            Fitted parameters in physical units (:meth:`get_feature_names_out`
            names them); NaN for a sequence with an entirely missing channel.
        """
        return self._fit_params(X)

    def predict(self, X):
        """Fit the model to each sequence and return the fitted clean curves.

        Parameters
        ----------
        X : array-like of shape (n_sequences, n_timesteps[, n_channels])
            Sequences of the length seen in ``fit``; NaN marks a missing sample.

        Returns
        -------
        curves : ndarray shaped like ``X``
            The fitted curves, without noise or gaps (NaN rows for a sequence
            with an entirely missing channel).
        """
        in_ndim = X.ndim if hasattr(X, "ndim") else np.asarray(X).ndim
        params = self._fit_params(X)
        curves = np.full(params.shape[:1] + (self.n_timesteps_, self.model_.n_channels), np.nan)
        ok = ~np.isnan(params).any(axis=1)
        if ok.any():
            out = self.model_.evaluate(params[ok], self.n_timesteps_)
            curves[ok] = out.reshape(out.shape[0], self.n_timesteps_, -1)
        return curves[..., 0] if in_ndim == 2 else curves

    def get_feature_names_out(self, input_features=None):
        """Names of the output features: the model's parameter names.

        Parameters
        ----------
        input_features : array-like of str or None, default=None
            Ignored (the output names do not depend on the input).

        Returns
        -------
        feature_names_out : ndarray of str objects
        """
        check_is_fitted(self)
        return np.asarray(self.model_.param_names, dtype=object)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True  # NaN marks a missing sample
        tags.input_tags.three_d_array = True  # multi-channel models take (n, T, C)
        tags.target_tags.required = False
        return tags
