"""
Fit a day of heart rate
=======================

One day of wrist heart rate, sampled every 15 minutes, with the structured artefacts
of a wearable: motion spikes, drops when the sensor loses contact, missing stretches.
:class:`~sklearn_r2t.R2TRegressor` reads the whole day and returns the parameters of
a 24-hour cosinor (mesor and amplitude in bpm, acrophase in hours); ordinary least
squares is pulled by the artefacts, a Cauchy loss with a robust scale is not.
"""

import matplotlib.pyplot as plt
import numpy as np

from sklearn_r2t import R2TRegressor, SymbolicLeastSquares
from sklearn_r2t.datasets import make_wearable_sequences

data = make_wearable_sequences(1, noise="combined", random_state=7)
model, t = data.model, data.t_hours
methods = {
    "OLS": SymbolicLeastSquares(model, loss="linear"),
    "Cauchy (auto)": SymbolicLeastSquares(model, loss="cauchy", f_scale="auto"),
    "R2T": R2TRegressor(model),
}
params = {name: est.fit(data.X).transform(data.X)[0] for name, est in methods.items()}
print("truth        ", np.round(data.params[0], 2))
for name, p in params.items():
    print(f"{name:13s}", np.round(p, 2))

# %%
# The fitted curves against the noisy samples and the (here known) true curve.
fig, ax = plt.subplots(figsize=(8, 4))
ax.plot(t, data.X[0], ".", color="0.6", label="noisy samples (NaN = gap)")
ax.plot(t, data.X_clean[0], "k-", lw=2.5, label="true curve")
for name, p in params.items():
    curve = model.evaluate(p[None], t.size)[0]
    ax.plot(t, curve, lw=1.5, label=f"{name}: mesor {p[0]:.1f} bpm, acrophase {p[2]:.1f} h")
ax.set_xlabel("time (h)")
ax.set_ylabel("heart rate (bpm)")
ax.legend(fontsize=8)
ax.set_title("One day of heart rate with structured artefacts")
plt.show()

# %%
# R2T's weighted head shows which samples it trusted
# (:meth:`~sklearn_r2t.R2TRegressor.sample_weights`: the weights of its final
# least-squares solve) and how sure it is of each parameter
# (``transform(X, return_std=True)``: calibrated standard errors, so
# ``estimate +- 1.645 * std`` is a 90 % interval).
r2t = methods["R2T"]
weights = r2t.sample_weights(data.X)[0]
estimate, std = r2t.transform(data.X, return_std=True)
for name, value, s, true in zip(model.param_names, estimate[0], std[0], data.params[0],
                                 strict=True):
    print(f"{name:10s} {value:6.2f} +- {1.645 * s:.2f} (90 %)   truth {true:6.2f}")

fig, ax = plt.subplots(figsize=(8, 3.5))
points = ax.scatter(t, data.X[0], c=weights, cmap="RdYlGn", vmin=0, vmax=1, s=20,
                    edgecolors="0.3", linewidths=0.3)
ax.plot(t, data.X_clean[0], "k-", lw=1.5, label="true curve")
ax.plot(t, model.evaluate(estimate, t.size)[0], "b--", lw=1.5, label="R2T")
fig.colorbar(points, ax=ax, label="R2T's weight")
ax.set_xlabel("time (h)")
ax.set_ylabel("heart rate (bpm)")
ax.legend(fontsize=8)
ax.set_title("The samples R2T trusted (green) and those it set aside (red)")
plt.show()
