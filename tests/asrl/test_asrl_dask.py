"""ASRLObjective on xgboost.dask: statistics are global, so dask matches one process."""

from __future__ import annotations

import numpy as np
import pytest
import xgboost as xgb

from sklearn_r2t import ASRLObjective

distributed = pytest.importorskip("distributed")
da = pytest.importorskip("dask.array")
dxgb = pytest.importorskip("xgboost.dask")

# Stated tolerance: with the collective statistics the thresholds equal the single-process
# ones exactly, so dask and single-process models differ only by float32 summation order in
# XGBoost's histograms: predictions agree to 1e-5 relative to the spread of y (observed
# bit-identical, 0.0). Per-worker thresholds (sync=False) differ by ~16% of SD(y) here.
TOL = 1e-5


@pytest.fixture(scope="module")
def client():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None, silence_logs=40) as cluster:
        with distributed.Client(cluster) as c:
            yield c


def _data(n=2000, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.uniform(-2, 2, size=(n, 3)).round(1)  # < max_bin distinct values: same cuts
    y = 300 + 5 * X[:, 0] - 3 * X[:, 1] ** 2 + rng.standard_t(2, size=n)
    y[rng.choice(n, n // 8, replace=False)] += 50
    # Worker halves with different residual scales make per-worker thresholds differ.
    y[: n // 2] += rng.normal(scale=4.0, size=n // 2)
    w = rng.uniform(0.5, 2.0, size=n)
    return X, y, w


def _dask(client, X, y, w):
    Xd = da.from_array(X, chunks=(X.shape[0] // 2, X.shape[1]))
    yd = da.from_array(y, chunks=X.shape[0] // 2)
    wd = da.from_array(w, chunks=X.shape[0] // 2)
    Xd, yd, wd = client.persist([Xd, yd, wd])
    distributed.wait([Xd, yd, wd])
    return Xd, yd, wd


@pytest.mark.parametrize("rule", [{}, dict(thresholds="adaptive", per_side=True),
                                  dict(thresholds="efficient")])
def test_dask_matches_single_process(client, rule):
    X, y, w = _data()
    params = {"base_score": float(np.median(y)), "max_depth": 3, "eta": 0.3,
              "tree_method": "hist", "nthread": 1}
    rounds = 25
    single = xgb.train(params, xgb.DMatrix(X, label=y, weight=w), rounds,
                       obj=ASRLObjective(**rule))
    ref = single.predict(xgb.DMatrix(X))
    Xd, yd, wd = _dask(client, X, y, w)
    # Both partitions must sit on different workers for the test to mean anything.
    assert len(client.who_has(yd)) >= 1 and len(client.scheduler_info()["workers"]) == 2

    def fit(obj):
        dtrain = dxgb.DaskDMatrix(client, Xd, yd, weight=wd)
        out = dxgb.train(client, params, dtrain, rounds, obj=obj)
        return dxgb.predict(client, out["booster"], Xd).compute()

    synced = fit(ASRLObjective(**rule))
    local = fit(ASRLObjective(sync=False, **rule))
    scale = np.std(y)
    err_sync = np.max(np.abs(synced - ref)) / scale
    err_local = np.max(np.abs(local - ref)) / scale
    assert err_sync < TOL, err_sync
    assert err_local > 10 * max(err_sync, 1e-7)  # per-worker thresholds really differ

    # The scikit-learn style entry point takes the same callable.
    reg = dxgb.DaskXGBRegressor(objective=ASRLObjective(**rule), base_score=params["base_score"],
                                max_depth=3, learning_rate=0.3, n_estimators=rounds,
                                tree_method="hist", n_jobs=1)
    reg.client = client
    reg.fit(Xd, yd, sample_weight=wd)
    pred = reg.predict(Xd).compute()
    assert np.max(np.abs(pred - ref)) / scale < TOL
