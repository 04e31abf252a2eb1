"""ASRLObjective: ASRL's gradient and hessian as a custom boosting objective.

One object serves XGBoost, LightGBM and CatBoost (and xgboost.dask).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._loss import _irls_weight, asrl_loss
from ._quantiles import _communicator_active, _xgb_allreduce
from ._thresholds import (
    _HESS_FLOOR,
    ASRLThresholds,
    _as_2d_pair,
    _check_params,
    _check_zero_weights,
    _is_dmatrix,
    _is_lgb_dataset,
    _stats_2d,
)


class ASRLObjective:
    """Adaptive Segmented Robust Loss as a custom objective for XGBoost, LightGBM and CatBoost.

    One picklable object for every entry point:

    - ``xgb.train(params, dtrain, obj=ASRLObjective())`` calls it as ``(predt, dtrain)``;
    - ``xgboost.XGBRegressor(objective=ASRLObjective())`` (and
      ``xgboost.dask.DaskXGBRegressor``) as ``(y_true, y_pred, sample_weight=...)``;
    - ``lightgbm.LGBMRegressor(objective=ASRLObjective())`` as ``(y_true, y_pred, weight)``
      and ``lgb.train({"objective": ASRLObjective()}, train_set)`` as ``(preds, dataset)``;
    - ``catboost.CatBoostRegressor(loss_function=ASRLObjective(), eval_metric="MAE")``
      through :meth:`calc_ders_range`.

    The form is told apart by the type of the second argument. **The base-score trap:**
    none of the three libraries estimates the intercept for a custom objective (XGBoost keeps
    ``base_score=0.5``, LightGBM and CatBoost start from 0), so fit on ``y - median(y)`` and
    add the median back, or set ``base_score`` / ``init_score`` / a ``Pool`` baseline;
    :class:`ASRLRegressor` does this for you. CatBoost hands the objective blocks of at most
    1,000 rows, so with CatBoost the statistics are those of each block (a random sample of
    the rows, since CatBoost shuffles them).

    With residual ``r = prediction - target``, ``a = |r|``, the loss is squared up to
    ``delta1``, absolute up to ``delta2`` and logarithmic beyond, with value and slope
    continuous at both thresholds::

        rho(a) = a**2/2                                        a <= delta1
               = delta1*a - delta1**2/2                        delta1 < a <= delta2
               = delta1*delta2 - delta1**2/2
                 + delta1*tau*log(1 + (a - delta2)/tau)        a > delta2

    Statistics are weighted (inverted-CDF quantiles, so integer weights equal repeated rows),
    found by O(n) selection, per output column, at every boosting round.

    **Thresholds.** ``thresholds="quantile"`` is the paper's rule: ``delta1 = Q(a, q_low)``,
    ``delta2 = Q(a, q_high)``; a fixed share of the residuals is always in each region.
    ``thresholds="adaptive"`` sizes the regions from what the residuals say about their own
    distribution, with ``m = median(r)``, ``sigma = 1.4826 MAD(r)`` and the shoulder
    heaviness ``T = clip(Q(|r - m|, 0.75) / Q(|r - m|, 0.5) / 1.7055, 1, 1.231)`` (1 for
    Gaussian residuals, 1.09 for Student-t3, 1.17 for Laplace, 1.42 for Cauchy; the cap
    keeps the core at least a quarter of its Gaussian value, so the hessians cannot collapse
    against ``reg_lambda``)::

        delta1 = 0.6745 * sigma_core * exp(-6 * (T - 1))
        delta2 = max(delta1, +m + 3 * sigma_up)      for r >= 0
               = max(delta1, -m + 3 * sigma_down)    for r <  0   (per_side=True)

    where ``sigma_up`` / ``sigma_down`` are 1.4826 times the median distance to ``m`` of the
    residuals above / below the median, ``sigma_core = min(sigma_up, sigma_down)`` and ``T``
    the smaller of the two sides' heaviness (``per_side=False``: ``sigma`` for all three,
    ``T`` from both sides, ``delta2 = |m| + 3 sigma`` on both sides). Reasoning: on Gaussian
    residuals the core ends where the quantile rule's does (``0.6745 sigma`` is the median
    of ``|r|``; Huber's ``1.345 sigma`` was tried and lost on MAE) but only 0.3 % of the
    residuals reach the log region instead of 20 %; heavier shoulders shrink the core
    towards absolute loss, the better M-estimator there; one-sided gross errors inflate only
    their own side's scale, so the other side keeps a tight threshold, the core is sized
    from the clean side, and the errors, many scales out, sit in the log region. The
    constants were chosen on ``benchmarks/asrl_tabular.py``; there the adaptive rule did not
    beat the quantile rule overall, which is why ``"quantile"`` stays the default (see
    docs/asrl.md).

    ``thresholds="efficient"`` has the same shape and sidedness handling with a core sized
    for efficiency on clean data, ``delta1 = 1.5 * sigma_core * exp(-6 * max(T - 1.05, 0))``:
    on Gaussian residuals ``delta1 = 1.5 sigma``, ``delta2 = 3 sigma``, ``tau = sigma``,
    an asymptotic Gaussian efficiency of 96 % (the quantile rule's: 70 %).

    **Region weights.** The paper weights its three regions with statistics of the residuals
    (variance, IQR, MAD) but its formula is not available. Written as
    ``lambda_j * l_j`` with ``l_sq = a**2/2``, ``l_abs = a`` and ``l_log = log(1 + (a -
    delta2)/tau)``, continuity of the slope leaves no free choice for independent weights:
    ``lambda_sq = 1``, ``lambda_abs = delta1`` and ``lambda_log = delta1 * tau`` (plus the
    constants that make the value continuous). So the residual statistics enter through the
    thresholds and the one free shape parameter, the tail scale ``tau`` (per side with
    ``per_side=True``, from that side's statistics)::

        sigma_rob = 1.4826 * MAD(r)  (else IQR(r)/1.349, else SD(r), else mean|r|)
        tau       = clip(SD(r), sigma_rob, 10 * sigma_rob)   (weighting="adaptive")
        tau       = sigma_rob                                (weighting="mad")

    The influence of a residual beyond ``delta2`` is ``delta1 * tau / (tau + a - delta2)``: it
    halves ``tau`` beyond ``delta2``. The robust scale sets the floor, so residuals many robust
    scales away are discounted. The standard deviation widens the tail when the residuals are
    heavy-tailed or heteroscedastic (``SD >> sigma_rob``), where legitimate large residuals
    would otherwise be treated as gross errors (diamond prices, see docs/asrl.md); the cap
    (10x) bounds the effect of a few huge values. ``lambda_sq = 1`` keeps the hessian in the
    core equal to 1, as for ``reg:squarederror``, so ``min_child_weight`` and ``reg_lambda``
    keep their meaning.

    **Newton weights.** The gradient is exact, ``g = w * h * r`` with ``h = psi(a)/a``; the
    hessian returned is ``w * h`` -- equal to the true second derivative (1) in the squared
    region and a strictly positive majorizer where the true one is 0 (absolute) or negative
    (log), as XGBoost's own smooth absolute error does. A leaf value is then one IRLS step;
    :class:`ASRLRegressor` continues it to the leaf's M-estimate (``leaf_solve``).

    **Guards.** ``delta1 >= 1e-3 * sigma_rob`` (more than ``q_low`` of the residuals exactly
    zero), ``delta2 >= delta1``; if every residual is zero, gradient 0 and hessian 1. The
    hessian is floored at 1e-30 so that float32 never rounds it to zero. Statistics of huge
    or tiny residuals are computed on residuals rescaled by a power of two, so gradients and
    hessians stay finite for any finite input.

    **Distributed training.** Inside ``xgboost.dask`` (a collective communicator with more
    than one worker) the statistics are global: quantiles by a collective histogram
    bisection that converges to the exact single-process values (see ``sync``).

    Parameters
    ----------
    q_low : float, default=0.5
        Quantile of ``|r|`` ending the squared region, in (0, 1) (``thresholds="quantile"``).
    q_high : float, default=0.8
        Quantile of ``|r|`` ending the absolute region, in (q_low, 1)
        (``thresholds="quantile"``).
    weighting : {"adaptive", "mad"}, default="adaptive"
        Tail scale rule, see above.
    sync : bool, default=True
        When a collective communicator with several workers is active, make the statistics
        global. ``False`` uses each worker's local residuals (only for comparison).
    thresholds : {"quantile", "efficient", "adaptive"}, default="quantile"
        Threshold rule, see above.
    per_side : bool, default=False
        With ``thresholds="efficient"`` or ``"adaptive"``: separate ``delta2`` and ``tau``
        for residuals above and below zero, and the core sized from the tighter side.

    See Also
    --------
    asrl_loss : the loss value (metric, scorer).
    ASRLRegressor : scikit-learn estimator built on this objective.
    ASRLLoss : the same loss for torch.

    Examples
    --------
    >>> import numpy as np, xgboost as xgb
    >>> from sklearn_r2t import ASRLObjective
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 3)); y = 100 + X[:, 0] + rng.standard_t(2, size=200)
    >>> dtrain = xgb.DMatrix(X, label=y)
    >>> params = {"base_score": float(np.median(y)), "max_depth": 2, "nthread": 1}
    >>> booster = xgb.train(params, dtrain, num_boost_round=20, obj=ASRLObjective())
    >>> model = xgb.XGBRegressor(objective=ASRLObjective(), base_score=float(np.median(y)),
    ...                          n_estimators=20, max_depth=2, n_jobs=1).fit(X, y)
    >>> bool(np.allclose(booster.predict(dtrain), model.predict(X), atol=1e-4))
    True
    """

    def __init__(
        self,
        q_low: float = 0.5,
        q_high: float = 0.8,
        weighting: str = "adaptive",
        sync: bool = True,
        thresholds: str = "quantile",
        per_side: bool = False,
    ) -> None:
        _check_params(q_low, q_high, weighting, thresholds, per_side)
        self.q_low = float(q_low)
        self.q_high = float(q_high)
        self.weighting = weighting
        self.sync = bool(sync)
        self.thresholds_rule = thresholds
        self.per_side = bool(per_side)

    def __repr__(self) -> str:
        return (
            f"ASRLObjective(q_low={self.q_low}, q_high={self.q_high}, "
            f"weighting={self.weighting!r}, sync={self.sync}, "
            f"thresholds={self.thresholds_rule!r}, per_side={self.per_side})"
        )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ASRLObjective) and repr(self) == repr(other)

    def __hash__(self) -> int:
        return hash(repr(self))

    def _allreduce(self) -> Any:
        return _xgb_allreduce if (self.sync and _communicator_active()) else None

    def _residual_stats(self, y_true, y_pred, sample_weight):
        """Validated 2-D arrays, the original shape and this round's statistics."""
        true2, pred2, w, shape = _as_2d_pair(y_true, y_pred, sample_weight)
        allreduce = self._allreduce()
        if allreduce is None:
            if true2.shape[0] == 0:
                raise ValueError("ASRL needs at least one sample; got 0.")
            _check_zero_weights(w, distributed=False)
        th = _stats_2d(true2, pred2, w, self.q_low, self.q_high, self.weighting, allreduce,
                       thresholds=self.thresholds_rule, per_side=self.per_side)
        return true2, pred2, w, shape, th

    def thresholds(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> ASRLThresholds:
        """Statistics (``delta1``, ``delta2``, ``tau``...) for these residuals.

        Parameters
        ----------
        y_true, y_pred : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Targets and predictions.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights.

        Returns
        -------
        thresholds : ASRLThresholds
        """
        return self._residual_stats(y_true, y_pred, sample_weight)[-1]

    def gradient_hessian(
        self, y_true: Any, y_pred: Any, sample_weight: Any = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Gradient and positive hessian of the loss with respect to ``y_pred``.

        Parameters
        ----------
        y_true, y_pred : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Targets and predictions (raw margins).
        sample_weight : array-like of shape (n_samples,), default=None
            Multiplies both gradient and hessian.

        Returns
        -------
        grad, hess : ndarray of the shape of ``y_pred``
        """
        return self._gradient_hessian_thresholds(y_true, y_pred, sample_weight)[:2]

    def _gradient_hessian_thresholds(
        self, y_true: Any, y_pred: Any, sample_weight: Any = None
    ) -> tuple[np.ndarray, np.ndarray, ASRLThresholds]:
        """:meth:`gradient_hessian` and the statistics it used (one pass of statistics)."""
        true2, pred2, w, shape, th = self._residual_stats(y_true, y_pred, sample_weight)
        r = pred2 - true2
        h = _irls_weight(r, th)
        if w is not None:
            h *= w[:, None]
        grad = h * r
        hess = np.maximum(h, _HESS_FLOOR, out=h)
        return grad.reshape(shape), hess.reshape(shape), th

    def __call__(
        self, a: Any, b: Any, sample_weight: Any = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Gradient and hessian in the XGBoost and LightGBM calling conventions.

        ``(predt, dtrain)`` when ``b`` is an ``xgboost.DMatrix`` (``xgb.train``) or a
        ``lightgbm.Dataset`` (``lgb.train``), else ``(y_true, y_pred, sample_weight=None)``
        (the scikit-learn interfaces of both libraries).
        """
        if _is_dmatrix(b):
            weight = b.get_weight()
            return self.gradient_hessian(
                b.get_label(), a, weight if weight.size else None
            )
        if _is_lgb_dataset(b):
            return self.gradient_hessian(b.get_label(), a, b.get_weight())
        return self.gradient_hessian(a, b, sample_weight)

    def calc_ders_range(
        self, approxes: Any, targets: Any, weights: Any
    ) -> list[tuple[float, float]]:
        """CatBoost's custom-objective hook: ``(-grad, -hess)`` for each row of a block.

        CatBoost maximizes, so the signs are flipped. The statistics are those of the block.
        """
        grad, hess = self.gradient_hessian(targets, approxes, weights)
        return list(zip((-grad).tolist(), (-hess).tolist(), strict=True))

    def loss(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> float:
        """Weighted mean loss with this objective's settings (see :func:`asrl_loss`).

        Parameters
        ----------
        y_true, y_pred : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Targets and predictions.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights.

        Returns
        -------
        loss : float
        """
        return asrl_loss(
            y_true, y_pred, sample_weight,
            q_low=self.q_low, q_high=self.q_high, weighting=self.weighting,
            thresholds=self.thresholds_rule, per_side=self.per_side,
        )
