"""Read real recordings and cut them into the fixed-length windows the estimators take.

- :func:`read_recording`: a CSV, TSV or Parquet file (a timestamp column and numeric
  signal columns) or an Actiwatch ``.AWD`` actigraphy file, as a
  :class:`pandas.DataFrame` indexed by time.
- :func:`make_windows`: resample one or more columns onto the model's grid (15 min for
  96 samples a day), cut the recording into windows (days by default) and return the
  ``(n_windows, n_timesteps[, n_channels])`` array, NaN where nothing was recorded.
- :func:`pyactigraphy_data_dir`: the real recordings shipped in the pyActigraphy
  wheel (``pip install --no-deps pyActigraphy==1.2.2``), found without importing it.

pandas is needed here (``pip install "sklearn-r2t[cli]"``).
"""

from __future__ import annotations

import importlib.util
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = [
    "READERS",
    "Windows",
    "make_windows",
    "pyactigraphy_data_dir",
    "read_awd",
    "read_recording",
]

# Actiwatch epoch codes (header line 4) -> epoch length, as pyActigraphy's RawAWD reads them
_AWD_EPOCHS = {"1": "15s", "2": "30s", "4": "60s", "8": "2min", "20": "5min", "81": "2s",
               "C1": "5s", "C2": "10s"}
# Actiwatch model letter (first character of the serial, header line 6) -> second channel
_AWD_EXTRA = {"D": "light", "I": "pressure", "L": "light", "P": "light", "S": "sound",
              "T": "temperature"}


def read_awd(path: str | os.PathLike):
    """Read an Actiwatch ``.AWD`` file: activity counts and the device's extra channel.

    The format (as pyActigraphy's ``read_raw_awd`` reads it): 7 header lines (name,
    start date, start time, epoch code, age, serial whose first letter is the model,
    sex), then one epoch a line: ``count`` or ``count , value [M]`` where the second
    value is light, temperature (Actiwatch-T, °C), pressure or sound and ``M`` an
    event marker.

    Parameters
    ----------
    path : str or path-like
        The ``.AWD`` file.

    Returns
    -------
    frame : pandas.DataFrame
        Indexed by epoch start time; column ``activity`` (counts per epoch) and, for
        devices that record one, ``temperature``, ``light``, ``pressure`` or ``sound``.
        ``frame.attrs`` holds ``name``, ``serial`` and ``epoch``.
    """
    import pandas as pd

    with open(path, encoding="utf-8", errors="replace") as f:
        lines = f.read().splitlines()
    if len(lines) < 8:
        raise ValueError(f"{path}: too short for an AWD file (7 header lines, then data).")
    header = [line.strip() for line in lines[:7]]
    code = header[3]
    if code not in _AWD_EPOCHS:
        raise ValueError(
            f"{path}: unknown AWD epoch code {code!r} on line 4 (known: "
            f"{', '.join(sorted(_AWD_EPOCHS))})."
        )
    try:
        start = pd.to_datetime(f"{header[1]} {header[2]}", format="mixed", dayfirst=True)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"{path}: cannot read the start time {header[1]!r} {header[2]!r}.") \
            from exc
    extra = _AWD_EXTRA.get(header[5][:1].upper())
    activity, second = [], []
    for number, line in enumerate(lines[7:], start=8):
        fields = [x for x in line.replace(",", " ").split() if x != "M"]
        if not fields:
            continue
        try:
            activity.append(float(fields[0]))
            second.append(float(fields[1]) if len(fields) > 1 else np.nan)
        except ValueError as exc:
            raise ValueError(f"{path}, line {number}: not a number: {line!r}.") from exc
    index = pd.date_range(start, periods=len(activity), freq=_AWD_EPOCHS[code])
    frame = pd.DataFrame({"activity": activity}, index=index)
    if extra is not None:
        frame[extra] = second
    frame.index.name = "time"
    frame.attrs.update(name=header[0], serial=header[5], epoch=_AWD_EPOCHS[code])
    return frame


def _read_table(path: Path, time_column: str | None):
    import pandas as pd

    suffix = path.suffix.lower()
    if suffix in (".parquet", ".pq"):
        frame = pd.read_parquet(path)
    else:
        frame = pd.read_csv(path, sep="\t" if suffix == ".tsv" else ",")
    if isinstance(frame.index, pd.DatetimeIndex):
        return frame
    if time_column is None:
        # the first column whose values all parse as times
        for name in frame.columns:
            if frame[name].dtype.kind in "fiub":
                continue
            parsed = pd.to_datetime(frame[name], errors="coerce", format="mixed")
            if parsed.notna().all():
                time_column = name
                break
        else:
            raise ValueError(
                f"{path}: no column holds timestamps; name one with time_column= "
                "(--time-column)."
            )
    elif time_column not in frame.columns:
        raise ValueError(
            f"{path}: no column {time_column!r}; columns are {list(frame.columns)}."
        )
    times = pd.to_datetime(frame[time_column], errors="coerce", format="mixed")
    if times.isna().any():
        bad = frame[time_column][times.isna()].iloc[0]
        raise ValueError(f"{path}: column {time_column!r} has a value that is no time: {bad!r}.")
    frame = frame.drop(columns=time_column).set_index(pd.DatetimeIndex(times, name="time"))
    return frame


READERS = {".csv": "table", ".tsv": "table", ".parquet": "table", ".pq": "table",
           ".awd": "awd"}


def read_recording(path: str | os.PathLike, *, time_column: str | None = None):
    """Read a recording into a DataFrame indexed by time.

    Parameters
    ----------
    path : str or path-like
        ``.csv``, ``.tsv``, ``.parquet`` (a timestamp column and numeric signal
        columns) or Actiwatch ``.AWD``.
    time_column : str, default=None
        Timestamp column of a table; None takes the first column whose values all
        parse as times.

    Returns
    -------
    frame : pandas.DataFrame
        Sorted by time, numeric columns only (others are dropped).

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        For an unknown extension, a file that does not parse, no timestamp column or
        no numeric column.

    Examples
    --------
    >>> from sklearn_r2t.recordings import pyactigraphy_data_dir, read_recording
    >>> frame = read_recording(pyactigraphy_data_dir() / "example_01.AWD")
    >>> list(frame.columns), str(frame.index[1] - frame.index[0])
    (['activity'], '0 days 00:01:00')
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"No such file: {path}")
    kind = READERS.get(path.suffix.lower())
    if kind is None:
        raise ValueError(
            f"{path}: unknown file type {path.suffix!r}; expected one of "
            f"{', '.join(sorted(READERS))}."
        )
    frame = read_awd(path) if kind == "awd" else _read_table(path, time_column)
    frame = frame.select_dtypes("number")
    if frame.shape[1] == 0:
        raise ValueError(f"{path}: no numeric signal column.")
    return frame.sort_index()


@dataclass
class Windows:
    """Windows cut from a recording by :func:`make_windows`.

    Attributes
    ----------
    X : ndarray of shape (n_windows, n_timesteps) or (n_windows, n_timesteps, n_channels)
        Mean of the samples in each grid bin; NaN where none was recorded.
    start : pandas.DatetimeIndex
        Start time of each window.
    coverage : ndarray of shape (n_windows,)
        Fraction of the grid bins that hold data.
    columns : list of str
        The channels.
    step : pandas.Timedelta
        Grid spacing.
    n_skipped : int
        Windows dropped for coverage under ``min_coverage`` (partial first and last
        days included).
    """

    X: np.ndarray
    start: object
    coverage: np.ndarray
    columns: list
    step: object
    n_skipped: int = 0


def make_windows(
    frame,
    columns=None,
    *,
    n_timesteps: int = 96,
    window_hours: float = 24.0,
    start_hour: float = 0.0,
    min_coverage: float = 0.5,
) -> Windows:
    """Resample a recording onto the model's grid and cut it into windows.

    Parameters
    ----------
    frame : pandas.DataFrame
        Indexed by time (:func:`read_recording`).
    columns : str or list of str, default=None
        Channels, in the model's order; None takes every column.
    n_timesteps : int, default=96
        Grid points per window (96 over 24 h: one every 15 minutes).
    window_hours : float, default=24.0
        Window length.
    start_hour : float, default=0.0
        Clock time at which windows start (0: midnight to midnight).
    min_coverage : float in [0, 1], default=0.5
        Windows with a smaller fraction of grid bins holding data (of every channel)
        are dropped, such as the partial first and last days.

    Returns
    -------
    windows : Windows
    """
    import pandas as pd

    if columns is None:
        columns = list(frame.columns)
    elif isinstance(columns, str):
        columns = [columns]
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"No column {missing[0]!r}; columns are {list(frame.columns)}.")
    if not 0 <= min_coverage <= 1:
        raise ValueError(f"min_coverage must be in [0, 1], got {min_coverage}.")
    step = pd.Timedelta(hours=window_hours / n_timesteps)
    length = pd.Timedelta(hours=window_hours)
    first = frame.index.min().normalize() + pd.Timedelta(hours=start_hour)
    if first > frame.index.min():
        first -= length
    grid = frame[columns].astype(float).resample(step, origin=first).mean()
    grid = grid.reindex(pd.date_range(first, grid.index.max() + length, freq=step,
                                      inclusive="left"))
    n_windows = len(grid) // n_timesteps
    values = grid.to_numpy()[: n_windows * n_timesteps].reshape(
        n_windows, n_timesteps, len(columns)
    )
    coverage = (~np.isnan(values)).all(axis=2).mean(axis=1)
    keep = coverage >= min_coverage
    if min_coverage == 0:  # keep only windows with some data
        keep &= coverage > 0
    starts = grid.index[: n_windows * n_timesteps : n_timesteps][keep]
    X = values[keep]
    if len(columns) == 1:
        X = X[:, :, 0]
    return Windows(X=X, start=starts, coverage=coverage[keep], columns=columns, step=step,
                   n_skipped=int(n_windows - keep.sum()))


def pyactigraphy_data_dir() -> Path:
    """Folder of the real recordings that ship in the pyActigraphy wheel.

    pyActigraphy is not imported (its own dependencies are not needed to read its
    files): install it with ``pip install --no-deps pyActigraphy==1.2.2``, as ``make``
    does.

    Returns
    -------
    path : pathlib.Path
        ``.../site-packages/pyActigraphy/tests/data``.

    Raises
    ------
    ModuleNotFoundError
        If pyActigraphy is not installed.
    """
    spec = importlib.util.find_spec("pyActigraphy")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(
            "pyActigraphy is not installed; its recordings come with "
            "`pip install --no-deps pyActigraphy==1.2.2`."
        )
    return Path(next(iter(spec.submodule_search_locations))) / "tests" / "data"
