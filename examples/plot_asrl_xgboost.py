"""
ASRL in XGBoost and on dask
===========================

The Adaptive Segmented Robust Loss as an XGBoost objective: squared below the median
absolute residual, absolute up to the 80th percentile, logarithmic beyond. Here 15 %
of the training labels of scikit-learn's diabetes data are corrupted upwards (as a
data-entry or sensor error would); the test labels are clean. Then the same
objective on ``xgboost.dask``, where its thresholds are computed across workers.
"""

import matplotlib.pyplot as plt
import numpy as np
import xgboost as xgb
from sklearn.datasets import load_diabetes
from sklearn.metrics import mean_absolute_error
from sklearn.model_selection import train_test_split

from sklearn_r2t import ASRLObjective, ASRLRegressor

X, y = load_diabetes(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, random_state=0)
rng = np.random.default_rng(0)
bad = rng.random(y_train.size) < 0.15
y_noisy = y_train.copy()
y_noisy[bad] += rng.uniform(150, 300, bad.sum())

settings = dict(n_estimators=200, learning_rate=0.05, max_depth=3, n_jobs=1)
models = {
    "squared error": xgb.XGBRegressor(**settings),
    "absolute error": xgb.XGBRegressor(objective="reg:absoluteerror", **settings),
    "ASRL": ASRLRegressor(**settings, random_state=0),
}
mae = {}
for name, reg in models.items():
    reg.fit(X_train, y_noisy)
    mae[name] = mean_absolute_error(y_test, reg.predict(X_test))
    print(f"{name:15s} test MAE {mae[name]:.1f}")

# %%
# On a dask cluster the objective is the same object; ``xgboost.dask`` calls it on
# every worker and the quantile thresholds are made global.
import dask.array as da  # noqa: E402
import xgboost.dask  # noqa: E402, F401  (the submodule is not imported by `import xgboost`)
from distributed import Client, LocalCluster  # noqa: E402

with LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                  dashboard_address=None) as cluster, Client(cluster) as client:
    Xd = da.from_array(X_train, chunks=(X_train.shape[0] // 2, X.shape[1]))
    yd = da.from_array(y_noisy, chunks=X_train.shape[0] // 2)
    reg = xgb.dask.DaskXGBRegressor(objective=ASRLObjective(),
                                    base_score=float(np.median(y_noisy)), **settings)
    reg.client = client
    reg.fit(Xd, yd)
    mae["ASRL on dask"] = mean_absolute_error(y_test, reg.predict(da.from_array(X_test))
                                              .compute())
print(f"ASRL on dask    test MAE {mae['ASRL on dask']:.1f}")

# %%
fig, ax = plt.subplots(figsize=(6, 3))
ax.barh(list(mae), list(mae.values()))
ax.set_xlabel("test MAE on clean labels")
ax.set_title("diabetes, 15 % of training labels corrupted upwards")
fig.tight_layout()
plt.show()
