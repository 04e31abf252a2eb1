"""
A cohort of recordings, fitted in one call
==========================================

Studies fit rhythms to hundreds or thousands of recordings, not to one.
:func:`sklearn_r2t.cohort.fit_recordings` reads, windows and fits every recording
of a folder with one estimator and writes a Parquet dataset (one part per
recording) and a manifest that says, per file, whether it was fitted, skipped or
failed, and why. A bad file never stops the run; started again, the run fits only
what it has not finished. Given a ``distributed.Client`` it runs on a dask cluster
with the same results, bit for bit. On the command line the same is
``sklearn-r2t fit 'cohort/*.csv' --output results/ --workers 4``.

Here: 24 synthetic participants, four days of heart rate each at one sample every
5 minutes, each with their own rhythm; a watch taken off for most of a day; one
corrupted file and one recording too short for a day.
"""

import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from sklearn_r2t import SymbolicLeastSquares
from sklearn_r2t.cohort import fit_recordings, transform_days
from sklearn_r2t.symbolic import HeartRate

rng = np.random.default_rng(0)
folder = Path(tempfile.mkdtemp()) / "cohort"
folder.mkdir()
truth = {}
for k in range(24):
    t = pd.date_range("2026-02-02 00:00", periods=4 * 288, freq="5min")
    hours = np.asarray(t.hour + t.minute / 60)
    mesor, amp, acro = rng.uniform(58, 78), rng.uniform(5, 12), rng.uniform(13, 19)
    hr = mesor + amp * np.cos(2 * np.pi * (hours - acro) / 24) + rng.normal(0, 2, t.size)
    bursts = rng.random(t.size) < 0.08
    hr[bursts] += rng.uniform(15, 40, bursts.sum())  # movement pushes heart rate up
    if k % 5 == 0:
        hr[300:560] = np.nan  # the watch was off for most of the second day
    name = f"participant_{k:02d}.csv"
    pd.DataFrame({"time": t, "hr": hr.round(1)}).to_csv(folder / name, index=False)
    truth[name] = acro
(folder / "participant_24.csv").write_text("time,hr\n\x00\x00 corrupted\n")
pd.DataFrame({"time": pd.date_range("2026-02-02", periods=60, freq="5min"),
              "hr": 70.0}).to_csv(folder / "participant_25.csv", index=False)

# %%
# Fit every day of every recording with Tukey's bisquare (a batched robust fit).
est = SymbolicLeastSquares(HeartRate(), loss="bisquare", f_scale="auto",
                           outlier_side="above").fit(np.zeros((1, 96)))
output = folder.parent / "results"
manifest = fit_recordings(est, folder, output)
print(manifest["status"].value_counts().to_string())
print(manifest.loc[manifest["status"] != "ok", ["file", "status", "message"]]
      .assign(file=lambda m: m["file"].map(lambda f: Path(f).name)).to_string(index=False))
print(manifest[["days_fitted", "days_skipped"]].sum().to_string())

# %%
# Started again, the run finds every file finished and fits only the failed one
# (it might have been a transient error); a killed run resumes the same way.
again = fit_recordings(est, folder, output)
print((again["seconds"] == manifest["seconds"]).sum(), "of", len(again),
      "records reused")

# %%
# The dataset holds the command line's tidy table plus ``source``; read it with
# pandas or, for a cohort larger than memory, ``dask.dataframe.read_parquet``.
table = pd.read_parquet(output / "parameters")
acro = table[(table["parameter"] == "acrophase") & table["value"].notna()]  # fitted days
per_person = acro.groupby("file")["value"].median()
fig, ax = plt.subplots(figsize=(6, 4))
ax.plot([truth[f] for f in per_person.index], per_person, "o")
ax.plot([13, 19], [13, 19], "k--", lw=1, label="truth")
ax.set_xlabel("true acrophase (h)")
ax.set_ylabel("median fitted acrophase over days (h)")
ax.set_title(f"{len(per_person)} participants, {len(acro)} days")
ax.legend()
plt.show()

# %%
# Days already in memory, as a dask array (or a dask DataFrame with one row per
# day), are fitted block by block with :func:`~sklearn_r2t.cohort.transform_days`.
import dask.array as da  # noqa: E402

days = HeartRate().evaluate(np.array([[65.0, 8.0, 15.0]] * 2000), 96)
days = days + rng.normal(0, 1, days.shape)
params = transform_days(est, da.from_array(days, chunks=500))
print(params)
print(np.median(params.compute(), axis=0).round(2))
