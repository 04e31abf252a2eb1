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
wide = table.pivot_table(index=["window_start", "label"], columns="parameter",
                         values="value").reset_index()
print(wide.groupby("label")[["mesor", "amplitude", "acrophase"]].agg(["median", "std"])
      .round(2))

# %%
# Acrophase (clock time of the activity peak) per day and method.
fig, ax = plt.subplots(figsize=(8, 4))
for label, g in wide.groupby("label"):
    ax.plot(pd.to_datetime(g["window_start"]), g["acrophase"], "o-", ms=3, label=label)
ax.set_ylabel("acrophase (clock time, h)")
ax.set_title("example_01.AWD: activity peak per day")
ax.legend(fontsize=7, ncol=2)
fig.autofmt_xdate()
plt.show()

# %%
# The command's own figure: the first days with every method's curve.
img = plt.imread(out / "example_01.png")
fig, ax = plt.subplots(figsize=(12, 3))
ax.imshow(img)
ax.axis("off")
plt.show()
