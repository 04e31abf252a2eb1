"""
Your own equation
=================

Any parametric curve written as a torch function becomes a symbolic model:
:class:`~sklearn_r2t.symbolic.FunctionModel` needs only the function and a range per
parameter. Here an exponential decay (say a recovery after exercise) with spikes.
The least-squares fits work at once; R2T has no shipped weights for a new equation,
so it trains on synthetic data from the model. Twenty seconds of training, as here,
is not enough: the printout shows it still far behind the least-squares fits. Give it
minutes on a CPU (``max_time=``), or a GPU; the shipped heart-rate weights took
hours.
"""

import matplotlib.pyplot as plt
import numpy as np
import torch

from sklearn_r2t import R2TRegressor, SymbolicLeastSquares
from sklearn_r2t.datasets import make_wearable_sequences
from sklearn_r2t.metrics import normalized_mse


def decay(p, t):  # p: (n, 3) parameters, t: (T,) hours
    return p[:, :1] * torch.exp(-t / p[:, 1:2]) + p[:, 2:3]


from sklearn_r2t.symbolic import FunctionModel  # noqa: E402

model = FunctionModel(decay, bounds=[(0.4, 0.8), (1, 10), (0, 0.2)],
                      param_names=("amplitude", "tau", "offset"))
data = make_wearable_sequences(200, model=model, noise="spikes", random_state=0)
methods = {
    "OLS": SymbolicLeastSquares(model, loss="linear"),
    "Cauchy (auto)": SymbolicLeastSquares(model, loss="cauchy", f_scale="auto"),
    "R2T (20 s of training)": R2TRegressor(model, noise="spikes", max_time=20,
                                           random_state=0),
}
curves = {}
for name, est in methods.items():
    curves[name] = est.fit(data.X).predict(data.X)
    err = np.median(normalized_mse(model, data.X_clean, curves[name]))
    print(f"{name:24s} median NMSE {err:.2e}")

# %%
t = data.t_hours
fig, ax = plt.subplots(figsize=(7, 4))
ax.plot(t, data.X[0], ".", color="0.6", label="noisy")
ax.plot(t, data.X_clean[0], "k-", lw=2.5, label="true")
for name, c in curves.items():
    ax.plot(t, c[0], lw=1.5, label=name)
ax.set_xlabel("time (h)")
ax.set_ylabel("signal")
ax.legend()
plt.show()
