"""
Compare every method on your data with GridSearchCV
===================================================

Every sequence estimator is a scikit-learn estimator, so ``GridSearchCV`` can pick
between R2T and the classical robust fits. The score needs sequences whose true
parameters are known: simulate them from the model and noise you believe describe
your data (here heart rate with the ``combined`` structured noise).
:func:`~sklearn_r2t.metrics.parameter_recovery_score` is the negative mean of the
normalised parameter errors; R2T never trains on the labels (its weights ship with
the package).
"""

import matplotlib.pyplot as plt
import pandas as pd
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline

from sklearn_r2t import R2TRegressor, SymbolicLeastSquares
from sklearn_r2t.datasets import make_wearable_sequences
from sklearn_r2t.metrics import parameter_recovery_score

data = make_wearable_sequences(150, noise="combined", random_state=0)
candidates = [
    SymbolicLeastSquares(loss="linear"),
    SymbolicLeastSquares(loss="huber", f_scale="auto"),
    SymbolicLeastSquares(loss="soft_l1", f_scale="auto"),
    SymbolicLeastSquares(loss="cauchy", f_scale="auto"),
    R2TRegressor(),
]
grid = GridSearchCV(
    Pipeline([("fit", SymbolicLeastSquares())]),
    {"fit": candidates},
    scoring=parameter_recovery_score,
    cv=3,
)
grid.fit(data.X, data.params)
results = pd.DataFrame({
    "method": [repr(p["fit"]) for p in grid.cv_results_["params"]],
    "score": grid.cv_results_["mean_test_score"],
    "fit time (s)": grid.cv_results_["mean_score_time"],
}).sort_values("score")
print(results.to_string(index=False))
print("best:", grid.best_params_["fit"])

# %%
fig, ax = plt.subplots(figsize=(8, 3.5))
ax.barh(results["method"], -results["score"])
ax.set_xscale("log")
ax.set_xlabel("mean normalised parameter error (lower is better)")
ax.set_title("3-fold cross-validated parameter recovery, 150 heart-rate days")
fig.tight_layout()
plt.show()
