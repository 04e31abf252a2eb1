"""ASRLRegressor: gradient-boosted trees (XGBoost, LightGBM or CatBoost) with the ASRL objective."""

from __future__ import annotations

import math
import re
import warnings
from numbers import Integral, Real
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, RegressorMixin, clone
from sklearn.utils import _safe_indexing, check_random_state
from sklearn.utils.validation import (
    _check_sample_weight,
    _num_samples,
    check_is_fitted,
    validate_data,
)

from ._boosters import BOOSTERS, fit_booster, import_booster, leaf_solve_blocker
from ._objective import ASRLObjective
from ._quantiles import _quantiles

__all__ = ["ASRLRegressor"]

_F32_MAX = float(np.finfo(np.float32).max)
# thresholds="auto": candidate rules, held-out share, trimmed share of the held-out errors.
_AUTO_RULES = ("quantile", "efficient")
_AUTO_HOLDOUT = 0.2
_AUTO_TRIM = 0.8
_AUTO_MIN_ROWS = 10
_F32_TINY = float(np.finfo(np.float32).tiny)
# Centred targets outside this range of magnitudes are divided by a power of two that brings
# them near 2**20: XGBoost's float32 split gains (sums of gradients, squared) overflow beyond
# about 1e19 and underflow for tiny ones.
_Y_RANGE = (1e-6, 1e12)
# A base_score farther than this many spreads of the targets leaves them to float32 rounding.
_BASE_SPREAD = 1e4
_LIBRARY_MODULES = ("xgboost", "lightgbm", "catboost", "_catboost")
# XGBoost's evaluation metrics (the part before '@'); others are rejected at fit.
_XGB_METRICS = frozenset({
    "rmse", "rmsle", "mae", "mape", "mphe", "logloss", "error", "merror", "mlogloss", "auc",
    "aucpr", "pre", "ndcg", "map", "poisson-nloglik", "gamma-nloglik", "cox-nloglik",
    "gamma-deviance", "tweedie-nloglik", "aft-nloglik", "interval-regression-accuracy",
    "quantile", "expectile",
})


def _weighted_median_columns(y: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Weighted (inverted-CDF) median of every column, O(n) each."""
    return np.array([_quantiles(y[:, j], w, (0.5,))[0] for j in range(y.shape[1])])


def _check_float32_range(a: Any, name: str) -> None:
    """Boosters store data in float32: finite values beyond its range would become inf."""
    data = a.data if sp.issparse(a) else np.asarray(a)
    if data.size == 0:
        return
    finite = np.abs(data[np.isfinite(data)])
    big = float(finite.max()) if finite.size else 0.0
    if big > _F32_MAX:
        raise ValueError(
            f"{name} has values up to {big:.3g}, beyond the float32 range (3.4e38) the "
            "boosting libraries use; rescale it."
        )


def _rescaled(penalty: float, scale: float, power: int = 1) -> float:
    """``penalty / scale**power`` in the units of targets divided by ``scale``.

    Divided one factor at a time (``scale**2`` underflows to 0 for targets near 1e-300)
    and kept within float32, which the boosters parse it as: capped at its maximum
    (beyond it the penalty already exceeds every gain or gradient sum the booster
    computes: no split, zero leaves, as the uncapped one would give) and 0 below its
    smallest normal number (XGBoost refuses gamma=1e-50; it is far below any gain).
    """
    out = float(penalty)
    for _ in range(power):
        out /= scale
    return 0.0 if out < _F32_TINY else min(out, _F32_MAX)


class ASRLRegressor(RegressorMixin, BaseEstimator):
    """Gradient-boosted trees with the Adaptive Segmented Robust Loss.

    A scikit-learn estimator around XGBoost (default), LightGBM or CatBoost whose objective is
    :class:`ASRLObjective`: squared loss for small residuals, absolute loss for medium ones,
    logarithmic beyond, with thresholds and tail scale recomputed from the residuals at every
    boosting round (``thresholds="quantile"``: fixed quantiles of ``|r|``, the paper's rule;
    ``"adaptive"``: sized from a robust scale and the tail heaviness, per side with
    ``per_side=True``; see :class:`ASRLObjective`).

    Custom objectives do not estimate the intercept (XGBoost keeps ``base_score=0.5``,
    LightGBM and CatBoost start from 0), so the targets are centred on ``base_score`` (by
    default the weighted median of each target column) and the booster fits the centred
    targets from 0. Centring also keeps labels far from 0 (e.g. near 1e12) precise in the
    boosters' float32 margins; centred targets beyond 1e12 (or all below 1e-6) are further
    divided by a power of two (``y_scale_``, exact), and ``gamma`` / ``reg_alpha`` are
    rescaled with them so the model is the same. Missing values
    in ``X`` (NaN) are handled natively by every booster.

    Parameters
    ----------
    q_low : float, default=0.5
        Quantile of ``|r|`` ending the squared region, in (0, 1) (``thresholds="quantile"``).
    q_high : float, default=0.8
        Quantile of ``|r|`` ending the absolute region, in (q_low, 1)
        (``thresholds="quantile"``).
    weighting : {"adaptive", "mad"}, default="adaptive"
        Rule for the scale of the logarithmic tail (see :class:`ASRLObjective`):
        ``"adaptive"`` uses the residual standard deviation clipped to [1, 10] robust scales,
        ``"mad"`` the robust scale alone.
    thresholds : {"quantile", "efficient", "adaptive", "auto"}, default="quantile"
        Threshold rule, see :class:`ASRLObjective`. ``"auto"`` fits the ``"quantile"`` and
        ``"efficient"`` rules on a seeded 80 % of the rows, keeps the one with the lower
        trimmed mean absolute error (the 80 % smallest errors) on the other 20 %, and
        refits it on all rows (``thresholds_``, ``threshold_scores_``): about 2.6 times the
        cost of one fit.
    per_side : bool, default=False
        With ``thresholds="efficient"`` or ``"adaptive"``, separate statistics for residuals
        above and below 0.
    leaf_solve : {"auto", True, False}, default=False
        Solve each new tree's leaf values to their ASRL M-estimates (IRLS with backtracking
        on the round's loss, see docs/asrl.md) instead of the one Newton step a custom
        objective gets. XGBoost and LightGBM: after each tree (leaf ids by
        ``pred_leaf``; LightGBM ``set_leaf_output``, XGBoost's leaves written into the
        model at the end); leaves holding over 4,096 rows are solved on a seeded sample of
        about 4,096 of them. CatBoost: ``leaf_estimation_iterations=5``. Off by default:
        in ``benchmarks/asrl_tabular.py`` one-step leaves were best or within 2 % of the
        best peer in more cells with every booster (docs/asrl.md). ``"auto"`` solves
        unless XGBoost or LightGBM get an ``eval_set`` (their evaluation caches cannot
        see changed leaves) or ``booster_params`` choose another kind of tree; ``True``
        raises in those cases. ``leaf_solve_`` tells what ran.
    booster : {"xgboost", "lightgbm", "catboost"}, default="xgboost"
        Boosting library, each optional: XGBoost from the extra ``[xgboost-cpu]`` (or
        ``[xgboost]``), LightGBM and CatBoost from ``[boosters]``. LightGBM grows trees of
        at most ``2**max_depth``
        leaves of at least ``min(20, n_samples // 20)`` rows; CatBoost grows symmetric trees
        of depth ``max_depth``, ignores ``min_child_weight``, has no ``reg_alpha``/``gamma``,
        and gives the objective blocks of at most 1,000 rows (statistics per block).
        LightGBM and CatBoost take one target. CatBoost was the strongest ASRL booster in
        ``benchmarks/asrl_tabular.py``.
    n_estimators : int, default=100
        Number of boosting rounds (upper bound when early stopping).
    learning_rate : float, default=0.3
        Shrinkage of each tree.
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
        Histogram bins per feature, at least 2.
    base_score : float, array-like of shape (n_outputs,) or None, default=None
        Intercept; ``None`` uses the weighted median of each target column.
    early_stopping_rounds : int or None, default=None
        Stop when the last ``eval_set`` entry has not improved ``eval_metric`` for this many
        rounds; needs ``eval_set`` in :meth:`fit`.
    eval_metric : str, callable or None, default="asrl"
        Metric reported on ``eval_set`` and used for early stopping: ``"asrl"`` is
        :func:`asrl_loss` with this estimator's settings, any other value is passed to the
        booster (e.g. ``"mae"``; XGBoost names are checked at fit).
    n_jobs : int or None, default=None
        Threads used by the booster (``None``: the library's default).
    random_state : int, RandomState instance or None, default=None
        Seed for row and column subsampling.
    booster_params : dict or None, default=None
        Further parameters of the booster's estimator (e.g. ``monotone_constraints``).
        ``objective``, ``loss_function`` and ``base_score`` cannot be set here.

    Attributes
    ----------
    model_ : estimator
        The fitted ``XGBRegressor``, ``LGBMRegressor`` or ``CatBoostRegressor`` (on centred
        targets).
    booster_ : object
        The fitted library booster (``xgboost.Booster``, ``lightgbm.Booster``, or the
        ``CatBoostRegressor``).
    base_score_ : ndarray of shape (n_outputs,)
        Intercept added to the booster's output.
    y_scale_ : float
        Power of two the centred targets were divided by (1.0 unless they exceed 1e12 or
        are all below 1e-6).
    n_outputs_ : int
        Number of target columns.
    best_iteration_ : int or None
        Best round (0-based) when early stopping was used, else ``None``.
    leaf_solve_ : bool
        Whether the leaves were solved (see ``leaf_solve``).
    thresholds_ : str
        The threshold rule used (the choice of ``thresholds="auto"``).
    threshold_scores_ : dict
        ``thresholds="auto"``: held-out trimmed MAE of each candidate rule (else empty).
    evals_result_ : dict
        Metric history on ``eval_set`` (empty without one).
    n_features_in_ : int
        Number of features seen in :meth:`fit`.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Feature names, when ``X`` has string column names.

    See Also
    --------
    ASRLObjective : the objective, usable directly with XGBoost, LightGBM and CatBoost.
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
        thresholds: str = "quantile",
        per_side: bool = False,
        leaf_solve: Any = False,
        booster: str = "xgboost",
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
        booster_params: dict | None = None,
    ) -> None:
        self.q_low = q_low
        self.q_high = q_high
        self.weighting = weighting
        self.thresholds = thresholds
        self.per_side = per_side
        self.leaf_solve = leaf_solve
        self.booster = booster
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
        self.booster_params = booster_params

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True  # every booster routes missing values natively
        tags.input_tags.sparse = self.booster != "catboost"
        tags.target_tags.multi_output = self.booster == "xgboost"
        tags.target_tags.single_output = True
        return tags

    # ------------------------------------------------------------------ helpers
    def _check_params(self) -> None:
        def positive_int(name: str, value: Any, allow_none: bool = False, lo: int = 1) -> None:
            if value is None and allow_none:
                return
            if isinstance(value, bool) or not isinstance(value, Integral) or value < lo:
                kind = "a positive integer" if lo == 1 else f"an integer >= {lo}"
                raise ValueError(f"{name} must be {kind}; got {value!r}.")

        def number(name: str, value: Any, lo: float, hi: float, lo_open: bool) -> None:
            ok = isinstance(value, Real) and not isinstance(value, bool) and np.isfinite(value)
            ok = ok and (value > lo if lo_open else value >= lo) and value <= hi
            if not ok:
                bound = "(" if lo_open else "["
                raise ValueError(f"{name} must be a number in {bound}{lo}, {hi}]; got {value!r}.")

        if not isinstance(self.booster, str) or self.booster not in BOOSTERS:
            raise ValueError(f"booster must be one of {BOOSTERS}; got {self.booster!r}.")
        positive_int("n_estimators", self.n_estimators)
        positive_int("max_depth", self.max_depth)
        positive_int("max_bin", self.max_bin, lo=2)
        positive_int("early_stopping_rounds", self.early_stopping_rounds, allow_none=True)
        number("learning_rate", self.learning_rate, 0.0, np.inf, True)
        number("min_child_weight", self.min_child_weight, 0.0, np.inf, False)
        number("subsample", self.subsample, 0.0, 1.0, True)
        number("colsample_bytree", self.colsample_bytree, 0.0, 1.0, True)
        number("reg_lambda", self.reg_lambda, 0.0, np.inf, False)
        number("reg_alpha", self.reg_alpha, 0.0, np.inf, False)
        number("gamma", self.gamma, 0.0, np.inf, False)
        if self.n_jobs is not None and (
            isinstance(self.n_jobs, bool) or not isinstance(self.n_jobs, Integral)
            or self.n_jobs == 0 or self.n_jobs < -1
        ):
            raise ValueError(f"n_jobs must be None, -1 or a positive integer; got {self.n_jobs!r}.")
        self._check_eval_metric(self.eval_metric)
        if not (self.leaf_solve == "auto" if isinstance(self.leaf_solve, str)
                else isinstance(self.leaf_solve, (bool, np.bool_))):
            raise ValueError(f"leaf_solve must be 'auto', True or False; got {self.leaf_solve!r}.")
        if self.booster_params is not None:
            if not isinstance(self.booster_params, dict):
                raise ValueError("booster_params must be a dict or None.")
            bad = {"objective", "loss_function", "base_score"} & set(self.booster_params)
            if bad:
                raise ValueError(
                    f"booster_params cannot set {sorted(bad)}; use the estimator's own."
                )

    def _check_eval_metric(self, metric: Any) -> None:
        if metric is None or callable(metric):
            return
        if isinstance(metric, (list, tuple)) and metric:
            for m in metric:
                self._check_eval_metric(m)
            return
        if not isinstance(metric, str):
            raise ValueError(
                f"eval_metric must be 'asrl', a metric name, a callable or a list of them; "
                f"got {metric!r}."
            )
        if metric == "asrl" or self.booster != "xgboost":
            return  # LightGBM and CatBoost check their own names at fit
        if metric.split("@")[0] not in _XGB_METRICS:
            raise ValueError(
                f"eval_metric {metric!r} is not an XGBoost metric; use 'asrl' or one of "
                f"{sorted(_XGB_METRICS)}."
            )

    def _sparse(self) -> Any:
        return False if self.booster == "catboost" else ["csr", "csc"]

    def _settings(self) -> dict:
        return dict(q_low=self.q_low, q_high=self.q_high, weighting=self.weighting,
                    thresholds=self.thresholds, per_side=self.per_side)

    def _objective(self) -> ASRLObjective:
        return ASRLObjective(**self._settings())

    # ------------------------------------------------------------------ API
    def fit(self, X: Any, y: Any, sample_weight: Any = None, eval_set: Any = None,
            sample_weight_eval_set: Any = None, verbose: bool = False) -> ASRLRegressor:
        """Fit the boosted trees.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data; NaN marks a missing value. Finite values must lie in the
            float32 range.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Finite targets in the float32 range (2-D only with ``booster="xgboost"``).
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights (not all zero) in the float32 range; they weight the
            thresholds, the gradient and the hessian.
        eval_set : list of (X, y) pairs, default=None
            Validation sets; the last one drives early stopping (CatBoost uses only it).
        sample_weight_eval_set : list of array-like, default=None
            Weights of the ``eval_set`` entries.
        verbose : bool, default=False
            Print the evaluation metric every round.

        Returns
        -------
        self : ASRLRegressor
        """
        self._check_params()
        if isinstance(self.thresholds, str) and self.thresholds == "auto":
            return self._fit_auto(X, y, sample_weight, eval_set, sample_weight_eval_set,
                                  verbose)
        objective = self._objective()  # validates q_low, q_high, weighting, thresholds
        import_booster(self.booster)  # clear error if the optional library is missing
        multi = self.booster == "xgboost"  # LightGBM and CatBoost: one target
        X, y = validate_data(
            self, X, y, accept_sparse=self._sparse(), ensure_all_finite="allow-nan",
            multi_output=multi, y_numeric=True, dtype=[np.float64, np.float32],
        )
        if self.booster == "catboost" and X.shape[0] < 2:
            raise ValueError("booster='catboost' needs at least 2 samples; got 1 sample.")
        _check_float32_range(X, "X")
        y_was_1d = np.ndim(y) == 1
        y2 = np.asarray(y, dtype=np.float64)
        y2 = y2.reshape(-1, 1) if y2.ndim == 1 else y2
        _check_float32_range(y2, "y")
        k = y2.shape[1]
        sw = _check_sample_weight(sample_weight, X, dtype=np.float64, ensure_non_negative=True)
        _check_float32_range(sw, "sample_weight")
        if not sw.astype(np.float32).sum() > 0:
            raise ValueError("sample_weight sums to zero (in float32): at least one weight "
                             "must be positive.")
        if self.early_stopping_rounds is not None and not eval_set:
            raise ValueError("early_stopping_rounds needs an eval_set in fit().")

        if self.base_score is None:
            base = _weighted_median_columns(y2, sw)
        else:
            try:
                base = np.asarray(self.base_score, dtype=np.float64).reshape(-1)
            except (TypeError, ValueError):
                base = np.array([np.nan])
            if base.size == 1:
                base = np.repeat(base, k)
            if base.size != k or not np.all(np.isfinite(base)):
                raise ValueError(
                    f"base_score must be a finite number or {k} finite numbers; "
                    f"got {self.base_score!r}."
                )
            _check_float32_range(base, "base_score")
        yc = y2 - base
        if self.base_score is not None:
            # The boosters fit the centred targets in float32 (7 digits): centred on a
            # base_score far from them (1e30 for targets near 0), their differences
            # round away and the trees fit a constant.
            spread = np.ptp(y2, axis=0) if y2.size else np.zeros(k)
            size = np.abs(y2).max(axis=0, initial=0.0)
            ref = np.where(spread > 0, spread, np.where(size > 0, size, 1.0))
            far = np.abs(yc).max(axis=0, initial=0.0) > _BASE_SPREAD * ref
            if far.any():
                raise ValueError(
                    f"base_score={self.base_score!r} lies more than {_BASE_SPREAD:,.0f} times "
                    f"the targets' spread away from them (range [{y2.min():.4g}, "
                    f"{y2.max():.4g}]): centred on it, they lose their precision in the "
                    "boosters' float32 margins. Use base_score=None (their weighted median) "
                    "or a value near them."
                )
        big = float(np.max(np.abs(yc))) if yc.size else 0.0
        scale = 1.0
        if big > 0 and not _Y_RANGE[0] <= big <= _Y_RANGE[1]:
            scale = math.ldexp(1.0, math.frexp(big)[1] - 20)
        yc = yc / scale

        blocker = leaf_solve_blocker(self.booster, self.booster_params, bool(eval_set))
        if self.leaf_solve is True and blocker is not None:
            raise ValueError(f"leaf_solve=True cannot run with {blocker}; use "
                             "leaf_solve='auto' or False.")
        leaf_solve = self.leaf_solve is not False and blocker is None
        evals = None
        if eval_set:
            evals = []
            for Xv, yv in eval_set:
                Xv = validate_data(self, Xv, accept_sparse=self._sparse(),
                                   ensure_all_finite="allow-nan", reset=False,
                                   dtype=[np.float64, np.float32])
                _check_float32_range(Xv, "eval_set X")
                yv = np.asarray(yv, dtype=np.float64)
                if not np.all(np.isfinite(yv)):
                    raise ValueError("eval_set targets contain NaN or infinity.")
                yv2 = yv.reshape(-1, 1) if yv.ndim == 1 else yv
                if yv2.shape != (Xv.shape[0], k):
                    raise ValueError(
                        f"eval_set target has shape {yv.shape}; expected ({Xv.shape[0]}, {k})."
                    )
                yv2 = (yv2 - base) / scale
                _check_float32_range(yv2, "eval_set targets (centred)")
                evals.append((Xv, yv2[:, 0] if k == 1 else yv2))

        seed = int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))
        shared = dict(
            n_estimators=self.n_estimators, learning_rate=self.learning_rate,
            max_depth=self.max_depth, min_child_weight=self.min_child_weight,
            subsample=self.subsample, colsample_bytree=self.colsample_bytree,
            reg_lambda=self.reg_lambda, reg_alpha=_rescaled(self.reg_alpha, scale),
            gamma=_rescaled(self.gamma, scale, power=2), max_bin=self.max_bin,
            n_jobs=self.n_jobs, seed=seed,
            early_stopping_rounds=self.early_stopping_rounds, eval_metric=self.eval_metric,
            booster_params=self.booster_params,
        )
        try:
            model, best = fit_booster(
                self.booster, shared, objective, X, yc[:, 0] if k == 1 else yc, sw, evals,
                sample_weight_eval_set, self._settings(), verbose, leaf_solve=leaf_solve,
            )
        except Exception as exc:
            # Library errors about settings come from C++ with source paths: name the
            # library and keep only the message.
            if type(exc).__module__.split(".")[0] in _LIBRARY_MODULES:
                msg = str(exc).strip().splitlines()
                msg = next((m for m in reversed(msg) if m.strip()), type(exc).__name__)
                # LightGBM appends "at /path/file.hpp, line N ." to its checks.
                msg = re.sub(r"\s*at \S+\.(?:cpp|hpp|cc|h), line \d+\s*\.?\s*$", ".", msg)
                raise ValueError(f"{self.booster} rejected the settings: {msg.strip()}") from exc
            raise
        # Assign fitted state only now: a failed fit leaves the previous state intact.
        self.model_ = model
        self.booster_ = (model.get_booster() if self.booster == "xgboost"
                         else model.booster_ if self.booster == "lightgbm" else model)
        self.base_score_ = base
        self.y_scale_ = scale
        self.n_outputs_ = k
        self._y_was_1d = y_was_1d
        self.best_iteration_ = best
        self.leaf_solve_ = leaf_solve
        self.thresholds_ = self.thresholds
        self.threshold_scores_ = {}
        if evals is None:
            self.evals_result_ = {}
        elif self.booster == "xgboost":
            self.evals_result_ = model.evals_result()
        elif self.booster == "lightgbm":
            self.evals_result_ = dict(model.evals_result_)
        else:
            self.evals_result_ = model.get_evals_result()
        return self

    def _fit_auto(self, X: Any, y: Any, sample_weight: Any, eval_set: Any,
                  sample_weight_eval_set: Any, verbose: bool) -> ASRLRegressor:
        """thresholds="auto": pick a rule on a held-out split, then refit on all rows."""
        n = _num_samples(X)
        if n < _AUTO_MIN_ROWS:
            raise ValueError(f"thresholds='auto' needs at least {_AUTO_MIN_ROWS} samples for "
                             f"its held-out split; got {n}.")
        rng = check_random_state(self.random_state)
        order = rng.permutation(n)
        n_val = max(1, int(round(_AUTO_HOLDOUT * n)))
        val, tr = order[:n_val], order[n_val:]
        y_arr = np.asarray(y)
        sw = None if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
        scores = {}
        for rule in _AUTO_RULES:
            est = clone(self).set_params(thresholds=rule)
            est.fit(_safe_indexing(X, tr), y_arr[tr], sample_weight=None if sw is None
                    else sw[tr])
            err = np.abs(est.predict(_safe_indexing(X, val)) - y_arr[val])
            err = err.reshape(n_val, -1).mean(axis=1)
            # Trimmed mean absolute error: the held-out labels carry the same gross errors
            # as the training labels, and the largest errors must not pick the rule.
            keep = np.sort(err)[: max(1, int(math.ceil(_AUTO_TRIM * n_val)))]
            scores[rule] = float(keep.mean())
        best = min(_AUTO_RULES, key=scores.__getitem__)
        final = clone(self).set_params(thresholds=best).fit(
            X, y, sample_weight=sample_weight, eval_set=eval_set,
            sample_weight_eval_set=sample_weight_eval_set, verbose=verbose)
        params = set(self.get_params(deep=False))
        self.__dict__.update({k: v for k, v in final.__dict__.items() if k not in params})
        self.thresholds_ = best
        self.threshold_scores_ = scores
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
        X = validate_data(self, X, accept_sparse=self._sparse(), ensure_all_finite="allow-nan",
                          reset=False, dtype=[np.float64, np.float32])
        _check_float32_range(X, "X")
        with warnings.catch_warnings():
            # LightGBM names numpy columns itself and then warns about its own names; the
            # feature names were checked above.
            warnings.filterwarnings("ignore", message="X does not have valid feature names")
            raw = np.asarray(self.model_.predict(X), dtype=np.float64)
        pred = raw.reshape(X.shape[0], self.n_outputs_) * self.y_scale_ + self.base_score_
        if self._y_was_1d:
            return pred.reshape(-1)
        return pred

    @property
    def feature_importances_(self) -> np.ndarray:
        """Feature importances of the fitted trees, normalised to sum to 1."""
        check_is_fitted(self)
        imp = np.asarray(self.model_.feature_importances_, dtype=np.float64)
        total = imp.sum()
        return imp / total if total > 0 else imp
