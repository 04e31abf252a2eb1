"""
Real actigraphy recordings
==========================

Two weeks of wrist activity from an Actiwatch, one count a minute, as shipped in the
pyActigraphy wheel (``pip install --no-deps pyActigraphy==1.2.2``). The command line
reads the file, averages it onto a 15-minute grid, cuts it into days and fits a
24-hour cosinor per day with every method; here it is called from Python and its
table read back. There is no true curve on real data: what can be seen is how much
the methods agree and how steady each one is from day to day.
"""

import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd

from sklearn_r2t.cli._main import main
from sklearn_r2t.recordings import pyactigraphy_data_dir, read_recording

path = pyactigraphy_data_dir() / "example_01.AWD"
frame = read_recording(path)
print(frame.shape, frame.index[0], "to", frame.index[-1])
out = Path(tempfile.mkdtemp())  # the command's table and figure go here
main(["compare", str(path), "--output", str(out / "example_01.csv"),
      "--figure", str(out / "example_01.png"), "--no-progress"])
table = pd.read_csv(out / "example_01.csv")
# every day is in the table: the partial first and last days with status "skipped"
print(table.drop_duplicates("window_start")[["window_start", "coverage", "status"]]
      .to_string(index=False))
fitted = table[table["status"] == "fitted"]
wide = fitted.pivot_table(index=["window_start", "label"], columns="parameter",
                          values="value").reset_index()
print(wide.groupby("label")[["mesor", "amplitude", "acrophase"]].agg(["median", "std"])
      .round(2))

# %%
# Acrophase (clock time of the activity peak) per day: the band every method spans,
# and two of them drawn.
acro = wide.pivot(index="window_start", columns="label", values="acrophase")
days = pd.to_datetime(acro.index)
fig, ax = plt.subplots(figsize=(8, 4))
ax.fill_between(days, acro.min(axis=1), acro.max(axis=1), color="C0", alpha=0.2,
                label=f"range of the {acro.shape[1]} methods")
for label in ("R2T", "Cauchy (auto)"):
    ax.plot(days, acro[label], "o-", ms=3, label=label)
ax.set_ylabel("acrophase (local clock time, h)")
ax.set_title("example_01.AWD: activity peak per day")
ax.legend(fontsize=8, loc="lower left")
fig.autofmt_xdate()
plt.show()

# %%
# The command's own figure: every day, with the methods' median curve and band, and
# each method's parameters day by day.
img = plt.imread(out / "example_01.png")
fig, ax = plt.subplots(figsize=(12, 5))
ax.imshow(img)
ax.axis("off")
plt.show()
