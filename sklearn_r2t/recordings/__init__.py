"""Read real recordings and cut them into the fixed-length windows the estimators take.

- :func:`read_recording`: a table (CSV, TSV, TXT or Parquet, also ``.gz``/``.zip``/
  ``.bz2``/``.xz`` compressed; vendor exports with metadata lines above the data, such
  as Actiware/Respironics, ActiLife, ActTrust, Tempatilumi or Daqtometer CSVs, and UK
  Biobank's ``*-timeSeries.csv.gz``), an Actiwatch ``.AWD`` file, or a format that only
  pyActigraphy reads (``.agd``, ``.mtn``), as a :class:`pandas.DataFrame` indexed by
  time, with the channels' units in ``frame.attrs["units"]``.
- :func:`make_windows`: resample one or more columns onto the model's grid (15 min for
  96 samples a day), cut the recording into windows (days by default, in local civil
  time) and return the ``(n_windows, n_timesteps[, n_channels])`` array, NaN where
  nothing was recorded, with every window it skipped and why.
- :func:`pyactigraphy_data_dir`: the real recordings shipped in the pyActigraphy
  wheel (``pip install --no-deps pyActigraphy==1.2.2``), found without importing it.

Timestamps: naive times are taken as the local civil time they were written in. Times
with a UTC offset (``+01:00``, ``Z``), a zone in brackets (UK Biobank's
``2014-05-07 13:29:50.439+0100 [Europe/London]``) or a zone-aware Parquet column give
a zone-aware index; a file whose offsets change (a daylight-saving change) is read in
the zone those offsets belong to. Days are cut at local midnight of that zone, so a
day with a daylight-saving change lasts 23 or 25 hours (``Windows.hours``).

pandas is needed here (``pip install pandas``, or the extra ``[cli]``).
"""

from ._columns import default_signal
from ._formats import READERS, pyactigraphy_data_dir, read_awd
from ._read import read_recording
from ._windows import Windows, make_windows

__all__ = [
    "READERS",
    "Windows",
    "default_signal",
    "make_windows",
    "pyactigraphy_data_dir",
    "read_awd",
    "read_recording",
]
