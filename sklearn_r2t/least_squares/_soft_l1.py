"""SoftL1Regressor: a linear model fitted with scipy's robust least-squares losses."""

from __future__ import annotations

import math
import numbers

import numpy as np
from scipy.optimize import least_squares
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data

from .._validation import check_float32_range
from ._engine import MAD_TO_SIGMA as _MAD_TO_SIGMA

# Rounds of alternating robust fit and scale estimate for f_scale='auto'.
_AUTO_SCALE_ROUNDS = 10
# sqrt(pi / 2): turns a mean absolute deviation into a Gaussian sigma.
_MEANAD_TO_SIGMA = 1.2533141373155001
# Soft margins (in units of the rescaled targets) whose square stays a normal float64.
_MARGIN_RANGE = (1e-150, 1e150)


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
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
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
        y_dtype = np.asarray(y).dtype
        if y_dtype.kind in "USV":  # validate_data would fail in a numpy ufunc
            raise ValueError(
                f"y must be numeric (a regression target), got an array of {y_dtype} strings."
            )
        X, y = validate_data(self, X, y, y_numeric=True, dtype=np.float64)
        # Boolean targets count as 0 and 1, as in scikit-learn's regressors.
        y = y.astype(np.float64, copy=False)
        check_float32_range(X, "X")
        check_float32_range(y, "y")
        # Fit y / c, c the power of two that brings max |y| into [0.5, 1) (exact),
        # with the scale / c: the same minimiser, coefficients / c (the penalty
        # scales as the loss does). scipy's tolerances are not scale-free (targets
        # near 1e-30 stopped at the least-squares start) and the loss squares the
        # scale (near 1e-300 it underflowed).
        y_max = float(np.abs(y).max(initial=0.0))
        c = math.ldexp(1.0, math.frexp(y_max)[1]) if y_max > 0 else 1.0
        y = y / c
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
            # Beyond these margins the loss is least squares / least absolute
            # deviations to float64 precision: the same minimiser, and no overflow.
            s = min(max(float(self.f_scale) / c, _MARGIN_RANGE[0]), _MARGIN_RANGE[1])
            res = solve(beta0, s)
        beta = res.x * c
        self.coef_ = beta[:n_features].copy()
        self.intercept_ = float(beta[n_features]) if self.fit_intercept else 0.0
        self.f_scale_ = s * c
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
