"""make_windows: a recording resampled onto the model's grid and cut into windows.

With the windows it skipped, and why.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


# --------------------------------------------------------------------------- windows
@dataclass
class Windows:
    """Windows cut from a recording by :func:`make_windows`.

    Attributes
    ----------
    X : ndarray of shape (n_windows, n_timesteps) or (n_windows, n_timesteps, n_channels)
        Mean of the samples in each grid bin; NaN where none was recorded.
    start : pandas.DatetimeIndex
        Start time of each window (local civil time; zone-aware when the recording is).
    coverage : ndarray of shape (n_windows,)
        Fraction of the grid bins that hold data.
    columns : list of str
        The channels.
    step : pandas.Timedelta
        Grid spacing (in local clock time).
    hours : ndarray of shape (n_windows,)
        Elapsed hours of each window: 23 or 25 for a day with a daylight-saving change
        (zone-aware times only; naive times carry no such information, and give
        ``window_hours``).
    skipped : pandas.DataFrame
        The windows left out: ``start``, ``coverage``, ``hours`` and ``reason``.
    timezone : str or None
        Zone of the local clock the windows are cut in (None: naive local times).
    """

    X: np.ndarray
    start: object
    coverage: np.ndarray
    columns: list
    step: object
    hours: np.ndarray = field(default=None)
    skipped: object = field(default=None)
    timezone: str | None = None


def make_windows(
    frame,
    columns=None,
    *,
    n_timesteps: int = 96,
    window_hours: float = 24.0,
    start_hour: float = 0.0,
    min_coverage: float = 0.5,
    timezone: str | None = None,
) -> Windows:
    """Resample a recording onto the model's grid and cut it into windows.

    The grid is local clock time: a window runs from ``start_hour`` to ``start_hour``
    on the local clock, so with a daylight-saving change the skipped hour holds no
    data (a 23-hour day) and the repeated hour's two passes are averaged bin by bin
    (a 25-hour day); ``Windows.hours`` says which. Grid point ``k`` of a window, read
    by the models as clock time ``start + k * step``, is the mean of the samples
    within half a step of that time.

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
        are skipped, such as partial first and last days; they are listed in
        ``Windows.skipped``.
    timezone : str, default=None
        Cut days in this zone's civil time (zone-aware index only; naive times are
        already local). None: the index's own zone.

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
    if len(frame) == 0:
        raise ValueError("The recording has no rows.")
    idx = pd.DatetimeIndex(frame.index)
    tz = idx.tz
    if timezone is not None:
        if tz is None:
            raise ValueError("timezone= needs a zone-aware index; pass timezone to "
                             "read_recording to place naive times in a zone.")
        idx = idx.tz_convert(timezone)
        tz = idx.tz
    wall = idx.tz_localize(None) if tz is not None else idx
    step = pd.Timedelta(hours=window_hours / n_timesteps)
    length = pd.Timedelta(hours=window_hours)
    first = wall.min().normalize() + pd.Timedelta(hours=start_hour)
    if first > wall.min():
        first -= length
    values = frame[columns].astype(float).set_axis(wall, axis=0)
    # Each grid point is the mean of the samples within half a step of it: the model
    # reads point k as clock time k * step, so a bin labelled by its start would put
    # every phase half a step early (7.5 min on the 15-minute grid).
    half = step / 2
    grid = values.resample(step, origin=first - half).mean()
    grid.index = grid.index + half
    # Windows up to the one holding the last sample (its last minutes, nearer the next
    # day's first grid point, do not open a window of their own).
    end = first + ((wall.max() - first) // length + 1) * length
    grid = grid.reindex(pd.date_range(first, end, freq=step, inclusive="left"))
    n_windows = len(grid) // n_timesteps
    arr = grid.to_numpy()[: n_windows * n_timesteps].reshape(n_windows, n_timesteps,
                                                            len(columns))
    coverage = (~np.isnan(arr)).all(axis=2).mean(axis=1)
    starts = grid.index[: n_windows * n_timesteps : n_timesteps]
    if tz is not None:
        bounds = pd.DatetimeIndex(list(starts) + [starts[-1] + length])
        aware = bounds.tz_localize(tz, ambiguous=True, nonexistent="shift_forward")
        hours = np.asarray((aware[1:] - aware[:-1]) / pd.Timedelta(hours=1), dtype=float)
        starts = aware[:-1]
    else:
        hours = np.full(n_windows, window_hours)
    keep = (coverage >= min_coverage) & (coverage > 0)
    reasons = np.where(coverage == 0, "no data",
                       [f"coverage {c:.0%} < min_coverage {min_coverage:.0%}"
                        for c in coverage])
    skipped = pd.DataFrame({"start": starts[~keep], "coverage": coverage[~keep],
                            "hours": hours[~keep], "reason": reasons[~keep]})
    X = arr[keep]
    if len(columns) == 1:
        X = X[:, :, 0]
    return Windows(X=X, start=starts[keep], coverage=coverage[keep], columns=columns,
                   step=step, hours=hours[keep], skipped=skipped,
                   timezone=None if tz is None else str(tz))
