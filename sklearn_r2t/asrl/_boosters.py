"""Booster adapters for ASRLRegressor: XGBoost, LightGBM and CatBoost behind one interface.

Each adapter builds the library's estimator from the shared tree settings, fits it on the
centred (and if needed scaled) targets with :class:`ASRLObjective`, and reports the best
iteration. Centring makes the intercept 0, which is what every library assumes for a custom
objective (the base-score trap), and keeps huge labels precise in float32.
"""

from __future__ import annotations

import importlib
import warnings
from typing import Any

import numpy as np

from ._loss import asrl_loss
from ._objective import ASRLObjective

__all__ = ["BOOSTERS", "fit_booster"]

BOOSTERS = ("xgboost", "lightgbm", "catboost")
_MODULES = {"xgboost": "xgboost", "lightgbm": "lightgbm", "catboost": "catboost"}
# what installs each booster: the extra of pyproject.toml that provides it, and the
# plain pip command (the package installs from a clone until it is published)
_INSTALL = {
    "xgboost": "pip install xgboost-cpu (CPU only, about 6 MB; the extra [xgboost-cpu]) "
               "or pip install xgboost (with CUDA; the extra [xgboost])",
    "lightgbm": "pip install lightgbm (the extra [boosters])",
    "catboost": "pip install catboost (the extra [boosters])",
}


def import_booster(name: str) -> Any:
    """The booster's module, or an ImportError telling how to install it."""
    try:
        return importlib.import_module(_MODULES[name])
    except ImportError as exc:  # optional dependency
        raise ImportError(
            f"booster={name!r} needs the {name} package, which is not installed: "
            f"{_INSTALL[name]}."
        ) from exc


class _ASRLMetric:
    """Picklable ``eval_metric`` for XGBoost: :func:`asrl_loss` with fixed settings."""

    def __init__(self, settings: dict) -> None:
        self.settings = settings
        self.__name__ = "asrl"  # XGBoost names the metric after the callable

    def __call__(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> float:
        return asrl_loss(y_true, y_pred, sample_weight, **self.settings)


class _LGBMASRLMetric(_ASRLMetric):
    """LightGBM's ``eval_metric`` callable form: ``(name, value, is_higher_better)``."""

    def __call__(self, y_true: Any, y_pred: Any, weight: Any = None) -> tuple:
        return "asrl", asrl_loss(y_true, y_pred, weight, **self.settings), False


class _CatBoostASRLMetric:
    """CatBoost's custom metric protocol for :func:`asrl_loss` (whole eval set at once)."""

    def __init__(self, settings: dict) -> None:
        self.settings = settings

    def is_max_optimal(self) -> bool:
        return False

    def evaluate(self, approxes: Any, target: Any, weight: Any) -> tuple[float, float]:
        w = None if weight is None else np.asarray(weight, dtype=np.float64)
        value = asrl_loss(np.asarray(target), np.asarray(approxes[0]), w, **self.settings)
        total = float(len(target) if w is None else w.sum())
        return value * total, total

    def get_final_error(self, error: float, weight: float) -> float:
        return error / weight if weight else 0.0


def fit_booster(name: str, p: dict, objective: ASRLObjective, X: Any, y: np.ndarray,
                sw: np.ndarray, evals: list | None, eval_weights: list | None,
                metric_settings: dict, verbose: bool) -> tuple[Any, int | None]:
    """Fit booster ``name`` and return ``(model, best_iteration or None)``.

    ``p`` holds the shared settings (n_estimators, learning_rate, max_depth,
    min_child_weight, subsample, colsample_bytree, reg_lambda, reg_alpha, gamma, max_bin,
    n_jobs, seed, early_stopping_rounds, eval_metric, booster_params). ``y`` is centred; its
    intercept is 0.
    """
    lib = import_booster(name)
    es = p["early_stopping_rounds"]
    metric = p["eval_metric"]
    is_asrl = isinstance(metric, str) and metric == "asrl"
    extra = dict(p["booster_params"] or {})
    if name == "xgboost":
        params = dict(
            n_estimators=p["n_estimators"], learning_rate=p["learning_rate"],
            max_depth=p["max_depth"], min_child_weight=p["min_child_weight"],
            subsample=p["subsample"], colsample_bytree=p["colsample_bytree"],
            reg_lambda=p["reg_lambda"], reg_alpha=p["reg_alpha"], gamma=p["gamma"],
            max_bin=p["max_bin"], tree_method="hist", n_jobs=p["n_jobs"],
            random_state=p["seed"], early_stopping_rounds=es,
        )
        if evals is not None:
            params["eval_metric"] = _ASRLMetric(metric_settings) if is_asrl else metric
        params.update(extra)
        k = 1 if y.ndim == 1 else y.shape[1]
        model = lib.XGBRegressor(objective=objective,
                                 base_score=0.0 if k == 1 else [0.0] * k, **params)
        model.fit(X, y, sample_weight=sw, eval_set=evals,
                  sample_weight_eval_set=eval_weights, verbose=verbose)
        best = int(model.best_iteration) if es is not None else None
        return model, best
    if name == "lightgbm":
        params = dict(
            n_estimators=p["n_estimators"], learning_rate=p["learning_rate"],
            max_depth=p["max_depth"], num_leaves=int(min(2 ** p["max_depth"], 131072)),
            min_child_weight=p["min_child_weight"], subsample=p["subsample"],
            subsample_freq=1 if p["subsample"] < 1 else 0,
            colsample_bytree=p["colsample_bytree"], reg_lambda=p["reg_lambda"],
            reg_alpha=p["reg_alpha"], min_split_gain=p["gamma"], max_bin=p["max_bin"],
            n_jobs=-1 if p["n_jobs"] is None else p["n_jobs"], random_state=p["seed"],
            # LightGBM's default of 20 rows a leaf (better in our benchmark than 1), relaxed
            # on small data, where it would leave no feature splittable.
            min_child_samples=int(min(20, max(1, X.shape[0] // 20))), verbose=-1,
        )
        params.update(extra)
        model = lib.LGBMRegressor(objective=objective, **params)
        fit_kw: dict = {"sample_weight": sw}
        if evals is not None:
            fit_kw.update(eval_set=evals, eval_sample_weight=eval_weights,
                          eval_metric=_LGBMASRLMetric(metric_settings) if is_asrl else metric)
            callbacks = [lib.log_evaluation(1 if verbose else 0)]
            if es is not None:
                callbacks.append(lib.early_stopping(es, first_metric_only=True, verbose=False))
            fit_kw["callbacks"] = callbacks
        model.fit(X, y, **fit_kw)
        best = int(model.best_iteration_) - 1 if es is not None else None
        return model, best
    # catboost
    if p["reg_alpha"] != 0 or p["gamma"] != 0:
        raise ValueError("booster='catboost' has no reg_alpha or gamma; leave them at 0.")
    params = dict(
        iterations=p["n_estimators"], learning_rate=p["learning_rate"], depth=p["max_depth"],
        l2_leaf_reg=p["reg_lambda"], rsm=p["colsample_bytree"], border_count=p["max_bin"],
        thread_count=-1 if p["n_jobs"] is None else p["n_jobs"], random_seed=p["seed"],
        boosting_type="Plain", allow_writing_files=False, verbose=bool(verbose),
        # CatBoost needs an eval metric with a custom objective; without an eval set the
        # cheap built-in MAE stands in for it.
        eval_metric=("MAE" if evals is None and is_asrl
                     else _CatBoostASRLMetric(metric_settings) if is_asrl else metric),
    )
    if p["subsample"] < 1:
        params.update(bootstrap_type="Bernoulli", subsample=p["subsample"])
    else:  # every row in every tree, as subsample=1 means for the other boosters
        params["bootstrap_type"] = "No"
    if es is not None:
        params["early_stopping_rounds"] = es
    params.update(extra)
    model = lib.CatBoostRegressor(loss_function=objective, **params)
    eval_pool = None
    if evals is not None:
        Xv, yv = evals[-1]  # CatBoost uses one eval set: the last, as for early stopping
        wv = None if not eval_weights else eval_weights[-1]
        eval_pool = lib.Pool(Xv, yv, weight=wv)
    with warnings.catch_warnings():
        # CatBoost suggests numba for Python objectives; the objective is already vectorized.
        warnings.filterwarnings("ignore", message="Failed to import numba")
        model.fit(X, y, sample_weight=sw, eval_set=eval_pool)
    best = int(model.get_best_iteration()) if es is not None else None
    return model, best
