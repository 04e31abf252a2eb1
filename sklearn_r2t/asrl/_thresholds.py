"""ASRL's thresholds: the statistics of the current residuals that set delta1, delta2 and tau."""

from __future__ import annotations

import math
from numbers import Real
from typing import Any, NamedTuple

import numpy as np

from ._quantiles import _CollectiveBackend, _LocalBackend, backend_max

# 1.4826 * MAD and IQR / 1.349 estimate the standard deviation of a normal sample.
_MAD_TO_SIGMA = 1.482602218505602
_IQR_TO_SIGMA = 1.0 / 1.3489795003921634
# thresholds="adaptive": delta1 = _CORE_C * sigma * exp(-_SHRINK * (T - 1)) with T the
# shoulder heaviness, Q(|r - m|, 0.75) / Q(|r - m|, 0.5) over its Gaussian value 1.7055
# (Student-t3 1.09, Laplace 1.17, Student-t1.5 1.23, Cauchy 1.42); the log region starts
# at median +- _TAIL_CUT * sigma (per side). _CORE_C is the median of |N(0, 1)|: on
# Gaussian residuals the core ends where the quantile rule's does (q_low = 0.5). Huber's
# 1.345 was tried and lost in the benchmark (best or within 2 % of the best peer in 12 of
# 40 cells against 22).
_SHAPE_Q = 0.75
_GAUSS_SHAPE = 1.1503493803760079 / 0.6744897501960817
_CORE_C = 0.6744897501960817
_SHRINK = 6.0
_TAIL_CUT = 3.0
# The core never shrinks below a quarter of its Gaussian value (exp(-6 * 0.231) = 0.25): with
# a tiny delta1 every hessian is tiny, reg_lambda dominates the leaf values and boosting
# stalls (a cap of 2, i.e. a factor 0.0025, made diamonds' MAE 1.7x worse).
_MAX_HEAVINESS = 1.0 + math.log(4.0) / _SHRINK
# weighting="adaptive": tau = SD(r) clipped to [1, _MAX_TAIL_RATIO] * sigma_rob.
_MAX_TAIL_RATIO = 10.0
# delta1 is kept at least this fraction of the robust scale (guard: > q_low residuals exactly 0).
_DELTA1_FLOOR = 1e-3
# Smallest hessian handed to the booster (XGBoost works in float32): positive, never denormal.
_HESS_FLOOR = 1e-30
# thresholds="efficient": the same shape as "adaptive" with a core of _EFF_CORE_C robust
# SDs, shrunk only when the shoulder heaviness exceeds its Gaussian value by more than
# _EFF_DEAD (sampling noise of T on clean data must not shrink the core). On Gaussian
# residuals delta1 = 1.5 sigma, delta2 = 3 sigma, tau = sigma: asymptotic efficiency of the
# location M-estimate (E psi')**2 / E psi**2 = 0.961 (Huber at 1.345 sigma: 0.95; the
# quantile rule's 0.674 / 1.28 sigma: 0.70), and 87 % of the residuals in the squared region.
_EFF_CORE_C = 1.5
_EFF_DEAD = 0.05
_WEIGHTINGS = ("adaptive", "mad")
_THRESHOLDS = ("adaptive", "efficient", "quantile")
# Residuals beyond these magnitudes are rescaled by a power of two (exact) before statistics,
# so that squares and differences cannot overflow or underflow.
_BIG, _TINY = 1e150, 1e-150
_FLOAT_MAX = float(np.finfo(np.float64).max)


class ASRLThresholds(NamedTuple):
    """Per-output statistics that define the ASRL loss for one set of residuals.

    Every field is an array of shape ``(n_outputs,)``. ``delta1``, ``delta2`` and ``tau``
    apply to residuals ``r = prediction - target >= 0``; ``delta1_neg``, ``delta2_neg`` and
    ``tau_neg`` to ``r < 0`` (``None``: the same as the positive side).

    Attributes
    ----------
    delta1 : ndarray
        End of the squared region (guarded to be positive).
    delta2 : ndarray
        End of the absolute region (at least ``delta1``).
    tau : ndarray
        Scale of the logarithmic tail: the influence of a residual halves ``tau`` beyond
        ``delta2``.
    scale : ndarray
        Robust scale of the residuals (1.4826 MAD, else IQR / 1.349, else the standard
        deviation, else the mean absolute residual).
    spread : ndarray
        Weighted standard deviation of the residuals.
    delta1_neg, delta2_neg, tau_neg : ndarray or None
        The same for negative residuals (prediction below the target).
    """

    delta1: np.ndarray
    delta2: np.ndarray
    tau: np.ndarray
    scale: np.ndarray
    spread: np.ndarray
    delta1_neg: np.ndarray | None = None
    delta2_neg: np.ndarray | None = None
    tau_neg: np.ndarray | None = None

    def sides(self) -> tuple[tuple[np.ndarray, np.ndarray, np.ndarray], ...]:
        """``((delta1, delta2, tau) for r >= 0, (delta1, delta2, tau) for r < 0)``."""
        pos = (self.delta1, self.delta2, self.tau)
        neg = tuple(p if n is None else n for p, n in
                    zip(pos, (self.delta1_neg, self.delta2_neg, self.tau_neg), strict=True))
        return pos, neg

    def is_symmetric(self) -> bool:
        """Whether both sides share their thresholds."""
        pos, neg = self.sides()
        return all(np.array_equal(p, n) for p, n in zip(pos, neg, strict=True))


# --------------------------------------------------------------------------- validation
def _check_params(q_low: Any, q_high: Any, weighting: Any, thresholds: Any = "quantile",
                  per_side: Any = False) -> None:
    for name, q in (("q_low", q_low), ("q_high", q_high)):
        if isinstance(q, bool) or not isinstance(q, Real) or not (0.0 < float(q) < 1.0):
            raise ValueError(f"{name} must be a float in the open interval (0, 1); got {q!r}.")
    if not float(q_low) < float(q_high):
        raise ValueError(f"q_low must be smaller than q_high; got q_low={q_low}, q_high={q_high}.")
    if not isinstance(weighting, str) or weighting not in _WEIGHTINGS:
        raise ValueError(f"weighting must be one of {_WEIGHTINGS}; got {weighting!r}.")
    if not isinstance(thresholds, str) or thresholds not in _THRESHOLDS:
        raise ValueError(f"thresholds must be one of {_THRESHOLDS}; got {thresholds!r}.")
    if not isinstance(per_side, (bool, np.bool_)):
        raise ValueError(f"per_side must be a bool; got {per_side!r}.")


def _as_float_array(x: Any, name: str) -> np.ndarray:
    """``np.asarray(x, float64)`` with a clear error for non-numeric input."""
    if isinstance(x, (str, bytes)) or x is None:
        raise TypeError(f"{name} must be an array of real numbers; got {type(x).__name__}.")
    arr = np.asarray(x)
    if arr.dtype.kind == "c":
        raise TypeError(f"{name} must be real; got a complex array.")
    if arr.dtype.kind not in "biuf":
        try:
            arr = arr.astype(np.float64)
        except (TypeError, ValueError):
            raise TypeError(
                f"{name} must be an array of real numbers; got dtype {arr.dtype}."
            ) from None
    return arr.astype(np.float64, copy=False)


def _as_2d_pair(
    y_true: Any, y_pred: Any, sample_weight: Any
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, tuple[int, ...]]:
    """Validate and return float64 (n, k) copies-or-views plus the prediction's shape."""
    pred = _as_float_array(y_pred, "y_pred")
    true = _as_float_array(y_true, "y_true")
    shape = pred.shape
    if pred.ndim not in (1, 2):
        raise ValueError(f"y_pred must be 1-D or 2-D; got shape {pred.shape}.")
    if true.size != pred.size:
        raise ValueError(
            f"y_true and y_pred have mismatched shapes {true.shape} and {pred.shape}."
        )
    if true.shape != pred.shape:
        # Boosters hand labels flat or as (n, k); accept any layout of the same size
        # only when the leading dimension agrees.
        if true.ndim >= 1 and pred.ndim >= 1 and true.shape[0] != pred.shape[0]:
            raise ValueError(
                f"y_true and y_pred have mismatched shapes {true.shape} and {pred.shape}."
            )
        true = true.reshape(shape)
    if not np.all(np.isfinite(true)):
        raise ValueError("y_true contains NaN or infinity; ASRL needs finite labels.")
    if not np.all(np.isfinite(pred)):
        raise ValueError("y_pred contains NaN or infinity.")
    with np.errstate(over="ignore"):
        if not np.all(np.isfinite(pred - true)):
            raise ValueError(
                "y_pred - y_true overflows float64 (beyond 1.8e308) for some samples: "
                "no residual, hence no gradient, exists there; rescale the targets "
                "(boosters compute in float32, within 3.4e38).")
    n = shape[0]
    k = shape[1] if pred.ndim == 2 else 1
    pred2 = pred.reshape(n, k)  # explicit k: a worker's partition may be empty on dask
    true2 = true.reshape(n, k)
    w = None
    if sample_weight is not None:
        w = _as_float_array(sample_weight, "sample_weight")
        if w.size == 0 and n > 0:
            w = None
        else:
            w = w.reshape(-1)
            if w.shape[0] != n:
                raise ValueError(
                    f"sample_weight has {w.shape[0]} entries but there are {n} samples."
                )
            if not np.all(np.isfinite(w)) or np.any(w < 0):
                raise ValueError("sample_weight must be finite and non-negative.")
    return true2, pred2, w, shape


def _power_of_two_scale(a_max: float) -> float:
    """1, or a power of two bringing ``a_max`` near 1 when it is huge or tiny (exact)."""
    if _TINY < a_max < _BIG or a_max == 0 or not np.isfinite(a_max):
        return 1.0
    # a_max / c in [2, 4); the exponent is clamped so that c itself is a normal float.
    return math.ldexp(1.0, min(max(math.frexp(a_max)[1] - 2, -1020), 1021))


def _robust_scale(mad: float, q25: float, q75: float, sd: float, mean_abs: float) -> float:
    # Fallback chain for a robust scale: MAD (50% breakdown), IQR (25%), SD, mean |r|.
    cands = (_MAD_TO_SIGMA * mad, _IQR_TO_SIGMA * (q75 - q25), sd, mean_abs)
    return next((s for s in cands if s > 0 and np.isfinite(s)), 0.0)


def _tail_scale(sd: float, scale: float, weighting: str) -> float:
    if weighting == "adaptive":
        return min(max(sd, scale), _MAX_TAIL_RATIO * scale)
    return scale


def _column_stats(r: np.ndarray, w: np.ndarray | None, cfg: tuple, backend: Any) -> np.ndarray:
    """``[delta1, delta2, tau, scale, spread, delta1_neg, delta2_neg, tau_neg]`` of one column.

    ``cfg = (q_low, q_high, weighting, thresholds, per_side)``. Computed on residuals rescaled
    by a power of two when they are huge or tiny, then scaled back.
    """
    q_low, q_high, weighting, thresholds, per_side = cfg
    a = np.abs(r)
    c = _power_of_two_scale(float(backend_max(a, backend)))
    if c != 1.0:
        r, a = r / c, a / c
    if w is None and isinstance(backend, _CollectiveBackend):
        w = np.ones(r.shape[0])
    if w is None:
        total, sum_r, sum_a = float(r.shape[0]), float(r.sum()), float(a.sum())
    else:
        total, sum_r, sum_a = backend.sums(np.array([w.sum(), w @ r, w @ a]))
    if not total > 0:
        raise ValueError("sample_weight sums to zero over all workers.")
    mean, mean_abs = sum_r / total, sum_a / total
    first = [(r, w, 0.25), (r, w, 0.5), (r, w, 0.75)]
    if thresholds == "quantile":
        first += [(a, w, q_low), (a, w, q_high)]
    qs = backend.quantiles(first)
    q25, med, q75 = qs[:3]
    dev = np.abs(r - med)
    d2r = (r - mean) ** 2
    if thresholds == "quantile":
        var = backend.sums(np.array([float(d2r.sum() if w is None else w @ d2r)]))[0] / total
        (mad,) = backend.quantiles([(dev, w, 0.5)])
        sd = math.sqrt(max(var, 0.0))
        scale = _robust_scale(mad, q25, q75, sd, mean_abs)
        if scale <= 0:  # every residual is exactly zero: grad 0 and hess 1
            return np.array([1.0, 1.0, 1.0, 0.0, 0.0, 1.0, 1.0, 1.0])
        d1 = max(qs[3], _DELTA1_FLOOR * scale)
        d2 = max(qs[4], d1)
        tau = _tail_scale(sd, scale, weighting)
        out = np.array([d1, d2, tau, scale, sd, d1, d2, tau])
        return _rescale(out, c)
    # thresholds "adaptive" / "efficient": scales and tail shape from the deviations from
    # the median, per side of the median.
    up, lo = r > med, r < med
    dev_up, dev_lo = dev[up], dev[lo]
    w_up = None if w is None else w[up]
    w_lo = None if w is None else w[lo]
    sq_up, sq_lo = dev_up * dev_up, dev_lo * dev_lo
    if w is None:
        sums = np.array([d2r.sum(), sq_up.sum(), sq_lo.sum(), dev_up.size, dev_lo.size])
    else:
        sums = backend.sums(np.array([w @ d2r, w_up @ sq_up, w_lo @ sq_lo,
                                      w_up.sum(), w_lo.sum()]))
    var, ss_up, ss_lo, n_up, n_lo = sums
    mad, q3, m_up, q3_up, m_lo, q3_lo = backend.quantiles(
        [(dev, w, 0.5), (dev, w, _SHAPE_Q), (dev_up, w_up, 0.5), (dev_up, w_up, _SHAPE_Q),
         (dev_lo, w_lo, 0.5), (dev_lo, w_lo, _SHAPE_Q)]
    )
    sd = math.sqrt(max(var / total, 0.0))
    scale = _robust_scale(mad, q25, q75, sd, mean_abs)
    if scale <= 0:
        return np.array([1.0, 1.0, 1.0, 0.0, 0.0, 1.0, 1.0, 1.0])
    if per_side:
        s_up = _MAD_TO_SIGMA * m_up if m_up > 0 else scale
        s_lo = _MAD_TO_SIGMA * m_lo if m_lo > 0 else scale
        sd_up = math.sqrt(ss_up / n_up) if n_up > 0 else sd
        sd_lo = math.sqrt(ss_lo / n_lo) if n_lo > 0 else sd
        # The tighter side is the one least touched by one-sided errors: it sizes the core.
        core = min(s_up, s_lo)
        heavy = min(_heaviness(q3_up, m_up), _heaviness(q3_lo, m_lo))
        off_up, off_lo = med, -med
    else:
        s_up = s_lo = core = scale
        sd_up = sd_lo = sd
        heavy = _heaviness(q3, mad)
        off_up = off_lo = abs(med)
    if thresholds == "efficient":
        shrink = math.exp(-_SHRINK * max(heavy - 1.0 - _EFF_DEAD, 0.0))
        d1 = max(_EFF_CORE_C * core * shrink, _DELTA1_FLOOR * scale)
    else:
        d1 = max(_CORE_C * core * math.exp(-_SHRINK * (heavy - 1.0)), _DELTA1_FLOOR * scale)
    d2_up = max(d1, off_up + _TAIL_CUT * s_up)
    d2_lo = max(d1, off_lo + _TAIL_CUT * s_lo)
    out = np.array([d1, d2_up, _tail_scale(sd_up, s_up, weighting), scale, sd,
                    d1, d2_lo, _tail_scale(sd_lo, s_lo, weighting)])
    return _rescale(out, c)


def _heaviness(q_shape: float, q_half: float) -> float:
    """Shoulder heaviness of |r - median|: Q(., 0.75) / Q(., 0.5) over its Gaussian value."""
    if not (q_half > 0 and np.isfinite(q_shape)):
        return 1.0
    return min(max(q_shape / q_half / _GAUSS_SHAPE, 1.0), _MAX_HEAVINESS)


def _rescale(out: np.ndarray, c: float) -> np.ndarray:
    if c != 1.0:
        with np.errstate(over="ignore"):
            out = out * c
        out = np.minimum(out, _FLOAT_MAX)
    return out


def _stats_residuals(r: np.ndarray, w: np.ndarray | None, q_low: float, q_high: float,
                     weighting: str, allreduce: Any = None, thresholds: str = "quantile",
                     per_side: bool = False) -> ASRLThresholds:
    """Statistics of residuals ``r`` of shape (n, k), per column."""
    k = r.shape[1]
    out = np.empty((8, k))
    backend = _LocalBackend() if allreduce is None else _CollectiveBackend(allreduce)
    cfg = (q_low, q_high, weighting, thresholds, per_side)
    for j in range(k):  # loop over outputs (few), never over rows
        out[:, j] = _column_stats(r[:, j], w, cfg, backend)
    return ASRLThresholds(*out)


def _stats_2d(true2: np.ndarray, pred2: np.ndarray, w: np.ndarray | None, q_low: float,
              q_high: float, weighting: str, allreduce: Any = None,
              thresholds: str = "quantile", per_side: bool = False) -> ASRLThresholds:
    return _stats_residuals(pred2 - true2, w, q_low, q_high, weighting, allreduce,
                            thresholds, per_side)


def _check_zero_weights(w: np.ndarray | None, distributed: bool) -> None:
    if w is not None and not distributed and w.size and not w.sum() > 0:
        raise ValueError("sample_weight sums to zero: at least one weight must be positive.")
# --------------------------------------------------------------------------- public API
def asrl_thresholds(
    y_true: Any,
    y_pred: Any,
    sample_weight: Any = None,
    *,
    q_low: float = 0.5,
    q_high: float = 0.8,
    weighting: str = "adaptive",
    thresholds: str = "quantile",
    per_side: bool = False,
) -> ASRLThresholds:
    """Compute the ASRL thresholds and tail scale from the current residuals.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,) or (n_samples, n_outputs)
        Targets.
    y_pred : array-like of the same shape
        Predictions.
    sample_weight : array-like of shape (n_samples,), default=None
        Non-negative weights; quantiles are weighted (inverted CDF).
    q_low, q_high : float, default=0.5, 0.8
        Quantile levels of ``|r|`` that end the squared and absolute regions.
    weighting : {"adaptive", "mad"}, default="adaptive"
        How the tail scale ``tau`` is set, see :class:`ASRLObjective`.
    thresholds : {"quantile", "efficient", "adaptive"}, default="quantile"
        Threshold rule, see :class:`ASRLObjective`.
    per_side : bool, default=False
        Separate ``delta2`` and ``tau`` for positive and negative residuals
        (``thresholds="efficient"`` and ``"adaptive"`` only).

    Returns
    -------
    thresholds : ASRLThresholds
        Arrays of shape ``(n_outputs,)``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_r2t.asrl import asrl_thresholds
    >>> th = asrl_thresholds(np.zeros(5), np.array([0.0, 1.0, -2.0, 3.0, 40.0]))
    >>> float(th.delta1[0]), float(th.delta2[0])
    (2.0, 3.0)
    """
    _check_params(q_low, q_high, weighting, thresholds, per_side)
    true2, pred2, w, _ = _as_2d_pair(y_true, y_pred, sample_weight)
    if true2.shape[0] == 0:
        raise ValueError("ASRL needs at least one sample; got 0.")
    _check_zero_weights(w, distributed=False)
    return _stats_2d(true2, pred2, w, float(q_low), float(q_high), weighting,
                     thresholds=thresholds, per_side=bool(per_side))


def _check_fixed_thresholds(th: ASRLThresholds, k: int) -> ASRLThresholds:
    fields = []
    for name, f in zip(ASRLThresholds._fields, th, strict=True):
        if f is None and name.endswith("_neg"):
            fields.append(None)
            continue
        arr = _as_float_array(f, f"thresholds.{name}").reshape(-1)
        if arr.size == 1:
            arr = np.repeat(arr, k)
        if arr.size != k or not np.all(np.isfinite(arr)):
            raise ValueError(f"thresholds.{name} must hold {k} finite values; got {f!r}.")
        if name not in ("scale", "spread") and not np.all(arr > 0):
            raise ValueError(f"thresholds.{name} must be positive; got {f!r}.")
        fields.append(arr)
    out = ASRLThresholds(*fields)
    for d1, d2, _ in out.sides():
        if np.any(d2 < d1):
            raise ValueError("thresholds: delta2 must be at least delta1.")
    return out


def _is_dmatrix(obj: Any) -> bool:
    try:
        from xgboost import DMatrix
    except ImportError:  # pragma: no cover
        return False
    return isinstance(obj, DMatrix)


def _is_lgb_dataset(obj: Any) -> bool:
    mod = type(obj).__module__
    if not mod.startswith("lightgbm"):
        return False
    from lightgbm import Dataset

    return isinstance(obj, Dataset)
