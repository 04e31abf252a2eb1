"""
A contamination sweep
=====================

How much of a day can be artefact before each method breaks? One-sided spikes (as
motion artefacts raise a wrist heart rate) are added to a growing fraction of the
samples; the error is the median normalised MSE of the fitted curve against the true
one (:func:`~sklearn_r2t.metrics.normalized_mse`) over 60 held-out days. This is the
package's own noise model, so it is the setting R2T was trained for: see the
real-data study for what transfers to real recordings. The full sweep, with every
classical configuration and the oracle, is ``benchmarks/r2t_accuracy.py --sections
sweep``.
"""

import matplotlib.pyplot as plt
import numpy as np

from sklearn_r2t import R2TRegressor, SymbolicLeastSquares
from sklearn_r2t.datasets import make_wearable_sequences
from sklearn_r2t.metrics import normalized_mse
from sklearn_r2t.noise import Compose, GaussianNoise, Spikes
from sklearn_r2t.symbolic import HeartRate

model = HeartRate()
methods = {
    "OLS": SymbolicLeastSquares(model, loss="linear"),
    "Huber (auto)": SymbolicLeastSquares(model, loss="huber", f_scale="auto"),
    "Cauchy (auto)": SymbolicLeastSquares(model, loss="cauchy", f_scale="auto"),
    "Bisquare one-sided": SymbolicLeastSquares(model, loss="bisquare", f_scale="auto",
                                               outlier_side="above"),
    "R2T (paper's head)": R2TRegressor(model, head="parameters"),
    "R2T": R2TRegressor(model),
}
rates = [0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6]
errors = {name: [] for name in methods}
for rate in rates:
    noise = Compose([GaussianNoise(0.01), Spikes(rate=rate, magnitude=(0.1, 0.4))])
    data = make_wearable_sequences(60, model=model, noise=noise, random_state=1)
    for name, est in methods.items():
        curves = est.fit(data.X).predict(data.X)
        errors[name].append(np.median(normalized_mse(model, data.X_clean, curves)))
for name, e in errors.items():
    print(f"{name:14s}", " ".join(f"{v:.1e}" for v in e))

# %%
fig, ax = plt.subplots(figsize=(7, 4))
for name, e in errors.items():
    ax.plot(np.array(rates) * 100, e, "o-", label=name)
ax.set_yscale("log")
ax.set_xlabel("samples hit by a one-sided spike (%)")
ax.set_ylabel("median normalised MSE vs the true curve")
ax.legend()
ax.set_title("Heart rate, 60 days per point")
plt.show()
