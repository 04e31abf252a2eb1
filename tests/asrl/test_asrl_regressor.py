"""ASRLRegressor: scikit-learn conformance, XGBoost features, composition."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import xgboost as xgb
from sklearn.linear_model import HuberRegressor
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

from sklearn_r2t import ASRLRegressor, SoftL1Regressor


@parametrize_with_checks(
    [ASRLRegressor(n_estimators=10, max_depth=3, n_jobs=1, random_state=0)],
    # Every check passes; nothing is marked as an expected failure.
    expected_failed_checks=lambda est: {},
)
def test_sklearn_compatible(estimator, check):
    check(estimator)


def _data(n=400, seed=0, offset=500.0, frac=0.15):
    rng = np.random.default_rng(seed)
    X = rng.uniform(-2, 2, size=(n, 4))
    clean = offset + 4 * X[:, 0] + 3 * np.sin(2 * X[:, 1])
    y = clean + rng.normal(size=n)
    bad = rng.choice(n, int(frac * n), replace=False)
    y[bad] += rng.uniform(30, 80, bad.size)
    return X, y, clean


def test_fits_far_from_zero_and_resists_outliers():
    X, y, clean = _data()
    model = ASRLRegressor(n_estimators=80, max_depth=3, learning_rate=0.2, n_jobs=1,
                          random_state=0).fit(X, y)
    plain = xgb.XGBRegressor(n_estimators=80, max_depth=3, learning_rate=0.2, n_jobs=1).fit(X, y)
    err = np.mean(np.abs(model.predict(X) - clean))
    assert err < 0.4 * np.mean(np.abs(plain.predict(X) - clean))
    assert model.base_score_[0] == pytest.approx(np.median(y), abs=1.0)
    assert model.booster_.num_boosted_rounds() == 80


def test_matches_a_plain_xgbregressor_with_the_objective():
    from sklearn_r2t import ASRLObjective

    X, y, _ = _data(200)
    # One Newton step per leaf is what a plain XGBRegressor with the objective does.
    ours = ASRLRegressor(n_estimators=15, max_depth=3, n_jobs=1, random_state=0,
                         leaf_solve=False).fit(X, y)
    base = ours.base_score_[0]
    theirs = xgb.XGBRegressor(objective=ASRLObjective(), base_score=base, n_estimators=15,
                              max_depth=3, learning_rate=0.3, n_jobs=1,
                              random_state=ours.model_.random_state).fit(X, y)
    # Ours fits y - base from 0 (centred, as precise labels need); the same model up to
    # float32 rounding of the labels.
    np.testing.assert_allclose(ours.predict(X), theirs.predict(X), rtol=1e-5)


def test_early_stopping_with_eval_set_and_importances():
    X, y, _ = _data(600)
    model = ASRLRegressor(n_estimators=500, learning_rate=0.3, early_stopping_rounds=5,
                          n_jobs=1, random_state=0)
    model.fit(X[:400], y[:400], eval_set=[(X[400:], y[400:])])
    assert model.best_iteration_ is not None and model.best_iteration_ < 499
    assert "asrl" in model.evals_result_["validation_0"]
    imp = model.feature_importances_
    assert imp.shape == (4,) and imp[:2].sum() > imp[2:].sum()
    with pytest.raises(ValueError, match="early_stopping_rounds needs an eval_set"):
        ASRLRegressor(early_stopping_rounds=3).fit(X, y)
    mae = ASRLRegressor(n_estimators=5, eval_metric="mae", n_jobs=1)
    mae.fit(X, y, eval_set=[(X, y)])
    assert "mae" in mae.evals_result_["validation_0"]


def test_pickle_and_reproducible():
    X, y, _ = _data(200)
    kw = dict(n_estimators=20, subsample=0.7, colsample_bytree=0.7, n_jobs=1, random_state=3)
    a = ASRLRegressor(**kw).fit(X, y)
    b = ASRLRegressor(**kw).fit(X, y)
    np.testing.assert_array_equal(a.predict(X), b.predict(X))
    c = pickle.loads(pickle.dumps(a))
    np.testing.assert_array_equal(a.predict(X), c.predict(X))


def test_multi_output_and_sample_weight():
    X, y, _ = _data(300)
    Y = np.column_stack([y, -1000 + 0.01 * y])
    model = ASRLRegressor(n_estimators=20, max_depth=3, n_jobs=1, random_state=0).fit(X, Y)
    pred = model.predict(X)
    assert pred.shape == (300, 2) and model.n_outputs_ == 2
    np.testing.assert_allclose(model.base_score_, np.median(Y, axis=0), atol=0.1)
    w = np.random.default_rng(0).integers(1, 3, size=300)
    rep = np.repeat(np.arange(300), w)
    kw = dict(n_estimators=10, max_depth=3, n_jobs=1, random_state=0)
    mw = ASRLRegressor(**kw).fit(X, y, sample_weight=w)
    mr = ASRLRegressor(**kw).fit(X[rep], y[rep])
    np.testing.assert_allclose(mw.predict(X), mr.predict(X), rtol=1e-4)


def test_missing_values_in_X_are_handled():
    X, y, _ = _data(200)
    X = X.copy()
    X[::7, 1] = np.nan
    pred = ASRLRegressor(n_estimators=5, n_jobs=1).fit(X, y).predict(X)
    assert np.all(np.isfinite(pred))


@pytest.mark.parametrize("params,msg", [
    (dict(q_low=0.9, q_high=0.5), "q_low must be smaller"),
    (dict(q_high=1.0), "q_high"),
    (dict(weighting="x"), "weighting"),
    (dict(n_estimators=0), "n_estimators"),
    (dict(learning_rate=-1.0), "learning_rate"),
    (dict(subsample=0.0), "subsample"),
    (dict(base_score=[1.0, 2.0]), "base_score"),
    (dict(booster_params={"objective": "reg:squarederror"}), "booster_params"),
])
def test_invalid_parameters(params, msg):
    X, y, _ = _data(50)
    with pytest.raises(ValueError, match=msg):
        ASRLRegressor(**params).fit(X, y)


def test_invalid_data():
    X, y, _ = _data(50)
    bad = y.copy()
    bad[3] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        ASRLRegressor().fit(X, bad)
    with pytest.raises(ValueError, match="non-zero|sums to zero"):
        ASRLRegressor().fit(X, y, sample_weight=np.zeros(50))
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        ASRLRegressor().fit(X, y[:40])
    with pytest.raises(ValueError, match="eval_set targets"):
        ASRLRegressor(n_estimators=2).fit(X, y, eval_set=[(X, bad)])


def test_pipeline_and_grid_search_beside_other_regressors():
    X, y, clean = _data(240)
    candidates = {
        "asrl": (ASRLRegressor(n_estimators=30, n_jobs=1, random_state=0),
                 {"q_low": [0.4, 0.6], "max_depth": [2, 3]}),
        "huber": (make_pipeline(StandardScaler(), HuberRegressor()),
                  {"huberregressor__epsilon": [1.35, 2.0]}),
        "softl1": (make_pipeline(StandardScaler(), SoftL1Regressor()),
                   {"softl1regressor__f_scale": ["auto", 1.0]}),
        "xgb": (xgb.XGBRegressor(n_estimators=30, n_jobs=1), {"max_depth": [2, 3]}),
    }
    scores = {}
    for name, (est, grid) in candidates.items():
        search = GridSearchCV(est, grid, cv=2, scoring="neg_median_absolute_error").fit(X, y)
        scores[name] = np.mean(np.abs(search.predict(X) - clean))
    assert scores["asrl"] < scores["xgb"]
    pipe = make_pipeline(StandardScaler(), ASRLRegressor(n_estimators=5, n_jobs=1)).fit(X, y)
    assert pipe.predict(X).shape == (240,)
