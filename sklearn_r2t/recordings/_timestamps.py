"""Timestamps: naive, with UTC offsets or bracketed zones.

Dates and times of day in separate columns, and the zone a file was written in.
"""

from __future__ import annotations

import re
import warnings
from datetime import timedelta, timezone

import numpy as np

_TIME_OF_DAY = re.compile(r"^\d{1,2}:\d{2}(:\d{2}([.,]\d+)?)?(\s*[ap]\.?m\.?)?$", re.I)
_DATE_ONLY = re.compile(r"^(\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4})$")
_OFFSET = re.compile(r"(Z|[+-]\d{2}:?\d{2})$")
_BRACKET_ZONE = re.compile(r"^(.*?)\s*\[([A-Za-z0-9_/+\-]+)\]$")
# zones tried first when naming the zone of a file's changing UTC offsets
_COMMON_ZONES = (
    "Europe/London", "Europe/Paris", "Europe/Helsinki", "America/New_York",
    "America/Chicago", "America/Denver", "America/Los_Angeles", "America/Anchorage",
    "America/Halifax", "America/Santiago", "America/Sao_Paulo", "Australia/Sydney",
    "Australia/Adelaide", "Pacific/Auckland", "Asia/Jerusalem", "Europe/Moscow",
)


def _looks_like_time(text: str) -> bool:
    text = text.strip()
    if len(text) < 8 or not re.match(r"^\d", text):
        return False
    import pandas as pd

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            pd.to_datetime(_BRACKET_ZONE.sub(r"\1", text), format="mixed", utc=True)
    except (ValueError, TypeError, OverflowError):
        return False
    return bool(re.search(r"\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}", text))


# --------------------------------------------------------------------------- timestamps
def _zone_for_offsets(instants, offsets):
    """A zone whose UTC offset equals the file's at every sample, or None.

    Every zone that matches gives the same local times over the recording; the first
    of a few common zones is preferred, then the others in alphabetical order.
    """
    import zoneinfo

    import pandas as pd

    change = np.flatnonzero(np.diff(offsets) != 0)
    picks = np.unique(np.concatenate([[0, len(offsets) - 1], change, change + 1,
                                      np.linspace(0, len(offsets) - 1, 60).astype(int)]))
    points = instants[picks]
    want = pd.to_timedelta(offsets[picks], unit="m")
    zones = list(_COMMON_ZONES) + sorted(
        z for z in zoneinfo.available_timezones()
        if "/" in z and not z.startswith(("Etc/", "SystemV/", "posix/", "right/"))
        and z not in _COMMON_ZONES)
    naive = points.tz_localize(None)
    for zone in zones:
        try:
            local = points.tz_convert(zone).tz_localize(None)
        except (KeyError, ValueError, zoneinfo.ZoneInfoNotFoundError):
            continue
        if ((local - naive) == want).all():
            return zone
    return None


_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}([ T]|$)")


def _offset_minutes(strings) -> np.ndarray:
    def one(s):
        m = _OFFSET.search(s)
        if m.group(1) == "Z":
            return 0
        sign = -1 if m.group(1)[0] == "-" else 1
        digits = m.group(1)[1:].replace(":", "")
        return sign * (int(digits[:2]) * 60 + int(digits[2:]))

    return np.array([one(s) for s in strings])


def _parse_naive(strings, name, path):
    """Naive times, day-first or month-first: whichever makes the times run forward."""
    import pandas as pd
    from pandas.tseries.api import guess_datetime_format

    if _ISO_DATE.match(str(strings[0])):
        # year first (ISO 8601) is never day-first: one vectorised parse, not the
        # day-first trial, which falls back to dateutil row by row (13x the whole
        # read of a week-long minute CSV)
        t = pd.DatetimeIndex(pd.to_datetime(strings, errors="coerce", format="ISO8601"))
        if not t.isna().any():
            return t
    tries = []
    for dayfirst in (False, True):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "Parsing dates in %d.%m.%Y format when..."
            fmt = guess_datetime_format(str(strings[0]), dayfirst=dayfirst)
        for kwargs in ([{"format": fmt}] if fmt else []) + [{"format": "mixed",
                                                             "dayfirst": dayfirst}]:
            try:
                t = pd.DatetimeIndex(pd.to_datetime(strings, errors="coerce", **kwargs))
            except (ValueError, TypeError, OverflowError):
                continue
            if t.isna().any():
                continue
            # day-first or month-first: the reading whose steps are regular wins
            d = np.diff(t.asi8)
            irregular = int((d != np.median(d)).sum()) if d.size else 0
            tries.append((int((d < 0).sum()), irregular, len(tries), t))
            break
    if not tries:
        t = pd.to_datetime(strings, errors="coerce", format="mixed")
        bad = pd.Series(strings)[t.isna()].iloc[0]
        raise ValueError(f"{path}: column {name!r} has a value that is no time: {bad!r}.")
    return min(tries, key=lambda x: x[:3])[3]


def _parse_times(values, name, path, info):
    """DatetimeIndex of a column of timestamps (any of the forms in the module doc)."""
    import pandas as pd

    if isinstance(values.dtype, pd.DatetimeTZDtype) or values.dtype.kind == "M":
        idx = pd.DatetimeIndex(values, name="time")
        info["time_zone_source"] = ("the column's zone" if idx.tz is not None
                                    else "no zone in the file")
        return idx
    if values.dtype.kind in "fiub":
        raise ValueError(f"{path}: column {name!r} holds numbers, not timestamps; name the "
                         "timestamp column with time_column= (--time-column).")
    s = pd.Series(values, dtype="object").astype("string").str.strip()
    if s.isna().any():
        raise ValueError(f"{path}: column {name!r} has {int(s.isna().sum())} empty "
                         "timestamps.")
    strings = s.to_numpy(dtype=object)
    if all(_TIME_OF_DAY.match(x) for x in strings[:: max(1, len(strings) // 200)]):
        raise _TimeOfDayOnly(name)
    zone = None
    bracket = s.str.extract(_BRACKET_ZONE)
    if bracket[1].notna().all():
        zones = bracket[1].unique()
        if len(zones) > 1:
            raise ValueError(f"{path}: column {name!r} names several zones: "
                             f"{', '.join(map(str, zones[:4]))}.")
        zone = str(zones[0])
        strings = bracket[0].to_numpy(dtype=object)
        info["time_zone_source"] = f"zone named in the file: [{zone}]"
    has_offset = pd.Series(strings, dtype="string[pyarrow]").str.contains(
        r"(?:Z|[+-]\d{2}:?\d{2})$").to_numpy(dtype=bool)  # _OFFSET, in one Arrow pass
    if has_offset.any() and not has_offset.all():
        bad = strings[~has_offset][0]
        raise ValueError(f"{path}: column {name!r} mixes times with and without a UTC "
                         f"offset (e.g. {bad!r}).")
    if not has_offset.any():
        idx = _parse_naive(strings, name, path)
        if zone is not None:
            idx = _localize(idx, zone, info)
        return pd.DatetimeIndex(idx, name="time")
    try:
        idx = pd.DatetimeIndex(pd.to_datetime(strings, utc=True, format="ISO8601"))
    except (ValueError, TypeError):
        idx = pd.DatetimeIndex(pd.to_datetime(strings, utc=True, format="mixed"))
    if zone is not None:
        return idx.tz_convert(zone).rename("time")
    offsets = _offset_minutes(strings)
    distinct = np.unique(offsets)
    if len(distinct) == 1:
        if distinct[0] == 0:
            info["time_zone_source"] = "UTC ('Z' or +00:00) in the file: no local zone"
            return idx.rename("time")
        tz = timezone(timedelta(minutes=int(distinct[0])))
        info["time_zone_source"] = f"UTC offset {_fmt_offset(distinct[0])} in the file"
        return idx.tz_convert(tz).rename("time")
    found = _zone_for_offsets(idx, offsets)
    shown = "/".join(_fmt_offset(o) for o in distinct)
    if found is None:
        # no zone has these offsets at these dates: keep the clock times as written
        info["time_zone_source"] = (f"UTC offsets {shown} that match no time zone: the "
                                    "clock times as written")
        wall = idx.tz_localize(None) + pd.to_timedelta(offsets, unit="m")
        return pd.DatetimeIndex(wall, name="time")
    info["time_zone_source"] = (f"UTC offsets {shown} in the file; any zone with "
                                "these offsets gives the same local times")
    return idx.tz_convert(found).rename("time")


def _fmt_offset(minutes) -> str:
    sign = "-" if minutes < 0 else "+"
    m = abs(int(minutes))
    return f"{sign}{m // 60:02d}:{m % 60:02d}"


def _localize(idx, zone, info):
    """Naive local times -> zone-aware; a repeated hour (autumn) is told apart by order.

    Times in the hour a spring change skips do not exist in ``zone``: they become NaT
    (dropped by the caller) and a note says how many.
    """
    try:
        out = idx.tz_localize(zone, ambiguous="infer", nonexistent="NaT")
        unplaced = 0
    except Exception:  # pytz/zoneinfo raise several types when the order cannot tell
        out = idx.tz_localize(zone, ambiguous="NaT", nonexistent="NaT")
        unplaced = int(out.isna().sum() - idx.isna().sum())
        info.setdefault("notes", []).append(
            f"{unplaced} times in a repeated (daylight-saving) hour of {zone} could not be "
            "told apart by their order and were dropped")
    skipped = int(out.isna().sum() - idx.isna().sum()) - unplaced
    if skipped:
        info.setdefault("notes", []).append(
            f"{skipped} times fall in the hour a daylight-saving change skips in {zone} "
            "(they do not exist there) and were dropped")
    return out


class _TimeOfDayOnly(ValueError):
    def __init__(self, column):
        super().__init__(column)
        self.column = column


def _combine_date_time(frame, date_col, time_col, path):
    """One timestamp per row from a date (or day-number) column and a time-of-day column."""
    import pandas as pd

    day = frame[date_col]
    time = frame[time_col].astype("string").str.strip()
    numeric = pd.to_numeric(day, errors="coerce")
    if numeric.notna().all() and (numeric == numeric.round()).all():
        # day numbers (MESA's daybymidnight): dates counted from 2000-01-01 as day 1
        dates = pd.Timestamp("2000-01-01") + pd.to_timedelta(numeric - numeric.min(), "D")
        text = dates.dt.strftime("%Y-%m-%d") + " " + time
        return text, "day numbers (dates counted from 2000-01-01; clock times are real)"
    return day.astype("string").str.strip() + " " + time, None


def _find_time_column(frame, path):
    """Name of the timestamp column: the first whose first values parse as dates + times."""
    import pandas as pd

    if isinstance(frame.index, pd.DatetimeIndex):
        return None
    for name in frame.columns:
        col = frame[name]
        if col.dtype.kind == "M" or isinstance(col.dtype, pd.DatetimeTZDtype):
            return name
    for name in frame.columns:
        col = frame[name]
        if col.dtype.kind in "fiub":
            continue
        head = [str(x) for x in col.dropna().head(20)]
        if head and all(_looks_like_time(x) or _TIME_OF_DAY.match(x.strip())
                        for x in head):
            return name
    return None


def _date_time_pair(frame):
    """(date column, time column) when a table splits them (Actiware's Date, Time)."""
    dates = times = None
    for name in frame.columns:
        head = [str(x).strip() for x in frame[name].dropna().head(20)]
        if not head or frame[name].dtype.kind in "fiub":
            continue
        if dates is None and all(_DATE_ONLY.match(x) for x in head):
            dates = name
        elif times is None and all(_TIME_OF_DAY.match(x) for x in head):
            times = name
    return (dates, times) if dates is not None and times is not None else None
