"""ASRLRegressor: gradient-boosted trees (XGBoost) trained with the ASRL objective."""

from __future__ import annotations

from numbers import Integral, Real
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils import check_random_state
from sklearn.utils.validation import (
    _check_sample_weight,
    check_is_fitted,
    validate_data,
)

from ._asrl import ASRLObjective, _quantiles, asrl_loss

__all__ = ["ASRLRegressor"]


def _weighted_median_columns(y: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Weighted (inverted-CDF) median of every column, O(n) each."""
    return np.array([_quantiles(y[:, j], w, (0.5,))[0] for j in range(y.shape[1])])


class _ASRLMetric:
    """Picklable ``eval_metric`` for XGBoost: :func:`asrl_loss` with fixed settings."""

    def __init__(self, q_low: float, q_high: float, weighting: str) -> None:
        self.q_low, self.q_high, self.weighting = q_low, q_high, weighting
        self.__name__ = "asrl"  # XGBoost names the metric after the callable

    def __call__(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> float:
        return asrl_loss(y_true, y_pred, sample_weight,
                         q_low=self.q_low, q_high=self.q_high, weighting=self.weighting)


class ASRLRegressor(RegressorMixin, BaseEstimator):
    """Gradient-boosted trees with the Adaptive Segmented Robust Loss.

    A scikit-learn estimator around :class:`xgboost.XGBRegressor` whose objective is
    :class:`ASRLObjective`: squared loss for the residuals below the ``q_low`` quantile of
    ``|r|``, absolute loss up to the ``q_high`` quantile, logarithmic beyond, with thresholds
    and tail scale recomputed from the residuals at every boosting round.

    Custom XGBoost objectives do not estimate the intercept (``base_score`` stays 0.5 and
    training crawls on targets far from 0), so ``base_score`` defaults to the weighted median
    of each target column. Missing values in ``X`` (NaN) are handled natively by XGBoost.

    Parameters
    ----------
    q_low : float, default=0.5
        Quantile of ``|r|`` ending the squared region, in (0, 1).
    q_high : float, default=0.8
        Quantile of ``|r|`` ending the absolute region, in (q_low, 1).
    weighting : {"adaptive", "mad"}, default="adaptive"
        Rule for the scale of the logarithmic tail (see :class:`ASRLObjective`):
        ``"adaptive"`` uses the residual standard deviation clipped to [1, 10] robust scales
        (1.4826 MAD, IQR fallback), ``"mad"`` the robust scale alone.
    n_estimators : int, default=100
        Number of boosting rounds (upper bound when early stopping).
    learning_rate : float, default=0.3
        Shrinkage of each tree (XGBoost's ``eta``).
    max_depth : int, default=6
        Maximum tree depth.
    min_child_weight : float, default=1.0
        Minimum sum of (ASRL) hessians in a leaf. The hessian is 1 in the squared region and
        below 1 elsewhere.
    subsample : float, default=1.0
        Row subsampling ratio per tree.
    colsample_bytree : float, default=1.0
        Column subsampling ratio per tree.
    reg_lambda : float, default=1.0
        L2 penalty on leaf values.
    reg_alpha : float, default=0.0
        L1 penalty on leaf values.
    gamma : float, default=0.0
        Minimum loss reduction for a split.
    max_bin : int, default=256
        Histogram bins per feature.
    base_score : float, array-like of shape (n_outputs,) or None, default=None
        Initial prediction; ``None`` uses the weighted median of each target column.
    early_stopping_rounds : int or None, default=None
        Stop when the last ``eval_set`` entry has not improved ``eval_metric`` for this many
        rounds; needs ``eval_set`` in :meth:`fit`.
    eval_metric : str, callable or None, default="asrl"
        Metric reported on ``eval_set`` and used for early stopping: ``"asrl"`` is
        :func:`asrl_loss` with this estimator's settings, any other value is passed to
        XGBoost (e.g. ``"mae"``).
    n_jobs : int or None, default=None
        Threads used by XGBoost.
    random_state : int, RandomState instance or None, default=None
        Seed for row and column subsampling.
    xgb_params : dict or None, default=None
        Further ``XGBRegressor`` parameters (e.g. ``monotone_constraints``). ``objective`` and
        ``base_score`` cannot be set here.

    Attributes
    ----------
    booster_ : xgboost.Booster
        The fitted booster (includes ``base_score``).
    xgb_model_ : xgboost.XGBRegressor
        The fitted XGBoost estimator.
    base_score_ : ndarray of shape (n_outputs,)
        Intercept used as ``base_score``.
    n_outputs_ : int
        Number of target columns.
    best_iteration_ : int or None
        Best round when early stopping was used, else ``None``.
    evals_result_ : dict
        Metric history on ``eval_set`` (empty without one).
    n_features_in_ : int
        Number of features seen in :meth:`fit`.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Feature names, when ``X`` has string column names.

    See Also
    --------
    ASRLObjective : the objective, usable directly with ``xgboost``.
    asrl_loss : the loss as a metric or scorer.
    sklearn.linear_model.HuberRegressor : linear model with the Huber loss.
    SoftL1Regressor : linear model with the soft-L1 loss.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_r2t import ASRLRegressor
    >>> rng = np.random.default_rng(0)
    >>> X = rng.uniform(-2, 2, size=(300, 2))
    >>> y = 50 + 3 * X[:, 0] + rng.normal(size=300)
    >>> y[:30] += 40  # one-sided gross errors
    >>> model = ASRLRegressor(n_estimators=50, max_depth=3, n_jobs=1, random_state=0)
    >>> model.fit(X, y).predict(X[:2]).shape
    (2,)
    """

    def __init__(
        self,
        q_low: float = 0.5,
        q_high: float = 0.8,
        weighting: str = "adaptive",
        n_estimators: int = 100,
        learning_rate: float = 0.3,
        max_depth: int = 6,
        min_child_weight: float = 1.0,
        subsample: float = 1.0,
        colsample_bytree: float = 1.0,
        reg_lambda: float = 1.0,
        reg_alpha: float = 0.0,
        gamma: float = 0.0,
        max_bin: int = 256,
        base_score: Any = None,
        early_stopping_rounds: int | None = None,
        eval_metric: Any = "asrl",
        n_jobs: int | None = None,
        random_state: Any = None,
        xgb_params: dict | None = None,
    ) -> None:
        self.q_low = q_low
        self.q_high = q_high
        self.weighting = weighting
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.max_depth = max_depth
        self.min_child_weight = min_child_weight
        self.subsample = subsample
        self.colsample_bytree = colsample_bytree
        self.reg_lambda = reg_lambda
        self.reg_alpha = reg_alpha
        self.gamma = gamma
        self.max_bin = max_bin
        self.base_score = base_score
        self.early_stopping_rounds = early_stopping_rounds
        self.eval_metric = eval_metric
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.xgb_params = xgb_params

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True  # XGBoost routes missing values natively
        tags.input_tags.sparse = True
        tags.target_tags.multi_output = True
        tags.target_tags.single_output = True
        return tags

    # ------------------------------------------------------------------ helpers
    def _check_params(self) -> None:
        def positive_int(name: str, value: Any, allow_none: bool = False) -> None:
            if value is None and allow_none:
                return
            if isinstance(value, bool) or not isinstance(value, Integral) or value < 1:
                raise ValueError(f"{name} must be a positive integer; got {value!r}.")

        def number(name: str, value: Any, lo: float, hi: float, lo_open: bool) -> None:
            ok = isinstance(value, Real) and not isinstance(value, bool) and np.isfinite(value)
            ok = ok and (value > lo if lo_open else value >= lo) and value <= hi
            if not ok:
                bound = "(" if lo_open else "["
                raise ValueError(f"{name} must be a number in {bound}{lo}, {hi}]; got {value!r}.")

        positive_int("n_estimators", self.n_estimators)
        positive_int("max_depth", self.max_depth)
        positive_int("max_bin", self.max_bin)
        positive_int("early_stopping_rounds", self.early_stopping_rounds, allow_none=True)
        number("learning_rate", self.learning_rate, 0.0, np.inf, True)
        number("min_child_weight", self.min_child_weight, 0.0, np.inf, False)
        number("subsample", self.subsample, 0.0, 1.0, True)
        number("colsample_bytree", self.colsample_bytree, 0.0, 1.0, True)
        number("reg_lambda", self.reg_lambda, 0.0, np.inf, False)
        number("reg_alpha", self.reg_alpha, 0.0, np.inf, False)
        number("gamma", self.gamma, 0.0, np.inf, False)
        if self.xgb_params is not None:
            if not isinstance(self.xgb_params, dict):
                raise ValueError("xgb_params must be a dict or None.")
            bad = {"objective", "base_score"} & set(self.xgb_params)
            if bad:
                raise ValueError(f"xgb_params cannot set {sorted(bad)}; use the estimator's own.")

    def _objective(self) -> ASRLObjective:
        return ASRLObjective(q_low=self.q_low, q_high=self.q_high, weighting=self.weighting)

    def _metric(self) -> Any:
        if not (isinstance(self.eval_metric, str) and self.eval_metric == "asrl"):
            return self.eval_metric
        return _ASRLMetric(float(self.q_low), float(self.q_high), self.weighting)

    def _validate_y(self, y: np.ndarray) -> np.ndarray:
        y = np.asarray(y, dtype=np.float64)
        return y.reshape(-1, 1) if y.ndim == 1 else y

    # ------------------------------------------------------------------ API
    def fit(self, X: Any, y: Any, sample_weight: Any = None, eval_set: Any = None,
            sample_weight_eval_set: Any = None, verbose: bool = False) -> ASRLRegressor:
        """Fit the boosted trees.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data; NaN marks a missing value.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Finite targets.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights (not all zero); they weight the thresholds, the gradient
            and the hessian.
        eval_set : list of (X, y) pairs, default=None
            Validation sets; the last one drives early stopping.
        sample_weight_eval_set : list of array-like, default=None
            Weights of the ``eval_set`` entries.
        verbose : bool, default=False
            Print the evaluation metric every round.

        Returns
        -------
        self : ASRLRegressor
        """
        import xgboost as xgb

        self._check_params()
        objective = self._objective()  # validates q_low, q_high, weighting
        X, y = validate_data(
            self, X, y, accept_sparse=["csr", "csc"], ensure_all_finite="allow-nan",
            multi_output=True, y_numeric=True, dtype=[np.float64, np.float32],
        )
        y_was_1d = np.ndim(y) == 1
        y2 = self._validate_y(y)
        sw = _check_sample_weight(sample_weight, X, dtype=np.float64, ensure_non_negative=True)
        if not sw.sum() > 0:
            raise ValueError("sample_weight sums to zero: at least one weight must be positive.")
        if self.early_stopping_rounds is not None and not eval_set:
            raise ValueError("early_stopping_rounds needs an eval_set in fit().")

        k = y2.shape[1]
        if self.base_score is None:
            base = _weighted_median_columns(y2, sw)
        else:
            base = np.asarray(self.base_score, dtype=np.float64).reshape(-1)
            if base.size == 1:
                base = np.repeat(base, k)
            if base.size != k or not np.all(np.isfinite(base)):
                raise ValueError(
                    f"base_score must be a finite number or {k} finite numbers; "
                    f"got {self.base_score!r}."
                )

        evals = None
        if eval_set:
            evals = []
            for Xv, yv in eval_set:
                Xv = validate_data(self, Xv, accept_sparse=["csr", "csc"],
                                   ensure_all_finite="allow-nan", reset=False,
                                   dtype=[np.float64, np.float32])
                yv = np.asarray(yv, dtype=np.float64)
                if not np.all(np.isfinite(yv)):
                    raise ValueError("eval_set targets contain NaN or infinity.")
                yv2 = yv.reshape(-1, 1) if yv.ndim == 1 else yv
                if yv2.shape != (Xv.shape[0], k):
                    raise ValueError(
                        f"eval_set target has shape {yv.shape}; expected ({Xv.shape[0]}, {k})."
                    )
                evals.append((Xv, yv2[:, 0] if k == 1 else yv2))

        seed = int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))
        params = dict(
            n_estimators=self.n_estimators, learning_rate=self.learning_rate,
            max_depth=self.max_depth, min_child_weight=self.min_child_weight,
            subsample=self.subsample, colsample_bytree=self.colsample_bytree,
            reg_lambda=self.reg_lambda, reg_alpha=self.reg_alpha, gamma=self.gamma,
            max_bin=self.max_bin, tree_method="hist", n_jobs=self.n_jobs, random_state=seed,
            early_stopping_rounds=self.early_stopping_rounds,
        )
        if evals is not None:
            params["eval_metric"] = self._metric()
        params.update(self.xgb_params or {})
        model = xgb.XGBRegressor(
            objective=objective,
            base_score=float(base[0]) if k == 1 else base.tolist(),
            **params,
        )
        model.fit(
            X, y2[:, 0] if k == 1 else y2, sample_weight=sw, eval_set=evals,
            sample_weight_eval_set=sample_weight_eval_set, verbose=verbose,
        )
        self.xgb_model_ = model
        self.booster_ = model.get_booster()
        self.base_score_ = base
        self.n_outputs_ = k
        self._y_was_1d = y_was_1d
        self.best_iteration_ = (
            int(model.best_iteration) if self.early_stopping_rounds is not None else None
        )
        self.evals_result_ = model.evals_result() if evals is not None else {}
        return self

    def predict(self, X: Any) -> np.ndarray:
        """Predict targets.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples; NaN marks a missing value.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_outputs)
            Shape follows the ``y`` given to :meth:`fit`.
        """
        check_is_fitted(self)
        X = validate_data(self, X, accept_sparse=["csr", "csc"], ensure_all_finite="allow-nan",
                          reset=False, dtype=[np.float64, np.float32])
        pred = np.asarray(self.xgb_model_.predict(X), dtype=np.float64)
        if self._y_was_1d:
            return pred.reshape(-1)
        return pred.reshape(X.shape[0], self.n_outputs_)

    @property
    def feature_importances_(self) -> np.ndarray:
        """Normalised feature importances of the fitted trees (XGBoost's ``gain`` default)."""
        check_is_fitted(self)
        return self.xgb_model_.feature_importances_
