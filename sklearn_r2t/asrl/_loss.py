"""The Adaptive Segmented Robust Loss (ASRL): its value and its IRLS weight.

The loss of one residual ``r = prediction - target`` with ``a = |r|`` is

.. code-block:: text

    rho(a) = a**2 / 2                                          a <= delta1   (squared)
             delta1 * a - delta1**2 / 2                        delta1 < a <= delta2  (absolute)
             delta1 * delta2 - delta1**2 / 2
               + delta1 * tau * log1p((a - delta2) / tau)      a > delta2    (logarithmic)

with thresholds ``delta1 <= delta2`` and tail scale ``tau`` recomputed from the current
residuals at every call (see :class:`ASRLObjective` for the rules, ``"quantile"``,
``"efficient"`` and ``"adaptive"``). ``delta2`` and ``tau`` may differ between residuals
above and below zero (per-side statistics). The derivative with respect to ``a`` is
``psi(a) = a``, ``delta1`` and ``delta1 * tau / (tau + a - delta2)`` on the three regions:
value and slope are continuous at both thresholds by construction. The per-residual factor
``h = psi(a) / a = delta1 / max(a, delta1) * tau / (tau + max(a - delta2, 0))`` gives both
the gradient ``h * r`` and the Newton weight (hessian) ``h``, a strictly positive majorizer
of the loss (the IRLS weight) that is exact in the squared region.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._thresholds import (
    ASRLThresholds,
    _as_2d_pair,
    _check_fixed_thresholds,
    _check_params,
    _check_zero_weights,
    _is_dmatrix,
    _stats_2d,
)


# --------------------------------------------------------------------------- loss pieces
def _per_row(r: np.ndarray, th: ASRLThresholds) -> tuple[Any, Any, Any]:
    """delta1, delta2, tau broadcastable against ``r`` (n, k): per row only if asymmetric."""
    pos, neg = th.sides()
    if th.is_symmetric():
        return pos
    below = r < 0
    return tuple(np.where(below, n, p) for p, n in zip(pos, neg, strict=True))


def _rho(r: np.ndarray, th: ASRLThresholds) -> np.ndarray:
    a = np.abs(r)
    d1, d2, tau = _per_row(r, th)
    with np.errstate(over="ignore", invalid="ignore"):
        sq = 0.5 * np.minimum(a, d1) ** 2
        lin = d1 * (np.clip(a, d1, d2) - d1)
        tail = d1 * tau * np.log1p(np.maximum(a - d2, 0.0) / tau)
        return sq + lin + tail


def _irls_weight(r: np.ndarray, th: ASRLThresholds) -> np.ndarray:
    """``psi(|r|) / |r|``: 1 in the squared region, delta1/|r| then decaying in the log tail."""
    a = np.abs(r)
    d1, d2, tau = _per_row(r, th)
    # In place: this runs on every row at every boosting round.
    h = np.maximum(a, d1)
    # r = 0 with delta1 = 0 (all residuals about 0) is in the squared region: weight 1.
    flat = h == 0
    np.divide(d1, h, out=h, where=~flat)
    h[flat] = 1.0
    a -= d2
    np.maximum(a, 0.0, out=a)
    with np.errstate(over="ignore"):
        a += tau  # may reach inf for residuals near the float64 limit: weight 0, floored later
    np.divide(tau, a, out=a)
    h *= a
    return h


def asrl_loss(
    y_true: Any,
    y_pred: Any,
    sample_weight: Any = None,
    *,
    q_low: float = 0.5,
    q_high: float = 0.8,
    weighting: str = "adaptive",
    thresholds: Any = None,
    multioutput: str = "uniform_average",
    per_side: bool = False,
) -> Any:
    """Mean Adaptive Segmented Robust Loss of predictions against targets.

    Works as a plain metric, with :func:`sklearn.metrics.make_scorer`
    (``make_scorer(asrl_loss, greater_is_better=False)``), as an ``eval_metric`` of
    ``xgboost.XGBRegressor`` (called ``(y_true, y_pred, sample_weight=...)``), and as a
    ``custom_metric`` of ``xgboost.train``: called as ``asrl_loss(predt, dtrain)`` with a
    ``DMatrix`` second argument it returns ``("asrl", value)``.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,) or (n_samples, n_outputs)
        Targets (must be finite).
    y_pred : array-like of the same shape, or an ``xgboost.DMatrix``
        Predictions; see above for the ``xgboost.train`` form.
    sample_weight : array-like of shape (n_samples,), default=None
        Non-negative weights: weighted thresholds and a weighted mean.
    q_low, q_high : float, default=0.5, 0.8
        Quantile levels of ``|r|`` ending the squared and absolute regions.
    weighting : {"adaptive", "mad"}, default="adaptive"
        Tail scale rule, see :class:`ASRLObjective`.
    thresholds : {"quantile", "efficient", "adaptive"} or ASRLThresholds, default=None
        Threshold rule (``None`` means ``"quantile"``, see :class:`ASRLObjective`), or fixed
        statistics used instead of recomputing them from the residuals (for example to
        score a validation set with the training thresholds).
    multioutput : {"uniform_average", "raw_values"}, default="uniform_average"
        Average over outputs or return one value per output.
    per_side : bool, default=False
        Per-side statistics (``thresholds="efficient"`` or ``"adaptive"`` only).

    Returns
    -------
    loss : float or ndarray of shape (n_outputs,)
        Weighted mean loss (or ``(name, value)`` in the ``xgboost.train`` form).

    See Also
    --------
    ASRLObjective : gradient and hessian of this loss for XGBoost.
    ASRLLoss : the same loss for torch.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_r2t import asrl_loss
    >>> y = np.array([1.0, 2.0, 3.0, 4.0, 100.0])
    >>> round(float(asrl_loss(y, np.full(5, 3.0))), 4)
    6.7379
    """
    dmatrix_form = _is_dmatrix(y_pred)
    if dmatrix_form:
        dtrain = y_pred
        y_true, y_pred = dtrain.get_label(), y_true
        weight = dtrain.get_weight()
        sample_weight = weight if weight.size else None
    if multioutput not in ("uniform_average", "raw_values"):
        raise ValueError(
            f"multioutput must be 'uniform_average' or 'raw_values'; got {multioutput!r}."
        )
    fixed = thresholds if isinstance(thresholds, ASRLThresholds) else None
    rule = "quantile" if thresholds is None or fixed is not None else thresholds
    _check_params(q_low, q_high, weighting, rule, per_side)
    true2, pred2, w, _ = _as_2d_pair(y_true, y_pred, sample_weight)
    if true2.shape[0] == 0:
        raise ValueError("ASRL needs at least one sample; got 0.")
    _check_zero_weights(w, distributed=False)
    if fixed is None:
        th = _stats_2d(true2, pred2, w, float(q_low), float(q_high), weighting,
                       thresholds=rule, per_side=bool(per_side))
    else:
        th = _check_fixed_thresholds(fixed, true2.shape[1])
    rho = _rho(pred2 - true2, th)
    with np.errstate(over="ignore", invalid="ignore"):
        per_output = np.average(rho, axis=0, weights=w)
    if not np.all(np.isfinite(per_output)):
        raise ValueError(
            "The ASRL loss overflows float64: residuals up to "
            f"{float(np.max(np.abs(pred2 - true2))):.3g}; rescale the targets."
        )
    value = per_output if multioutput == "raw_values" else float(per_output.mean())
    return ("asrl", value) if dmatrix_form else value
