"""read_recording: any supported file to a time-indexed DataFrame.

With its channels' units in ``frame.attrs["units"]``.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from ._columns import _clean_columns
from ._formats import (
    COMPRESSIONS,
    READERS,
    _epoch_index,
    _read_table,
    _read_with_pyactigraphy,
    _split_suffix,
    read_awd,
)
from ._timestamps import (
    _combine_date_time,
    _date_time_pair,
    _find_time_column,
    _localize,
    _parse_times,
    _TimeOfDayOnly,
)


# --------------------------------------------------------------------------- entry point
def read_recording(path: str | os.PathLike, *, time_column: str | None = None,
                   date_column: str | None = None, timezone: str | None = None):
    """Read a recording into a DataFrame indexed by time.

    Parameters
    ----------
    path : str or path-like
        A table (``.csv``, ``.tsv``, ``.txt``, ``.parquet``; also compressed ``.gz``,
        ``.zip``, ``.bz2``, ``.xz``): a timestamp column (or a date and a time column)
        and numeric signal columns, optionally under vendor metadata lines. An
        Actiwatch ``.AWD`` file. ``.agd`` and ``.mtn`` through pyActigraphy.
    time_column : str, default=None
        Timestamp column of a table; None takes the first column whose values parse as
        dates and times (or a date column and a time-of-day column side by side).
    date_column : str, default=None
        With a time column that holds only times of day (``HH:MM:SS``): the column
        holding the date, or the day number (1, 2, ...), of each row.
    timezone : str, default=None
        IANA zone (``"Europe/Berlin"``, ``"UTC"``). Zone-aware times are converted to
        it; naive times are taken as written in it (a repeated autumn hour is told
        apart by the order of the rows). None keeps the file's own zone, or its naive
        local times.

    Returns
    -------
    frame : pandas.DataFrame
        Sorted by time, one row per distinct time (duplicated times averaged), numeric
        columns only. Row counters (``line``, epoch numbers) and text columns are
        dropped. ``frame.attrs`` holds ``units`` (column -> unit, where known),
        ``time_zone_source``, ``n_duplicated``, ``dropped_columns``, ``notes`` and
        ``reader``.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        For an unknown extension, a file that does not parse, no timestamp column, times
        of day without a date, or no numeric column.

    Examples
    --------
    >>> from sklearn_r2t.recordings import pyactigraphy_data_dir, read_recording
    >>> frame = read_recording(pyactigraphy_data_dir() / "example_01.AWD")
    >>> list(frame.columns), str(frame.index[1] - frame.index[0]), frame.attrs["units"]
    (['activity'], '0 days 00:01:00', {'activity': 'counts'})
    """

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"No such file: {path}")
    fmt, compression = _split_suffix(path)
    kind = READERS.get(fmt)
    if kind is None:
        raise ValueError(
            f"{path}: unknown file type {''.join(path.suffixes[-2:])!r}; expected one of "
            f"{', '.join(sorted(READERS))} (optionally compressed: "
            f"{', '.join(COMPRESSIONS)})."
        )
    if kind != "table" and compression is not None:
        raise ValueError(f"{path}: decompress {fmt} files first.")
    info: dict = {"notes": [], "time_zone_source": "no zone in the file"}
    if kind == "awd":
        frame = read_awd(path)
        units = dict(frame.attrs.get("units", {}))
        info.update({k: v for k, v in frame.attrs.items() if k != "units"})
        info["time_zone_source"] = "the device's clock, no zone"
    elif kind == "pyactigraphy":
        frame = _read_with_pyactigraphy(path, fmt)
        units = dict(frame.attrs["units"])
        info["reader"] = frame.attrs["reader"]
        info["time_zone_source"] = "the device's clock, no zone"
    else:
        table = _read_table(path, fmt, compression)
        frame, units = _index_table(table, path, time_column, date_column, info)
        info["reader"] = "sklearn_r2t table reader"
    frame = frame.select_dtypes("number")
    if frame.shape[1] == 0:
        raise ValueError(f"{path}: no numeric signal column.")
    idx = frame.index
    if timezone is not None:
        try:
            if idx.tz is None:
                idx = _localize(idx, timezone, info)
            else:
                idx = idx.tz_convert(timezone)
        except Exception as exc:  # unknown zone names raise several types
            raise ValueError(f"unknown time zone {timezone!r} ({exc}).") from exc
        info["time_zone_source"] = f"timezone={timezone!r}"
        frame = frame.set_axis(idx, axis=0)
        frame = frame[frame.index.notna()]
    frame = frame.sort_index(kind="stable")
    dup = frame.index.duplicated(keep=False)
    n_dup = int(frame.index[dup].nunique())
    if n_dup:
        conflicting = int((frame[dup].groupby(level=0).nunique(dropna=True) > 1)
                          .any(axis=1).sum())
        frame = frame.groupby(level=0, sort=True).mean()
        info["notes"].append(
            f"{n_dup} timestamps appear more than once ({int(dup.sum())} rows; "
            f"{conflicting} with differing values): each is replaced by the mean of its "
            "rows")
    info["n_duplicated"] = n_dup
    frame.index.name = "time"
    frame.attrs = {**info, "units": {c: u for c, u in units.items() if c in frame.columns}}
    return frame


def _index_table(table, path, time_column, date_column, info):
    """The table's numeric columns indexed by its timestamps."""
    import pandas as pd

    units: dict = {}
    if isinstance(table.index, pd.DatetimeIndex):
        idx = table.index
        info["time_zone_source"] = ("the index's zone" if idx.tz is not None
                                    else "no zone in the file")
        return _clean_columns(table, path, info, units).set_axis(idx.rename("time")), units
    if time_column is not None and time_column not in table.columns:
        raise ValueError(f"{path}: no column {time_column!r}; columns are "
                         f"{list(table.columns)}.")
    if date_column is not None and date_column not in table.columns:
        raise ValueError(f"{path}: no column {date_column!r}; columns are "
                         f"{list(table.columns)}.")
    used = []
    if time_column is None and date_column is None:
        pair = _date_time_pair(table)
        if pair is not None:
            date_column, time_column = pair
    if time_column is None:
        time_column = _find_time_column(table, path)
        if time_column is None:
            idx = _epoch_index(table.attrs.get("header_lines", []), len(table), path, info)
            if idx is None:
                raise ValueError(f"{path}: no column holds timestamps; name one with "
                                 "time_column= (--time-column).")
            frame = _clean_columns(table, path, info, units, vendor=True)
            return frame.set_axis(idx, axis=0), units
    if date_column is not None:
        values, note = _combine_date_time(table, date_column, time_column, path)
        if note:
            info["notes"].append(f"{date_column!r} holds {note}")
        used = [date_column, time_column]
    else:
        values, used = table[time_column], [time_column]
    try:
        idx = _parse_times(values, time_column, path, info)
    except _TimeOfDayOnly as exc:
        hints = [c for c in table.columns if re.search("day|date|datum|data", str(c), re.I)
                 and c != exc.column]
        hint = f" (candidates: {', '.join(map(repr, hints))})" if hints else ""
        raise ValueError(
            f"{path}: column {exc.column!r} holds times of day without dates, so the days "
            "cannot be told apart; name the column that holds each row's date or day "
            f"number with date_column= (--date-column){hint}.") from None
    info["time_column"] = " + ".join(map(str, used))
    rest = table.drop(columns=used)
    frame = _clean_columns(rest, path, info, units,
                           vendor=bool(table.attrs.get("vendor_export")))
    if "named in the file" in info.get("time_zone_source", "") and "acc" in frame:
        units["acc"] = "mg"  # UK Biobank's accelerometer package: ENMO in milli-g
    frame.index = idx
    return frame[frame.index.notna()], units
