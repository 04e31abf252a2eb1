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

from ._leaves import LeafSolver, bake_xgboost_leaves
from ._loss import asrl_loss
from ._objective import ASRLObjective

__all__ = ["BOOSTERS", "fit_booster", "leaf_solve_blocker"]

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
# booster="catboost" with the leaf solve: Newton steps per leaf (CatBoost's own
# leaf-estimation loop; with ASRL's majorizing hessian each step is an IRLS step).
CATBOOST_LEAF_ITERATIONS = 5


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


def leaf_solve_blocker(name: str, booster_params: dict | None, has_eval_set: bool) -> str | None:
    """Why the leaf solve cannot run with these settings (``None``: it can)."""
    extra = booster_params or {}
    if name == "catboost":
        return None  # CatBoost solves leaves itself (leaf_estimation_iterations)
    if has_eval_set:
        return (f"{name} evaluates eval_set from its own cached predictions, which do not "
                "see leaf values changed after a tree is grown")
    if name == "xgboost":
        if extra.get("booster", "gbtree") != "gbtree":
            return f"booster_params booster={extra['booster']!r} (only 'gbtree')"
        if extra.get("multi_strategy", "one_output_per_tree") != "one_output_per_tree":
            return "booster_params multi_strategy (vector leaves)"
        if extra.get("num_parallel_tree", 1) != 1:
            return "booster_params num_parallel_tree > 1"
    if name == "lightgbm" and extra.get("boosting_type", extra.get("boosting", "gbdt")) != "gbdt":
        return "booster_params boosting_type other than 'gbdt'"
    return None


def _xgb_leaf_callback(solver: LeafSolver) -> Any:
    """An XGBoost training callback running the leaf solve after each tree."""
    from xgboost.callback import TrainingCallback

    class _LeafCallback(TrainingCallback):
        def after_iteration(self, model: Any, epoch: int, evals_log: Any) -> bool:
            solver.after_iteration(model, epoch)
            return False

    return _LeafCallback()


def _xgb_leaves(dleaf: Any) -> Any:
    # XGBoost predicts leaf ids only for iteration ranges starting at 0 ("Predict leaf
    # supports only iteration end", gbtree.h); a one-tree slice is O(1) per round.
    return lambda model, it: model[it:it + 1].predict(dleaf, pred_leaf=True)


def _lgb_leaves(X: Any) -> Any:
    return lambda model, it: model.predict(X, start_iteration=it, num_iteration=1,
                                           pred_leaf=True)


def _lgb_leaf_callback(solver: LeafSolver) -> Any:
    def callback(env: Any) -> None:
        # set_leaf_output changes the model (prediction, saving) but not LightGBM's cached
        # training scores; the solver adds the difference before the next gradients.
        for ids, values in solver.after_iteration(env.model, env.iteration):
            for leaf, value in zip(ids.tolist(), values.tolist(), strict=True):
                env.model.set_leaf_output(env.iteration, leaf, value)

    callback.order = 5  # type: ignore[attr-defined]  # before LightGBM's own callbacks
    return callback


def fit_booster(name: str, p: dict, objective: ASRLObjective, X: Any, y: np.ndarray,
                sw: np.ndarray, evals: list | None, eval_weights: list | None,
                metric_settings: dict, verbose: bool,
                leaf_solve: bool = False) -> tuple[Any, int | None]:
    """Fit booster ``name`` and return ``(model, best_iteration or None)``.

    ``p`` holds the shared settings (n_estimators, learning_rate, max_depth,
    min_child_weight, subsample, colsample_bytree, reg_lambda, reg_alpha, gamma, max_bin,
    n_jobs, seed, early_stopping_rounds, eval_metric, booster_params). ``y`` is centred; its
    intercept is 0. ``leaf_solve``: leaves solved to their ASRL M-estimates after each tree
    (see :mod:`._leaves`; the caller checks :func:`leaf_solve_blocker` first).
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
        solver = None
        if leaf_solve:
            solver = LeafSolver(objective, y, sw, params["learning_rate"], params["reg_lambda"],
                                params["reg_alpha"], _xgb_leaves(lib.DMatrix(X)),
                                random_state=p["seed"])
            # First, so that the user's callbacks see the solved round.
            params["callbacks"] = [_xgb_leaf_callback(solver), *(params.get("callbacks") or [])]
        model = lib.XGBRegressor(objective=objective if solver is None else solver,
                                 base_score=0.0 if k == 1 else [0.0] * k, **params)
        model.fit(X, y, sample_weight=sw, eval_set=evals,
                  sample_weight_eval_set=eval_weights, verbose=verbose)
        if solver is not None:
            # XGBoost has no leaf setter: write the solved leaves into the model once.
            model._Booster = bake_xgboost_leaves(model.get_booster(), solver.trees)
            model.objective, model.callbacks = objective, None  # drop the training state
            solver.release()
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
        solver = None
        if leaf_solve:
            solver = LeafSolver(objective, y, sw, params["learning_rate"], params["reg_lambda"],
                                params["reg_alpha"], _lgb_leaves(X), random_state=p["seed"])
        model = lib.LGBMRegressor(objective=objective if solver is None else solver, **params)
        fit_kw: dict = {"sample_weight": sw}
        if solver is not None:
            fit_kw["callbacks"] = [_lgb_leaf_callback(solver)]
        if evals is not None:
            fit_kw.update(eval_set=evals, eval_sample_weight=eval_weights,
                          eval_metric=_LGBMASRLMetric(metric_settings) if is_asrl else metric)
            callbacks = [lib.log_evaluation(1 if verbose else 0)]
            if es is not None:
                callbacks.append(lib.early_stopping(es, first_metric_only=True, verbose=False))
            fit_kw["callbacks"] = callbacks
        model.fit(X, y, **fit_kw)
        if solver is not None:
            solver.release()
            model.objective = model._objective = objective  # drop the training state
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
    if leaf_solve:
        # CatBoost re-evaluates the objective between leaf-estimation steps, so several
        # Newton steps with ASRL's majorizing hessian are IRLS steps towards each leaf's
        # M-estimate. (Its backtracking needs a Python metric class: not used.)
        params["leaf_estimation_iterations"] = CATBOOST_LEAF_ITERATIONS
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
