"""ASRL in LightGBM and CatBoost, ASRLRegressor's booster choice and input checks."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from sklearn_r2t import ASRLObjective, ASRLRegressor
from sklearn_r2t.asrl import _boosters

lgb = pytest.importorskip("lightgbm")
cb = pytest.importorskip("catboost")


def _data(n=400, seed=0, offset=500.0, frac=0.15):
    rng = np.random.default_rng(seed)
    X = rng.uniform(-2, 2, size=(n, 3))
    clean = offset + 4 * X[:, 0] + 3 * np.sin(2 * X[:, 1])
    y = clean + rng.normal(size=n)
    bad = rng.choice(n, int(frac * n), replace=False)
    y[bad] += rng.uniform(30, 80, bad.size)
    return X, y, clean


@parametrize_with_checks(
    [ASRLRegressor(booster="lightgbm", n_estimators=5, max_depth=3, n_jobs=1, random_state=0),
     ASRLRegressor(booster="catboost", n_estimators=10, max_depth=3, n_jobs=1, random_state=0)],
    expected_failed_checks=lambda est: {
        check: "LightGBM and CatBoost bin the features from the rows without their weights, "
               "so a weight-2 row and a repeated row give different histograms"
        for check in ("check_sample_weight_equivalence_on_dense_data",
                      "check_sample_weight_equivalence_on_sparse_data")
    },
)
def test_sklearn_compatible_other_boosters(estimator, check):
    check(estimator)


def test_lightgbm_both_entry_points_give_the_same_model():
    X, y, _ = _data(300)
    base = float(np.median(y))
    obj = ASRLObjective(thresholds="adaptive", per_side=True)
    params = dict(n_estimators=20, learning_rate=0.2, max_depth=3, num_leaves=8, n_jobs=1,
                  verbose=-1, random_state=0)
    w = np.random.default_rng(1).uniform(0.5, 2.0, size=300)
    skl = lgb.LGBMRegressor(objective=obj, **params).fit(X, y - base, sample_weight=w)
    ds = lgb.Dataset(X, label=y - base, weight=w)
    tr_params = {**params, "objective": obj, "num_iterations": params["n_estimators"]}
    del tr_params["n_estimators"]
    booster = lgb.train(tr_params, ds)
    np.testing.assert_allclose(skl.predict(X), booster.predict(X), rtol=1e-6, atol=1e-6)
    ours = ASRLRegressor(booster="lightgbm", thresholds="adaptive", per_side=True,
                         n_estimators=20, learning_rate=0.2, max_depth=3, n_jobs=1,
                         random_state=0).fit(X, y, sample_weight=w)
    assert ours.base_score_[0] != 0 and np.all(np.isfinite(ours.predict(X)))


def test_catboost_custom_objective_signs_and_fit():
    obj = ASRLObjective()
    y = np.array([0.0, 1.0, 2.0, 3.0, 50.0])
    pred = np.full(5, 2.0)
    grad, hess = obj.gradient_hessian(y, pred)
    ders = obj.calc_ders_range(pred, y, None)
    np.testing.assert_allclose([d[0] for d in ders], -grad)
    np.testing.assert_allclose([d[1] for d in ders], -hess)
    X, y, clean = _data(300)
    model = cb.CatBoostRegressor(loss_function=ASRLObjective(), eval_metric="MAE",
                                 iterations=30, depth=3, verbose=0, thread_count=1,
                                 allow_writing_files=False, random_seed=0)
    base = float(np.median(y))
    model.fit(X, y - base)
    assert np.mean(np.abs(model.predict(X) + base - clean)) < 3.0


@pytest.mark.parametrize("booster", ["xgboost", "lightgbm", "catboost"])
def test_each_booster_resists_one_sided_errors_far_from_zero(booster):
    X, y, clean = _data()
    model = ASRLRegressor(booster=booster, thresholds="adaptive", per_side=True,
                          n_estimators=80, max_depth=3, learning_rate=0.2, n_jobs=1,
                          random_state=0).fit(X, y)
    err = np.mean(np.abs(model.predict(X) - clean))
    mean_shift = np.mean(y - clean)  # what a squared-error fit absorbs
    assert err < 0.25 * mean_shift
    assert model.feature_importances_.sum() == pytest.approx(1.0)


@pytest.mark.parametrize("booster", ["xgboost", "lightgbm", "catboost"])
def test_early_stopping_on_every_booster(booster):
    X, y, _ = _data(300)
    model = ASRLRegressor(booster=booster, n_estimators=200, learning_rate=0.3,
                          early_stopping_rounds=5, n_jobs=1, random_state=0)
    model.fit(X[:200], y[:200], eval_set=[(X[200:], y[200:])])
    assert model.best_iteration_ is not None and 0 <= model.best_iteration_ < 200
    assert model.evals_result_


def test_missing_optional_booster_gives_a_clear_error(monkeypatch):
    def fail(name):
        raise ImportError("no module")

    monkeypatch.setattr(_boosters.importlib, "import_module", fail)
    X, y, _ = _data(50)
    with pytest.raises(ImportError, match=r"pip install lightgbm \(the extra \[boosters\]"):
        ASRLRegressor(booster="lightgbm").fit(X, y)
    # XGBoost comes from its own extra, not [boosters] (LightGBM and CatBoost)
    with pytest.raises(ImportError, match=r"pip install xgboost-cpu.*\[xgboost-cpu\]"):
        ASRLRegressor(booster="xgboost").fit(X, y)


def test_other_boosters_take_one_target_and_catboost_no_alpha():
    X, y, _ = _data(60)
    with pytest.raises(ValueError, match="1d array"):
        ASRLRegressor(booster="lightgbm").fit(X, np.c_[y, y])
    with pytest.raises(ValueError, match="reg_alpha or gamma"):
        ASRLRegressor(booster="catboost", reg_alpha=1.0, n_estimators=2).fit(X, y)


# --------------------------------------------------------------------------- reliability
def test_labels_near_1e12_keep_their_precision():
    rng = np.random.default_rng(0)
    X = rng.uniform(-2, 2, size=(500, 2))
    clean = 1e12 + 5 * X[:, 0]
    y = clean + rng.normal(size=500)
    model = ASRLRegressor(n_estimators=100, max_depth=3, learning_rate=0.2, n_jobs=1,
                          random_state=0).fit(X, y)
    # float32 margins around 1e12 have a step of 65,536; centred labels are exact to ~1e-7
    assert np.median(np.abs(model.predict(X) - clean)) < 1.0


@pytest.mark.parametrize("size", [3e38, 1e20, 1e-25])
def test_huge_or_tiny_centred_targets_are_scaled_and_fitted(size):
    rng = np.random.default_rng(1)
    X = rng.uniform(-2, 2, size=(200, 2))
    y = size * np.tanh(X[:, 0])  # up to nearly the whole float32 range on both sides
    model = ASRLRegressor(n_estimators=20, max_depth=3, n_jobs=1).fit(X, y)
    assert model.y_scale_ != 1
    pred = model.predict(X)
    assert np.all(np.isfinite(pred))
    assert np.corrcoef(pred, y)[0, 1] > 0.99


@pytest.mark.parametrize("params,msg", [
    (dict(max_bin=1), "max_bin"),
    (dict(eval_metric="foo"), "eval_metric 'foo'"),
    (dict(eval_metric=3), "eval_metric"),
    (dict(n_jobs="abc"), "n_jobs"),
    (dict(n_jobs=0), "n_jobs"),
    (dict(booster="sklearn"), "booster"),
    (dict(thresholds="median"), "thresholds"),
    (dict(booster_params={"loss_function": "RMSE"}), "booster_params"),
    (dict(booster_params={"tree_method": "nonsense"}), "xgboost rejected the settings"),
])
def test_settings_passed_to_the_booster_are_validated(params, msg):
    X, y, _ = _data(50)
    est = ASRLRegressor(n_estimators=2, **params)
    with pytest.raises(ValueError, match=msg):
        est.fit(X, y)
    assert not hasattr(est, "model_")  # a failed fit leaves no fitted state


@pytest.mark.parametrize("where", ["X", "y", "sample_weight"])
def test_values_beyond_float32_are_refused_with_a_clear_message(where):
    X, y, _ = _data(50)
    w = np.ones(50)
    {"X": X, "y": y, "sample_weight": w}[where][3] = 1e39
    with pytest.raises(ValueError, match=f"{where} has values up to 1e\\+39.*float32"):
        ASRLRegressor(n_estimators=2).fit(X, y, sample_weight=w)


def test_failed_refit_keeps_the_previous_model():
    X, y, _ = _data(80)
    est = ASRLRegressor(n_estimators=5, n_jobs=1, random_state=0).fit(X, y)
    before = est.predict(X)
    est.set_params(booster_params={"tree_method": "nonsense"})
    with pytest.raises(ValueError):
        est.fit(X, y)
    np.testing.assert_array_equal(est.predict(X), before)
